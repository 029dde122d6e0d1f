"""One BiGS layer: bidirectional SSM routing, multiplicative gating."""

import keras
from keras import ops

from keras_bigs.layers.activations import get_activation
from keras_bigs.layers.gated_ffn import GatedFFN
from keras_bigs.layers.initializers import clone_initializer
from keras_bigs.layers.s4d import S4DConv

ROUTINGS = ("ssm", "attention")


def attention_mask_from_padding(padding_mask, length):
    """`(batch, L)` padding mask -> `(batch, L, L)`: every query sees the
    tokens."""
    if padding_mask is None:
        return None
    keys = ops.expand_dims(ops.cast(padding_mask, "bool"), axis=1)
    return ops.broadcast_to(keys, (ops.shape(keys)[0], length, length))


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSBlock(keras.layers.Layer):
    """One layer of BiGS (the GATED architecture of "Pretraining Without
    Attention"), with a pre-LayerNorm residual:

        z  = layer_norm(x)
        v  = act(dv(z))                                  gate
        f  = duc_forward(fs4(act(du_forward(z))))        forward SSM path
        b  = flip(duc_backward(bs4(act(du_backward(flip(z))))))   backward
           = duc_backward(bs4'(act(du_backward(z))))    bs4' anti-causal
        y  = x + do(act(dol(f * b)) * v)                 GatedFFN

    There is no dropout inside the layer (as in the original). The sublayer
    names match the original checkpoints one to one. The backward path runs
    as an anti-causal SSM (`S4DConv(reverse=True)`) rather than between two
    flips: dense layers and activations act per position, so the flips
    commute out and cancel.

    With `routing="attention"` (the paper's GATED/ATT ablation) the two SSM
    paths are replaced by one multi-head self-attention over the forward
    path, `f = duc_forward(attention(act(du_forward(z))))`, and `b = 1`; the
    `padding_mask` is then honoured. SSM routing reads padding like any other
    token, as the original does, unless `padding_invariant=True`: padded
    positions then enter both SSMs as zeros. The forward SSM is causal, so
    right padding never reached a real token through it; through the
    backward SSM it did, and no longer does. Outputs at real positions are
    then the same for any amount of right padding.

    Args:
        hidden_dim: int. Model width.
        intermediate_dim: int. Width of the gate `v` and of `dol`.
        state_dim: int. SSM state size `N` of `fs4` and `bs4`.
        activation: `"gelu_approximate"` (default, the Flax model), `"gelu"`
            (exact, the PyTorch port) or any Keras activation.
        layer_norm_epsilon: float.
        routing: `"ssm"` (BiGS) or `"attention"`.
        num_heads: int. Heads for attention routing.
        kernel_per_channel: bool. One SSM kernel per channel (see `S4DConv`).
        a_initialization: `"hippo"`, `"lin"` or `"inv"` (see `S4DConv`).
        conv_mode: `"auto"`, `"fft"` or `"toeplitz"` (see `S4DConv`).
        padding_invariant: bool. Keep padding out of the SSMs.
        kernel_initializer: initializer of the dense kernels.
        **kwargs: base layer arguments.

    Example:
    ```python
    import numpy as np
    import keras_bigs

    block = keras_bigs.BiGSBlock(hidden_dim=8, intermediate_dim=16,
                                 state_dim=4)
    y = block(np.random.rand(2, 10, 8).astype("float32"))  # (2, 10, 8)
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
        kernel_per_channel=False,
        a_initialization="hippo",
        conv_mode="auto",
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
        self.layer_norm_epsilon = layer_norm_epsilon
        self.routing = routing
        self.num_heads = num_heads
        self.kernel_per_channel = kernel_per_channel
        self.a_initialization = a_initialization
        self.conv_mode = conv_mode
        self.padding_invariant = padding_invariant
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self._activation_fn = get_activation(activation)

        # === Layers ===
        policy = self.dtype_policy

        def dense(units, name):
            return keras.layers.Dense(
                units,
                kernel_initializer=clone_initializer(self.kernel_initializer),
                dtype=policy,
                name=name,
            )

        def ssm(name, reverse):
            return S4DConv(
                state_dim=state_dim,
                kernel_per_channel=kernel_per_channel,
                a_initialization=a_initialization,
                reverse=reverse,
                conv_mode=conv_mode,
                dtype=policy,
                name=name,
            )

        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=policy, name="layer_norm"
        )
        self.dv = dense(intermediate_dim, "dv")
        self.du_forward = dense(hidden_dim, "du_forward")
        self.duc_forward = dense(hidden_dim, "duc_forward")
        if routing == "ssm":
            self.du_backward = dense(hidden_dim, "du_backward")
            self.duc_backward = dense(hidden_dim, "duc_backward")
            self.fs4 = ssm("fs4", reverse=False)
            self.bs4 = ssm("bs4", reverse=True)
        else:
            self.attention = keras.layers.MultiHeadAttention(
                num_heads=num_heads,
                key_dim=hidden_dim // num_heads,
                kernel_initializer=clone_initializer(self.kernel_initializer),
                dtype=policy,
                name="attention",
            )
        self.gated_ffn = GatedFFN(
            hidden_dim,
            intermediate_dim,
            activation=activation,
            kernel_initializer=self.kernel_initializer,
            dtype=policy,
            name="gated_ffn",
        )

    @property
    def dol(self):
        return self.gated_ffn.dol

    @property
    def do(self):
        return self.gated_ffn.do

    def build(self, input_shape):
        hidden_shape = tuple(input_shape)
        wide_shape = hidden_shape[:-1] + (self.intermediate_dim,)
        self.layer_norm.build(hidden_shape)
        self.dv.build(hidden_shape)
        self.du_forward.build(hidden_shape)
        self.duc_forward.build(hidden_shape)
        if self.routing == "ssm":
            for layer in (
                self.du_backward,
                self.duc_backward,
                self.fs4,
                self.bs4,
            ):
                layer.build(hidden_shape)
        else:
            self.attention.build(hidden_shape, hidden_shape)
        self.gated_ffn.build(hidden_shape, wide_shape)
        self.built = True

    def call(self, x, padding_mask=None):
        act = self._activation_fn
        z = self.layer_norm(x)
        v = act(self.dv(z))
        u_forward = act(self.du_forward(z))
        if self.routing == "ssm":
            u_backward = act(self.du_backward(z))
            ssm_mask = padding_mask if self.padding_invariant else None
            f = self.duc_forward(self.fs4(u_forward, padding_mask=ssm_mask))
            b = self.duc_backward(self.bs4(u_backward, padding_mask=ssm_mask))
            routed = f * b
        else:
            mask = attention_mask_from_padding(padding_mask, ops.shape(x)[1])
            routed = self.duc_forward(
                self.attention(u_forward, u_forward, attention_mask=mask)
            )
        return x + self.gated_ffn(routed, v)

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
                "conv_mode": self.conv_mode,
                "padding_invariant": self.padding_invariant,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
