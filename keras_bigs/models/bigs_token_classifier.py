"""BiGS for token classification (named entities, part-of-speech tags)."""

import keras
import tensorflow as tf
from keras import ops
from keras_hub.models import Task

from keras_bigs.convert.name_table import OriginalHead
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_token_classifier_preprocessor import (
    BiGSTokenClassifierPreprocessor,
)
from keras_bigs.models.bigs_token_classifier_preprocessor import sentence_tensor
from keras_bigs.models.dropout_dense_head import dropout_dense_head
from keras_bigs.models.host_inputs import HostInputs
from keras_bigs.models.quantized_heads import QuantizedHeads
from keras_bigs.models.runtime_export import RuntimeExport
from keras_bigs.presets.preset_loading import PresetLoading


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSTokenClassifier(
    HostInputs, QuantizedHeads, RuntimeExport, PresetLoading, Task
):
    """Sequence output -> dropout -> dense: logits for every token.

    As the original `BiGSForTokenClassification`. The model returns float32
    logits `(batch, sequence_length, num_classes)`. With its preprocessor it
    trains on words with a label per word (the first wordpiece of each word
    carries the label; the other pieces have sample weight 0, so loss and
    accuracy count each word once), and `predict_words` returns a label per
    word. `compile()` defaults to Adam(5e-5), sparse categorical
    cross-entropy on logits and (weighted) accuracy.

    `BiGSTokenClassifier.from_preset(folder)` also loads an original
    `BiGSForTokenClassification` checkpoint, head (`classifier`) included.

    Args:
        backbone: a `BiGSBackbone`.
        num_classes: int. Number of labels.
        preprocessor: a `BiGSTokenClassifierPreprocessor` or `None`.
        dropout: float. Dropout before the output layer.

    Example:
    ```python
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=32)
    preprocessor = keras_bigs.BiGSTokenClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32)
    tagger = keras_bigs.BiGSTokenClassifier(backbone, num_classes=3,
                                            preprocessor=preprocessor)
    words = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    tagger.fit(x=words, y=[[1, 0, 2, 0], [1, 1]], batch_size=2, verbose=0)
    [len(tags) for tags in tagger.predict_words(words)]  # [4, 2]
    ```
    """

    backbone_cls = BiGSBackbone
    preprocessor_cls = BiGSTokenClassifierPreprocessor
    original_head = OriginalHead(
        ("classifier",),
        layer="output_dense",
        reads="sequence_output",
        size_argument="num_classes",
    )

    def __init__(
        self, backbone, num_classes, preprocessor=None, dropout=0.1, **kwargs
    ):
        backbone.check_preprocessor(preprocessor)

        # === Layers ===
        head_policy = self._head_dtype_policy(backbone, kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout, self.output_dense = dropout_dense_head(
            num_classes, dropout, head_policy, "logits"
        )

        # === Functional Model ===
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]
        logits = self.output_dense(self.output_dropout(sequence))
        outputs = ops.cast(logits, "float32")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.dropout = dropout

    def compile(
        self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs
    ):
        """Adam(5e-5), cross-entropy on logits, accuracy (per word when
        trained through the preprocessor's sample weights)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = None
            kwargs.setdefault(
                "weighted_metrics", [keras.metrics.SparseCategoricalAccuracy()]
            )
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """`Task.fit`; sentences may also be lists of words, with lists of
        labels per word."""
        x, y, batch_size = _sentence_batches(
            x, y, batch_size, shuffle=kwargs.get("shuffle", True)
        )
        return super().fit(x=x, y=y, batch_size=batch_size, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`Task.evaluate`, with sentences as `fit` takes them."""
        x, y, batch_size = _sentence_batches(x, y, batch_size)
        return super().evaluate(x=x, y=y, batch_size=batch_size, **kwargs)

    def predict(self, x=None, batch_size=None, **kwargs):
        """`Task.predict`: token logits `(batch, sequence_length,
        num_classes)`; sentences as `fit` takes them. `predict_words`
        gives a label per word."""
        x, _, batch_size = _sentence_batches(x, None, batch_size)
        return super().predict(x=x, batch_size=batch_size, **kwargs)

    def predict_words(self, sentences, batch_size=32):
        """A label id per word of each sentence (pre-split words or raw
        strings, as the preprocessor takes them): the argmax at the word's
        first wordpiece. Words cut off by `sequence_length` get none, so a
        long sentence's list is shorter than its words."""
        if self.preprocessor is None:
            raise ValueError(
                "`predict_words()` needs a preprocessor; this "
                "BiGSTokenClassifier has preprocessor=None."
            )
        return word_labels(self, self.preprocessor, sentences, batch_size)

    def label_limit(self, x):
        """Labels are a class id per word (or token)."""
        return self.num_classes

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_classes": self.num_classes, "dropout": self.dropout}
        )
        return config


def _sentence_batches(x, y, batch_size, shuffle=False):
    """Word lists (and per-word label lists) as a ragged-batched
    `tf.data.Dataset` (shuffled anew each epoch with `shuffle`), which
    keras-hub's `Task` takes as it is; other inputs unchanged."""
    if not (_ragged_rows(x) or _ragged_rows(y)):
        return x, y, batch_size
    x = sentence_tensor(x)
    if y is not None and not isinstance(y, tf.RaggedTensor):
        y = tf.ragged.constant([list(labels) for labels in y])
    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        dataset = dataset.shuffle(int(x.shape[0]))
    return dataset.ragged_batch(batch_size or 32), None, None


def _ragged_rows(value):
    """Whether `value` is rows of different lengths: a ragged tensor, or
    a list of lists (of words or labels)."""
    return isinstance(value, tf.RaggedTensor) or (
        isinstance(value, (list, tuple))
        and any(not isinstance(row, (str, bytes)) for row in value)
    )


def word_labels(model, preprocessor, sentences, batch_size=32):
    """`BiGSTokenClassifier.predict_words` with the preprocessor given
    apart (for a model that trains on preprocessed batches)."""
    inputs, first_piece, _ = preprocessor.packed_words(sentences)
    labels = []
    for start in range(0, len(first_piece), batch_size):
        batch = {k: v[start : start + batch_size] for k, v in inputs.items()}
        ids = ops.convert_to_numpy(model(batch, training=False)).argmax(-1)
        for row, first in zip(ids, first_piece[start : start + batch_size]):
            labels.append(row[first].tolist())
    return labels
