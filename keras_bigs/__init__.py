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

# Every public name of `keras_bigs.models` is also a top-level name; its
# `__all__` is the one list of them.
from keras_bigs.models import *  # noqa: F403
from keras_bigs.serving import export_for_serving

__version__ = "0.1.0"

__all__ = [
    *models.__all__,
    "BiGSBlock",
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
