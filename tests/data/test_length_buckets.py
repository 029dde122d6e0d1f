"""Length buckets: the lengths, their checks, and batches grouped by them."""

import collections

import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import bucket_batches
from keras_bigs.data import check_buckets
from keras_bigs.data import default_buckets
from keras_bigs.data import glue_training_data
from keras_bigs.data import pad_to_bucket
from tests.conftest import shared_dir


def test_default_buckets():
    assert default_buckets(512) == (16, 32, 64, 128, 256, 512)
    assert default_buckets(100) == (16, 32, 64, 100)
    assert default_buckets(16) == (16,)
    assert default_buckets(8) == (8,)


def test_check_buckets_appends_the_maximum():
    assert check_buckets([16, 64], 128) == (16, 64, 128)
    assert check_buckets((16, 128), 128) == (16, 128)


@pytest.mark.parametrize(
    "buckets,message",
    [
        ([32, 16], "strictly increasing; 16 follows 32"),
        ([16, 16], "strictly increasing; 16 follows 16"),
        ([16, 256], "256 exceeds the maximum sequence length 128"),
        ([0, 16], "must be positive; got 0"),
        ([16.5], "must be integers; got 16.5"),
        ([], "empty"),
    ],
)
def test_bad_bucket_lists_are_errors(buckets, message):
    with pytest.raises(ValueError, match=message):
        check_buckets(buckets, 128)


def test_pad_to_bucket_cuts_only_padding_and_pads_short_batches():
    mask = tf.constant([[1, 1, 1, 0, 0, 0, 0, 0], [1, 0, 1, 1, 1, 0, 0, 0]])
    inputs = {
        "token_ids": mask * 7,
        "segment_ids": 0 * mask,
        "padding_mask": mask,
        "mask_positions": tf.constant([[1, 2], [0, 3]]),
    }
    got = pad_to_bucket(inputs, (4, 6, 8))
    # The last real token of row 2 is at position 5 (despite a hole).
    np.testing.assert_array_equal(got["padding_mask"], mask[:, :6])
    np.testing.assert_array_equal(got["mask_positions"], [[1, 2], [0, 3]])
    narrow = {key: value[:, :3] for key, value in inputs.items()}
    got = pad_to_bucket(narrow, (4, 6, 8))
    assert got["token_ids"].shape == (2, 4)
    np.testing.assert_array_equal(got["token_ids"][:, 3], [0, 0])


def rows_of_lengths(lengths):
    """Examples `(inputs, id)`: row `id` has `lengths[id]` tokens, all
    equal to its id + 1."""
    lengths = tf.constant(lengths, tf.int32)

    def example(index):
        n = lengths[index]
        token_ids = tf.fill([n], tf.cast(index, tf.int32) + 1)
        inputs = {
            "token_ids": token_ids,
            "segment_ids": tf.zeros([n], tf.int32),
            "padding_mask": tf.ones([n], tf.bool),
        }
        return inputs, index

    return tf.data.Dataset.range(len(lengths)).map(example)


def test_each_example_once_per_epoch_and_batches_never_mix_buckets():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, 500)
    buckets = (16, 32, 64, 100)
    dataset = rows_of_lengths(lengths).shuffle(500, seed=3)
    batches = bucket_batches(dataset, 8, buckets)
    for _ in range(2):  # two epochs: a new order, every example once
        seen = collections.Counter()
        for inputs, ids in batches.as_numpy_iterator():
            width = inputs["token_ids"].shape[1]
            assert width in buckets
            row_lengths = lengths[ids]
            # All rows of a batch come from the bucket of its width.
            lower = max([b for b in buckets if b < width], default=0)
            assert np.all((row_lengths > lower) & (row_lengths <= width))
            # Each row is intact: its tokens, then padding.
            for row, index in zip(inputs["token_ids"], ids):
                n = lengths[index]
                assert np.all(row[:n] == index + 1) and np.all(row[n:] == 0)
            np.testing.assert_array_equal(
                inputs["padding_mask"].sum(axis=1), row_lengths
            )
            assert len(ids) <= 8
            seen.update(ids.tolist())
        assert seen == collections.Counter(range(500))


def test_grouping_is_deterministic_for_a_seed():
    lengths = np.random.default_rng(1).integers(1, 64, 200)

    def order(seed):
        dataset = rows_of_lengths(lengths).shuffle(200, seed=seed)
        return [
            ids.tolist()
            for _, ids in bucket_batches(
                dataset, 8, (16, 64)
            ).as_numpy_iterator()
        ]

    assert order(5) == order(5)
    assert order(5) != order(6)


def test_drop_remainder_gives_full_batches():
    lengths = np.random.default_rng(2).integers(1, 64, 101)
    batches = bucket_batches(
        rows_of_lengths(lengths), 8, (16, 32, 64), drop_remainder=True
    )
    sizes = [len(ids) for _, ids in batches.as_numpy_iterator()]
    assert set(sizes) == {8}


@pytest.fixture(scope="module")
def sst2():
    return glue_training_data("sst2", shared_dir() / "glue")


def test_bucketed_glue_batches_hold_every_sentence_once(sst2):
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64, buckets=None
    )
    buckets = (16, 32, 64)
    batches = sst2.evaluation_batches(32, preprocessor, buckets)
    full = sst2.evaluation_batches(32, preprocessor)
    counted = collections.Counter()
    expected = collections.Counter()
    widths = collections.Counter()
    for x, y in batches.as_numpy_iterator():
        widths[x["token_ids"].shape[1]] += 1
        for row in x["token_ids"]:
            counted[tuple(row[row != 0])] += 1
    for x, y in full.as_numpy_iterator():
        for row in x["token_ids"]:
            expected[tuple(row[row != 0])] += 1
    assert counted == expected
    assert sum(counted.values()) == sst2.num_evaluation
    # SST-2's sentences are short: most batches run at 16 or 32 tokens.
    assert widths[16] + widths[32] > 0.9 * sum(widths.values())


def test_bucketed_glue_training_is_repeatable_and_reshuffled(sst2):
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64, buckets=None
    )

    def first_labels(seed):
        batches = sst2.train_batches(
            16,
            seed,
            preprocessor=preprocessor,
            buckets=(16, 32, 64),
            repeat=True,
        )
        return [y.tolist() for _, y in batches.take(5).as_numpy_iterator()]

    assert first_labels(0) == first_labels(0)
    assert first_labels(0) != first_labels(1)
