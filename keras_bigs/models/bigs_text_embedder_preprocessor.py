"""Raw strings (or string pairs) -> padded BiGS inputs for embeddings."""

import keras
from keras_hub.models import TextEmbedderPreprocessor

from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.models.length_bucketing import LengthBucketing
from keras_bigs.presets.preset_loading import PresetLoading


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSTextEmbedderPreprocessor(
    LengthBucketing, PresetLoading, TextEmbedderPreprocessor
):
    """Tokenize and pack texts for `BiGSTextEmbedder`: `[CLS] a [SEP]`
    (or `[CLS] a [SEP] b [SEP]` for pairs), with a `padding_mask`.

    Padding follows the same rule as `BiGSTextClassifierPreprocessor`: a
    model that is not padding-invariant sees every text padded to the full
    `sequence_length` (its outputs depend on the padded length, so an
    embedding is only comparable with embeddings padded alike); for a
    `padding_invariant` backbone each batch is padded to its length
    bucket.

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. The longest packed sequence; longer texts are
            truncated. `from_preset` defaults it to the preset's training
            length; otherwise 512.
        truncate: `"round_robin"` (default) or `"waterfall"`.
        buckets: `"auto"` (default), a list of lengths, or `None` (see
            `LengthBucketing`).

    Example:
    ```python
    import keras_bigs

    preprocessor = keras_bigs.BiGSTextEmbedderPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16)
    x = preprocessor(["The quick brown fox.", "Call me Ishmael."])
    sorted(x)  # ['padding_mask', 'segment_ids', 'token_ids']
    x["token_ids"].shape  # (2, 16)
    ```
    """

    backbone_cls = BiGSBackbone
    tokenizer_cls = BiGSTokenizer

    def _format_output(self, token_ids, segment_ids):
        return {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": token_ids != self.tokenizer.pad_token_id,
        }
