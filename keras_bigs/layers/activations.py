"""Activation names used in configs.

BiGS checkpoints come in two numerical flavours that differ only in the GELU:
the official Flax model uses the tanh approximation, the PyTorch port the
exact (erf) form. Configs name them as strings so they serialise.
"""

import keras


def gelu_approximate(x):
    """GELU, tanh approximation (Flax `nn.gelu`, the official BiGS models)."""
    return keras.activations.gelu(x, approximate=True)


def gelu_exact(x):
    """GELU, exact erf form (PyTorch `nn.functional.gelu`)."""
    return keras.activations.gelu(x, approximate=False)


_NAMED = {"gelu_approximate": gelu_approximate, "gelu": gelu_exact}


def get_activation(identifier):
    """`"gelu_approximate"`, `"gelu"` (exact), or any Keras activation."""
    if isinstance(identifier, str) and identifier in _NAMED:
        return _NAMED[identifier]
    return keras.activations.get(identifier)
