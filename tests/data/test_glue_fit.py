"""A classifier trains on `glue_dataset` batches as they come."""

import numpy as np

import keras_bigs
from keras_bigs.data import glue_dataset
from tests.conftest import tiny_backbone
from tests.data.conftest import glue_dir


def test_classifier_fits_on_single_and_pair_batches():
    """keras-hub's `Task.fit` maps the preprocessor over `(x, y)`: `x` a
    string tensor or a tuple of two."""
    backbone = tiny_backbone(16)
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16
    )
    classifier = keras_bigs.BiGSClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    pairs = glue_dataset(
        "rte", glue_dir(), "dev", batch_size=4, drop_remainder=True
    )
    history = classifier.fit(pairs, steps_per_epoch=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    singles = glue_dataset(
        "cola", glue_dir(), "dev", batch_size=4, drop_remainder=True
    )
    history = classifier.fit(
        singles, steps_per_epoch=1, shuffle=False, verbose=0
    )
    assert np.isfinite(history.history["loss"][0])
