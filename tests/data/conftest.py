import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import pack_documents
from tests.conftest import shared_dir

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


def glue_dir():
    """The shared GLUE folder (`shared/glue`)."""
    return shared_dir() / "glue"


def write_tsv(path, rows):
    """Write `rows` (lists of strings) as a tab-separated file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, "".join("\t".join(row) + "\n" for row in rows))


def examples_of(dataset):
    """Unbatched `(x, label)` Python values of a `glue_dataset`."""
    out = []
    for x, labels in dataset:
        columns = x if isinstance(x, tuple) else (x,)
        columns = [[t.decode() for t in c.numpy()] for c in columns]
        out.extend(zip(*columns, labels.numpy().tolist()))
    return out


# The official MNLI TSV columns, before the label columns.
MNLI_COLUMNS = [
    "index",
    "promptID",
    "pairID",
    "genre",
    "sentence1_binary_parse",
    "sentence2_binary_parse",
    "sentence1_parse",
    "sentence2_parse",
    "sentence1",
    "sentence2",
]


def mnli_row(index, premise, hypothesis, labels):
    """One MNLI row in the official layout, `labels` its label columns."""
    return [
        str(index),
        "31193",
        "31193n",
        "government",
        "( ( Conceptually ( cream skimming ) ) ...",
        "( Product ...",
        "(ROOT (S ...",
        "(ROOT (S ...",
        premise,
        hypothesis,
        *labels,
    ]
