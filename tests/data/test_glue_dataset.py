"""`glue_dataset` (`keras_bigs.data.glue_dataset`): batches, shuffling,
the test split, and TFDS as the source."""

import numpy as np
import pytest
import tensorflow as tf

from keras_bigs.data import CARVED_FROM_TRAIN
from keras_bigs.data import glue_dataset
from keras_bigs.data import read_glue_tsv
from tests.data.conftest import examples_of
from tests.data.conftest import glue_dir
from tests.data.conftest import write_tsv


def test_test_split_yields_texts_only(tmp_path):
    write_tsv(
        tmp_path / "RTE" / "test.tsv",
        [
            ["index", "sentence1", "sentence2"],
            [
                "0",
                "Mangla was summoned after Madhumita's sister Nidhi Shukla.",
                "Shukla is related to Mangla.",
            ],
            [
                "1",
                "Authorities in Brazil say that more than 200 people are "
                "being held hostage.",
                "Authorities in Brazil hold 200 people.",
            ],
        ],
    )
    dataset = glue_dataset("rte", tmp_path, "test", batch_size=2)
    x = next(iter(dataset))
    assert isinstance(x, tuple) and len(x) == 2
    assert x[1].numpy().tolist() == [
        b"Shukla is related to Mangla.",
        b"Authorities in Brazil hold 200 people.",
    ]


# === Batches and shuffling ===


def test_batches_have_static_shapes_with_drop_remainder():
    dataset = glue_dataset(
        "rte", glue_dir(), "train", batch_size=32, drop_remainder=True
    )
    (text_a, text_b), labels = dataset.element_spec
    assert text_a.shape == text_b.shape == labels.shape == (32,)
    assert text_a.dtype == tf.string and labels.dtype == tf.int32
    assert int(dataset.cardinality()) == 2490 // 32
    ragged = glue_dataset("rte", glue_dir(), "dev", batch_size=32)
    assert ragged.element_spec[1].shape.as_list() == [None]
    sizes = [int(labels.shape[0]) for _, labels in ragged]
    assert sizes == [32] * 8 + [277 - 256]
    # Single-sentence tasks: `x` is the string tensor itself.
    single = glue_dataset("cola", glue_dir(), "dev", batch_size=8)
    assert isinstance(single.element_spec[0], tf.TensorSpec)
    stsb = glue_dataset("stsb", glue_dir(), "dev", batch_size=8)
    assert stsb.element_spec[1].dtype == tf.float32


def test_seeded_shuffle_is_reproducible_and_reshuffles_each_epoch():
    def order(dataset):
        return [row[0] for row in examples_of(dataset)]

    in_file_order = order(
        glue_dataset("wnli", glue_dir(), "train", shuffle=False)
    )
    assert in_file_order == read_glue_tsv("wnli", glue_dir(), "train").texts[0]
    seeded = glue_dataset("wnli", glue_dir(), "train", seed=7)
    first_epoch, second_epoch = order(seeded), order(seeded)
    assert first_epoch != second_epoch != in_file_order
    assert sorted(first_epoch) == sorted(in_file_order)
    again = glue_dataset("wnli", glue_dir(), "train", seed=7)
    assert order(again) == first_epoch and order(again) == second_epoch
    assert (
        order(glue_dataset("wnli", glue_dir(), "train", seed=8)) != first_epoch
    )
    # Dev data is not shuffled unless asked.
    dev = read_glue_tsv("wnli", glue_dir(), "dev").texts[0]
    assert order(glue_dataset("wnli", glue_dir(), "dev")) == dev


# === TFDS ===


@pytest.fixture
def fake_tfds(monkeypatch):
    """`tfds.load` answering from small in-memory feature dicts."""
    tfds = pytest.importorskip("tensorflow_datasets")
    splits = {
        ("glue/mnli", "train"): {
            "premise": ["P0", "P1", "P2", "P3"],
            "hypothesis": ["H0", "H1", "H2", "H3"],
            # TFDS: entailment 0, neutral 1, contradiction 2.
            "label": np.array([0, 1, 2, 0], np.int64),
            "idx": np.arange(4, dtype=np.int32),
        },
        ("glue/mnli", "validation_matched"): {
            "premise": ["DP"],
            "hypothesis": ["DH"],
            "label": np.array([2], np.int64),
            "idx": np.zeros(1, np.int32),
        },
        ("glue/mnli", "test_matched"): {
            "premise": ["TP"],
            "hypothesis": ["TH"],
            "label": np.array([-1], np.int64),
            "idx": np.zeros(1, np.int32),
        },
        ("glue/sst2", "train"): {
            "sentence": [f"sentence {i}" for i in range(10)],
            "label": np.array([i % 2 for i in range(10)], np.int64),
            "idx": np.arange(10, dtype=np.int32),
        },
        ("glue/stsb", "validation"): {
            "sentence1": ["A"],
            "sentence2": ["B"],
            "label": np.array([3.8], np.float32),
            "idx": np.zeros(1),
        },
    }
    calls = []

    def load(name, split, data_dir=None, shuffle_files=False, **kwargs):
        calls.append((name, split, data_dir, shuffle_files))
        return tf.data.Dataset.from_tensor_slices(splits[(name, split)])

    monkeypatch.setattr(tfds, "load", load)
    return calls


def test_tfds_pairs_have_the_tsv_label_order(fake_tfds):
    train = glue_dataset(
        "mnli",
        split="train",
        batch_size=4,
        shuffle=False,
        use_tfds=True,
        tfds_data_dir="/data/tfds",
    )
    assert fake_tfds == [("glue/mnli", "train", "/data/tfds", False)]
    x, labels = train.element_spec
    assert isinstance(x, tuple) and len(x) == 2
    # TFDS numbers MNLI as the TSV reader does.
    assert examples_of(train) == [
        ("P0", "H0", 0),
        ("P1", "H1", 1),
        ("P2", "H2", 2),
        ("P3", "H3", 0),
    ]
    dev = glue_dataset("mnli", split="dev_matched", use_tfds=True)
    assert fake_tfds[-1][1] == "validation_matched"
    assert examples_of(dev) == [("DP", "DH", 2)]
    test = glue_dataset("mnli", split="test_matched", use_tfds=True)
    premise, hypothesis = next(iter(test))
    assert premise.numpy().tolist() == [b"TP"]
    stsb = glue_dataset("stsb", split="dev", use_tfds=True)
    assert stsb.element_spec[1].dtype == tf.float32
    assert examples_of(stsb) == [("A", "B", pytest.approx(3.8))]


def test_tfds_single_sentence_and_carving(fake_tfds):
    train = glue_dataset(
        "sst2",
        split="train",
        batch_size=3,
        use_tfds=True,
        shuffle=False,
        drop_remainder=True,
    )
    assert isinstance(train.element_spec[0], tf.TensorSpec)
    assert train.element_spec[0].shape == (3,)
    assert examples_of(train)[:2] == [("sentence 0", 0), ("sentence 1", 1)]
    kept = glue_dataset(
        "sst2",
        split="train",
        use_tfds=True,
        validation_fraction=3,
        shuffle=False,
    )
    held_out = glue_dataset(
        "sst2", split=CARVED_FROM_TRAIN, use_tfds=True, validation_fraction=3
    )
    kept, held_out = examples_of(kept), examples_of(held_out)
    assert (len(kept), len(held_out)) == (7, 3)
    assert sorted(kept + held_out) == sorted(
        (f"sentence {i}", i % 2) for i in range(10)
    )
