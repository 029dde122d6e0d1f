"""The GLUE task registry (`keras_bigs.data.glue_tasks`)."""

import pytest

from keras_bigs.data import GLUE_TASKS
from keras_bigs.data import get_glue_task


def test_the_nine_tasks_and_their_labels_and_metrics():
    assert list(GLUE_TASKS) == [
        "cola",
        "sst2",
        "mrpc",
        "stsb",
        "qqp",
        "mnli",
        "qnli",
        "rte",
        "wnli",
        "ax",
    ]
    assert {n: t.folder for n, t in GLUE_TASKS.items()} == {
        "cola": "CoLA",
        "sst2": "SST-2",
        "mrpc": "MRPC",
        "stsb": "STS-B",
        "qqp": "QQP",
        "mnli": "MNLI",
        "qnli": "QNLI",
        "rte": "RTE",
        "wnli": "WNLI",
        "ax": "diagnostic",
    }
    # The order the published MNLI heads were trained with (HF datasets).
    assert GLUE_TASKS["mnli"].label_names == (
        "entailment",
        "neutral",
        "contradiction",
    )
    assert GLUE_TASKS["rte"].label_names == ("entailment", "not_entailment")
    assert GLUE_TASKS["qnli"].label_names == ("entailment", "not_entailment")
    for name in ("cola", "sst2", "mrpc", "qqp", "wnli"):
        assert GLUE_TASKS[name].label_names == ("0", "1")
    stsb = GLUE_TASKS["stsb"]
    assert stsb.is_regression and stsb.num_classes == 1
    assert [t.name for t in GLUE_TASKS.values() if t.is_regression] == ["stsb"]
    assert GLUE_TASKS["mnli"].num_classes == 3
    assert GLUE_TASKS["cola"].metrics == ("matthews_corrcoef",)
    assert GLUE_TASKS["mrpc"].metrics == ("f1", "accuracy")
    assert GLUE_TASKS["qqp"].metrics == ("f1", "accuracy")
    assert stsb.metrics == ("pearson", "spearman")
    for name in ("sst2", "mnli", "qnli", "rte", "wnli"):
        assert GLUE_TASKS[name].metrics == ("accuracy",)
    assert all(t.tfds_name == f"glue/{n}" for n, t in GLUE_TASKS.items())
    assert GLUE_TASKS["mnli"].splits == (
        "train",
        "dev_matched",
        "dev_mismatched",
        "test_matched",
        "test_mismatched",
    )
    assert GLUE_TASKS["mnli"].dev_splits == ("dev_matched", "dev_mismatched")
    assert GLUE_TASKS["rte"].dev_splits == ("dev",)
    assert GLUE_TASKS["mnli"].tfds_split("dev_mismatched") == (
        "validation_mismatched"
    )
    assert not GLUE_TASKS["cola"].has_header
    assert [t.is_pair for t in GLUE_TASKS.values()] == [
        False,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
    ]


def test_tasks_are_frozen_and_looked_up_by_name():
    with pytest.raises(AttributeError):
        GLUE_TASKS["rte"].folder = "other"
    assert get_glue_task("SST-2") is GLUE_TASKS["sst2"]
    assert get_glue_task(GLUE_TASKS["rte"]) is GLUE_TASKS["rte"]
    with pytest.raises(ValueError, match=r"Unknown GLUE task 'squad'.*'rte'"):
        get_glue_task("squad")
    with pytest.raises(ValueError, match=r"no split 'dev'.*dev_matched"):
        GLUE_TASKS["mnli"].file_name("dev")
