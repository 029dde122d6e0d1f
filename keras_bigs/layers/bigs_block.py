"""One BiGS layer: bidirectional SSM routing, multiplicative gating."""

import keras

from keras_bigs.layers.gated_ffn import GatedFFN
from keras_bigs.layers.routed_block import RoutedBlock


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSBlock(RoutedBlock):
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
    positions then enter both SSMs as zeros. Right padding reaches real
    tokens only through the backward SSM (the forward one is causal), which
    then reads it as zeros: outputs at real positions are the same for any
    amount of right padding.

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
        dt_min, dt_max: range of the SSMs' initial step sizes (see
            `S4DConv`).
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

    def __init__(self, *args, conv_mode="auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.conv_mode = conv_mode

        # === Layers ===
        self.layer_norm = self._make_layer_norm("layer_norm")
        self.dv = self._make_dense(self.intermediate_dim, "dv")
        self.du_forward = self._make_dense(self.hidden_dim, "du_forward")
        self.duc_forward = self._make_dense(self.hidden_dim, "duc_forward")
        if self.routing == "ssm":
            self.du_backward = self._make_dense(self.hidden_dim, "du_backward")
            self.duc_backward = self._make_dense(
                self.hidden_dim, "duc_backward"
            )
            self.fs4, self.bs4 = self._make_ssm_pair(conv_mode)
        else:
            self.attention = self._make_attention()
        self.gated_ffn = GatedFFN(
            self.hidden_dim,
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
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
        if self.routing == "attention":
            return x + self.gated_ffn(
                self.duc_forward(self._attend(u_forward, padding_mask)), v
            )
        u_backward = act(self.du_backward(z))
        ssm_mask = self._ssm_padding_mask(padding_mask)
        f = self.duc_forward(self.fs4(u_forward, padding_mask=ssm_mask))
        b = self.duc_backward(self.bs4(u_backward, padding_mask=ssm_mask))
        return x + self.gated_ffn(f * b, v)

    def get_config(self):
        config = super().get_config()
        config["conv_mode"] = self.conv_mode
        return config
