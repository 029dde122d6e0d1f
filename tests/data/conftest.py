import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import pack_documents

CLS, SEP, PAD, MASK = 101, 102, 0, 103
SEQUENCE_LENGTH = 32
MAX_PREDICTIONS = 5  # ceil(0.15 * 32), as masked_lm_dataset's default


@pytest.fixture(scope="module")
def tokenizer():
    return keras_bigs.BiGSTokenizer()


def strings(dataset):
    """The Python strings of a dataset of scalar strings."""
    return [s.decode() for s in dataset.as_numpy_iterator()]


def write_text(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def packed_batches(tokenizer):
    """Packed examples of a small corpus, in batches of 4 (cached: passes
    over it re-run only what is built on top)."""
    documents = tf.data.Dataset.from_tensor_slices(
        [
            f"Document number {i} is about the weather in city {i}, which "
            "was sunny and warm."
            for i in range(12)
        ]
    )
    packed = pack_documents(documents, tokenizer, SEQUENCE_LENGTH)
    return packed.batch(4, drop_remainder=True).cache()
