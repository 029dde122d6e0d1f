"""Export BiGS tasks as TensorFlow SavedModels for TF Serving."""

from keras_bigs.serving.destination import check_destination
from keras_bigs.serving.export import SUPPORTED_TASKS
from keras_bigs.serving.export import WEIGHTS_DTYPES
from keras_bigs.serving.export import export_for_serving
from keras_bigs.serving.signatures import TOKENS_SIGNATURE
from keras_bigs.serving.stored_weights import COMPARISON_TEXTS

__all__ = [
    "COMPARISON_TEXTS",
    "SUPPORTED_TASKS",
    "TOKENS_SIGNATURE",
    "WEIGHTS_DTYPES",
    "check_destination",
    "export_for_serving",
]
