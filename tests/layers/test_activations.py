"""The GELUs with closed-form derivatives: the same values as Keras' GELU
and the gradients autodiff would give, on every backend."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_bigs.layers.activations import gelu_approximate
from keras_bigs.layers.activations import gelu_exact
from keras_bigs.layers.activations import get_activation


def gradient(function, x):
    """d sum(function(x)) / dx through the backend's autodiff."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: function(v).sum())(x))
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(function(x))
        return tape.gradient(y, x).numpy()
    import torch

    x = torch.tensor(x, requires_grad=True)
    function(x).sum().backward()
    return x.grad.numpy()


X = np.linspace(-12.0, 12.0, 4801).astype("float32")


@pytest.mark.parametrize(
    "ours, approximate", [(gelu_approximate, True), (gelu_exact, False)]
)
def test_gelu_values_and_gradients_match_keras(ours, approximate):
    def reference(v):
        return keras.activations.gelu(v, approximate=approximate)

    # Equal but for float32 rounding (on TensorFlow the exact GELU is
    # written with erf, Keras' with erfc).
    np.testing.assert_allclose(
        ops.convert_to_numpy(ours(ops.convert_to_tensor(X))),
        ops.convert_to_numpy(reference(ops.convert_to_tensor(X))),
        rtol=0,
        atol=1e-6,
    )
    got, expected = gradient(ours, X), gradient(reference, X)
    # The closed form and autodiff round differently: a few float32 ulps
    # of a derivative that is at most ~1.13.
    np.testing.assert_allclose(got, expected, rtol=0, atol=5e-6)
    # Beyond the float32 agreement, the shape of the derivative: 0 far
    # left, 1 far right, 0.5 at the origin.
    assert abs(got[0]) < 1e-6 and abs(got[-1] - 1) < 1e-6
    assert got[len(X) // 2] == pytest.approx(0.5, abs=1e-6)


@pytest.mark.backends("tensorflow", "torch")
def test_gelu_gradient_in_float64():
    # The derivative formulas themselves, free of float32 rounding (JAX
    # computes in float32 unless x64 is switched on process-wide).
    x = np.linspace(-6.0, 6.0, 1201)
    h = 1e-6
    for name in ("gelu_approximate", "gelu"):
        f = get_activation(name)
        numeric = (
            ops.convert_to_numpy(f(ops.convert_to_tensor(x + h)))
            - ops.convert_to_numpy(f(ops.convert_to_tensor(x - h)))
        ) / (2 * h)
        np.testing.assert_allclose(gradient(f, x), numeric, atol=1e-8)


def test_other_names_resolve_to_keras_activations():
    assert get_activation("relu") is keras.activations.relu
    with pytest.raises(ValueError, match="nonexistent"):
        get_activation("nonexistent")
