import numpy as np
import pytest
import tensorflow as tf

from keras_bigs.data.training_input import evaluation_dataset
from keras_bigs.data.training_input import training_dataset_fn


def test_each_input_pipeline_gets_its_per_replica_batches():
    seen = []

    def batches(per_replica, context):
        seen.append((per_replica, context.input_pipeline_id))
        return (
            tf.data.Dataset.range(20)
            .shard(context.num_input_pipelines, context.input_pipeline_id)
            .batch(per_replica)
        )

    dataset_fn = training_dataset_fn(batches, batch_size=8)
    context = tf.distribute.InputContext(
        num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2
    )
    first = next(iter(dataset_fn(context)))
    assert seen == [(4, 1)]
    np.testing.assert_array_equal(first, [1, 3, 5, 7])


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
