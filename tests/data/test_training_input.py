import numpy as np
import pytest
import tensorflow as tf

from keras_bigs.data.training_input import evaluation_dataset
from keras_bigs.data.training_input import training_dataset_fn


def test_each_input_pipeline_gets_its_rows_of_the_global_batches():
    sizes = []

    def global_batches(size):
        sizes.append(size)
        return tf.data.Dataset.range(20).batch(size)

    dataset_fn = training_dataset_fn(global_batches, batch_size=8)
    pipelines = [
        list(dataset_fn(tf.distribute.InputContext(2, index, 2)))
        for index in (0, 1)
    ]
    assert sizes == [8, 8]
    np.testing.assert_array_equal(pipelines[0][0], [0, 1, 2, 3])
    np.testing.assert_array_equal(pipelines[1][0], [4, 5, 6, 7])
    one = list(dataset_fn(tf.distribute.InputContext()))
    np.testing.assert_array_equal(one[0], np.arange(8))
    for first, second, whole in zip(*pipelines, one):
        np.testing.assert_array_equal(np.concatenate([first, second]), whole)


def test_evaluation_batches_are_cached_with_a_known_size():
    # Random values: a pass that recomputed them would differ.
    batches = (
        tf.data.Dataset.range(10)
        .filter(lambda x: x % 3 > 0)
        .map(lambda x: tf.random.uniform(()) + tf.cast(x, tf.float32))
        .batch(4)
    )
    assert batches.cardinality() == tf.data.UNKNOWN_CARDINALITY
    dataset = evaluation_dataset(batches)
    assert int(dataset.cardinality()) == 2  # 6 values in batches of 4
    first, again = list(dataset), list(dataset)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_no_evaluation_batches_is_an_error_saying_why():
    empty = tf.data.Dataset.range(3).filter(lambda x: x > 5).batch(2)
    with pytest.raises(ValueError, match="nothing held out"):
        evaluation_dataset(empty, "nothing held out")
