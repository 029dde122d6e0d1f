"""Raw strings (or string pairs) -> padded BiGS inputs for classification."""

import keras
from keras_hub.models import TextClassifierPreprocessor

from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.models.length_bucketing import LengthBucketing
from keras_bigs.presets.preset_loading import PresetLoading


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSTextClassifierPreprocessor(
    LengthBucketing, PresetLoading, TextClassifierPreprocessor
):
    """Tokenize and pack single sentences or pairs: `[CLS] a [SEP] b [SEP]`.

    For a model that is not padding-invariant (the published checkpoints'
    behaviour), every example is padded to the full `sequence_length`: the
    backward SSM reads the padded tail first, so outputs depend on the
    padded length, and a model behaves as trained only at the length it
    was trained at. The default is therefore the preset's training length
    when loaded with `from_preset`, and 512 otherwise. For a
    `padding_invariant` backbone each batch is padded only to the smallest
    bucket that holds its longest row (see `LengthBucketing`). Pairs are
    truncated round-robin, which equals BERT's longest-first truncation.

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. The longest packed sequence; longer inputs
            are truncated.
        truncate: `"round_robin"` (default) or `"waterfall"`.
        buckets: `"auto"` (default), a list of lengths, or `None`: the
            lengths batches are padded to (see `LengthBucketing`).

    Example:
    ```python
    import keras_bigs

    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16)
    # Pass pairs as `x=`: a positional tuple would be read as (x, y).
    x = preprocessor(x=("The premise.", "A hypothesis."))
    x["token_ids"].shape  # (16,)
    bucketed = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64, buckets=[16, 32])
    bucketed(["Short.", "Also short."])["token_ids"].shape  # (2, 16)
    ```
    """

    backbone_cls = BiGSBackbone
    tokenizer_cls = BiGSTokenizer
