"""(prompt, choices) -> one packed BiGS input per choice."""

import keras
import tensorflow as tf

from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.models.graph_preprocessing import GraphPackingPreprocessor
from keras_bigs.models.length_bucketing import LengthBucketing


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSMultipleChoicePreprocessor(LengthBucketing, GraphPackingPreprocessor):
    """Pack `[CLS] prompt [SEP] choice [SEP]` for every choice of a prompt.

    `x` is `(prompts, choices)`: prompts of shape `(batch,)` and choices of
    shape `(batch, num_choices)` (or one prompt and its list of choices).
    Outputs have shape `(batch, num_choices, sequence_length)`; labels `y`
    (the index of the right choice) pass through unchanged. A pair too
    long for `sequence_length` is trimmed a token at a time from the longer
    of prompt and choice (`truncate="round_robin"`, like Hugging Face's
    "longest_first"); `"waterfall"` keeps the prompt and cuts the choice.

    Every example is padded to the full `sequence_length` unless the model
    is `padding_invariant` (then to the bucket of the batch's longest row,
    see `LengthBucketing`): BiGS outputs depend on the padded length, so use
    the length the model was trained at.

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. Length of each packed (prompt, choice) pair.
        truncate: `"round_robin"` (default) or `"waterfall"`.
        buckets: `"auto"` (default), a list of lengths, or `None` (see
            `LengthBucketing`).

    Example:
    ```python
    import keras_bigs

    preprocessor = keras_bigs.BiGSMultipleChoicePreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16)
    x = preprocessor(x=(["The sky is"], [["blue.", "green.", "loud."]]))
    x["token_ids"].shape  # (1, 3, 16)
    ```
    """

    backbone_cls = BiGSBackbone
    tokenizer_cls = BiGSTokenizer

    def _call_tf(self, x, y=None, sample_weight=None):
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(
                "BiGSMultipleChoicePreprocessor expects x=(prompts, "
                "choices) with choices of shape (batch, num_choices)."
            )
        prompts, choices = x
        if choices.shape.rank != prompts.shape.rank + 1:
            raise ValueError(
                "choices must have one more dimension than prompts (one row "
                f"of choices per prompt); got prompts of shape "
                f"{prompts.shape} and choices of shape {choices.shape}."
            )
        choice_shape = tf.shape(choices)
        num_choices = choice_shape[-1]
        repeated = tf.repeat(tf.reshape(prompts, [-1]), num_choices)
        token_ids, segment_ids = self.packer(
            (
                self.tokenizer(repeated),
                self.tokenizer(tf.reshape(choices, [-1])),
            )
        )
        shape = tf.concat([choice_shape, [self.sequence_length]], axis=0)
        token_ids = tf.reshape(token_ids, shape)
        x = {
            "token_ids": token_ids,
            "padding_mask": token_ids != self.tokenizer.pad_token_id,
            "segment_ids": tf.reshape(segment_ids, shape),
        }
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
