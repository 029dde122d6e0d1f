import math

import numpy as np
import pytest
import sklearn.metrics as sk
from scipy import stats

from keras_bigs.training import accuracy
from keras_bigs.training import compute_metrics
from keras_bigs.training import f1
from keras_bigs.training import matthews_corrcoef
from keras_bigs.training import pearson
from keras_bigs.training import spearman

# Hand-computed case: TP=3, FP=1, FN=2, TN=2 (n=8).
PRED = [1, 1, 1, 1, 0, 0, 0, 0]
GOLD = [1, 1, 1, 0, 1, 1, 0, 0]


def test_accuracy():
    assert accuracy(PRED, GOLD) == 5 / 8
    assert accuracy([2, 1, 0], np.array([2, 1, 1])) == 2 / 3


def test_f1_of_the_positive_class():
    # 2 TP / (2 TP + FP + FN) = 6 / 9.
    assert f1(PRED, GOLD) == pytest.approx(6 / 9)
    # Nothing positive anywhere: 0 (scikit-learn's zero_division result).
    assert f1([0, 0], [0, 0]) == 0.0
    assert f1([0, 0], [1, 1]) == 0.0


def test_matthews_corrcoef():
    # (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))
    expected = (3 * 2 - 1 * 2) / math.sqrt(4 * 5 * 3 * 4)
    assert matthews_corrcoef(PRED, GOLD) == pytest.approx(expected)
    assert matthews_corrcoef([0, 1, 0, 1], [0, 1, 0, 1]) == pytest.approx(1)
    assert matthews_corrcoef([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-1)
    # A constant prediction: undefined, reported as 0.
    assert matthews_corrcoef([1, 1, 1], [0, 1, 0]) == 0.0


def test_matthews_corrcoef_multiclass():
    # Confusion (rows true, cols predicted) [[1,1,0],[0,1,0],[1,0,1]]:
    # c=3, s=5, t=(2,1,2), p=(2,2,1) -> (3*5 - 8) / sqrt((25-9)(25-9)).
    got = matthews_corrcoef([0, 1, 1, 0, 2], [0, 0, 1, 2, 2])
    assert got == pytest.approx(7 / 16)


def test_pearson_and_spearman_by_hand():
    x = [1.0, 2.0, 3.0, 4.0]
    assert pearson(x, [2.0, 4.0, 6.0, 8.0]) == pytest.approx(1.0)
    assert pearson(x, [1.0, 3.0, 2.0, 4.0]) == pytest.approx(0.8)
    # Monotonic but not linear: Spearman 1, Pearson below 1.
    assert spearman(x, [1.0, 10.0, 100.0, 1000.0]) == pytest.approx(1.0)
    assert pearson(x, [1.0, 10.0, 100.0, 1000.0]) < 0.9
    # Ties get their average rank: [1, 2.5, 2.5, 4] against [1, 2, 3, 4].
    expected = np.corrcoef([1, 2.5, 2.5, 4], [1, 2, 3, 4])[0, 1]
    assert spearman([0.1, 0.5, 0.5, 0.9], x) == pytest.approx(expected)
    assert math.isnan(pearson([1.0, 1.0], [1.0, 2.0]))


def test_against_scipy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = 0.6 * x + rng.normal(size=200)
    y_ties = np.round(y)  # many ties
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    assert spearman(x, y_ties) == pytest.approx(
        stats.spearmanr(x, y_ties)[0], abs=1e-12
    )
    assert spearman(np.round(x), y_ties) == pytest.approx(
        stats.spearmanr(np.round(x), y_ties)[0], abs=1e-12
    )


def test_against_scikit_learn():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    predictions = np.where(rng.random(300) < 0.7, labels, 1 - labels)
    assert f1(predictions, labels) == pytest.approx(
        sk.f1_score(labels, predictions)
    )
    assert matthews_corrcoef(predictions, labels) == pytest.approx(
        sk.matthews_corrcoef(labels, predictions)
    )


def test_compute_metrics():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    labels = np.array([1, 0, 0, 0])
    assert compute_metrics(["accuracy", "f1"], logits, labels) == {
        "accuracy": 0.75,
        "f1": pytest.approx(2 / 3),
    }
    # A GLUE task name selects its metrics.
    assert list(compute_metrics("mrpc", [1, 0], [1, 0])) == ["f1", "accuracy"]
    scores = compute_metrics(
        "stsb", np.array([[1.0], [2.0], [3.0]]), [0.5, 2.5, 2.0]
    )
    assert set(scores) == {"pearson", "spearman"}
    assert scores["spearman"] == pytest.approx(0.5)
    assert all(isinstance(v, float) for v in scores.values())


def test_errors():
    with pytest.raises(ValueError, match=r"Unknown metric\(s\) \['bleu'\]"):
        compute_metrics(["accuracy", "bleu"], [1], [1])
    with pytest.raises(ValueError, match="same number of elements"):
        accuracy([1, 0], [1])
    with pytest.raises(
        ValueError, match="`pearson` needs one score per example"
    ):
        compute_metrics(["pearson"], np.zeros((3, 2)), [0, 1, 0])
