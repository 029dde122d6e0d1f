"""Evaluation splits and validation rows carved out of train
(`keras_bigs.data.glue_splits`)."""

import numpy as np
import pytest

from keras_bigs.data import CARVED_FROM_TRAIN
from keras_bigs.data import evaluation_split
from keras_bigs.data import glue_dataset
from keras_bigs.data import train_validation_split
from tests.data.conftest import MNLI_COLUMNS
from tests.data.conftest import examples_of
from tests.data.conftest import glue_dir
from tests.data.conftest import mnli_row
from tests.data.conftest import write_tsv


def test_sst2_carved_validation_is_disjoint_complete_and_seeded():
    train, validation = train_validation_split("sst2", glue_dir(), 0.05, seed=0)
    assert (len(train), len(validation)) == (63982, 3367)
    assert validation.split == CARVED_FROM_TRAIN
    lines = np.concatenate([train.line_numbers, validation.line_numbers])
    np.testing.assert_array_equal(np.sort(lines), np.arange(2, 67351))
    assert np.all(np.diff(validation.line_numbers) > 0)  # file order
    again = train_validation_split("sst2", glue_dir(), 0.05, seed=0)[1]
    np.testing.assert_array_equal(again.line_numbers, validation.line_numbers)
    assert again.texts == validation.texts
    other = train_validation_split("sst2", glue_dir(), 0.05, seed=1)[1]
    assert not np.array_equal(other.line_numbers, validation.line_numbers)
    counted = train_validation_split("sst2", glue_dir(), 1000)
    assert (len(counted[0]), len(counted[1])) == (66349, 1000)
    with pytest.raises(ValueError, match=r"Cannot hold out 67349 of 67349"):
        train_validation_split("sst2", glue_dir(), 67349)
    with pytest.raises(
        ValueError,
        match=r"validation_fraction must be in \(0, 1\) or a count",
    ):
        train_validation_split("sst2", glue_dir(), 1.5)


def test_evaluation_split_and_carved_datasets():
    assert evaluation_split("sst2", glue_dir()) == CARVED_FROM_TRAIN
    assert evaluation_split("rte", glue_dir()) == "dev"
    with pytest.raises(
        ValueError,
        match=r"'ax' has only the splits \['test'\]",
    ):
        evaluation_split("ax", glue_dir())
    train = glue_dataset(
        "sst2", glue_dir(), "train", batch_size=1000, validation_fraction=0.05
    )
    validation = glue_dataset(
        "sst2", glue_dir(), CARVED_FROM_TRAIN, batch_size=1000
    )
    assert int(train.cardinality()) == 64  # ceil(63982 / 1000)
    carved = examples_of(validation)
    expected = train_validation_split("sst2", glue_dir())[1]
    assert [row[0] for row in carved] == expected.texts[0]
    assert [row[1] for row in carved] == expected.labels.tolist()
    with pytest.raises(ValueError, match=r"does not apply to split 'dev'"):
        glue_dataset("rte", glue_dir(), "dev", validation_fraction=0.1)
    with pytest.raises(ValueError, match=r"no split 'validation'"):
        glue_dataset("rte", glue_dir(), "validation")


def test_mnli_evaluation_falls_back_to_carving(tmp_path):
    write_tsv(
        tmp_path / "MNLI" / "train.tsv",
        [
            MNLI_COLUMNS + ["label1", "gold_label"],
            *[
                mnli_row(
                    i,
                    f"Premise {i}.",
                    f"Hypothesis {i}.",
                    ["neutral", "neutral"],
                )
                for i in range(20)
            ],
        ],
    )
    assert evaluation_split("mnli", tmp_path) == CARVED_FROM_TRAIN
    with pytest.raises(
        FileNotFoundError,
        match=r"neither dev_matched nor train data",
    ):
        evaluation_split("mnli", tmp_path / "elsewhere")
