"""BiGS sentence embeddings: pooled sequence output, optionally unit length."""

import keras
from keras import ops
from keras_hub.models import TextEmbedder

from keras_bigs.convert.name_table import OriginalHead
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_text_embedder_preprocessor import (
    BiGSTextEmbedderPreprocessor,
)
from keras_bigs.models.host_inputs import HostInputs
from keras_bigs.models.runtime_export import RuntimeExport
from keras_bigs.presets.preset_loading import PresetLoading

POOLING_MODES = ("mean", "cls", "max")


def masked_mean(sequence, padding_mask):
    """sum_t m_t h_t / max(sum_t m_t, 1): the mean over real tokens."""
    mask = ops.expand_dims(ops.cast(padding_mask, sequence.dtype), -1)
    count = ops.maximum(ops.sum(mask, axis=1), 1.0)
    return ops.sum(sequence * mask, axis=1) / count


def masked_max(sequence, padding_mask):
    """max_t h_t over real tokens (padding reads as -inf)."""
    mask = ops.expand_dims(ops.cast(padding_mask, "bool"), -1)
    return ops.max(ops.where(mask, sequence, float("-inf")), axis=1)


def first_token(sequence, padding_mask):
    """h_0, the `[CLS]` position."""
    return sequence[:, 0, :]


POOLING = {"mean": masked_mean, "cls": first_token, "max": masked_max}


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSTextEmbedder(HostInputs, RuntimeExport, PresetLoading, TextEmbedder):
    """Sequence output -> pooling over real tokens -> optional L2 norm.

    keras-hub's `TextEmbedder` for BiGS: `encode_text`, `encode_documents`
    and `similarity` (a dot product; cosine similarity when `normalize`)
    work as for `keras_hub.models.BertTextEmbedder`. The pooling reads the
    backbone's `sequence_output`, not its `pooled_output` (whose dense +
    tanh was trained for classification), and is computed in float32;
    embeddings are float32 of width `hidden_dim`.

    Every preset loads: the backbone of any checkpoint, without a head
    (none of the original models has an embedding head). A pretrained
    backbone gives embeddings that need fine-tuning for similarity (for
    example a contrastive loss on pairs, compiled by the user, as
    keras-hub's `TextEmbedder.compile` asks).

    Args:
        backbone: a `BiGSBackbone`.
        preprocessor: a `BiGSTextEmbedderPreprocessor` or `None` (feed
            token dicts).
        pooling_mode: `"mean"` (default: the mean over non-padding tokens),
            `"cls"` (the first token) or `"max"` (over non-padding tokens).
        normalize: bool. Scale each embedding to unit L2 norm (default).

    Example:
    ```python
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=32)
    preprocessor = keras_bigs.BiGSTextEmbedderPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32)
    embedder = keras_bigs.BiGSTextEmbedder(backbone, preprocessor)
    query = embedder.encode_text("Which planet is red?", verbose=0)
    documents = embedder.encode_documents(
        ["Mars is red.", "Venus is hot."], verbose=0)
    query.shape, documents.shape  # ((1, 16), (2, 16))
    tuple(embedder.similarity(query, documents).shape)  # (1, 2)
    ```
    """

    backbone_cls = BiGSBackbone
    preprocessor_cls = BiGSTextEmbedderPreprocessor
    original_head = OriginalHead((), layer=None, reads="sequence_output")

    def __init__(
        self,
        backbone,
        preprocessor=None,
        pooling_mode="mean",
        normalize=True,
        **kwargs,
    ):
        if pooling_mode not in POOLING:
            raise ValueError(
                f"pooling_mode={pooling_mode!r}; expected one of "
                f"{POOLING_MODES}."
            )
        backbone.check_preprocessor(preprocessor)

        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor

        # === Functional Model ===
        inputs = backbone.input
        sequence = ops.cast(backbone(inputs)["sequence_output"], "float32")
        embedding = POOLING[pooling_mode](sequence, inputs["padding_mask"])
        if normalize:
            embedding = ops.normalize(embedding, axis=-1, order=2)
        super().__init__(inputs=inputs, outputs=embedding, **kwargs)

        # === Config ===
        self.pooling_mode = pooling_mode
        self.normalize = normalize

    def encode_documents(self, documents, **kwargs):
        """Embeddings of a string or a list of strings (as `encode_text`):
        `(num_documents, hidden_dim)`."""
        return self.encode_text(documents, **kwargs)

    def similarity(self, query_embeddings, document_embeddings):
        """`(num_queries, num_documents)` dot products; cosine similarity
        for normalized embeddings."""
        queries = ops.convert_to_tensor(query_embeddings)
        documents = ops.convert_to_tensor(document_embeddings)
        return ops.matmul(queries, ops.transpose(documents))

    def get_config(self):
        config = super().get_config()
        config.update(
            {"pooling_mode": self.pooling_mode, "normalize": self.normalize}
        )
        return config
