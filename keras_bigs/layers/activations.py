"""Activation names used in configs.

BiGS checkpoints come in two numerical flavours that differ only in the GELU:
the official Flax model uses the tanh approximation, the PyTorch port the
exact (erf) form. Configs name them as strings so they serialise.

Both GELUs carry their derivative in closed form. Differentiating the
forward formula instead keeps its intermediates (the tanh or erf of every
activation) alive until the backward pass; here the backward recomputes
from the input alone, which saves memory traffic on the widest tensors of
the model (a BiGS training step is measurably faster, `tools/benchmark.py`).
"""

import math

import keras
from keras import ops

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TANH_CUBIC = 0.044715
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def gelu_approximate_derivative(x):
    """d/dx of 0.5 x (1 + tanh(c (x + 0.044715 x³))), c = √(2/π):

    0.5 (1 + t) + 0.5 x (1 - t²) c (1 + 3 · 0.044715 x²)
    """
    x_squared = x * x
    t = ops.tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * x_squared * x))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (
        1.0 + 3.0 * _TANH_CUBIC * x_squared
    )


def gelu_exact_derivative(x):
    """d/dx of x Φ(x):

    Φ(x) + x φ(x) = 0.5 (1 + erf(x/√2)) + x e^(-x²/2)/√(2π)
    """
    return (
        0.5 * (1.0 + ops.erf(x * _INV_SQRT_2))
        + x * ops.exp(-0.5 * x * x) * _INV_SQRT_2PI
    )


def _with_derivative(derivative):
    """Decorator: `function` with `derivative` as its gradient."""

    def decorate(function):
        @ops.custom_gradient
        def activation(x):
            def grad(*args, upstream=None):
                if upstream is None:  # JAX and TF pass it by position
                    (upstream,) = args
                return upstream * derivative(x)

            return function(x), grad

        activation.__doc__ = function.__doc__
        return activation

    return decorate


@_with_derivative(gelu_approximate_derivative)
def gelu_approximate(x):
    """GELU, tanh approximation (Flax `nn.gelu`, the official BiGS models)."""
    return keras.activations.gelu(x, approximate=True)


@_with_derivative(gelu_exact_derivative)
def gelu_exact(x):
    """GELU, exact erf form (PyTorch `nn.functional.gelu`):
    0.5 x (1 + erf(x/√2)).

    On TensorFlow it is computed as written: TensorFlow's own GELU uses
    `erfc`, which ONNX has no op for, and TensorFlow is the backend of the
    ONNX export. Elsewhere it is Keras' GELU (via `erfc`): JAX lowers
    `erf` to a StableHLO composite that TensorFlow 2.21 cannot load, which
    would break SavedModels exported from JAX. The two agree to float32
    rounding."""
    if keras.backend.backend() == "tensorflow":
        return 0.5 * x * (1.0 + ops.erf(x * _INV_SQRT_2))
    return keras.activations.gelu(x, approximate=False)


_NAMED = {"gelu_approximate": gelu_approximate, "gelu": gelu_exact}


def get_activation(identifier):
    """`"gelu_approximate"`, `"gelu"` (exact), or any Keras activation."""
    if isinstance(identifier, str) and identifier in _NAMED:
        return _NAMED[identifier]
    return keras.activations.get(identifier)
