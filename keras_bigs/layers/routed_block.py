"""What the GATED and STACK layers share: arguments, sublayers and the
padding rules of their token routing (bidirectional SSMs or attention)."""

import functools

import keras
from keras import ops

from keras_bigs.layers.activations import get_activation
from keras_bigs.layers.initializers import clone_initializer
from keras_bigs.layers.s4d import s4d_pair

ROUTINGS = ("ssm", "attention")


class RoutedBlock(keras.layers.Layer):
    """Base of the layers that mix tokens by `routing="ssm"` (bidirectional
    S4D convolutions) or `routing="attention"` (multi-head self-attention):
    `BiGSBlock` (the paper's GATED architecture) and `StackBlock` (STACK).

    It holds the arguments both take, makes the sublayers both are made of
    (`_make_dense`, `_make_layer_norm`, `_make_attention`, and
    `_make_ssm_pair`, the `s4d_pair` of its SSM arguments) and applies the
    routing's padding rule: attention always honours the `padding_mask`
    (`_attend`), the SSMs read padded positions as zeros only with
    `padding_invariant=True` (`_ssm_padding_mask`), since the original
    reads padding like any other token. A subclass makes its sublayers in
    `__init__` (the order in which it makes them fixes their random initial
    values under `keras.utils.set_random_seed`) and adds its own arguments
    to `get_config`.

    Args:
        hidden_dim: int. Model width.
        intermediate_dim: int. Feed-forward (or gate) width.
        state_dim: int. SSM state size `N`.
        activation: `"gelu_approximate"` (default, the Flax model), `"gelu"`
            (exact, the PyTorch port) or any Keras activation.
        layer_norm_epsilon: float.
        routing: `"ssm"` or `"attention"`.
        num_heads: int. Heads for attention routing.
        kernel_per_channel: bool. One SSM kernel per channel (see `S4DConv`).
        a_initialization: `"hippo"`, `"lin"` or `"inv"` (see `S4DConv`).
        dt_min, dt_max: range of the SSMs' initial step sizes (see
            `S4DConv`).
        padding_invariant: bool. Keep padding out of the SSMs.
        kernel_initializer: initializer of the dense kernels; each sublayer
            gets its own copy.
        **kwargs: base layer arguments.

    Arguments after `num_heads` are keyword-only: `BiGSBlock` and
    `StackBlock` each add one of their own (`conv_mode`, `dropout`), and a
    position past `num_heads` would name a different argument in each.

    Example:
    ```python
    import numpy as np
    from keras_bigs.layers.routed_block import RoutedBlock

    class Routed(RoutedBlock):
        # x + routing(x): the SSMs' two directions multiplied, or attention.
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.routing == "ssm":
                self.fs4, self.bs4 = self._make_ssm_pair()
            else:
                self.attention = self._make_attention()

        def call(self, x, padding_mask=None):
            if self.routing == "attention":
                return x + self._attend(x, padding_mask)
            mask = self._ssm_padding_mask(padding_mask)
            forward = self.fs4(x, padding_mask=mask)
            return x + forward * self.bs4(x, padding_mask=mask)

    x = np.random.rand(2, 10, 8).astype("float32")
    Routed(hidden_dim=8, intermediate_dim=16, state_dim=4)(x).shape
    # (2, 10, 8)
    Routed(8, 16, routing="attention", num_heads=2)(x).shape  # (2, 10, 8)
    ```
    """

    def __init__(
        self,
        hidden_dim,
        intermediate_dim,
        state_dim=64,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-12,
        routing="ssm",
        num_heads=1,
        *,
        kernel_per_channel=False,
        a_initialization="hippo",
        dt_min=0.01,
        dt_max=1.0,
        padding_invariant=False,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if routing not in ROUTINGS:
            raise ValueError(
                f"Unknown `routing={routing!r}`; expected one of {ROUTINGS}."
            )
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.state_dim = state_dim
        self.activation = activation
        self._activation_fn = get_activation(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.routing = routing
        self.num_heads = num_heads
        self.kernel_per_channel = kernel_per_channel
        self.a_initialization = a_initialization
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.padding_invariant = padding_invariant
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _make_dense(self, units, name):
        return keras.layers.Dense(
            units,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def _make_layer_norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )

    def _make_ssm_pair(self, conv_mode="auto"):
        """The bidirectional pair of `s4d_pair` with this block's SSM
        arguments."""
        return s4d_pair(
            self.state_dim,
            kernel_per_channel=self.kernel_per_channel,
            a_initialization=self.a_initialization,
            dt_min=self.dt_min,
            dt_max=self.dt_max,
            conv_mode=conv_mode,
            dtype=self.dtype_policy,
        )

    def _make_attention(self):
        return keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=self.hidden_dim // self.num_heads,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="attention",
        )

    def _attend(self, x, padding_mask):
        """Self-attention of `self.attention` over `x`; padded positions
        are never attended to: the `(batch, L)` padding mask becomes a
        `(batch, L, L)` attention mask, the same keys for every query."""
        mask = None
        if padding_mask is not None:
            keys = ops.expand_dims(ops.cast(padding_mask, "bool"), axis=1)
            length = ops.shape(x)[1]
            mask = ops.broadcast_to(keys, (ops.shape(keys)[0], length, length))
        return self.attention(x, x, attention_mask=mask)

    def _ssm_padding_mask(self, padding_mask):
        """The mask the SSMs read: `padding_mask` when padding-invariant,
        else none (padding is read as tokens, as in the original)."""
        return padding_mask if self.padding_invariant else None

    def rematerialized_call(self, layer_call, *args, **kwargs):
        """Keras' rematerialized call (a `RematScope` naming this layer;
        `BiGSBackbone(remat=True)`), with the call's Python options
        (`training`) bound first: `jax.checkpoint` traces every argument
        it is given, and a traced `training` has no truth value."""
        if super().rematerialized_call(layer_call) is layer_call:
            return layer_call

        def call(x, padding_mask=None, **options):
            bound = functools.partial(layer_call, **options)
            return keras.remat(bound)(x, padding_mask)

        return call

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "state_dim": self.state_dim,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "routing": self.routing,
                "num_heads": self.num_heads,
                "kernel_per_channel": self.kernel_per_channel,
                "a_initialization": self.a_initialization,
                "dt_min": self.dt_min,
                "dt_max": self.dt_max,
                "padding_invariant": self.padding_invariant,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
