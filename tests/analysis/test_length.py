import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.analysis import classifier_predictions
from keras_bigs.analysis import metrics_by_length
from keras_bigs.analysis import plot_metric_by_length
from keras_bigs.analysis.length import assign_bins
from keras_bigs.analysis.length import bin_edges
from keras_bigs.data import glue_dataset
from keras_bigs.training.metrics import compute_metrics
from tests.conftest import tiny_backbone

RTE_ROWS = [
    ("A man plays a guitar on the stage.", "A man plays music.", "entailment"),
    (
        "The cat sat.",
        "A dog barked loudly at the mailman all day long.",
        "not_entailment",
    ),
    (
        "Paris is the capital of France, a country in western Europe with "
        "many old cities and a long history.",
        "Paris is in France.",
        "entailment",
    ),
    ("It rained.", "It was dry.", "not_entailment"),
    (
        "The company reported record profits this year after a difficult "
        "decade of losses and layoffs across all of its divisions, "
        "offices, factories and shops in many countries around the world.",
        "The company lost money.",
        "not_entailment",
    ),
    ("She won.", "She competed.", "entailment"),
]


def write_rte(folder, rows=RTE_ROWS):
    (folder / "RTE").mkdir(parents=True)
    lines = ["index\tsentence1\tsentence2\tlabel"] + [
        f"{i}\t{a}\t{b}\t{label}" for i, (a, b, label) in enumerate(rows)
    ]
    (folder / "RTE" / "dev.tsv").write_text("\n".join(lines) + "\n")
    return folder


def tiny_classifier():
    keras.utils.set_random_seed(0)
    backbone = tiny_backbone(32)
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32
    )
    return keras_bigs.BiGSClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )


@pytest.mark.parametrize("bins", [1, 3, 4, 7, [0, 10, 20, 64], [3, 64]])
def test_every_example_is_in_exactly_one_bin(bins):
    lengths = np.random.default_rng(0).integers(3, 65, size=200)
    lengths[:3] = [3, 64, 10]  # Both ends and an inner edge.
    edges = bin_edges(lengths, bins)
    index = assign_bins(lengths, edges)
    assert np.all((index >= 0) & (index < len(edges) - 1))
    for i in range(len(edges) - 1):
        inside = (lengths >= edges[i]) & (
            (lengths < edges[i + 1])
            if i < len(edges) - 2
            else (lengths <= edges[i + 1])
        )
        np.testing.assert_array_equal(index == i, inside)
    rows = metrics_by_length(
        "accuracy", np.zeros(200), np.zeros(200), lengths, bins
    )
    assert sum(row["count"] for row in rows) == 200


def test_equal_count_bins_and_bad_edges():
    lengths = np.arange(100)
    counts = np.bincount(assign_bins(lengths, bin_edges(lengths, 4)))
    assert counts.min() >= 20 and counts.sum() == 100
    assert bin_edges([7, 7, 7], 3).tolist() == [7, 8]
    with pytest.raises(ValueError, match="leave out 1 example"):
        bin_edges([5, 70], [0, 64])
    with pytest.raises(ValueError, match="strictly increasing"):
        bin_edges([5], [10, 0])


def test_metrics_per_bin_are_the_task_metrics_of_its_examples():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(60, 2))
    labels = rng.integers(0, 2, size=60)
    lengths = rng.integers(5, 40, size=60)
    rows = metrics_by_length("mrpc", logits, labels, lengths, [0, 20, 30, 40])
    assert [r["low"] for r in rows] == [0, 20, 30]
    for row in rows:
        inside = (lengths >= row["low"]) & (lengths < row["high"])
        if row["high"] == 40:
            inside |= lengths == 40
        expected = compute_metrics("mrpc", logits[inside], labels[inside])
        assert row["count"] == inside.sum()
        assert {k: row[k] for k in expected} == pytest.approx(expected)
    empty = metrics_by_length(
        "rte", logits[:2], labels[:2], [5, 6], [0, 10, 20]
    )
    assert empty[1] == {"low": 10, "high": 20, "count": 0, "accuracy": None}


def test_classifier_predictions_measure_the_packed_length(tmp_path):
    glue = write_rte(tmp_path / "glue")
    classifier = tiny_classifier()
    dataset = glue_dataset("rte", glue, "dev", batch_size=4)
    predictions, labels, lengths = classifier_predictions(classifier, dataset)
    pairs = ([a for a, _, _ in RTE_ROWS], [b for _, b, _ in RTE_ROWS])
    packed = classifier.preprocessor(x=pairs)
    np.testing.assert_array_equal(
        lengths, np.asarray(packed["padding_mask"]).sum(-1)
    )
    assert lengths.max() == 32 and lengths.min() < 10  # one is truncated
    np.testing.assert_array_equal(labels, [0, 1, 0, 1, 1, 0])
    np.testing.assert_allclose(
        predictions, classifier.predict(pairs, verbose=0), atol=1e-5
    )
    assert classifier.preprocessor is not None  # restored

    rows = metrics_by_length("rte", predictions, labels, lengths, 2)
    plot_metric_by_length(rows, "accuracy", tmp_path / "by_length.png")
    data = (tmp_path / "by_length.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 1000
