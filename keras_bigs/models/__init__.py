"""BiGS models: the backbone, its tasks and their preprocessors, in
keras-hub's shape (`keras_bigs.models.BiGSClassifier`, ...)."""

from keras_bigs.keras_hub_internals import register_presets
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_masked_lm_preprocessor import (
    BiGSMaskedLMPreprocessor,
)
from keras_bigs.models.bigs_multiple_choice import BiGSMultipleChoice
from keras_bigs.models.bigs_multiple_choice_preprocessor import (
    BiGSMultipleChoicePreprocessor,
)
from keras_bigs.models.bigs_presets import BIGS_PRESETS
from keras_bigs.models.bigs_question_answerer import BiGSQuestionAnswerer
from keras_bigs.models.bigs_question_answerer_preprocessor import (
    BiGSQuestionAnswererPreprocessor,
)
from keras_bigs.models.bigs_text_classifier_preprocessor import (
    BiGSTextClassifierPreprocessor,
)
from keras_bigs.models.bigs_text_embedder import BiGSTextEmbedder
from keras_bigs.models.bigs_text_embedder_preprocessor import (
    BiGSTextEmbedderPreprocessor,
)
from keras_bigs.models.bigs_token_classifier import BiGSTokenClassifier
from keras_bigs.models.bigs_token_classifier_preprocessor import (
    BiGSTokenClassifierPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer

# Lists the names in `BiGSBackbone.presets`, `BiGSClassifier.presets`, ...
# and lets `from_preset` find them, as keras-hub registers its own.
register_presets(BIGS_PRESETS, BiGSBackbone)

__all__ = [
    "BIGS_PRESETS",
    "BiGSBackbone",
    "BiGSClassifier",
    "BiGSMaskedLM",
    "BiGSMaskedLMPreprocessor",
    "BiGSMultipleChoice",
    "BiGSMultipleChoicePreprocessor",
    "BiGSQuestionAnswerer",
    "BiGSQuestionAnswererPreprocessor",
    "BiGSTextClassifierPreprocessor",
    "BiGSTextEmbedder",
    "BiGSTextEmbedderPreprocessor",
    "BiGSTokenClassifier",
    "BiGSTokenClassifierPreprocessor",
    "BiGSTokenizer",
]
