"""The output stage of a BiGS layer: multiplicative gating, then projection."""

import keras

from keras_bigs.layers.activations import get_activation
from keras_bigs.layers.initializers import clone_initializer


@keras.saving.register_keras_serializable(package="keras_bigs")
class GatedFFN(keras.layers.Layer):
    """`do(act(dol(routed)) * gate)`: the gated feed-forward of BiGS.

    In a BiGS layer `routed = f * b` (the forward and backward SSM paths,
    already multiplied) and `gate = v = act(dv(x))`, so the layer computes
    `do(act(dol(f * b)) * v)`. Sublayer names follow the original checkpoint
    (`dol`, `do`).

    Args:
        hidden_dim: int. Output width (the model's hidden size).
        intermediate_dim: int. Width of `dol` and of `gate`.
        activation: activation name; `"gelu_approximate"` (Flax BiGS) or
            `"gelu"` (exact, the PyTorch port), or any Keras activation.
        kernel_initializer: initializer of the dense kernels.
        **kwargs: base layer arguments.

    Example:
    ```python
    import numpy as np
    import keras_bigs

    ffn = keras_bigs.GatedFFN(hidden_dim=8, intermediate_dim=16)
    routed = np.random.rand(2, 10, 8).astype("float32")
    gate = np.random.rand(2, 10, 16).astype("float32")
    y = ffn(routed, gate)  # (2, 10, 8)
    ```
    """

    def __init__(
        self,
        hidden_dim,
        intermediate_dim,
        activation="gelu_approximate",
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.activation = activation
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self._activation_fn = get_activation(activation)
        self.dol = keras.layers.Dense(
            intermediate_dim,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="dol",
        )
        self.do = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="do",
        )

    def build(self, routed_shape, gate_shape=None):
        self.dol.build(routed_shape)
        self.do.build(tuple(routed_shape[:-1]) + (self.intermediate_dim,))
        self.built = True

    def call(self, routed, gate):
        return self.do(self._activation_fn(self.dol(routed)) * gate)

    def compute_output_shape(self, routed_shape, gate_shape=None):
        return tuple(routed_shape[:-1]) + (self.hidden_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "activation": self.activation,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
