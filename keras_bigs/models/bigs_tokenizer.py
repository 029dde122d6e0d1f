"""The uncased WordPiece tokenizer of the published BiGS models."""

import pathlib
import re
import unicodedata

import keras
from keras_hub.tokenizers import WordPieceTokenizer

from keras_bigs.keras_hub_internals import add_special_token
from keras_bigs.keras_hub_internals import untracked
from keras_bigs.keras_hub_internals import uses_tf_workflow
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.graph_preprocessing import graph_function
from keras_bigs.presets.preset_loading import PresetLoading

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
VOCABULARY_PATH = (
    pathlib.Path(__file__).resolve().parent.parent
    / "assets"
    / "bert_uncased_vocab.txt"
)

# What BERT's reference tokenizer does before splitting, and keras-hub's
# WordPiece pre-tokenization does not: delete control and format characters
# (zero-width space, soft hyphen, ...), treat every space separator
# (U+00A0, ...) as a space, and lowercase with the plain Unicode mapping
# (keras-hub case-folds with NFKC, which turns "™" into "tm").
_DELETED_TF = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]|\p{Cf}|\x{FFFD}"
_SPACES_TF = r"[\t\n\r]|\p{Zs}"


def python_strings(inputs):
    """A str, or nested lists of str, from strings, bytes, lists, NumPy
    arrays or eager TensorFlow string tensors (as a preprocessor passes
    them)."""
    if hasattr(inputs, "numpy"):
        inputs = inputs.numpy()
    if hasattr(inputs, "tolist"):
        inputs = inputs.tolist()
    if isinstance(inputs, bytes):
        # Invalid bytes become U+FFFD, which `_normalize_*` deletes.
        return inputs.decode("utf-8", errors="replace")
    if isinstance(inputs, str):
        return inputs
    return [python_strings(item) for item in inputs]


def _deleted(char):
    if char in "\t\n\r":
        return False
    return char in "\x00\ufffd" or unicodedata.category(char) in ("Cc", "Cf")


def _space(char):
    return char in "\t\n\r" or unicodedata.category(char) == "Zs"


class TracedTokenizations:
    """A tokenizer's traced graph tokenizations, by what each was traced
    for. A plain object, not a dict: TensorFlow would track a dict
    attribute and try to save the functions in it with the model."""

    def __init__(self):
        self.by_key = {}


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSTokenizer(PresetLoading, WordPieceTokenizer):
    """Uncased WordPiece, as the published BiGS models were trained with.

    Lowercases and strips accents, splits on whitespace, punctuation and CJK
    characters, deletes invisible control/format characters, and keeps the
    special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` whole when they appear in
    the text. Runs in Python eagerly and in TensorFlow inside `tf.data` or a
    SavedModel, with identical results.

    Args:
        vocabulary: a vocabulary file or list of tokens; defaults to the
            standard 30,522-token uncased BERT vocabulary shipped with
            keras_bigs.
        sequence_length: int. Pad or truncate to this length if set.
        **kwargs: other `keras_hub.tokenizers.WordPieceTokenizer` arguments.

    Example:
    ```python
    import keras_bigs

    tokenizer = keras_bigs.BiGSTokenizer()
    tokenizer.tokenize("Héllo wörld!")  # [7592, 2088, 999]
    ```
    """

    backbone_cls = BiGSBackbone

    def __init__(self, vocabulary=None, sequence_length=None, **kwargs):
        kwargs.pop("lowercase", None)
        kwargs.pop("special_tokens", None)
        kwargs.pop("special_tokens_in_strings", None)
        if vocabulary is None:
            # As a list, not a path: Keras' safe mode refuses to load
            # vocabulary files while deserialising.
            vocabulary = VOCABULARY_PATH.read_text(
                encoding="utf-8"
            ).splitlines()
        self._vocabulary_checks = None
        # keras-hub's special tokens: never split, never selected for masking.
        add_special_token(self, "[CLS]", "cls_token")
        add_special_token(self, "[SEP]", "sep_token")
        add_special_token(self, "[PAD]", "pad_token")
        add_special_token(self, "[MASK]", "mask_token")
        add_special_token(self, "[CLS]", "start_token")
        add_special_token(self, "[SEP]", "end_token")
        super().__init__(
            vocabulary=vocabulary,
            sequence_length=sequence_length,
            lowercase=False,  # done in `_normalize_*`, outside special tokens
            strip_accents=kwargs.pop("strip_accents", True),
            special_tokens=list(SPECIAL_TOKENS),
            special_tokens_in_strings=True,
            **kwargs,
        )
        self._special_pattern = "|".join(re.escape(t) for t in SPECIAL_TOKENS)

    @classmethod
    def from_config(cls, config):
        # keras-hub saves the vocabulary as an asset and `null` in the
        # config; the asset is read after every object is built. Until
        # then the bundled vocabulary stands in, and checks of the
        # vocabulary wait for the real one (`when_vocabulary_known`).
        tokenizer = super().from_config(config)
        if config.get("vocabulary") is None:
            tokenizer._vocabulary_checks = []
        return tokenizer

    def when_vocabulary_known(self, check):
        """Run `check(self)` now, or, for a tokenizer being loaded whose
        saved vocabulary is not read yet, once it is."""
        if self._vocabulary_checks is None:
            check(self)
        else:
            self._vocabulary_checks.append(check)

    def set_vocabulary(self, vocabulary):
        try:
            # The vocabulary (30,522 strings) and its token-to-id map hold
            # no layers or variables; Keras' tracking would wrap and check
            # each entry, 0.4 s a tokenizer.
            with untracked():
                super().set_vocabulary(vocabulary)
        except ValueError as error:
            missing = [
                t for t in SPECIAL_TOKENS if t not in (self.vocabulary or [])
            ]
            if self.vocabulary is None or not missing:
                raise
            raise ValueError(
                f"The vocabulary lacks the special tokens {missing}; BiGS "
                f"needs {list(SPECIAL_TOKENS)}."
            ) from error
        # A traced tokenization holds the old vocabulary.
        self._graph_tokenize = None
        if vocabulary is not None:
            self.unk_token_id = self.token_to_id("[UNK]")
            checks, self._vocabulary_checks = self._vocabulary_checks, None
            for check in checks or ():
                check(self)

    def _normalize_python(self, text):
        """The TensorFlow normalisation (`_normalize_tf`), in Python."""
        text = "".join(" " if _space(c) else c for c in text if not _deleted(c))
        pieces = re.split(f"({self._special_pattern})", text)
        return " ".join(
            p if p in SPECIAL_TOKENS else p.lower() for p in pieces if p
        )

    def _normalize_tf(self, text):
        import tensorflow as tf
        import tensorflow_text as tf_text

        if text.shape.rank == 0:
            # `regex_split` makes a scalar a batch of one.
            return self._normalize_tf(text[tf.newaxis])[0]
        # Invalid UTF-8 bytes become U+FFFD, deleted next with the other
        # invisible characters (as `python_strings` does in Python).
        text = tf.strings.unicode_transcode(
            text,
            input_encoding="UTF-8",
            output_encoding="UTF-8",
            errors="replace",
            replacement_char=0xFFFD,
        )
        text = tf.strings.regex_replace(text, _DELETED_TF, "")
        text = tf.strings.regex_replace(text, _SPACES_TF, " ")
        pieces = tf_text.regex_split(
            text, self._special_pattern, self._special_pattern
        )
        lowered = tf.ragged.map_flat_values(
            lambda p: tf.where(
                tf.strings.regex_full_match(p, self._special_pattern),
                p,
                tf.strings.lower(p, encoding="utf-8"),
            ),
            pieces,
        )
        return tf.strings.reduce_join(lowered, axis=-1, separator=" ")

    def tokenize(self, inputs):
        if isinstance(inputs, dict):
            raise ValueError(
                "BiGSTokenizer received a dict (of token arrays?), not "
                f"strings: keys {sorted(inputs)}. To feed token ids to a "
                "task, load or build it with `preprocessor=None`."
            )
        if uses_tf_workflow(self):
            import tensorflow as tf

            return self._traced_tokenize(tf.convert_to_tensor(inputs))
        return super().tokenize(self._normalize_nested(python_strings(inputs)))

    def _traced_tokenize(self, text):
        """Graph tokenization of the string tensor `text` as a cached
        `tf.function`: every `tf.data` map, `fit`, `evaluate`, `predict`
        and export that tokenizes strings of one rank calls the same
        traced graph instead of tracing its own (tracing TensorFlow
        Text's ragged checks takes most of a second, and a task's
        preprocessor tokenizes several segments). One per rank and per
        setting the graph reads, so that changing one (say
        `sequence_length`) traces anew rather than reuse a stale graph."""
        import tensorflow as tf

        rank = text.shape.rank
        key = (
            rank,
            text.dtype,
            self.sequence_length,
            self.compute_dtype,
            self.lowercase,
            self.strip_accents,
            self.split,
            self.split_on_cjk,
            self.suffix_indicator,
        )
        if getattr(self, "_graph_tokenize", None) is None:
            self._graph_tokenize = TracedTokenizations()
        traced = self._graph_tokenize.by_key
        if key not in traced:

            def tokenize(text):
                return WordPieceTokenizer.tokenize(
                    self, self._normalize_tf(text)
                )

            shape = None if rank is None else [None] * rank
            traced[key] = graph_function(
                tokenize, input_signature=[tf.TensorSpec(shape, text.dtype)]
            )
        return traced[key](text)

    def _normalize_nested(self, texts):
        if isinstance(texts, str):
            return self._normalize_python(texts)
        return [self._normalize_nested(t) for t in texts]
