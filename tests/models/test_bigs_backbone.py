import keras
import numpy as np
import pytest
import safetensors.numpy
from keras import ops

from keras_bigs import BiGSBackbone
from keras_bigs.convert.reference_outputs import reference_batches
from tests.conftest import PARITY_TOLERANCE
from tests.conftest import fixture_dir
from tests.keras_hub_test_case import TestCase

SMALL = dict(
    vocabulary_size=50,
    num_layers=2,
    hidden_dim=16,
    intermediate_dim=24,
    state_dim=4,
    max_sequence_length=32,
)


def make_inputs(batch, length, seed=0, valid=None):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, length), "int32")
    if valid is not None:
        for row, n in enumerate(valid):
            mask[row, n:] = 0
    return {
        "token_ids": rng.integers(1, 50, (batch, length)).astype("int32")
        * mask,
        "segment_ids": rng.integers(0, 2, (batch, length)).astype("int32"),
        "padding_mask": mask,
    }


def run(backbone, inputs):
    out = backbone(inputs, training=False)
    return {k: ops.convert_to_numpy(v) for k, v in out.items()}


def test_outputs_and_pooler_is_masked_mean():
    backbone = BiGSBackbone(**SMALL)
    inputs = make_inputs(3, 32, valid=[32, 20, 5])
    out = run(backbone, inputs)
    assert out["sequence_output"].shape == (3, 32, 16)
    assert out["pooled_output"].shape == (3, 16)
    mask = inputs["padding_mask"][..., None]
    mean = (out["sequence_output"] * mask).sum(1) / mask.sum(1)
    dense = backbone.pooled_dense
    expected = np.tanh(
        mean @ ops.convert_to_numpy(dense.kernel)
        + ops.convert_to_numpy(dense.bias)
    )
    np.testing.assert_allclose(out["pooled_output"], expected, atol=1e-5)


@pytest.mark.parametrize("length", [1, 7, 32])
def test_any_length_up_to_max(length):
    backbone = BiGSBackbone(**SMALL)
    out = run(backbone, make_inputs(2, length))
    assert out["sequence_output"].shape == (2, length, 16)
    assert np.isfinite(out["sequence_output"]).all()


def test_too_long_input_names_both_lengths():
    backbone = BiGSBackbone(**SMALL)
    with pytest.raises(ValueError, match=r"length 40 .*max_sequence_length 32"):
        backbone(make_inputs(1, 40))
    with pytest.raises(ValueError, match="length 33"):
        backbone.predict(make_inputs(2, 33), verbose=0)


def test_outputs_do_not_depend_on_batch_composition():
    backbone = BiGSBackbone(**SMALL)
    inputs = make_inputs(4, 32, valid=[32, 3, 17, 30])
    together = run(backbone, inputs)
    for row in range(4):
        alone = run(backbone, {k: v[row : row + 1] for k, v in inputs.items()})
        for key in together:
            np.testing.assert_allclose(
                alone[key][0], together[key][row], atol=1e-5
            )


def test_mixed_precision_runs_without_nan_and_keeps_float32_variables():
    backbone = BiGSBackbone(**SMALL, dtype="mixed_bfloat16")
    assert all(w.dtype == "float32" for w in backbone.weights)
    out = backbone(make_inputs(2, 32, valid=[32, 9]))
    seq = out["sequence_output"]
    assert keras.backend.standardize_dtype(seq.dtype) == "bfloat16"
    assert np.isfinite(ops.convert_to_numpy(ops.cast(seq, "float32"))).all()

    reference = BiGSBackbone(**SMALL)
    reference.set_weights(backbone.get_weights())
    ref = run(reference, make_inputs(2, 32, valid=[32, 9]))
    mixed = ops.convert_to_numpy(ops.cast(seq, "float32"))
    scale = np.abs(ref["sequence_output"]).max()
    assert np.abs(mixed - ref["sequence_output"]).max() < 0.1 * scale


@pytest.mark.parametrize(
    "block_type,routing",
    [
        ("gated", "ssm"),
        ("gated", "attention"),
        ("stack", "ssm"),
        ("stack", "attention"),
    ],
)
def test_ablation_variants_build_and_train(block_type, routing):
    backbone = BiGSBackbone(
        **SMALL, block_type=block_type, routing=routing, num_heads=2
    )
    inputs = make_inputs(4, 16, valid=[16, 10, 5, 16])
    out = run(backbone, inputs)
    assert out["sequence_output"].shape == (4, 16, 16)
    if routing == "attention":
        # Attention masks padding: changing padded tokens changes nothing.
        changed = dict(inputs)
        changed["token_ids"] = np.where(
            inputs["padding_mask"] == 1, inputs["token_ids"], 7
        )
        other = run(backbone, changed)
        np.testing.assert_allclose(
            other["pooled_output"], out["pooled_output"], atol=1e-5
        )

    pooled = backbone(backbone.input)["pooled_output"]
    model = keras.Model(backbone.input, keras.layers.Dense(1)(pooled))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    target = np.array([[1.0], [-1.0], [1.0], [-1.0]], "float32")
    history = model.fit(inputs, target, epochs=10, batch_size=4, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_bad_config_values_are_rejected():
    with pytest.raises(ValueError, match="block_type='dense'"):
        BiGSBackbone(**SMALL, block_type="dense")
    with pytest.raises(ValueError, match="routing='rnn'"):
        BiGSBackbone(**SMALL, routing="rnn")


def test_keras_hub_preset_round_trip(tmp_path):
    backbone = BiGSBackbone(**SMALL)
    inputs = make_inputs(2, 32, valid=[32, 6])
    expected = run(backbone, inputs)
    backbone.save_to_preset(str(tmp_path / "preset"))
    restored = BiGSBackbone.from_preset(str(tmp_path / "preset"))
    assert restored.get_config() == backbone.get_config()
    got = run(restored, inputs)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def tensor_inputs(batch, length, seed=0, valid=None):
    return {
        key: ops.convert_to_tensor(value)
        for key, value in make_inputs(batch, length, seed, valid).items()
    }


class BiGSBackboneKerasHubTest(TestCase):
    """keras-hub's backbone checks (serialization, eager and compiled calls,
    variable lengths, every dtype policy, quantization), a `.keras` round
    trip, and loading the original checkpoints as presets."""

    def test_backbone_basics(self):
        self.run_backbone_test(
            cls=BiGSBackbone,
            init_kwargs=SMALL,
            input_data=tensor_inputs(2, 8, valid=[8, 5]),
            expected_output_shape={
                "sequence_output": (2, 8, 16),
                "pooled_output": (2, 16),
            },
        )

    def test_saved_model(self):
        self.run_model_saving_test(
            cls=BiGSBackbone,
            init_kwargs={
                **SMALL,
                "dropout": 0.2,
                "activation": "gelu",
                "layer_norm_epsilon": 1e-6,
                "kernel_per_channel": True,
                "a_initialization": "lin",
                "dt_min": 0.001,
                "dt_max": 0.1,
            },
            input_data=tensor_inputs(2, 32, valid=[32, 7]),
        )

    def test_original_checkpoints_as_presets(self):
        for fixtures in PARITY_TOLERANCE:
            folder = fixture_dir("torch_classifier", fixtures)
            reference = np.load(folder / "reference_outputs.npz")
            inputs = dict(next(reference_batches(reference))[1])
            self.run_preset_test(
                cls=BiGSBackbone,
                preset=str(folder),
                input_data=inputs,
                expected_output_shape={
                    "sequence_output": (3, 64, 48),
                    "pooled_output": (3, 48),
                },
                expected_partial_output={
                    "sequence_output": reference["sequence_output"][0, 0, :8],
                    "pooled_output": original_pooler(
                        folder,
                        reference["sequence_output"],
                        inputs["padding_mask"],
                    )[0, :8],
                },
            )


def original_pooler(folder, sequence_output, padding_mask):
    """The original's pooler in float64: the mean over non-padding tokens,
    then dense + tanh, with the checkpoint's own pooler weights."""
    weights = safetensors.numpy.load_file(str(folder / "model.safetensors"))
    kernel = weights["bigs.pooler.dense.weight"].astype("float64").T
    bias = weights["bigs.pooler.dense.bias"].astype("float64")
    mask = padding_mask[..., None].astype("float64")
    mean = (sequence_output * mask).sum(1) / mask.sum(1)
    return np.tanh(mean @ kernel + bias)


@pytest.mark.parametrize(
    "block_type,routing",
    [("gated", "ssm"), ("stack", "ssm"), ("stack", "attention")],
)
def test_every_new_kernel_is_drawn_afresh(block_type, routing):
    # One initializer object shared by several dense layers would give all
    # kernels of a shape the same values (a Keras initializer draws its
    # seed once): the forward and backward paths would start identical.
    backbone = BiGSBackbone(
        **SMALL, block_type=block_type, routing=routing, num_heads=2
    )
    kernels = [
        ops.convert_to_numpy(v) for v in backbone.weights if v.name == "kernel"
    ]
    assert len(kernels) >= 5
    for i, a in enumerate(kernels):
        for b in kernels[i + 1 :]:
            assert a.shape != b.shape or not np.array_equal(a, b)
