"""(question, context) pairs -> BiGS inputs, answers -> token span labels."""

import keras
import tensorflow as tf

from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.models.graph_preprocessing import GraphPackingPreprocessor


def context_token_span(tokenizer, context, answer_start, answer_text):
    """Token indices (within the context) of an answer given in characters.

    The answer's first token is the number of tokens before it; its last is
    the number of tokens up to its end, minus one. This is exact whenever the
    answer starts and ends on word or punctuation boundaries (SQuAD answers
    do), and runs inside `tf.data`.
    """
    answer_length = tf.strings.length(answer_text, "UTF8_CHAR")
    found = tf.strings.substr(
        context, answer_start, answer_length, unit="UTF8_CHAR"
    )
    tf.debugging.assert_equal(
        found,
        answer_text,
        message="An answer text is not at its answer_start in the context "
        "(answer_start counts characters from 0, as in SQuAD). Text found "
        "there vs. the answer:",
    )
    answer_end = answer_start + answer_length
    before = tokenizer(
        tf.strings.substr(
            context, 0 * answer_start, answer_start, unit="UTF8_CHAR"
        )
    )
    through = tokenizer(
        tf.strings.substr(context, 0 * answer_end, answer_end, unit="UTF8_CHAR")
    )
    return before.row_lengths(), through.row_lengths() - 1


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSQuestionAnswererPreprocessor(GraphPackingPreprocessor):
    """Pack `[CLS] question [SEP] context [SEP]`; answers -> span labels.

    `x` is `(questions, contexts)`. Optional labels `y` are
    `(answer_starts, answer_texts)`: the answer's character offset in the
    context and its text, as in SQuAD. They become
    `{"start_logits": i, "end_logits": j}`, the answer's first and last token
    in the packed sequence; an answer cut off by truncation points at
    `[CLS]` (index 0), as in BERT's SQuAD recipe. Contexts are truncated
    before questions (`truncate="waterfall"`).

    Every example is padded to the full `sequence_length`: BiGS outputs
    depend on the padded length, so use the length the model was trained at.

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. Length every example is padded/truncated to.
        truncate: `"waterfall"` (default: the context is cut first) or
            `"round_robin"`.

    Example:
    ```python
    import keras_bigs

    preprocessor = keras_bigs.BiGSQuestionAnswererPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=24)
    x, y = preprocessor(
        x=(["Who wrote it?"], ["It was written by Ada Lovelace in 1843."]),
        y=([18], ["Ada Lovelace"]))
    y["start_logits"], y["end_logits"]  # [10], [12]: "ada", "##lace"
    ```
    """

    backbone_cls = BiGSBackbone
    tokenizer_cls = BiGSTokenizer

    def __init__(
        self, tokenizer, sequence_length=512, truncate="waterfall", **kwargs
    ):
        super().__init__(tokenizer, sequence_length, truncate, **kwargs)

    def _call_tf(self, x, y=None, sample_weight=None):
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(
                "BiGSQuestionAnswererPreprocessor expects x=(questions, "
                f"contexts); received {type(x).__name__} of "
                f"{len(x) if isinstance(x, (tuple, list)) else 1} inputs."
            )
        questions, contexts = x
        token_ids, segment_ids = self.packer(
            (self.tokenizer(questions), self.tokenizer(contexts))
        )
        x = {
            "token_ids": token_ids,
            "padding_mask": token_ids != self.tokenizer.pad_token_id,
            "segment_ids": segment_ids,
        }
        if y is not None:
            y = self._span_labels(contexts, segment_ids, *y)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def _span_labels(self, contexts, segment_ids, answer_starts, answer_texts):
        start, end = context_token_span(
            self.tokenizer,
            contexts,
            tf.cast(answer_starts, "int32"),
            answer_texts,
        )
        in_context = tf.cast(segment_ids == 1, "int64")
        # The context starts after [CLS] question [SEP] and keeps all of its
        # segment but the closing [SEP].
        offset = tf.argmax(in_context, axis=-1)
        kept = tf.reduce_sum(in_context, axis=-1) - 1
        inside = (start <= end) & (end < kept)
        start = tf.where(inside, start + offset, 0)
        end = tf.where(inside, end + offset, 0)
        return {
            "start_logits": tf.cast(start, "int32"),
            "end_logits": tf.cast(end, "int32"),
        }
