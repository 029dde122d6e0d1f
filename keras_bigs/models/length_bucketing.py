"""Bucketed padding for the preprocessors of padding-invariant models."""

import keras

from keras_bigs.data.length_buckets import SEQUENCE_INPUTS
from keras_bigs.data.length_buckets import batch_bucket_index
from keras_bigs.data.length_buckets import check_buckets
from keras_bigs.data.length_buckets import default_buckets
from keras_bigs.data.length_buckets import pad_to_bucket
from keras_bigs.keras_hub_internals import in_tf_function

AUTO = "auto"


class LengthBucketing:
    """Preprocessor mixin: pad each batch to the smallest of a few lengths
    that holds its longest row, instead of to `sequence_length`.

    `buckets` is a preprocessor argument:
    - `"auto"` (default): the powers of two from 16 up to
      `sequence_length` (`default_buckets`) when the preprocessor belongs
      to a task whose backbone is `padding_invariant`, otherwise full-length
      padding. The task decides (`BiGSBackbone.check_preprocessor`).
    - a list of lengths: those (`sequence_length` is always the last);
      only for padding-invariant models, whose outputs do not depend on the
      padded length.
    - `None`: always pad to `sequence_length`.

    Rows longer than `sequence_length` are truncated to it; the batch is
    then cut (only padding is cut) or padded to its bucket.

    The mixin owns the constructor arguments the packing preprocessors
    share, `(tokenizer, sequence_length=512, truncate="round_robin",
    buckets="auto")` in that order, and passes the rest to the base
    preprocessor; `call` pads the base preprocessor's outputs to the
    bucket and `get_config` records `buckets`. A preprocessor with more
    arguments declares its own `__init__` and passes these four on.

    Args:
        tokenizer: a `BiGSTokenizer`.
        sequence_length: int. The longest packed sequence; longer inputs
            are truncated.
        truncate: `"round_robin"` (default) or `"waterfall"`.
        buckets: `"auto"` (default), a list of lengths, or `None`.

    Example:
    ```python
    import keras_bigs

    preprocessor = keras_bigs.BiGSTextEmbedderPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64, buckets=[16, 32])
    preprocessor.padding_lengths  # (16, 32, 64)
    preprocessor(["Short.", "Also short."])["token_ids"].shape  # (2, 16)
    preprocessor.get_config()["buckets"]  # [16, 32, 64]
    ```
    """

    def __init__(
        self,
        tokenizer,
        sequence_length=512,
        truncate="round_robin",
        buckets=AUTO,
        **kwargs,
    ):
        super().__init__(
            tokenizer,
            sequence_length=sequence_length,
            truncate=truncate,
            **kwargs,
        )
        # Whether the task's backbone is padding-invariant; `None` until a
        # task takes this preprocessor.
        self._padding_invariant_model = None
        self.buckets = buckets

    def call(self, x, y=None, sample_weight=None):
        return self._pad_to_bucket(super().call(x, y, sample_weight))

    @property
    def buckets(self):
        """The configured buckets: `"auto"`, a tuple of lengths or `None`."""
        return self._buckets

    @buckets.setter
    def buckets(self, value):
        if value is not None and value != AUTO:
            if isinstance(value, str):
                raise ValueError(
                    f"buckets={value!r}; expected 'auto', None or a list "
                    "of lengths."
                )
            value = check_buckets(value, self.sequence_length)
            if self._padding_invariant_model is False:
                raise ValueError(self._not_invariant_message(value))
        self._buckets = value

    @property
    def padding_lengths(self):
        """The lengths batches are padded to now: a tuple of buckets, or
        `None` for full-length padding."""
        if self._buckets == AUTO:
            if self._padding_invariant_model:
                return default_buckets(self.sequence_length)
            return None
        if self._buckets is not None:
            # `sequence_length` may have changed since `buckets` was set.
            return check_buckets(
                [b for b in self._buckets if b < self.sequence_length],
                self.sequence_length,
            )
        return None

    def set_padding_invariant_model(self, padding_invariant):
        """Called by the task: whether its backbone is padding-invariant
        (`"auto"` buckets then, and explicit buckets are allowed)."""
        if not padding_invariant and self._buckets not in (None, AUTO):
            raise ValueError(self._not_invariant_message(self._buckets))
        self._padding_invariant_model = bool(padding_invariant)

    @staticmethod
    def _not_invariant_message(buckets):
        return (
            f"The preprocessor pads to buckets {list(buckets)}, but the "
            "backbone is not padding-invariant: its outputs depend on the "
            "padded length, so bucketed padding would change them. Build "
            "the backbone with padding_invariant=True, or pass buckets=None."
        )

    def _pad_to_bucket(self, outputs):
        lengths = self.padding_lengths
        if lengths is None:
            return outputs
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(outputs)
        if in_tf_function():
            x = pad_to_bucket(x, lengths)
        else:
            # Eager outputs are backend tensors at the full length: cut.
            mask = keras.ops.convert_to_numpy(x["padding_mask"])
            length = lengths[int(batch_bucket_index(mask, lengths))]
            x = {
                key: value[..., :length] if key in SEQUENCE_INPUTS else value
                for key, value in x.items()
            }
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def get_config(self):
        buckets = self._buckets
        if buckets not in (None, AUTO):
            buckets = list(buckets)
        return {**super().get_config(), "buckets": buckets}
