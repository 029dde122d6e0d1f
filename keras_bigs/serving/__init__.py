"""Export BiGS tasks as TensorFlow SavedModels for TF Serving."""

from keras_bigs.serving.export import COMPARISON_TEXTS
from keras_bigs.serving.export import SUPPORTED_TASKS
from keras_bigs.serving.export import TOKENS_SIGNATURE
from keras_bigs.serving.export import WEIGHTS_DTYPES
from keras_bigs.serving.export import check_destination
from keras_bigs.serving.export import export_for_serving
