"""The BiGS backbone: embeddings, a stack of BiGS layers, a mean pooler."""

import contextlib

import keras
from keras import ops
from keras_hub.layers import PositionEmbedding
from keras_hub.models import Backbone

from keras_bigs.keras_hub_internals import flatten_layers
from keras_bigs.layers.bigs_block import BiGSBlock
from keras_bigs.layers.stack_block import StackBlock
from keras_bigs.models.host_inputs import HostInputs
from keras_bigs.presets.preset_loading import PresetLoading

BLOCK_TYPES = ("gated", "stack")


def bigs_kernel_initializer(stddev=0.02):
    return keras.initializers.TruncatedNormal(stddev=stddev)


class LengthCheckedPositionEmbedding(PositionEmbedding):
    """Learned position embedding that refuses inputs longer than its table."""

    def call(self, inputs, start_index=0, positions=None):
        length = inputs.shape[-2]
        if isinstance(length, int) and length > self.sequence_length:
            raise ValueError(
                f"Input sequence length {length} is longer than the model's "
                f"max_sequence_length {self.sequence_length}. Truncate the "
                "input, or extend the position embeddings to continue "
                "training at a longer length."
            )
        # A symbolic length (an export with a dynamic sequence length) has
        # no value to compare: the op that fails on a longer input there,
        # the table's broadcast to the input's shape, carries the rule in
        # its name, which ONNX Runtime prints in its error.
        scope = f"input_longer_than_max_sequence_length_{self.sequence_length}"
        with keras.name_scope(scope):
            return super().call(
                inputs, start_index=start_index, positions=positions
            )


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSBackbone(HostInputs, PresetLoading, Backbone):
    """BiGS (Bidirectional Gated SSM) encoder network.

    Token, learned position and segment embeddings are summed, normalised
    (LayerNorm) and passed through dropout, then through `num_layers`
    `BiGSBlock`s; there is no final LayerNorm. Outputs are the
    `sequence_output` and a `pooled_output`: the mean of the sequence output
    over non-padding tokens, then dense + tanh (the original's
    `non_padding_mean` pooler).

    By default the SSM layers read padding like any other token, as the
    original does (the backward SSM reads the padded tail first), so outputs
    depend on the padded length: feed inputs padded to the length the model
    was trained at. With `padding_invariant=True` padded positions enter the
    SSMs as zeros, and `sequence_output` at real tokens and `pooled_output`
    are the same for any right padding, to float32 rounding: a batch can be
    padded to its own longest row (or a bucket, see
    `BiGSTextClassifierPreprocessor`) instead of `max_sequence_length`.

    Token ids must lie in `[0, vocabulary_size)`. The embedding lookup does
    not check them: an id outside gives NaN outputs on JAX, an error on
    TensorFlow (CPU) and PyTorch. The preprocessors and the serving
    signatures check ids; direct callers must.

    `BiGSBackbone.from_preset(folder)` also loads a folder in the published
    Hugging Face layout of the original BiGS (`config.json` with
    `model_type: "BiGS"` plus `flax_model.msgpack`, `model.safetensors` or
    `pytorch_model.bin`), converting the weights.

    Args:
        vocabulary_size: int. Number of tokens.
        num_layers: int. Number of BiGS layers.
        hidden_dim: int. Model width.
        intermediate_dim: int. Width of the gate and of `dol`.
        state_dim: int. SSM state size `N`.
        max_sequence_length: int. Longest input (size of the position table).
        num_segments: int. Number of segment ids.
        dropout: float. Dropout after the embedding LayerNorm.
        activation: `"gelu_approximate"` (the official Flax models), `"gelu"`
            (exact; the PyTorch port) or any Keras activation.
        layer_norm_epsilon: float.
        block_type: `"gated"` (BiGS) or `"stack"` (transformer-style layer),
            the paper's architecture ablation.
        routing: `"ssm"` or `"attention"`, the paper's routing ablation
            (`block_type="stack", routing="attention"` is BERT).
        num_heads: int. Attention heads when `routing="attention"`; default
            `hidden_dim // 64`.
        kernel_per_channel: bool. One SSM kernel per channel (standard S4D)
            instead of one shared kernel per direction (BiGS).
        a_initialization: `"hippo"`, `"lin"` or `"inv"`; see `S4DConv`.
        dt_min, dt_max: floats. Range of the SSMs' initial step sizes,
            drawn log-uniformly (see `S4DConv`). A smaller `dt_min`
            starts some kernels reaching further: about `14 / dt_min`
            tokens (1,381 by default). Only a new model's initial values
            depend on them.
        conv_mode: `"auto"` (default), `"fft"` or `"toeplitz"`: how the
            gated layers' SSMs convolve (speed only; see `S4DConv`).
        padding_invariant: bool. Keep padding out of the SSMs (see above).
            Off by default, which is the published models' behaviour.
        remat: bool. Rematerialize each BiGS layer: its activations are
            recomputed in the backward pass instead of stored, so training
            memory holds one hidden-width tensor per layer and token instead
            of some thirty, for about one more forward pass of compute.
            Outputs and gradients are unchanged. Keras' `RematScope`, which
            wraps each layer's call in `jax.checkpoint`,
            `tf.recompute_grad` or `torch.utils.checkpoint`.
        dtype: compute dtype or policy (e.g. `"mixed_bfloat16"`).

    Example:
    ```python
    import numpy as np
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=1000, num_layers=2, hidden_dim=32,
        intermediate_dim=64, state_dim=8, max_sequence_length=128,
    )
    outputs = backbone({
        "token_ids": np.ones((2, 128), "int32"),
        "segment_ids": np.zeros((2, 128), "int32"),
        "padding_mask": np.ones((2, 128), "int32"),
    })
    outputs["sequence_output"].shape  # (2, 128, 32)
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        hidden_dim,
        intermediate_dim,
        state_dim=64,
        max_sequence_length=512,
        num_segments=2,
        dropout=0.1,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-12,
        block_type="gated",
        routing="ssm",
        num_heads=None,
        kernel_per_channel=False,
        a_initialization="hippo",
        dt_min=0.01,
        dt_max=1.0,
        conv_mode="auto",
        padding_invariant=False,
        remat=False,
        dtype=None,
        **kwargs,
    ):
        if block_type not in BLOCK_TYPES:
            raise ValueError(
                f"Unknown `block_type={block_type!r}`; expected one of "
                f"{BLOCK_TYPES}."
            )
        if num_heads is None:
            num_heads = max(1, hidden_dim // 64)
        if (
            remat
            and block_type == "stack"
            and dropout
            and keras.backend.backend() != "jax"
        ):
            # JAX recomputes from the same seed state; the others' dropout
            # draws from a seed that has moved on since the forward pass.
            raise ValueError(
                f"`remat=True` with stack layers and dropout={dropout}: on "
                f"the {keras.backend.backend()} backend the recomputed "
                "layer draws a new random mask, and its gradients would not "
                "match the forward pass. Use `dropout=0` or "
                "`block_type='gated'` (no dropout inside its layers)."
            )

        # === Layers ===
        def lookup_table(layer_class, input_dim, name):
            return layer_class(
                input_dim=input_dim,
                output_dim=hidden_dim,
                embeddings_initializer=bigs_kernel_initializer(),
                dtype=dtype,
                name=name,
            )

        self.token_embedding = lookup_table(
            keras.layers.ReversibleEmbedding, vocabulary_size, "token_embedding"
        )
        self.position_embedding = LengthCheckedPositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=bigs_kernel_initializer(),
            dtype=dtype,
            name="position_embedding",
        )
        self.segment_embedding = lookup_table(
            keras.layers.Embedding, num_segments, "segment_embedding"
        )
        self.embeddings_add = keras.layers.Add(
            dtype=dtype, name="embeddings_add"
        )
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon,
            dtype=dtype,
            name="embeddings_layer_norm",
        )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        # The two architectures take the same arguments but for one each.
        block_class, block_name, block_argument = {
            "gated": (BiGSBlock, "bigs_layer", {"conv_mode": conv_mode}),
            "stack": (StackBlock, "stack_layer", {"dropout": dropout}),
        }[block_type]
        block_names = [f"{block_name}_{i}" for i in range(num_layers)]
        # A layer reads the remat scope it is built in; "list_of_layers"
        # rematerializes the blocks alone, not each layer inside them too.
        remat_scope = (
            keras.RematScope(mode="list_of_layers", layer_names=block_names)
            if remat
            else contextlib.nullcontext()
        )
        with remat_scope:
            self.bigs_layers = [
                block_class(
                    hidden_dim=hidden_dim,
                    intermediate_dim=intermediate_dim,
                    state_dim=state_dim,
                    activation=activation,
                    layer_norm_epsilon=layer_norm_epsilon,
                    routing=routing,
                    num_heads=num_heads,
                    kernel_per_channel=kernel_per_channel,
                    a_initialization=a_initialization,
                    dt_min=dt_min,
                    dt_max=dt_max,
                    padding_invariant=padding_invariant,
                    kernel_initializer=bigs_kernel_initializer(),
                    dtype=dtype,
                    name=name,
                    **block_argument,
                )
                for name in block_names
            ]
        self.pooled_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=bigs_kernel_initializer(),
            activation="tanh",
            dtype=dtype,
            name="pooled_dense",
        )

        # === Functional Model ===
        token_id_input = keras.Input(
            shape=(None,), dtype="int32", name="token_ids"
        )
        segment_id_input = keras.Input(
            shape=(None,), dtype="int32", name="segment_ids"
        )
        padding_mask_input = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        tokens = self.token_embedding(token_id_input)
        positions = self.position_embedding(tokens)
        segments = self.segment_embedding(segment_id_input)
        x = self.embeddings_add((tokens, positions, segments))
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        for layer in self.bigs_layers:
            x = layer(x, padding_mask=padding_mask_input)
        sequence_output = x
        # Pooler: mean over non-padding tokens (in float32), dense, tanh.
        mask = ops.expand_dims(ops.cast(padding_mask_input, "float32"), -1)
        summed = ops.sum(ops.cast(x, "float32") * mask, axis=1)
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)
        pooled_output = self.pooled_dense(summed / count)
        super().__init__(
            inputs={
                "token_ids": token_id_input,
                "segment_ids": segment_id_input,
                "padding_mask": padding_mask_input,
            },
            outputs={
                "sequence_output": sequence_output,
                "pooled_output": pooled_output,
            },
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.state_dim = state_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.block_type = block_type
        self.routing = routing
        self.num_heads = num_heads
        self.kernel_per_channel = kernel_per_channel
        self.a_initialization = a_initialization
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.conv_mode = conv_mode
        self.padding_invariant = padding_invariant
        self.remat = remat

    def get_lora_target_names(self):
        """The layers `enable_lora(rank)` adapts: the projections into and
        out of the token mixing.

        LoRA (Hu et al., 2021) adapts attention's query and value
        projections, the layers that decide which tokens mix, and leaves
        the feed-forward layers frozen. BiGS mixes tokens with two SSMs
        whose kernels do not depend on the input, so what decides the
        mixing are the projections around them: `du_forward` and
        `du_backward` (what each SSM reads) and `duc_forward` and
        `duc_backward` (how its output enters the gate). The gate `dv` and
        the gated feed-forward `dol`, `do` stay frozen, as the
        feed-forward layers do in LoRA. The SSM parameters themselves (a
        few thousand numbers per layer) are not Dense layers and stay
        frozen. For the ablation blocks: `query` and `value` of attention
        routing, and `out` of a stack block's bidirectional SSM.

        Each adapted `Dense` of shape `(d_in, d_out)` adds
        `rank * (d_in + d_out)` trainable weights (attention's kernels
        are factorised per head, as Keras does), and those are all that
        trains in the backbone (see `enable_lora`).

        Example:
        ```python
        import keras_bigs

        backbone = keras_bigs.BiGSBackbone(
            vocabulary_size=1000, num_layers=2, hidden_dim=32,
            intermediate_dim=64, state_dim=8, max_sequence_length=128)
        backbone.get_lora_target_names()
        # ['du_forward', 'du_backward', 'duc_forward', 'duc_backward']
        backbone.enable_lora(rank=4)
        # 2 layers x 4 projections x 4 x (32 + 32)
        sum(w.numpy().size for w in backbone.trainable_weights)  # 2048
        ```
        """
        if self.block_type == "stack":
            if self.routing == "attention":
                return ["query", "value"]
            return ["out"]
        if self.routing == "attention":
            return ["du_forward", "duc_forward", "query", "value"]
        return ["du_forward", "du_backward", "duc_forward", "duc_backward"]

    def enable_lora(self, rank, target_layer_names=None):
        """keras-hub's `enable_lora` (freeze the backbone, add rank-`rank`
        adapters to `get_lora_target_names()` or `target_layer_names`),
        with the adapted layers' biases frozen too: only the low-rank
        matrices train, as in LoRA. A task's own head stays trainable.

        `save_lora_weights` / `load_lora_weights` store and restore the
        adapters alone; saving the model (`save`, `save_to_preset`) stores
        each adapted kernel merged, `W + (alpha / rank) A B`, so the saved
        model loads as a plain model with the same outputs.
        """
        super().enable_lora(rank, target_layer_names=target_layer_names)
        for layer in flatten_layers(self, include_self=False):
            if getattr(layer, "lora_enabled", False) and layer.bias is not None:
                layer.bias.trainable = False

    def default_lora_layer_names(self):
        """keras-hub's name for `get_lora_target_names` (what its
        `enable_lora` calls)."""
        return self.get_lora_target_names()

    def check_preprocessor(self, preprocessor):
        """Refuse a preprocessor whose token ids this backbone cannot embed
        (out-of-range ids give silently wrong outputs on some backends), and
        tell a bucketing preprocessor whether this backbone is
        padding-invariant (bucketed padding is only for those)."""
        if preprocessor is None:
            return
        if hasattr(preprocessor, "set_padding_invariant_model"):
            preprocessor.set_padding_invariant_model(self.padding_invariant)
        tokenizer = preprocessor.tokenizer
        if hasattr(tokenizer, "when_vocabulary_known"):
            tokenizer.when_vocabulary_known(self.check_tokenizer)
        else:
            self.check_tokenizer(tokenizer)

    def check_tokenizer(self, tokenizer):
        """Refuse a tokenizer with ids this backbone cannot embed."""
        size = tokenizer.vocabulary_size()
        if size > self.vocabulary_size:
            raise ValueError(
                f"The preprocessor's tokenizer has {size} tokens, but the "
                f"backbone embeds only vocabulary_size={self.vocabulary_size}"
                ": pass a tokenizer with the model's vocabulary, or "
                "preprocessor=None to feed token ids."
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "state_dim": self.state_dim,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "dropout": self.dropout,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "block_type": self.block_type,
                "routing": self.routing,
                "num_heads": self.num_heads,
                "kernel_per_channel": self.kernel_per_channel,
                "a_initialization": self.a_initialization,
                "dt_min": self.dt_min,
                "dt_max": self.dt_max,
                "conv_mode": self.conv_mode,
                "padding_invariant": self.padding_invariant,
                "remat": self.remat,
            }
        )
        return config
