import h5py
import keras
import numpy as np
import pytest
from keras import ops

from keras_bigs import BiGSBlock
from keras_bigs import GatedFFN
from keras_bigs import StackBlock
from keras_bigs.layers.s4d import s4d_pair
from tests.keras_hub_test_case import TestCase
from tests.layers.test_s4d import direct_causal_convolution
from tests.layers.test_s4d import reference_kernel


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def np_dense(layer, x):
    return x @ ops.convert_to_numpy(layer.kernel) + ops.convert_to_numpy(
        layer.bias
    )


def np_layer_norm(layer, x, eps):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * ops.convert_to_numpy(
        layer.gamma
    ) + ops.convert_to_numpy(layer.beta)


def np_ssm(layer, u):
    w = {
        n: ops.convert_to_numpy(getattr(layer, n)).astype("float64")
        for n in ("A_re", "A_im", "C", "log_step", "D")
    }
    k = reference_kernel(
        w["A_re"], w["A_im"], w["C"], w["log_step"], u.shape[1]
    )
    y = direct_causal_convolution(u.transpose(0, 2, 1), k).transpose(0, 2, 1)
    return y + w["D"] * u


def perturb(layer, seed):
    """Random non-trivial weights, so that every term of the math matters."""
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        value = ops.convert_to_numpy(w)
        if w.name in ("A_re", "A_im", "log_step"):
            noise = 0.1 * rng.normal(size=value.shape)
        else:
            noise = 0.3 * rng.normal(size=value.shape)
        w.assign((value + noise).astype("float32"))


def test_gated_ffn_matches_formula():
    rng = np.random.default_rng(0)
    ffn = GatedFFN(hidden_dim=6, intermediate_dim=10)
    routed = rng.normal(size=(2, 7, 6)).astype("float32")
    gate = rng.normal(size=(2, 7, 10)).astype("float32")
    got = ops.convert_to_numpy(ffn(routed, gate))
    expected = np_dense(ffn.do, gelu_tanh(np_dense(ffn.dol, routed)) * gate)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_bigs_block_matches_formula():
    rng = np.random.default_rng(1)
    block = BiGSBlock(
        hidden_dim=8, intermediate_dim=12, state_dim=6, layer_norm_epsilon=1e-6
    )
    x = rng.normal(size=(2, 20, 8)).astype("float32")
    block.build(x.shape)
    perturb(block, 2)
    got = ops.convert_to_numpy(block(x))

    z = np_layer_norm(block.layer_norm, x.astype("float64"), 1e-6)
    v = gelu_tanh(np_dense(block.dv, z))
    uf = gelu_tanh(np_dense(block.du_forward, z))
    ub = gelu_tanh(np_dense(block.du_backward, z[:, ::-1]))
    f = np_dense(block.duc_forward, np_ssm(block.fs4, uf))
    b = np_dense(block.duc_backward, np_ssm(block.bs4, ub))[:, ::-1]
    expected = x + np_dense(block.do, gelu_tanh(np_dense(block.dol, f * b)) * v)
    np.testing.assert_allclose(
        got, expected, atol=2e-4 * np.abs(expected).max()
    )


def test_bigs_block_sublayer_names_match_checkpoints():
    block = BiGSBlock(hidden_dim=8, intermediate_dim=12, state_dim=4)
    block.build((None, None, 8))
    for name in (
        "dv",
        "du_forward",
        "du_backward",
        "duc_forward",
        "duc_backward",
        "dol",
        "do",
        "fs4",
        "bs4",
        "layer_norm",
    ):
        assert getattr(block, name).name == name


def test_exact_gelu_changes_output():
    x = np.random.default_rng(3).normal(size=(1, 10, 8)).astype("float32")
    approx = BiGSBlock(8, 12, state_dim=4)
    exact = BiGSBlock(8, 12, state_dim=4, activation="gelu")
    approx.build(x.shape)
    exact.build(x.shape)
    exact.set_weights(approx.get_weights())
    difference = np.abs(
        ops.convert_to_numpy(approx(x)) - ops.convert_to_numpy(exact(x))
    ).max()
    assert 0 < difference < 1e-2


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        (BiGSBlock, dict(routing="attention", num_heads=2)),
        (StackBlock, dict(routing="attention", num_heads=2)),
    ],
)
def test_attention_routing_ignores_padding(cls, kwargs):
    rng = np.random.default_rng(4)
    block = cls(hidden_dim=8, intermediate_dim=12, state_dim=4, **kwargs)
    x = rng.normal(size=(2, 10, 8)).astype("float32")
    mask = np.ones((2, 10), "int32")
    mask[:, 6:] = 0
    out = ops.convert_to_numpy(block(x, padding_mask=mask))
    x2 = x.copy()
    x2[:, 6:] = rng.normal(size=x2[:, 6:].shape)
    out2 = ops.convert_to_numpy(block(x2, padding_mask=mask))
    np.testing.assert_allclose(out[:, :6], out2[:, :6], atol=1e-5)


def test_ssm_routing_reads_padding_like_the_original():
    rng = np.random.default_rng(5)
    block = BiGSBlock(hidden_dim=8, intermediate_dim=12, state_dim=4)
    x = rng.normal(size=(1, 10, 8)).astype("float32")
    x2 = x.copy()
    x2[:, 6:] = 0.0
    out = ops.convert_to_numpy(block(x))
    out2 = ops.convert_to_numpy(block(x2))
    # The backward SSM carries the tail into earlier positions.
    assert np.abs(out[:, :6] - out2[:, :6]).max() > 1e-4


def test_stack_ssm_block_runs_and_has_two_bidirectional_ssms():
    block = StackBlock(hidden_dim=8, intermediate_dim=12, state_dim=4)
    x = np.random.default_rng(6).normal(size=(2, 9, 8)).astype("float32")
    y = ops.convert_to_numpy(block(x))
    assert y.shape == x.shape and np.isfinite(y).all()
    ssm_names = sorted(w.path for w in block.weights if w.name == "A_re")
    assert len(ssm_names) == 4


@pytest.mark.parametrize("cls", [BiGSBlock, StackBlock])
def test_unknown_routing_is_rejected(cls):
    with pytest.raises(ValueError, match="routing='conv'.*'ssm', 'attention'"):
        cls(4, 8, routing="conv")


@pytest.mark.parametrize("cls", [BiGSBlock, StackBlock])
def test_positional_arguments_keep_their_order(cls):
    block = cls(8, 12, 4, "gelu", 1e-5, "attention", 2)
    config = block.get_config()
    assert [
        config[name]
        for name in (
            "hidden_dim",
            "intermediate_dim",
            "state_dim",
            "activation",
            "layer_norm_epsilon",
            "routing",
            "num_heads",
        )
    ] == [8, 12, 4, "gelu", 1e-5, "attention", 2]
    # Past `num_heads` the two blocks' arguments differ: keywords only.
    with pytest.raises(TypeError, match="positional"):
        cls(8, 12, 4, "gelu", 1e-5, "attention", 2, True)


def test_s4d_pair_reads_one_direction_each():
    fs4, bs4 = s4d_pair(
        3, kernel_per_channel=True, a_initialization="inv", conv_mode="fft"
    )
    assert (fs4.name, fs4.reverse, bs4.name, bs4.reverse) == (
        "fs4",
        False,
        "bs4",
        True,
    )
    for ssm in (fs4, bs4):
        assert (ssm.state_dim, ssm.kernel_per_channel) == (3, True)
        assert (ssm.a_initialization, ssm.conv_mode) == ("inv", "fft")
    x = np.zeros((1, 7, 2), "float32")
    x[0, 3] = 1.0
    forward = ops.convert_to_numpy(fs4(x))[0, :, 0]
    backward = ops.convert_to_numpy(bs4(x))[0, :, 0]
    np.testing.assert_allclose(forward[:3], 0.0, atol=1e-6)
    np.testing.assert_allclose(backward[4:], 0.0, atol=1e-6)
    assert np.abs(forward[4:]).min() > 0 and np.abs(backward[:3]).min() > 0


# `.weights.h5` files (presets, `save_weights`) key each weight by the
# attribute path from the model to its layer, so a block's attribute names
# are part of the file format: files saved with these keys must keep
# loading. `{attribute path: number of weights}` for each kind of block.
ATTENTION_LAYOUT = {
    f"attention/{name}_dense": 2 for name in ("key", "output", "query", "value")
}
# `dol` and `do` belong to `gated_ffn`; the block's properties of those
# names store them at its top level.
GATED_LAYOUT = {
    name: 2
    for name in ("layer_norm", "dv", "du_forward", "duc_forward", "dol", "do")
}
STACK_LAYOUT = {
    name: 2 for name in ("layer_norm", "ffn_layer_norm", "ffn_in", "ffn_out")
}
GATED_SSM_LAYOUT = {"fs4": 5, "bs4": 5, "du_backward": 2, "duc_backward": 2}
STACK_SSM_LAYOUT = {
    f"routing_layers/{ssm}/{name}": count
    for ssm in ("bidirectional_ssm", "bidirectional_ssm_1")
    for name, count in (("fs4", 5), ("bs4", 5), ("out", 2))
}
SAVED_LAYOUTS = [
    (BiGSBlock, "ssm", "bi_gs_block", GATED_LAYOUT | GATED_SSM_LAYOUT),
    (BiGSBlock, "attention", "bi_gs_block", GATED_LAYOUT | ATTENTION_LAYOUT),
    (StackBlock, "ssm", "stack_block", STACK_LAYOUT | STACK_SSM_LAYOUT),
    (StackBlock, "attention", "stack_block", STACK_LAYOUT | ATTENTION_LAYOUT),
]


def saved_datasets(path):
    """The names of the arrays in an HDF5 file."""
    names = []

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            names.append(name)

    with h5py.File(path, "r") as saved:
        saved.visititems(visit)
    return set(names)


@pytest.mark.parametrize("cls,routing,root,layout", SAVED_LAYOUTS)
def test_saved_weights_layout_is_stable(cls, routing, root, layout, tmp_path):
    def model():
        block = cls(8, 12, state_dim=4, routing=routing, num_heads=2)
        return keras.Sequential([keras.Input((5, 8)), block])

    saved, reloaded = model(), model()
    path = tmp_path / "block.weights.h5"
    saved.save_weights(path)
    assert saved_datasets(path) == {
        f"layers/{root}/{name}/vars/{i}"
        for name, count in layout.items()
        for i in range(count)
    }
    reloaded.load_weights(path)
    x = np.random.default_rng(7).normal(size=(2, 5, 8)).astype("float32")
    np.testing.assert_array_equal(
        ops.convert_to_numpy(reloaded(x)), ops.convert_to_numpy(saved(x))
    )


@pytest.mark.parametrize("conv_mode", ["fft", "toeplitz"])
def test_mixed_bfloat16_runs_dense_layers_in_bfloat16(conv_mode):
    """Under `mixed_bfloat16` the matmuls run in bfloat16 (the speed-up) and
    the SSMs in float32; the result stays close to the float32 layer."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 48, 16)).astype("float32")
    reference = BiGSBlock(16, 32, state_dim=8, conv_mode=conv_mode)
    reference.build(x.shape)
    mixed = BiGSBlock(
        16, 32, state_dim=8, conv_mode=conv_mode, dtype="mixed_bfloat16"
    )
    mixed.build(x.shape)
    mixed.set_weights(reference.get_weights())
    for dense in (
        mixed.dv,
        mixed.du_forward,
        mixed.duc_backward,
        mixed.dol,
        mixed.do,
    ):
        assert dense.compute_dtype == "bfloat16"
        assert dense.kernel.dtype == "float32"
    assert all(w.dtype == "float32" for w in mixed.fs4.weights)
    y = mixed(x)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    y = ops.convert_to_numpy(ops.cast(y, "float32"))
    expected = ops.convert_to_numpy(reference(x))
    np.testing.assert_allclose(
        y, expected, rtol=0, atol=0.05 * np.abs(expected).max()
    )


def random_input(*shape):
    return ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=shape).astype("float32")
    )


class LayersKerasHubTest(TestCase):
    """keras-hub's layer checks: serialization, build, symbolic and eager
    calls, a compiled training step, and every dtype policy."""

    def test_gated_ffn(self):
        self.run_layer_test(
            cls=GatedFFN,
            init_kwargs={
                "hidden_dim": 8,
                "intermediate_dim": 16,
                "activation": "gelu",
            },
            input_data={
                "routed": random_input(2, 10, 8),
                "gate": random_input(2, 10, 16),
            },
            expected_output_shape=(2, 10, 8),
            expected_num_trainable_weights=4,
        )

    def test_bigs_block(self):
        # LayerNorm 2, five dense 10, two SSMs 10, GatedFFN 4; attention
        # routing drops two dense and the SSMs for attention's 8.
        for routing, weights in (("ssm", 26), ("attention", 20)):
            self.run_layer_test(
                cls=BiGSBlock,
                init_kwargs={
                    "hidden_dim": 8,
                    "intermediate_dim": 16,
                    "state_dim": 4,
                    "routing": routing,
                    "num_heads": 2,
                    "activation": "gelu",
                    "kernel_per_channel": True,
                    "a_initialization": "lin",
                    "dt_min": 0.001,
                    "dt_max": 0.1,
                    "layer_norm_epsilon": 1e-5,
                },
                input_data=random_input(2, 10, 8),
                expected_output_shape=(2, 10, 8),
                expected_num_trainable_weights=weights,
            )

    def test_stack_block(self):
        # Two LayerNorms 4 and the feed-forward 4, plus the routing: two
        # bidirectional SSMs of 12, or attention's 8.
        for routing, weights in (("ssm", 32), ("attention", 16)):
            self.run_layer_test(
                cls=StackBlock,
                init_kwargs={
                    "hidden_dim": 8,
                    "intermediate_dim": 16,
                    "state_dim": 4,
                    "routing": routing,
                    "num_heads": 2,
                    "dropout": 0.2,
                    "a_initialization": "inv",
                    "dt_min": 0.001,
                    "dt_max": 0.1,
                },
                input_data=random_input(2, 10, 8),
                expected_output_shape=(2, 10, 8),
                expected_num_trainable_weights=weights,
                # The two dropouts' seed generators.
                expected_num_non_trainable_variables=2,
            )
