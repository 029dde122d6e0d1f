"""BiGS with the masked-language-model head of its pretraining."""

import keras
from keras_hub.layers import MaskedLMHead
from keras_hub.models import MaskedLM

from keras_bigs.convert.name_table import OriginalHead
from keras_bigs.layers.activations import gelu_exact
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_backbone import bigs_kernel_initializer
from keras_bigs.models.bigs_masked_lm_preprocessor import (
    BiGSMaskedLMPreprocessor,
)
from keras_bigs.models.host_inputs import HostInputs
from keras_bigs.models.quantized_heads import QuantizedHeads
from keras_bigs.models.runtime_export import RuntimeExport
from keras_bigs.presets.preset_loading import PresetLoading


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSMaskedLM(
    HostInputs, QuantizedHeads, RuntimeExport, PresetLoading, MaskedLM
):
    """BiGS with its pretraining head: predict the tokens at masked positions.

    The head is the original's: dense -> exact GELU -> LayerNorm -> a decoder
    tied to the token embedding, plus an output bias (keras-hub's
    `MaskedLMHead`). Logits are computed at `mask_positions` only; pass every
    position (`np.arange(sequence_length)`) to score the whole sequence.
    With its preprocessor it trains on raw strings, masking dynamically; the
    loss and accuracy cover masked positions only.

    `BiGSMaskedLM.from_preset(folder)` also loads an original
    `BiGSForMaskedLM` checkpoint (Flax or PyTorch), head included.

    Args:
        backbone: a `BiGSBackbone`.
        preprocessor: a `BiGSMaskedLMPreprocessor` or `None` (then inputs
            are dicts of `token_ids`, `segment_ids`, `padding_mask` and
            `mask_positions`).

    Example:
    ```python
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=32)
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32)
    masked_lm = keras_bigs.BiGSMaskedLM(backbone, preprocessor=preprocessor)
    masked_lm.fit(x=["The quick brown fox.", "I forgot my homework."],
                  batch_size=2, verbose=0)
    ```
    """

    backbone_cls = BiGSBackbone
    preprocessor_cls = BiGSMaskedLMPreprocessor
    original_head = OriginalHead(
        ("cls", "predictions"),
        layer="masked_lm_head",
        kind="masked_lm",
        reads="sequence_output",
    )

    def __init__(self, backbone, preprocessor=None, **kwargs):
        backbone.check_preprocessor(preprocessor)

        # === Layers ===
        head_policy = self._head_dtype_policy(backbone, kwargs)
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            # Exact, as the original head.
            intermediate_activation=gelu_exact,
            layer_norm_epsilon=backbone.layer_norm_epsilon,
            kernel_initializer=bigs_kernel_initializer(),
            dtype=head_policy,
            name="mlm_head",
        )

        # === Functional Model ===
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            ),
        }
        sequence_output = backbone(backbone.input)["sequence_output"]
        outputs = self.masked_lm_head(sequence_output, inputs["mask_positions"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def label_limit(self, x):
        """Without a preprocessor, labels are the masked tokens' ids."""
        if self.preprocessor is None:
            return self.backbone.vocabulary_size
        return None
