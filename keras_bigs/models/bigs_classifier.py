"""BiGS for sequence classification and regression (GLUE, MNLI, STS-B)."""

import keras
from keras_hub.models import TextClassifier

from keras_bigs.convert.name_table import OriginalHead
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_text_classifier_preprocessor import (
    BiGSTextClassifierPreprocessor,
)
from keras_bigs.models.dropout_dense_head import dropout_dense_head
from keras_bigs.models.host_inputs import HostInputs
from keras_bigs.models.quantized_heads import QuantizedHeads
from keras_bigs.models.runtime_export import RuntimeExport
from keras_bigs.presets.preset_loading import PresetLoading


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSClassifier(
    HostInputs, QuantizedHeads, RuntimeExport, PresetLoading, TextClassifier
):
    """Pooled output -> dropout -> dense, as the original BiGS classifier.

    `num_classes=1` is regression (STS-B): `compile()` then defaults to a
    mean-squared-error loss. Accepts raw strings or string pairs through its
    preprocessor, or token dicts with `preprocessor=None`.

    `BiGSClassifier.from_preset(folder)` also loads an original
    `BiGSForSequenceClassification` checkpoint, head included.

    Args:
        backbone: a `BiGSBackbone`.
        num_classes: int. Number of classes; 1 for regression.
        preprocessor: a `BiGSTextClassifierPreprocessor` or `None`.
        activation: activation of the output layer (`None`: logits).
        dropout: float. Dropout before the output layer.

    Example:
    ```python
    import numpy as np
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=32)
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32)
    classifier = keras_bigs.BiGSClassifier(backbone, num_classes=2,
                                           preprocessor=preprocessor)
    classifier.fit(x=["good", "bad"], y=np.array([1, 0]), batch_size=2,
                   verbose=0)
    classifier.predict(["a raw sentence"], verbose=0).shape  # (1, 2)
    ```
    """

    backbone_cls = BiGSBackbone
    preprocessor_cls = BiGSTextClassifierPreprocessor
    original_head = OriginalHead(
        ("classifier",), layer="output_dense", size_argument="num_classes"
    )

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        dropout=0.1,
        **kwargs,
    ):
        backbone.check_preprocessor(preprocessor)

        # === Layers ===
        head_policy = self._head_dtype_policy(backbone, kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout, self.output_dense = dropout_dense_head(
            num_classes, dropout, head_policy, "logits", activation
        )

        # === Functional Model ===
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]
        outputs = self.output_dense(self.output_dropout(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.activation = keras.activations.get(activation)
        self.dropout = dropout

    def compile(
        self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs
    ):
        """As `TextClassifier.compile`; regression defaults to MSE."""
        if self.output_dense.units == 1:
            if loss == "auto":
                loss = keras.losses.MeanSquaredError()
            if metrics == "auto":
                metrics = [keras.metrics.MeanSquaredError()]
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )

    def label_limit(self, x):
        """Labels are class ids, except for regression (`num_classes=1`)."""
        return self.num_classes if self.num_classes > 1 else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
            }
        )
        return config
