"""The STACK architecture of the paper's ablations: a transformer layer whose
routing is either self-attention (i.e. BERT) or bidirectional SSMs."""

import keras
from keras import ops

from keras_bigs.layers.initializers import clone_initializer
from keras_bigs.layers.routed_block import RoutedBlock
from keras_bigs.layers.s4d import s4d_pair


@keras.saving.register_keras_serializable(package="keras_bigs")
class BidirectionalSSM(keras.layers.Layer):
    """`out([fs4(x) ; bs4(x)])`, `bs4` anti-causal: both directions, projected.

    With a `padding_mask`, padded positions enter both SSMs as zeros (see
    `S4DConv`).

    Args:
        hidden_dim: int. Output width.
        state_dim: int. SSM state size.
        kernel_per_channel, a_initialization, dt_min, dt_max: see
            `S4DConv`.
        kernel_initializer: initializer of the output projection.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        hidden_dim,
        state_dim=64,
        kernel_per_channel=False,
        a_initialization="hippo",
        dt_min=0.01,
        dt_max=1.0,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.state_dim = state_dim
        self.kernel_per_channel = kernel_per_channel
        self.a_initialization = a_initialization
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

        self.fs4, self.bs4 = s4d_pair(
            state_dim,
            kernel_per_channel=kernel_per_channel,
            a_initialization=a_initialization,
            dt_min=dt_min,
            dt_max=dt_max,
            dtype=self.dtype_policy,
        )
        self.out = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="out",
        )

    def build(self, input_shape):
        self.fs4.build(input_shape)
        self.bs4.build(input_shape)
        self.out.build(tuple(input_shape[:-1]) + (2 * input_shape[-1],))
        self.built = True

    def call(self, x, padding_mask=None):
        forward = self.fs4(x, padding_mask=padding_mask)
        backward = self.bs4(x, padding_mask=padding_mask)
        return self.out(ops.concatenate([forward, backward], axis=-1))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.hidden_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "state_dim": self.state_dim,
                "kernel_per_channel": self.kernel_per_channel,
                "a_initialization": self.a_initialization,
                "dt_min": self.dt_min,
                "dt_max": self.dt_max,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_bigs")
class StackBlock(RoutedBlock):
    """A pre-LayerNorm transformer layer with pluggable routing:

        h = x + routing(layer_norm(x))
        y = h + ffn_out(act(ffn_in(ffn_layer_norm(h))))

    `routing="attention"` is a BERT layer (STACK/ATT). `routing="ssm"` is the
    paper's STACK/SSM: two bidirectional SSM sublayers in sequence with an
    activation between them, so that the routing has about as many
    parameters as attention (`4 H^2`). With `padding_invariant=True` the SSMs
    read padded positions as zeros, so outputs at real positions do not
    depend on right padding (attention always honours the `padding_mask`).

    Args:
        hidden_dim, intermediate_dim: ints. Model and feed-forward widths.
        state_dim: int. SSM state size.
        activation: activation name (see `BiGSBlock`).
        layer_norm_epsilon: float.
        routing: `"ssm"` or `"attention"`.
        num_heads: int. Heads for attention routing.
        dropout: float. Dropout after routing and feed-forward, as in BERT.
        kernel_per_channel, a_initialization, dt_min, dt_max: see
            `S4DConv`.
        padding_invariant: bool. Keep padding out of the SSMs.
        kernel_initializer: initializer of the dense kernels.
        **kwargs: base layer arguments.

    Example:
    ```python
    import numpy as np
    import keras_bigs

    block = keras_bigs.StackBlock(hidden_dim=8, intermediate_dim=16,
                                  routing="attention", num_heads=2)
    y = block(np.random.rand(2, 10, 8).astype("float32"))  # (2, 10, 8)
    ```
    """

    def __init__(self, *args, dropout=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.dropout = dropout

        # === Layers ===
        policy = self.dtype_policy
        self.layer_norm = self._make_layer_norm("layer_norm")
        if self.routing == "ssm":
            self.routing_layers = [
                BidirectionalSSM(
                    self.hidden_dim,
                    state_dim=self.state_dim,
                    kernel_per_channel=self.kernel_per_channel,
                    a_initialization=self.a_initialization,
                    dt_min=self.dt_min,
                    dt_max=self.dt_max,
                    kernel_initializer=self.kernel_initializer,
                    dtype=policy,
                    name=f"bissm_{i}",
                )
                for i in range(2)
            ]
        else:
            self.attention = self._make_attention()
        self.routing_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.ffn_layer_norm = self._make_layer_norm("ffn_layer_norm")
        self.ffn_in = self._make_dense(self.intermediate_dim, "ffn_in")
        self.ffn_out = self._make_dense(self.hidden_dim, "ffn_out")
        self.ffn_dropout = keras.layers.Dropout(dropout, dtype=policy)

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.layer_norm.build(shape)
        if self.routing == "ssm":
            for layer in self.routing_layers:
                layer.build(shape)
        else:
            self.attention.build(shape, shape)
        self.ffn_layer_norm.build(shape)
        self.ffn_in.build(shape)
        self.ffn_out.build(shape[:-1] + (self.intermediate_dim,))
        self.built = True

    def _route(self, z, padding_mask):
        if self.routing == "attention":
            return self._attend(z, padding_mask)
        ssm_mask = self._ssm_padding_mask(padding_mask)
        first, second = self.routing_layers
        hidden = self._activation_fn(first(z, padding_mask=ssm_mask))
        return second(hidden, padding_mask=ssm_mask)

    def call(self, x, padding_mask=None, training=None):
        routed = self._route(self.layer_norm(x), padding_mask)
        h = x + self.routing_dropout(routed, training=training)
        ffn = self.ffn_out(
            self._activation_fn(self.ffn_in(self.ffn_layer_norm(h)))
        )
        return h + self.ffn_dropout(ffn, training=training)

    def get_config(self):
        config = super().get_config()
        config["dropout"] = self.dropout
        return config
