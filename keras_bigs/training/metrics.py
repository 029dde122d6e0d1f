"""The official GLUE metrics, as plain numpy functions.

Each takes predictions and labels (array-likes of the same length) and
returns a Python float, computed as scikit-learn and scipy compute them
(the GLUE evaluation scripts use those): `f1` is binary F1 of class 1,
`matthews_corrcoef` is 0 when it is undefined (a constant prediction or
label), `spearman` ranks ties by their average rank, and `pearson` /
`spearman` are NaN for a constant input.

Example:
```python
from keras_bigs.training import compute_metrics

compute_metrics(["accuracy", "f1"], predictions=[1, 0, 1, 1],
                labels=[1, 0, 0, 1])
# {'accuracy': 0.75, 'f1': 0.8}
```
"""

import numpy as np

from keras_bigs.data import get_glue_task


def _pair(predictions, labels, dtype=None):
    predictions = np.asarray(predictions, dtype=dtype).reshape(-1)
    labels = np.asarray(labels, dtype=dtype).reshape(-1)
    if predictions.shape != labels.shape:
        raise ValueError(
            f"`predictions` ({predictions.shape[0]}) and `labels` "
            f"({labels.shape[0]}) must have the same number of elements."
        )
    if predictions.size == 0:
        raise ValueError("`predictions` and `labels` are empty.")
    return predictions, labels


def accuracy(predictions, labels):
    """Fraction of predictions equal to the labels."""
    predictions, labels = _pair(predictions, labels)
    return float(np.mean(predictions == labels))


def f1(predictions, labels):
    """Binary F1 score of the positive class 1 (0 when nothing is positive
    in either the predictions or the labels)."""
    predictions, labels = _pair(predictions, labels)
    true_positives = np.sum((predictions == 1) & (labels == 1))
    predicted = np.sum(predictions == 1)
    actual = np.sum(labels == 1)
    if predicted + actual == 0:
        return 0.0
    # F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (predicted + actual).
    return float(2.0 * true_positives / (predicted + actual))


def matthews_corrcoef(predictions, labels):
    """Matthews correlation coefficient (multi-class form, as
    scikit-learn); 0 when undefined."""
    predictions, labels = _pair(predictions, labels)
    classes, encoded = np.unique(
        np.concatenate([labels, predictions]), return_inverse=True
    )
    n = labels.size
    confusion = np.zeros((classes.size, classes.size), dtype=np.float64)
    np.add.at(confusion, (encoded[:n], encoded[n:]), 1.0)
    true_per_class = confusion.sum(axis=1)
    predicted_per_class = confusion.sum(axis=0)
    correct = np.trace(confusion)
    samples = confusion.sum()
    covariance_yp = correct * samples - predicted_per_class @ true_per_class
    covariance_pp = samples**2 - predicted_per_class @ predicted_per_class
    covariance_yy = samples**2 - true_per_class @ true_per_class
    if covariance_pp * covariance_yy == 0:
        return 0.0
    return float(covariance_yp / np.sqrt(covariance_pp * covariance_yy))


def pearson(predictions, labels):
    """Pearson correlation coefficient (NaN for a constant input)."""
    predictions, labels = _pair(predictions, labels, dtype=np.float64)
    x = predictions - predictions.mean()
    y = labels - labels.mean()
    denominator = np.sqrt(np.sum(x * x) * np.sum(y * y))
    if denominator == 0:
        return float("nan")
    return float(np.clip(np.sum(x * y) / denominator, -1.0, 1.0))


def _average_ranks(values):
    # Ranks 1..n; tied values all get the mean of the ranks they span.
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(
        np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
    )
    ends = np.concatenate([starts[1:], [values.size]])
    ranks = np.empty(values.size, dtype=np.float64)
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + 1 + end) / 2.0
    return ranks


def spearman(predictions, labels):
    """Spearman rank correlation: Pearson of the (average) ranks."""
    predictions, labels = _pair(predictions, labels, dtype=np.float64)
    return pearson(_average_ranks(predictions), _average_ranks(labels))


METRICS = {
    "accuracy": accuracy,
    # A multiple-choice answer matches the reference text exactly when the
    # right option is chosen (SCROLLS's QuALITY metric).
    "exact_match": accuracy,
    "f1": f1,
    "matthews_corrcoef": matthews_corrcoef,
    "pearson": pearson,
    "spearman": spearman,
}
CLASSIFICATION_METRICS = ("accuracy", "exact_match", "f1", "matthews_corrcoef")


def _as_predictions(predictions, name):
    predictions = np.asarray(predictions)
    if predictions.ndim == 2 and predictions.shape[-1] > 1:
        if name not in CLASSIFICATION_METRICS:
            raise ValueError(
                f"`{name}` needs one score per example; received "
                f"predictions of shape {predictions.shape}."
            )
        # Class scores (logits or probabilities) -> predicted class.
        return np.argmax(predictions, axis=-1)
    return predictions.reshape(-1)


def compute_metrics(metric_names, predictions, labels):
    """Several GLUE metrics at once.

    Args:
        metric_names: metric names (`"accuracy"`, `"exact_match"`, `"f1"`,
            `"matthews_corrcoef"`, `"pearson"`, `"spearman"`), or a GLUE
            task name (e.g. `"mrpc"`: that task's metrics).
        predictions: predicted classes `(n,)`, class scores `(n, classes)`
            (the argmax is taken), or regression scores `(n,)` / `(n, 1)`.
        labels: `(n,)` labels.

    Returns:
        `{name: float}` in the order of `metric_names`.
    """
    if isinstance(metric_names, str):
        if metric_names in METRICS:
            metric_names = (metric_names,)
        else:
            metric_names = get_glue_task(metric_names).metrics
    unknown = [name for name in metric_names if name not in METRICS]
    if unknown:
        raise ValueError(
            f"Unknown metric(s) {unknown}; expected names from "
            f"{sorted(METRICS)} or a GLUE task name."
        )
    labels = np.asarray(labels).reshape(-1)
    return {
        name: METRICS[name](_as_predictions(predictions, name), labels)
        for name in metric_names
    }
