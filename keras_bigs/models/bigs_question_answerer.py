"""BiGS for extractive question answering (SQuAD-style span prediction)."""

import unicodedata

import keras
import numpy as np
from keras import ops
from keras_hub.models import Task

from keras_bigs.convert.name_table import OriginalHead
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_backbone import bigs_kernel_initializer
from keras_bigs.models.bigs_question_answerer_preprocessor import (
    BiGSQuestionAnswererPreprocessor,
)
from keras_bigs.models.host_inputs import HostInputs
from keras_bigs.models.quantized_heads import QuantizedHeads
from keras_bigs.models.runtime_export import RuntimeExport
from keras_bigs.presets.preset_loading import PresetLoading


def best_spans(start_logits, end_logits, candidates, max_answer_length=30):
    """The highest-scoring span `(start, end, score)` per example.

    `score = start_logits[start] + end_logits[end]` over
    `start <= end < start + max_answer_length`, both in `candidates` (a
    boolean mask of the tokens an answer may use, e.g. the context).
    """
    start_logits = np.where(candidates, start_logits, -np.inf)
    end_logits = np.where(candidates, end_logits, -np.inf)
    length = start_logits.shape[-1]
    offsets = np.arange(length)[None, :] - np.arange(length)[:, None]
    allowed = (offsets >= 0) & (offsets < max_answer_length)
    scores = start_logits[:, :, None] + end_logits[:, None, :]
    scores = np.where(allowed, scores, -np.inf)
    flat = scores.reshape(len(scores), -1).argmax(-1)
    starts, ends = np.unravel_index(flat, (length, length))
    return [
        (int(s), int(e), float(scores[i, s, e]))
        for i, (s, e) in enumerate(zip(starts, ends))
    ]


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSQuestionAnswerer(
    HostInputs, QuantizedHeads, RuntimeExport, PresetLoading, Task
):
    """Sequence output -> dense(2) -> start and end logits over tokens.

    As the original `BiGSForQuestionAnswering`. The model returns
    `{"start_logits", "end_logits"}`, each `(batch, sequence_length)`;
    `compile()` defaults to sparse categorical cross-entropy on each,
    averaged, with labels from `BiGSQuestionAnswererPreprocessor`.
    `answer(questions, contexts)` returns answer strings cut from the
    contexts.

    Args:
        backbone: a `BiGSBackbone`.
        preprocessor: a `BiGSQuestionAnswererPreprocessor` or `None`.

    Example:
    ```python
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=32)
    preprocessor = keras_bigs.BiGSQuestionAnswererPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32)
    qa = keras_bigs.BiGSQuestionAnswerer(backbone, preprocessor=preprocessor)
    questions = ["Who wrote it?"]
    contexts = ["It was written by Ada Lovelace in 1843."]
    qa.fit(x=(questions, contexts), y=([18], ["Ada Lovelace"]), verbose=0)
    qa.answer(questions, contexts)  # a span of the context, e.g. ["1843"]
    ```
    """

    backbone_cls = BiGSBackbone
    preprocessor_cls = BiGSQuestionAnswererPreprocessor
    original_head = OriginalHead(
        ("qa_outputs",), layer="span_dense", reads="sequence_output"
    )

    def __init__(self, backbone, preprocessor=None, **kwargs):
        backbone.check_preprocessor(preprocessor)

        # === Layers ===
        head_policy = self._head_dtype_policy(backbone, kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.span_dense = keras.layers.Dense(
            2,
            kernel_initializer=bigs_kernel_initializer(),
            dtype=head_policy,
            name="qa_outputs",
        )

        # === Functional Model ===
        inputs = backbone.input
        span_logits = self.span_dense(backbone(inputs)["sequence_output"])
        outputs = {
            "start_logits": ops.cast(span_logits[..., 0], "float32"),
            "end_logits": ops.cast(span_logits[..., 1], "float32"),
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def compile(
        self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs
    ):
        """Adam(5e-5) and the mean of start and end cross-entropies."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = {
                name: keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True
                )
                for name in ("start_logits", "end_logits")
            }
            kwargs.setdefault(
                "loss_weights", {"start_logits": 0.5, "end_logits": 0.5}
            )
        if metrics == "auto":
            metrics = {
                name: [keras.metrics.SparseCategoricalAccuracy()]
                for name in ("start_logits", "end_logits")
            }
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )

    def answer(self, questions, contexts, max_answer_length=30, batch_size=32):
        """Answer strings cut from `contexts` (whole words, as SQuAD;
        punctuation is a word of its own, as BERT's tokenizer splits it).

        Scores spans inside the context with the model's start and end
        logits and maps the best one back to the words of the original
        context. Needs the preprocessor.
        """
        if self.preprocessor is None:
            raise ValueError(
                "`answer()` needs a preprocessor; this "
                "BiGSQuestionAnswerer has preprocessor=None."
            )
        if isinstance(questions, str):
            questions, contexts = [questions], [contexts]
        x = self.preprocessor(x=(list(questions), list(contexts)))
        x = {name: ops.convert_to_numpy(value) for name, value in x.items()}
        logits = {"start_logits": [], "end_logits": []}
        for first in range(0, len(questions), batch_size):
            batch = {
                name: value[first : first + batch_size]
                for name, value in x.items()
            }
            for name, value in self(batch, training=False).items():
                logits[name].append(ops.convert_to_numpy(value))
        candidates = (x["segment_ids"] == 1) & (
            x["token_ids"] != self.preprocessor.tokenizer.end_token_id
        )
        spans = best_spans(
            np.concatenate(logits["start_logits"]),
            np.concatenate(logits["end_logits"]),
            candidates,
            max_answer_length,
        )
        answers = []
        for context, row, (start, end, _) in zip(contexts, candidates, spans):
            offset = int(np.argmax(row))
            answers.append(
                self._context_text(context, start - offset, end - offset)
            )
        return answers

    def _context_text(self, context, first, last):
        """The words of `context` that hold its tokens `first..last`."""
        words, word_of_token = [], []
        for word in _words_with_offsets(context):
            pieces = self.preprocessor.tokenizer.tokenize(word[0])
            word_of_token += [len(words)] * len(pieces)
            words.append(word)
        if not word_of_token or first < 0:
            return ""
        last = min(last, len(word_of_token) - 1)
        begin = words[word_of_token[first]][1]
        end = words[word_of_token[last]][2]
        return context[begin:end]


def _words_with_offsets(text):
    """`(word, start, end)` for each word of `text` as BERT's basic
    tokenizer splits it: at whitespace, and around each punctuation mark and
    CJK character, so an answer ends before a sentence's full stop."""
    words, start = [], None
    for i, char in enumerate(text + " "):
        alone = _is_punctuation(char) or _is_cjk(char)
        if (char.isspace() or alone) and start is not None:
            words.append((text[start:i], start, i))
            start = None
        if alone:
            words.append((char, i, i + 1))
        elif not char.isspace() and start is None:
            start = i
    return words


def _is_punctuation(char):
    # BERT counts all non-alphanumeric ASCII as punctuation, e.g. "$", "^".
    code = ord(char)
    if (
        33 <= code <= 47
        or 58 <= code <= 64
        or 91 <= code <= 96
        or 123 <= code <= 126
    ):
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(char):
    code = ord(char)
    return any(
        first <= code <= last
        for first, last in (
            (0x4E00, 0x9FFF),
            (0x3400, 0x4DBF),
            (0x20000, 0x2A6DF),
            (0x2A700, 0x2B73F),
            (0x2B740, 0x2B81F),
            (0x2B820, 0x2CEAF),
            (0xF900, 0xFAFF),
            (0x2F800, 0x2FA1F),
        )
    )
