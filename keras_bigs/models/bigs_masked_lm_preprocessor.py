"""Raw strings -> padded, dynamically masked BiGS inputs for masked-LM."""

import keras
from keras_hub.models import MaskedLMPreprocessor

from keras_bigs.data.masked_lm import default_mask_selection_length
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.models.length_bucketing import AUTO
from keras_bigs.models.length_bucketing import LengthBucketing
from keras_bigs.presets.preset_loading import PresetLoading


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSMaskedLMPreprocessor(
    LengthBucketing, PresetLoading, MaskedLMPreprocessor
):
    """Tokenize, pack (`[CLS] a [SEP] (b [SEP])`) and mask for pretraining.

    Masking is keras-hub's `MaskedLMMaskGenerator`, as in BERT: each
    non-special token is selected with probability `mask_selection_rate`
    (15%); a selected token becomes `[MASK]` 80% of the time, a random token
    10%, and stays itself 10%. The labels are the original ids at the
    selected positions, with a sample weight of 0 on unused slots, so the
    loss covers masked positions only.

    Every example is padded to the full `sequence_length` unless the
    model is `padding_invariant`: BiGS outputs depend on the padded length
    (the backward SSM reads the padding first), so train and predict at
    the length the model was trained at. For a padding-invariant backbone
    each batch is padded to the bucket of its longest row
    (`LengthBucketing`).

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. Length every example is padded/truncated to.
        truncate: `"round_robin"` (default) or `"waterfall"` for pairs.
        mask_selection_rate: float. Probability of selecting a token.
        mask_selection_length: int. Most masked positions per example;
            default `ceil(mask_selection_rate * sequence_length)` (20 at 128
            tokens, as BERT's `max_predictions_per_seq`).
        mask_token_rate: float. Share of selected tokens set to `[MASK]`.
        random_token_rate: float. Share set to a random token.
        buckets: `"auto"` (default), a list of lengths, or `None`: the
            lengths batches are padded to (see `LengthBucketing`).

    Example:
    ```python
    import keras_bigs

    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32)
    x, y, sample_weight = preprocessor("The quick brown fox jumped.")
    x["token_ids"].shape, x["mask_positions"].shape  # (32,), (5,)
    ```
    """

    backbone_cls = BiGSBackbone
    tokenizer_cls = BiGSTokenizer

    def __init__(
        self,
        tokenizer,
        sequence_length=512,
        truncate="round_robin",
        mask_selection_rate=0.15,
        mask_selection_length=None,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        buckets=AUTO,
        **kwargs,
    ):
        if mask_selection_length is None:
            mask_selection_length = default_mask_selection_length(
                sequence_length, mask_selection_rate
            )
        super().__init__(
            tokenizer,
            sequence_length,
            truncate,
            buckets,
            mask_selection_rate=mask_selection_rate,
            mask_selection_length=mask_selection_length,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            **kwargs,
        )
