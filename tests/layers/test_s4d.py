import keras
import numpy as np
import pytest
from keras import ops

from keras_bigs import S4DConv
from keras_bigs.layers import s4d
from tests.keras_hub_test_case import TestCase


def reference_kernel(a_re, a_im, c, log_step, length):
    """K[l] = Re(sum_n C_n (exp(dt A_n) - 1) / A_n exp(l dt A_n)), float64."""
    a = np.minimum(a_re, -1e-4) + 1j * a_im
    c = c[..., 0] + 1j * c[..., 1]
    dt = np.exp(log_step)
    taps = np.arange(length)
    terms = (c * (np.exp(dt * a) - 1) / a)[..., None] * np.exp(
        (dt * a)[..., None] * taps
    )
    return terms.sum(axis=-2).real


def direct_causal_convolution(u, k):
    """y[t] = sum_{s<=t} k[t-s] u[s], O(L^2), float64."""
    length = u.shape[-1]
    y = np.zeros_like(u, dtype=np.float64)
    for t in range(length):
        for s in range(t + 1):
            y[..., t] += k[..., t - s] * u[..., s]
    return y


def random_ssm(rng, lead, n):
    return dict(
        A_re=-rng.uniform(0.05, 1.0, lead + (n,)),
        A_im=rng.normal(0, 3.0, lead + (n,)),
        C=rng.normal(0, 0.7, lead + (n, 2)),
        log_step=rng.uniform(np.log(0.01), 0.0, lead + (1,)),
    )


def set_ssm(layer, params, d):
    for name, value in params.items():
        getattr(layer, name).assign(value.astype("float32"))
    layer.D.assign(np.asarray(d, "float32"))


@pytest.mark.parametrize("length", [1, 7, 64, 300])
def test_kernel_matches_float64_formula(length):
    rng = np.random.default_rng(0)
    p = random_ssm(rng, (), 16)
    # One A_re above the clamp: the kernel must use min(A_re, -1e-4).
    p["A_re"][0] = 0.3
    expected = reference_kernel(
        p["A_re"], p["A_im"], p["C"], p["log_step"], length
    )
    got = s4d.zoh_kernel(
        *(
            ops.convert_to_tensor(p[k].astype("float32"))
            for k in ("A_re", "A_im", "C", "log_step")
        ),
        length,
    )
    got = ops.convert_to_numpy(got)
    assert got.shape == (length,)
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=1e-5 * np.abs(expected).max()
    )


@pytest.mark.parametrize("a_initialization", ["hippo", "lin", "inv"])
def test_long_kernel_matches_float64_formula(a_initialization):
    """The kernel is built from two short power tables (Ā^l = Ā^r Ā^(qs));
    at 4,096 taps and the models' 64 modes it still agrees with the float64
    sum to float32 precision."""
    rng = np.random.default_rng(2)
    p = random_ssm(rng, (), 64)
    p["A_re"], p["A_im"] = s4d.A_INITIALIZATIONS[a_initialization](64)
    expected = reference_kernel(
        p["A_re"], p["A_im"], p["C"], p["log_step"], 4096
    )
    got = ops.convert_to_numpy(
        s4d.zoh_kernel(
            *(
                ops.convert_to_tensor(p[k].astype("float32"))
                for k in ("A_re", "A_im", "C", "log_step")
            ),
            4096,
        )
    )
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=2e-5 * np.abs(expected).max()
    )


@pytest.mark.backends("tensorflow")
def test_kernel_of_a_length_known_only_at_run_time():
    """In a TF graph with an unknown length the kernel is the direct sum;
    it equals the factored kernel of the static length."""
    import tensorflow as tf

    rng = np.random.default_rng(3)
    p = {
        k: tf.constant(v.astype("float32"))
        for k, v in random_ssm(rng, (), 8).items()
    }
    args = [p[k] for k in ("A_re", "A_im", "C", "log_step")]
    dynamic = tf.function(
        lambda n: s4d.zoh_kernel(*args, n),
        input_signature=[tf.TensorSpec((), tf.int32)],
    )
    np.testing.assert_allclose(
        dynamic(tf.constant(50)).numpy(),
        s4d.zoh_kernel(*args, 50).numpy(),
        rtol=0,
        atol=1e-6,
    )


def test_per_channel_kernel_matches_formula_per_channel():
    rng = np.random.default_rng(1)
    p = random_ssm(rng, (3,), 8)
    got = ops.convert_to_numpy(
        s4d.zoh_kernel(
            *(
                ops.convert_to_tensor(p[k].astype("float32"))
                for k in ("A_re", "A_im", "C", "log_step")
            ),
            20,
        )
    )
    assert got.shape == (3, 20)
    for h in range(3):
        expected = reference_kernel(
            p["A_re"][h], p["A_im"][h], p["C"][h], p["log_step"][h], 20
        )
        np.testing.assert_allclose(got[h], expected, atol=1e-5)


def direct_anticausal_convolution(u, k):
    """y[t] = sum_{s>=t} k[s-t] u[s]: the causal one on the reversed
    sequence, float64."""
    return direct_causal_convolution(u[..., ::-1], k)[..., ::-1]


def float64_reference(u, k, reverse):
    """Along the last axis of `u`, float64."""
    if reverse:
        return direct_anticausal_convolution(u, k)
    return direct_causal_convolution(u, k)


def decaying_kernel(rng, shape):
    return rng.normal(size=shape) * np.exp(-0.05 * np.arange(shape[-1]))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("length", [1, 5, 33, 128])
def test_fft_convolution_matches_float64_reference(length, reverse):
    rng = np.random.default_rng(2)
    u = rng.normal(size=(2, 3, length))
    k = decaying_kernel(rng, (length,))
    got = ops.convert_to_numpy(
        s4d.fft_convolution(
            ops.convert_to_tensor(u.astype("float32")),
            ops.convert_to_tensor(k.astype("float32")),
            reverse=reverse,
        )
    )
    expected = float64_reference(u, k, reverse)
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=2e-6 * np.abs(expected).max()
    )


@pytest.mark.parametrize("length", [1, 2, 6, 17])
def test_toeplitz_matrix_is_the_shifted_kernel(length):
    k = np.arange(1, length + 1, dtype="float32")
    got = ops.convert_to_numpy(s4d.toeplitz_matrix(ops.convert_to_tensor(k)))
    expected = np.zeros((length, length), "float32")
    for s in range(length):
        for t in range(s, length):
            expected[s, t] = k[t - s]
    np.testing.assert_array_equal(got, expected)
    # A leading (per-channel) axis: one matrix per channel.
    both = ops.convert_to_numpy(
        s4d.toeplitz_matrix(ops.convert_to_tensor(np.stack([k, 2 * k])))
    )
    np.testing.assert_array_equal(both, np.stack([expected, 2 * expected]))


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("length", [1, 7, 64, 200])
def test_toeplitz_convolution_matches_float64_reference(
    length, reverse, per_channel
):
    rng = np.random.default_rng(7)
    u = rng.normal(size=(2, length, 3))  # (batch, L, channels)
    k = decaying_kernel(rng, (3, length) if per_channel else (length,))
    got = ops.convert_to_numpy(
        s4d.toeplitz_convolution(
            ops.convert_to_tensor(u.astype("float32")),
            ops.convert_to_tensor(k.astype("float32")),
            reverse=reverse,
        )
    )
    expected = float64_reference(u.transpose(0, 2, 1), k, reverse)
    expected = expected.transpose(0, 2, 1)
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=2e-6 * np.abs(expected).max()
    )


def test_auto_mode_uses_toeplitz_for_short_and_fft_for_long_inputs():
    limit = s4d.TOEPLITZ_MAX_LENGTH[s4d.device_kind()]
    assert s4d.resolve_conv_mode("auto", 128) == "toeplitz"
    assert s4d.resolve_conv_mode("auto", limit) == "toeplitz"
    assert s4d.resolve_conv_mode("auto", limit + 1) == "fft"
    assert s4d.resolve_conv_mode("auto", 4096) == "fft"
    # A (channels, L, L) Toeplitz tensor is never chosen automatically, nor
    # a path that needs the length when it is unknown.
    assert s4d.resolve_conv_mode("auto", 64, kernel_per_channel=True) == "fft"
    assert s4d.resolve_conv_mode("auto", None) == "fft"
    assert s4d.resolve_conv_mode("toeplitz", 4096) == "toeplitz"


def test_unknown_conv_mode_is_rejected():
    with pytest.raises(ValueError, match="conv_mode='direct'"):
        S4DConv(conv_mode="direct")


@pytest.mark.parametrize("conv_mode", s4d.CONV_MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_output_is_kernel_convolution_plus_skip(conv_mode, reverse):
    rng = np.random.default_rng(3)
    layer = S4DConv(state_dim=8, conv_mode=conv_mode, reverse=reverse)
    u = rng.normal(size=(2, 40, 5)).astype("float32")
    layer.build(u.shape)
    p = random_ssm(rng, (), 8)
    set_ssm(layer, p, [0.7])
    k = reference_kernel(p["A_re"], p["A_im"], p["C"], p["log_step"], 40)
    expected = float64_reference(
        u.transpose(0, 2, 1).astype("float64"), k, reverse
    )
    expected = expected.transpose(0, 2, 1) + 0.7 * u
    got = ops.convert_to_numpy(layer(u))
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=1e-5 * np.abs(expected).max()
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer.kernel(40)), k, atol=1e-5
    )


@pytest.mark.parametrize("per_channel", [False, True])
def test_every_path_computes_the_same_layer_and_gradients(per_channel):
    """FFT, Toeplitz and auto agree on outputs and on every gradient."""
    rng = np.random.default_rng(8)
    u = rng.normal(size=(2, 96, 4)).astype("float32")
    weights = None
    results = {}
    for conv_mode in s4d.CONV_MODES:
        layer = S4DConv(
            state_dim=8,
            kernel_per_channel=per_channel,
            conv_mode=conv_mode,
            reverse=True,
        )
        layer.build(u.shape)
        if weights is None:
            weights = layer.get_weights()
        layer.set_weights(weights)
        results[conv_mode] = [
            ops.convert_to_numpy(t) for t in output_and_gradients(layer, u)
        ]
    # The FFT rounds in float32 at ~1e-5 of the largest value; a gradient
    # summed over every position (D's, 768 terms) adds that rounding up
    # (seen at 5.1e-5 of its value), and its order varies with the threads
    # XLA's FFT runs on.
    for conv_mode in ("toeplitz", "auto"):
        for got, want in zip(results[conv_mode], results["fft"]):
            np.testing.assert_allclose(
                got, want, rtol=0, atol=1e-4 * np.abs(want).max()
            )


def output_and_gradients(layer, u):
    """`layer(u)` and the gradients of `sum(layer(u) * w)` with respect to
    `u` and to each weight, on whatever backend runs."""
    w = ops.convert_to_tensor(
        np.random.default_rng(9).normal(size=u.shape).astype("float32")
    )
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss(values, x):
            y, _ = layer.stateless_call(values, [], x)
            return ops.sum(y * w), y

        values = [v.value for v in layer.trainable_variables]
        (grads, du), y = jax.grad(loss, argnums=(0, 1), has_aux=True)(
            values, ops.convert_to_tensor(u)
        )
        return [y, du, *grads]
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(u)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * w)
        du, *grads = tape.gradient(loss, [x, *layer.trainable_variables])
        return [y, du, *grads]
    import torch

    x = torch.tensor(u, requires_grad=True)
    y = layer(x)
    loss = torch.sum(y * w)
    params = [v.value for v in layer.trainable_variables]
    du, *grads = torch.autograd.grad(loss, [x, *params])
    return [y.detach(), du, *grads]


@pytest.mark.backends("tensorflow")
@pytest.mark.parametrize("kernel_per_channel", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_toeplitz_with_a_length_known_only_at_run_time(
    kernel_per_channel, reverse
):
    """A TensorFlow graph (an export) can leave the length unknown at trace
    time: the Toeplitz path then gathers the kernel, and equals the FFT."""
    import tensorflow as tf

    spec = [tf.TensorSpec((None, None, 3), tf.float32)]
    layers = {}
    for mode in ("toeplitz", "fft"):
        layer = S4DConv(
            state_dim=4,
            conv_mode=mode,
            kernel_per_channel=kernel_per_channel,
            reverse=reverse,
        )
        layer.build((None, None, 3))
        layers[mode] = layer
    layers["toeplitz"].set_weights(layers["fft"].get_weights())
    traced = tf.function(layers["toeplitz"], input_signature=spec)
    for length in (1, 9, 40):
        x = tf.random.stateless_normal((2, length, 3), seed=(length, 0))
        np.testing.assert_allclose(
            traced(x).numpy(), layers["fft"](x).numpy(), rtol=1e-5, atol=1e-5
        )
    # "auto" takes the FFT there.
    auto = S4DConv(state_dim=4)
    auto.build((None, None, 3))
    traced = tf.function(auto, input_signature=spec)
    assert traced(tf.ones((2, 9, 3))).shape == (2, 9, 3)


@pytest.mark.backends("jax")
def test_fft_path_memory_grows_linearly_with_length():
    """No O(L²) tensor on the FFT path: XLA's own buffer plan for forward +
    backward at a fixed batch grows about 4x from 1,024 to 4,096 tokens."""
    import jax

    layer = S4DConv(state_dim=64, conv_mode="fft")
    layer.build((2, None, 64))
    values = [v.value for v in layer.trainable_variables]

    def loss(values, x):
        y, _ = layer.stateless_call(values, [], x)
        return ops.sum(y * y)

    def step_bytes(length):
        x = jax.ShapeDtypeStruct((2, length, 64), "float32")
        compiled = (
            jax.jit(jax.grad(loss, argnums=(0, 1))).lower(values, x).compile()
        )
        memory = compiled.memory_analysis()
        return memory.temp_size_in_bytes + memory.output_size_in_bytes

    growth = step_bytes(4096) / step_bytes(1024)
    assert growth <= 4.5, growth


@pytest.mark.parametrize("conv_mode", ["fft", "toeplitz"])
def test_layer_is_causal_and_reverse_is_anticausal(conv_mode):
    rng = np.random.default_rng(4)
    u = rng.normal(size=(1, 50, 4)).astype("float32")
    s = 20
    changed_late = u.copy()
    changed_late[:, s + 1 :] = rng.normal(size=changed_late[:, s + 1 :].shape)
    changed_early = u.copy()
    changed_early[:, :s] = rng.normal(size=changed_early[:, :s].shape)
    for reverse, changed, same, different in (
        (False, changed_late, slice(0, s + 1), slice(s + 1, None)),
        (True, changed_early, slice(s, None), slice(0, s)),
    ):
        layer = S4DConv(state_dim=16, conv_mode=conv_mode, reverse=reverse)
        before = ops.convert_to_numpy(layer(u))
        after = ops.convert_to_numpy(layer(changed))
        # Equal up to FFT round-off (the FFT mixes every position's rounding).
        np.testing.assert_allclose(before[:, same], after[:, same], atol=1e-5)
        assert np.abs(before[:, different] - after[:, different]).max() > 1e-3


def test_shared_kernel_parameter_shapes():
    layer = S4DConv(state_dim=16)
    layer.build((None, None, 12))
    shapes = {w.name: tuple(w.shape) for w in layer.weights}
    assert shapes == {
        "A_re": (16,),
        "A_im": (16,),
        "C": (16, 2),
        "log_step": (1,),
        "D": (1,),
    }


def test_per_channel_kernels_differ_by_channel_and_match_shared_when_equal():
    rng = np.random.default_rng(5)
    u = rng.normal(size=(2, 30, 3)).astype("float32")
    per_channel = S4DConv(state_dim=8, kernel_per_channel=True)
    per_channel.build(u.shape)
    shapes = {w.name: tuple(w.shape) for w in per_channel.weights}
    assert shapes == {
        "A_re": (3, 8),
        "A_im": (3, 8),
        "C": (3, 8, 2),
        "log_step": (3, 1),
        "D": (3,),
    }
    assert ops.convert_to_numpy(per_channel.kernel(30)).shape == (3, 30)

    shared = S4DConv(state_dim=8)
    shared.build(u.shape)
    p = random_ssm(rng, (), 8)
    set_ssm(shared, p, [1.3])
    set_ssm(
        per_channel, {k: np.stack([v] * 3) for k, v in p.items()}, [1.3] * 3
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(per_channel(u)),
        ops.convert_to_numpy(shared(u)),
        atol=1e-5,
    )
    # Different parameters per channel: channel 1 changes, 0 and 2 do not.
    p1 = random_ssm(rng, (), 8)
    mixed = {k: np.stack([v, p1[k], v]) for k, v in p.items()}
    set_ssm(per_channel, mixed, [1.3] * 3)
    y = ops.convert_to_numpy(per_channel(u))
    y_shared = ops.convert_to_numpy(shared(u))
    np.testing.assert_allclose(y[..., [0, 2]], y_shared[..., [0, 2]], atol=1e-5)
    assert np.abs(y[..., 1] - y_shared[..., 1]).max() > 1e-3


def test_initializations():
    n = 8
    re, im = s4d.s4d_lin(n)
    np.testing.assert_allclose(re, -0.5)
    np.testing.assert_allclose(im, np.pi * np.arange(n))
    re, im = s4d.s4d_inv(n)
    np.testing.assert_allclose(im, n / np.pi * (n / (2 * np.arange(n) + 1) - 1))
    # HiPPO-LegS: A + P P^T = -1/2 I + skew-symmetric; its eigenvalues
    # (-1/2 + i lambda) are the diagonal A.
    re, im = s4d.hippo_legs_diagonal(n)
    np.testing.assert_allclose(re, -0.5)
    k = np.arange(n)
    p = np.sqrt(1 + 2 * k)
    hippo = -(np.tril(np.outer(p, p)) - np.diag(k))
    normal = hippo + np.outer(np.sqrt(k + 0.5), np.sqrt(k + 0.5))
    eig = np.linalg.eigvals(normal)
    np.testing.assert_allclose(sorted(eig.imag), im, atol=1e-9)
    np.testing.assert_allclose(eig.real, -0.5, atol=1e-9)

    for name, fn in s4d.A_INITIALIZATIONS.items():
        layer = S4DConv(state_dim=n, a_initialization=name)
        layer.build((None, None, 4))
        np.testing.assert_allclose(
            ops.convert_to_numpy(layer.A_im), fn(n)[1], rtol=1e-6
        )
        log_step = ops.convert_to_numpy(layer.log_step)
        assert np.log(0.01) <= log_step.min() and log_step.max() < 0.0
        np.testing.assert_array_equal(ops.convert_to_numpy(layer.D), [1.0])


def test_step_range_sets_the_initial_steps():
    layer = S4DConv(state_dim=4, kernel_per_channel=True, dt_min=1e-3,
                    dt_max=2e-3)  # fmt: skip
    layer.build((None, None, 64))
    step = np.exp(ops.convert_to_numpy(layer.log_step))
    assert 1e-3 <= step.min() and step.max() < 2e-3
    for dt_min, dt_max in ((0.0, 0.1), (0.1, 0.01), (-1.0, 1.0)):
        with pytest.raises(ValueError, match="0 < dt_min <= dt_max"):
            S4DConv(dt_min=dt_min, dt_max=dt_max)


def test_unknown_initialization_is_rejected():
    with pytest.raises(ValueError, match="a_initialization='legs'"):
        S4DConv(a_initialization="legs")


def test_mixed_precision_keeps_float32_math():
    rng = np.random.default_rng(6)
    u = rng.normal(size=(2, 64, 4)).astype("float32")
    ref = S4DConv(state_dim=8)
    out32 = ops.convert_to_numpy(ref(u))
    mixed = S4DConv(state_dim=8, dtype="mixed_bfloat16")
    mixed.build(u.shape)
    mixed.set_weights(ref.get_weights())
    out16 = mixed(u)
    assert keras.backend.standardize_dtype(out16.dtype) == "bfloat16"
    assert all(w.dtype == "float32" for w in mixed.weights)
    out16 = ops.convert_to_numpy(ops.cast(out16, "float32"))
    assert np.isfinite(out16).all()
    # Only the bfloat16 rounding of input and output remains.
    np.testing.assert_allclose(out16, out32, atol=0.05 * np.abs(out32).max())


class S4DConvKerasHubTest(TestCase):
    """keras-hub's layer checks: serialization, build, symbolic and eager
    calls, a compiled training step, and every dtype policy."""

    def test_layer_basics(self):
        for kwargs in (
            {"state_dim": 4},
            {
                "state_dim": 4,
                "kernel_per_channel": True,
                "a_initialization": "inv",
                "dt_min": 0.001,
                "dt_max": 0.1,
                "reverse": True,
                "conv_mode": "fft",
            },
        ):
            self.run_layer_test(
                cls=S4DConv,
                init_kwargs=kwargs,
                input_data=ops.convert_to_tensor(
                    np.random.default_rng(0)
                    .normal(size=(2, 10, 3))
                    .astype("float32")
                ),
                expected_output_shape=(2, 10, 3),
                expected_num_trainable_weights=5,
            )
