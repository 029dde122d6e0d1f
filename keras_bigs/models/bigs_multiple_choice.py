"""BiGS for multiple choice (QuALITY, RACE, SWAG): one score per choice."""

import keras
import numpy as np
from keras import ops
from keras_hub.models import Task

from keras_bigs.convert.name_table import OriginalHead
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_multiple_choice_preprocessor import (
    BiGSMultipleChoicePreprocessor,
)
from keras_bigs.models.dropout_dense_head import dropout_dense_head
from keras_bigs.models.host_inputs import HostInputs
from keras_bigs.models.quantized_heads import QuantizedHeads
from keras_bigs.models.runtime_export import RuntimeExport
from keras_bigs.presets.preset_loading import PresetLoading


@keras.saving.register_keras_serializable(package="keras_bigs")
class FlattenChoices(keras.layers.Layer):
    """`(batch, num_choices, length)` -> `(batch * num_choices, length)`."""

    def call(self, x):
        return ops.reshape(x, (-1, ops.shape(x)[-1]))

    def compute_output_shape(self, input_shape):
        return (None, input_shape[-1])


@keras.saving.register_keras_serializable(package="keras_bigs")
class UnflattenChoices(keras.layers.Layer):
    """Scores `(batch * num_choices, 1)` -> `(batch, num_choices)`, shaped
    like the `(batch, num_choices, length)` token ids."""

    def call(self, scores, token_ids):
        return ops.reshape(scores, ops.shape(token_ids)[:2])

    def compute_output_shape(self, scores_shape, token_ids_shape):
        return tuple(token_ids_shape[:2])


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSMultipleChoice(
    HostInputs, QuantizedHeads, RuntimeExport, PresetLoading, Task
):
    """Pooled output -> dropout -> dense(1) for each choice; logits over
    choices, as the original `BiGSForMultipleChoice` (QuALITY in the paper).

    Inputs have shape `(batch, num_choices, sequence_length)`; every choice
    is `[CLS] prompt [SEP] choice [SEP]`, scored independently by the
    backbone, and the scores form `(batch, num_choices)` logits. Labels are
    the index of the right choice.

    Args:
        backbone: a `BiGSBackbone`.
        preprocessor: a `BiGSMultipleChoicePreprocessor` or `None`.
        dropout: float. Dropout before the scoring layer.

    Example:
    ```python
    import numpy as np
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=16)
    preprocessor = keras_bigs.BiGSMultipleChoicePreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16)
    model = keras_bigs.BiGSMultipleChoice(backbone, preprocessor=preprocessor)
    prompts = ["The sky is", "Fire is"]
    choices = [["blue.", "loud."], ["cold.", "hot."]]
    model.fit(x=(prompts, choices), y=np.array([0, 1]), verbose=0)
    model.predict((prompts, choices), verbose=0).shape  # (2, 2)
    ```
    """

    backbone_cls = BiGSBackbone
    preprocessor_cls = BiGSMultipleChoicePreprocessor
    original_head = OriginalHead(("classifier",), layer="output_dense")

    def __init__(self, backbone, preprocessor=None, dropout=0.1, **kwargs):
        backbone.check_preprocessor(preprocessor)

        # === Layers ===
        head_policy = self._head_dtype_policy(backbone, kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.flatten_choices = FlattenChoices(name="flatten_choices")
        self.output_dropout, self.output_dense = dropout_dense_head(
            1, dropout, head_policy, "choice_score"
        )
        self.unflatten_choices = UnflattenChoices(name="unflatten_choices")

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(None, None), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        flat = {name: self.flatten_choices(x) for name, x in inputs.items()}
        pooled = backbone(flat)["pooled_output"]
        scores = self.output_dense(self.output_dropout(pooled))
        outputs = self.unflatten_choices(
            ops.cast(scores, "float32"), inputs["token_ids"]
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.dropout = dropout

    def compile(
        self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs
    ):
        """Adam(5e-5), cross-entropy over choices, accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy()]
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )

    def label_limit(self, x):
        """Labels index the choices: the token inputs' second axis, or
        the number of choices given with the prompts."""
        if isinstance(x, dict) and "token_ids" in x:
            return np.shape(x["token_ids"])[-2]
        if isinstance(x, tuple) and len(x) == 2 and len(x[1]):
            return len(x[1][0])
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout})
        return config
