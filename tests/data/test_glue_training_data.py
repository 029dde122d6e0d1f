import numpy as np
import pytest
import tensorflow as tf

from keras_bigs.data import CARVED_FROM_TRAIN
from keras_bigs.data import GLUE_TASKS
from keras_bigs.data import glue_dataset
from keras_bigs.data import glue_training_data
from keras_bigs.data import read_glue_tsv
from keras_bigs.data import train_validation_split
from tests.conftest import shared_dir


def glue_dir():
    return shared_dir() / "glue"


def batches_of(dataset):
    """`(texts, labels)` of each batch, as Python values."""
    out = []
    for x, labels in dataset:
        columns = x if isinstance(x, tuple) else (x,)
        out.append(
            ([c.numpy().tolist() for c in columns], labels.numpy().tolist())
        )
    return out


def test_a_dev_file_is_the_evaluation_split():
    data = glue_training_data("rte", glue_dir())
    assert data.task is GLUE_TASKS["rte"]
    assert data.evaluation_split == "dev"
    assert (data.num_train, data.num_evaluation) == (2490, 277)
    # The same batches as `glue_dataset` gives for each split.
    assert batches_of(data.train_batches(32, seed=3)) == batches_of(
        glue_dataset("rte", glue_dir(), "train", batch_size=32, seed=3)
    )
    assert batches_of(data.evaluation_batches(64)) == batches_of(
        glue_dataset("rte", glue_dir(), "dev", batch_size=64)
    )
    static = data.train_batches(32, seed=0, drop_remainder=True)
    assert static.element_spec[1].shape == (32,)


def test_without_a_dev_file_the_evaluation_rows_are_carved_from_train():
    data = glue_training_data(
        "sst2", glue_dir(), validation_fraction=0.05, validation_seed=0
    )
    assert data.evaluation_split == CARVED_FROM_TRAIN
    assert (data.num_train, data.num_evaluation) == (63982, 3367)
    train, validation = train_validation_split("sst2", glue_dir(), 0.05, 0)
    evaluation = batches_of(data.evaluation_batches(len(validation)))
    assert evaluation == [
        (
            [[t.encode() for t in validation.texts[0]]],
            validation.labels.tolist(),
        )
    ]
    assert batches_of(data.train_batches(5000, seed=1)) == batches_of(
        glue_dataset(
            "sst2",
            glue_dir(),
            "train",
            batch_size=5000,
            seed=1,
            validation_fraction=0.05,
        )
    )
    counted = glue_training_data("sst2", glue_dir(), validation_fraction=100)
    assert (counted.num_train, counted.num_evaluation) == (67249, 100)


def test_test_files_are_never_read(tmp_path):
    folder = tmp_path / "WNLI"
    folder.mkdir()
    for split in ("train", "dev"):
        (folder / f"{split}.tsv").write_bytes(
            (glue_dir() / "WNLI" / f"{split}.tsv").read_bytes()
        )
    (folder / "test.tsv").write_text("not a GLUE file")
    data = glue_training_data("wnli", tmp_path)
    assert (data.num_train, data.num_evaluation) == (
        len(read_glue_tsv("wnli", glue_dir(), "train")),
        71,
    )


@pytest.fixture
def fake_tfds(monkeypatch):
    """`tfds.load` answering MNLI from small in-memory feature dicts."""
    tfds = pytest.importorskip("tensorflow_datasets")
    splits = {
        "train": {
            "premise": ["P0", "P1", "P2"],
            "hypothesis": ["H0", "H1", "H2"],
            "label": np.array([0, 1, 2], np.int64),
        },
        "validation_matched": {
            "premise": ["DP"],
            "hypothesis": ["DH"],
            "label": np.array([2], np.int64),
        },
    }
    calls = []

    def load(name, split, data_dir=None, shuffle_files=False, **kwargs):
        calls.append((name, split, data_dir))
        return tf.data.Dataset.from_tensor_slices(splits[split])

    monkeypatch.setattr(tfds, "load", load)
    return calls


def test_tfds_evaluates_on_the_dev_split(fake_tfds):
    data = glue_training_data("mnli", use_tfds=True, tfds_data_dir="/tfds")
    assert fake_tfds == [
        ("glue/mnli", "train", "/tfds"),
        ("glue/mnli", "validation_matched", "/tfds"),
    ]
    assert data.evaluation_split == "dev_matched"
    assert (data.num_train, data.num_evaluation) == (3, 1)
    assert batches_of(data.evaluation_batches(8)) == [([[b"DP"], [b"DH"]], [2])]
    with pytest.raises(
        ValueError,
        match=r"'ax' has only the splits "
        r"\['test'\]",
    ):
        glue_training_data("ax", use_tfds=True)
