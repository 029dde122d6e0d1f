"""keras_bigs: BiGS (Bidirectional Gated SSM) for Keras 3 and keras-hub.

The classes are here by name (`keras_bigs.BiGSClassifier`) and in
keras-hub's namespaces (`keras_bigs.models`, `keras_bigs.layers`,
`keras_bigs.tokenizers`); the rest of the library is in `data`,
`training`, `serving`, `analysis` and `performance`.
"""

from keras_bigs import analysis
from keras_bigs import data
from keras_bigs import layers
from keras_bigs import models
from keras_bigs import performance
from keras_bigs import serving
from keras_bigs import tokenizers
from keras_bigs import training
from keras_bigs.convert.readers import CheckpointError
from keras_bigs.layers import BiGSBlock
from keras_bigs.layers import GatedFFN
from keras_bigs.layers import S4DConv
from keras_bigs.layers import StackBlock
from keras_bigs.models import BIGS_PRESETS
from keras_bigs.models import BiGSBackbone
from keras_bigs.models import BiGSClassifier
from keras_bigs.models import BiGSMaskedLM
from keras_bigs.models import BiGSMaskedLMPreprocessor
from keras_bigs.models import BiGSMultipleChoice
from keras_bigs.models import BiGSMultipleChoicePreprocessor
from keras_bigs.models import BiGSQuestionAnswerer
from keras_bigs.models import BiGSQuestionAnswererPreprocessor
from keras_bigs.models import BiGSTextClassifierPreprocessor
from keras_bigs.models import BiGSTextEmbedder
from keras_bigs.models import BiGSTextEmbedderPreprocessor
from keras_bigs.models import BiGSTokenClassifier
from keras_bigs.models import BiGSTokenClassifierPreprocessor
from keras_bigs.models import BiGSTokenizer
from keras_bigs.serving import export_for_serving

__version__ = "0.1.0"

__all__ = [
    "BIGS_PRESETS",
    "BiGSBackbone",
    "BiGSBlock",
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
    "CheckpointError",
    "GatedFFN",
    "S4DConv",
    "StackBlock",
    "analysis",
    "data",
    "export_for_serving",
    "layers",
    "models",
    "performance",
    "serving",
    "tokenizers",
    "training",
]
