"""Words (or raw strings) with a label per word -> BiGS inputs with a label
on the first wordpiece of each word."""

import keras
import tensorflow as tf

from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.models.graph_preprocessing import GraphPackingPreprocessor
from keras_bigs.models.graph_preprocessing import graph_function


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSTokenClassifierPreprocessor(GraphPackingPreprocessor):
    """Tokenize words into wordpieces and pack `[CLS] pieces [SEP]`.

    `x` is a batch of sentences: pre-split words (a ragged `(batch,
    words)` string tensor or a list of lists, CoNLL style), or raw strings
    (`(batch,)`, split on whitespace; a scalar string is one sentence). The
    labels `y`, one class id per word (ragged `(batch, words)`), go to the
    first wordpiece of each word; the other pieces, `[CLS]`, `[SEP]` and
    padding get label 0 and sample weight 0, so that loss and metrics count
    each word once. A word with no wordpiece (e.g. only a control
    character) becomes `[UNK]`, so that every word keeps its label.
    Sentences longer than `sequence_length - 2` pieces are cut; the words
    cut off get no prediction. Padding is always to `sequence_length`:
    the outputs are per token.

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. Length of every packed sequence.

    Example:
    ```python
    import numpy as np
    import keras_bigs

    preprocessor = keras_bigs.BiGSTokenClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16)
    x, y, sample_weight = preprocessor(
        x=[["EU", "rejects", "tokenization", "call"]], y=[[3, 0, 7, 0]])
    x["token_ids"].shape  # (1, 16)
    # [CLS] EU rejects token ##ization call [SEP]
    y, weight = np.asarray(y), np.asarray(sample_weight)
    y[0, :7].tolist()  # [0, 3, 0, 7, 0, 0, 0]
    weight[0, :7].tolist()  # [0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    ```
    """

    backbone_cls = BiGSBackbone
    tokenizer_cls = BiGSTokenizer

    def __init__(self, tokenizer, sequence_length=512, **kwargs):
        kwargs.pop("truncate", None)  # one segment: nothing to choose
        super().__init__(tokenizer, sequence_length, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["truncate"]
        return config

    def packed_words(self, sentences):
        """`pack_words` of `sentences` (see `sentence_tensor`), as numpy
        arrays."""
        if getattr(self, "_traced_pack", None) is None:
            self._traced_pack = graph_function(
                lambda x: self.pack_words(self.words(x)), reduce_retracing=True
            )
        with tf.device("cpu"):
            packed = self._traced_pack(sentence_tensor(sentences))
        return tf.nest.map_structure(lambda t: t.numpy(), packed)

    def words(self, x):
        """`x` as a ragged `(batch, words)` string tensor."""
        if isinstance(x, tf.RaggedTensor):
            return x
        x = tf.convert_to_tensor(x)
        if x.dtype != tf.string:
            raise ValueError(
                "BiGSTokenClassifierPreprocessor takes strings: sentences "
                f"as words or raw text; got {x.dtype.name} values."
            )
        if x.shape.rank == 0:
            x = x[tf.newaxis]
        if x.shape.rank == 1:
            return tf.strings.split(x)
        if x.shape.rank == 2:
            return tf.RaggedTensor.from_tensor(x, padding=b"")
        raise ValueError(
            "x must be a batch of sentences: raw strings (batch,) or words "
            f"(batch, words); got a tensor of rank {x.shape.rank}."
        )

    def pack_words(self, words):
        """`(inputs, first_piece, piece_word)` of ragged `words`: the model
        inputs, whether each token is the first piece of a word, and the
        index of the word it belongs to (-1 for `[CLS]`, `[SEP]`,
        padding), all `(batch, sequence_length)`."""
        tokenizer = self.tokenizer
        length = self.sequence_length
        pieces = tokenizer(words.flat_values)
        if not isinstance(pieces, tf.RaggedTensor):
            pieces = tf.RaggedTensor.from_tensor(pieces)
        pieces = tf.cast(pieces, tf.int32)
        # A word without pieces becomes [UNK].
        counts = pieces.row_lengths()
        unk = tf.fill([tf.shape(counts)[0], 1], tokenizer.token_to_id("[UNK]"))
        padded = tf.concat([pieces, tf.RaggedTensor.from_tensor(unk)], axis=1)
        keep = tf.ragged.range(counts + 1) < tf.maximum(counts, 1)[:, None]
        pieces = tf.ragged.boolean_mask(padded, keep)
        counts = pieces.row_lengths()

        def per_sentence(flat):
            """Per-piece values `flat` -> ragged `(batch, pieces)`, cut to
            the pieces that fit between [CLS] and [SEP]."""
            per_word = tf.RaggedTensor.from_row_lengths(flat, counts)
            return tf.RaggedTensor.from_row_lengths(
                per_word, words.row_lengths()
            ).merge_dims(1, 2)[:, : length - 2]

        first = per_sentence(tf.ragged.range(counts).flat_values == 0)
        word_index = tf.repeat(
            tf.ragged.range(words.row_lengths()).flat_values, counts
        )
        token_ids = per_sentence(pieces.flat_values)
        batch = token_ids.nrows()

        def framed(ragged, start, end, default):
            column = tf.RaggedTensor.from_tensor(
                tf.fill([batch, 1], tf.cast(start, ragged.dtype))
            )
            last = tf.RaggedTensor.from_tensor(
                tf.fill([batch, 1], tf.cast(end, ragged.dtype))
            )
            return tf.concat([column, ragged, last], axis=1).to_tensor(
                default_value=tf.cast(default, ragged.dtype),
                shape=[None, length],
            )

        token_ids = framed(
            token_ids,
            tokenizer.start_token_id,
            tokenizer.end_token_id,
            tokenizer.pad_token_id,
        )
        padding_mask = framed(tf.ones_like(first), True, True, False)
        inputs = {
            "token_ids": token_ids,
            "segment_ids": tf.zeros_like(token_ids),
            "padding_mask": padding_mask,
        }
        first_piece = framed(first, False, False, False)
        piece_word = framed(
            per_sentence(tf.cast(word_index, tf.int32)), -1, -1, -1
        )
        return inputs, first_piece, piece_word

    def _call_tf(self, x, y=None, sample_weight=None):
        words = self.words(x)
        inputs, first_piece, piece_word = self.pack_words(words)
        if y is None:
            return keras.utils.pack_x_y_sample_weight(inputs)
        if not isinstance(y, tf.RaggedTensor):
            y = tf.convert_to_tensor(y)
            # One sentence's labels, or a dense batch of them.
            y = tf.RaggedTensor.from_tensor(
                tf.reshape(y, [-1, tf.shape(y)[-1]])
            )
        labels = tf.cast(y, tf.int32)
        tf.debugging.assert_equal(
            labels.row_lengths(),
            words.row_lengths(),
            message="Each sentence needs one label per word.",
        )
        # The label of the word each piece belongs to.
        per_piece = _gather_rows(labels, piece_word)
        weight = tf.cast(first_piece, tf.float32)
        per_piece = tf.where(first_piece, per_piece, 0)
        if sample_weight is not None:
            sentence_weight = tf.cast(sample_weight, tf.float32)
            weight = weight * tf.reshape(sentence_weight, [-1, 1])
        return inputs, per_piece, weight


def _gather_rows(labels, index):
    """`labels[b][index[b, t]]` for a ragged `(batch, words)` `labels`
    (0 where `index` is -1)."""
    starts = tf.cast(labels.row_starts(), tf.int32)[:, None]
    flat = tf.gather(labels.flat_values, tf.maximum(index, 0) + starts)
    return tf.where(index >= 0, flat, 0)


def sentence_tensor(sentences):
    """Sentences as the preprocessor takes them: one raw string, a list of
    raw strings, or a list of word lists (-> a ragged string tensor);
    tensors pass unchanged."""
    if isinstance(sentences, (str, bytes)):
        sentences = [sentences]
    if isinstance(sentences, (list, tuple)):
        raw = [isinstance(s, (str, bytes)) for s in sentences]
        if any(raw) and not all(raw):
            raise ValueError(
                f"Sentences mix raw strings (row {raw.index(True)}) and "
                f"word lists (row {raw.index(False)}): pass all raw "
                "strings or all lists of words."
            )
        if not all(raw):
            return tf.ragged.constant(
                [list(words) for words in sentences], dtype=tf.string
            )
        return tf.constant(list(sentences), tf.string)
    return sentences
