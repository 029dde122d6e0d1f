"""Preprocessors whose logic is written once, in TensorFlow ops.

keras-hub tokenizers run in plain Python when called eagerly and in
TensorFlow inside `tf.data`. Preprocessors that do more than pack tokens
(locating answer spans, fanning out answer choices) are written once in
TensorFlow ops; eager calls go through a cached `tf.function`, so they give
the same numbers as a `tf.data` pipeline or an exported SavedModel.
"""

import tensorflow as tf
from keras_hub.layers import MultiSegmentPacker
from keras_hub.models import Preprocessor

from keras_bigs.keras_hub_internals import convert_preprocessing_inputs
from keras_bigs.keras_hub_internals import convert_preprocessing_outputs
from keras_bigs.keras_hub_internals import in_tf_function
from keras_bigs.presets.preset_loading import PresetLoading


def graph_function(fn, **kwargs):
    """`tf.function(fn, **kwargs)` without AutoGraph, for preprocessing
    written in TensorFlow ops that branches only on Python values (settings,
    static shapes). AutoGraph would first rewrite that code, keras-hub's and
    TensorFlow Text's with it: about 2 s in each process, for nothing
    (docs/development.md)."""
    return tf.function(fn, autograph=False, **kwargs)


class GraphPackingPreprocessor(PresetLoading, Preprocessor):
    """Tokenizer + `MultiSegmentPacker`; `call` is `_call_tf`, always traced.

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. Length every packed sequence is padded to.
        truncate: `"round_robin"` or `"waterfall"`.
    """

    def __init__(
        self, tokenizer, sequence_length=512, truncate="round_robin", **kwargs
    ):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.packer = None
        self.sequence_length = sequence_length
        self.truncate = truncate

    def build(self, input_shape):
        super().build(input_shape)
        self.packer = MultiSegmentPacker(
            start_value=self.tokenizer.start_token_id,
            end_value=self.tokenizer.end_token_id,
            pad_value=self.tokenizer.pad_token_id,
            truncate=self.truncate,
            sequence_length=self.sequence_length,
        )

    def _call_tf(self, x, y=None, sample_weight=None):
        raise NotImplementedError

    def call(self, x, y=None, sample_weight=None):
        if in_tf_function():
            return self._call_tf(x, y, sample_weight)
        if getattr(self, "_traced_call", None) is None:
            self._traced_call = graph_function(
                self._call_tf, reduce_retracing=True
            )
        with tf.device("cpu"):
            x, y, sample_weight = convert_preprocessing_inputs(
                (x, y, sample_weight)
            )
            x, y, sample_weight = (
                tf.nest.map_structure(_as_tensor, value)
                if value is not None
                else None
                for value in (x, y, sample_weight)
            )
            try:
                outputs = self._traced_call(x, y, sample_weight)
            except tf.errors.InvalidArgumentError as error:
                # A failed check on the inputs: keep its message (Keras
                # cannot re-raise TF's own error type with context added).
                raise ValueError(error.message) from None
            return convert_preprocessing_outputs(outputs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"sequence_length": self.sequence_length, "truncate": self.truncate}
        )
        return config

    @property
    def sequence_length(self):
        """The padded length of every packed sequence."""
        return self._sequence_length

    @sequence_length.setter
    def sequence_length(self, value):
        self._sequence_length = value
        if self.packer is not None:
            self.packer.sequence_length = value


def _as_tensor(value):
    if isinstance(value, tf.RaggedTensor):
        return value
    return tf.convert_to_tensor(value)
