"""keras_bigs: BiGS (Bidirectional Gated SSM) for Keras 3."""

from keras_bigs.convert.readers import CheckpointError
from keras_bigs.layers.bigs_block import BiGSBlock
from keras_bigs.layers.gated_ffn import GatedFFN
from keras_bigs.layers.s4d import S4DConv
from keras_bigs.layers.stack_block import StackBlock
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
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.serving.export import export_for_serving
from keras_bigs import data  # noqa: E402  tf.data pipelines
from keras_bigs import training  # noqa: E402  recipe, distribution, tools' runs
from keras_bigs import analysis  # noqa: E402  kernels, length, probes
from keras_bigs import serving  # noqa: E402  SavedModels for TF Serving

__version__ = "0.1.0"
