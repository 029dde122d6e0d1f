"""A fine-tuned classifier's GLUE metric by input length (the paper's
Figures 6 and 7).

An example's length is the number of tokens the model reads before padding:
the count of its packed `padding_mask` (`[CLS]`, `[SEP]`s included, after
truncation to the preprocessor's `sequence_length`). Bins are half-open
`[low, high)` except the last, which includes its upper edge, so every
example falls in exactly one bin.
"""

import numpy as np

from keras_bigs.analysis.plotting import pyplot
from keras_bigs.analysis.plotting import save_figure
from keras_bigs.analysis.prediction import preprocessor_detached
from keras_bigs.data import get_glue_task
from keras_bigs.training.metrics import METRICS
from keras_bigs.training.metrics import compute_metrics

DEFAULT_NUM_BINS = 5


def bin_edges(lengths, bins=DEFAULT_NUM_BINS):
    """Bin edges for `lengths`.

    Args:
        lengths: `(n,)` ints.
        bins: an int (that many bins of about equal counts, from the
            lengths' quantiles; fewer where lengths repeat) or ascending
            edges `[e0, e1, ..., ek]` that must span every length.

    Returns:
        `(k + 1,)` int edges.

    Example:
    ```python
    from keras_bigs.analysis.length import bin_edges

    bin_edges([5, 9, 12, 30], 2)  # [5, 11, 30] (the median 10.5, rounded up)
    bin_edges([5, 9, 12, 30], [0, 16, 64])  # [0, 16, 64]
    ```
    """
    lengths = np.asarray(lengths).reshape(-1)
    if lengths.size == 0:
        raise ValueError("No examples to bin.")
    if np.ndim(bins) == 0:
        count = int(bins)
        if count < 1:
            raise ValueError(f"`bins` must be at least 1; received {bins}.")
        quantiles = np.quantile(lengths, np.linspace(0, 1, count + 1))
        # Rounded up so each edge is a length; repeats collapse into one.
        edges = np.unique(np.ceil(quantiles).astype(np.int64))
        if len(edges) == 1:  # All examples are the same length.
            edges = np.array([edges[0], edges[0] + 1])
        return edges
    edges = np.asarray(bins, dtype=np.int64).reshape(-1)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(
            "Bin edges must be at least two strictly increasing numbers; "
            f"received {list(bins)}."
        )
    outside = lengths[(lengths < edges[0]) | (lengths > edges[-1])]
    if outside.size:
        raise ValueError(
            f"Bin edges {edges.tolist()} leave out {outside.size} "
            f"example(s) of length {sorted(set(outside.tolist()))[:10]}: "
            f"the edges must span {lengths.min()}..{lengths.max()}."
        )
    return edges


def assign_bins(lengths, edges):
    """Bin index of each length: `[e_i, e_{i+1})`, the last bin closed.

    Example:
    ```python
    from keras_bigs.analysis.length import assign_bins

    assign_bins([0, 15, 16, 64], [0, 16, 64])  # [0, 0, 1, 1]
    ```
    """
    lengths = np.asarray(lengths).reshape(-1)
    edges = np.asarray(edges)
    index = np.searchsorted(edges, lengths, side="right") - 1
    # The top edge belongs to the last bin.
    index = np.where(lengths == edges[-1], len(edges) - 2, index)
    if np.any((index < 0) | (index > len(edges) - 2)):
        raise ValueError(
            f"Lengths outside the bin edges {np.asarray(edges).tolist()}."
        )
    return index


def _metric_names(metric_names):
    """Metric names as `compute_metrics` resolves them (a task's, or one)."""
    if isinstance(metric_names, str):
        if metric_names in METRICS:
            return [metric_names]
        return list(get_glue_task(metric_names).metrics)
    return list(metric_names)


def metrics_by_length(
    metric_names, predictions, labels, lengths, bins=DEFAULT_NUM_BINS
):
    """GLUE metrics per length bin.

    Args:
        metric_names: a GLUE task name or metric names (as for
            `compute_metrics`).
        predictions: `(n,)` or `(n, classes)` model outputs.
        labels: `(n,)` labels.
        lengths: `(n,)` token lengths.
        bins: number of bins or edges (see `bin_edges`).

    Returns:
        A list of rows, one per bin: `{"low", "high", "count", <metric>:
        value}`; `high` is exclusive except in the last bin; metrics are
        `None` for an empty bin. The counts sum to `n`.

    Example:
    ```python
    from keras_bigs.analysis import metrics_by_length

    rows = metrics_by_length("rte", [0, 1, 1, 0], [0, 1, 0, 0],
                             [10, 20, 30, 40], bins=[0, 25, 40])
    rows[0]  # {"low": 0, "high": 25, "count": 2, "accuracy": 1.0}
    rows[1]  # {"low": 25, "high": 40, "count": 2, "accuracy": 0.5}
    ```
    """
    predictions = np.asarray(predictions)
    labels = np.asarray(labels).reshape(-1)
    lengths = np.asarray(lengths).reshape(-1)
    if not len(predictions) == len(labels) == len(lengths):
        raise ValueError(
            f"Got {len(predictions)} predictions, {len(labels)} labels and "
            f"{len(lengths)} lengths; they must match one to one."
        )
    edges = bin_edges(lengths, bins)
    index = assign_bins(lengths, edges)
    names = _metric_names(metric_names)
    rows = []
    for i in range(len(edges) - 1):
        selected = index == i
        row = {
            "low": int(edges[i]),
            "high": int(edges[i + 1]),
            "count": int(selected.sum()),
        }
        if selected.any():
            row.update(
                compute_metrics(names, predictions[selected], labels[selected])
            )
        else:
            row.update({name: None for name in names})
        rows.append(row)
    return rows


def classifier_predictions(classifier, dataset):
    """Predictions, labels and token lengths of a labelled dataset.

    Args:
        classifier: a `BiGSClassifier` with its preprocessor.
        dataset: batches of `(x, label)` of raw text (as `glue_dataset`
            gives them).

    Returns:
        `(predictions, labels, lengths)` numpy arrays in dataset order.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.analysis import classifier_predictions
    from keras_bigs.data import glue_dataset

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=32)
    classifier = keras_bigs.BiGSClassifier(
        backbone, num_classes=2,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=32))
    dev = glue_dataset("rte", "../shared/glue", "dev")
    predictions, labels, lengths = classifier_predictions(classifier, dev)
    predictions.shape, labels.shape, lengths.shape  # (277, 2), (277,), (277,)
    ```
    """
    preprocessor = classifier.preprocessor
    if preprocessor is None:
        raise ValueError(
            "The classifier has no preprocessor: lengths are measured on "
            "the packed text, so load it with its preprocessor."
        )
    # Tokenised once: the lengths and the model read the same packing.
    # (With `y`, keras-hub preprocessors return `(x, y)` packed as a
    # task's data pipeline does.)
    features = dataset.map(lambda x, y: preprocessor(x=x, y=y))
    lengths, labels = [], []
    for x, y in features.as_numpy_iterator():
        lengths.append(np.asarray(x["padding_mask"]).astype(bool).sum(-1))
        labels.append(np.asarray(y))
    with preprocessor_detached(classifier):
        predictions = classifier.predict(
            features.map(lambda x, y: x), verbose=0
        )
    return (
        np.asarray(predictions),
        np.concatenate(labels),
        np.concatenate(lengths),
    )


def plot_metric_by_length(rows, metric, path, title=None):
    """Bar chart of `metric` per length bin, with each bin's count.

    Args:
        rows: `metrics_by_length`'s rows.
        metric: str. The metric to draw (e.g. `"accuracy"`).
        path: where to write the PNG.
        title: optional title.

    Example:
    ```python
    import os
    import tempfile
    from keras_bigs.analysis import metrics_by_length
    from keras_bigs.analysis import plot_metric_by_length

    rows = metrics_by_length("rte", [0, 1, 1, 0], [0, 1, 0, 0],
                             [10, 20, 30, 40], bins=[0, 25, 40])
    path = os.path.join(tempfile.mkdtemp(), "by_length.png")
    plot_metric_by_length(rows, "accuracy", path)
    os.path.getsize(path) > 0  # True
    ```
    """
    if rows and metric not in rows[0]:
        raise ValueError(
            f"No metric {metric!r} in the rows; they have {sorted(rows[0])}."
        )
    plt = pyplot()
    last = len(rows) - 1
    labels = [
        f"[{r['low']}, {r['high']}{']' if i == last else ')'}\nn={r['count']}"
        for i, r in enumerate(rows)
    ]
    values = [np.nan if r[metric] is None else r[metric] for r in rows]
    figure, axis = plt.subplots(figsize=(max(4.0, 0.9 * len(rows) + 1.5), 3.2))
    axis.bar(labels, values, color="tab:blue")
    axis.set_xlabel("input length (tokens)")
    axis.set_ylabel(metric)
    if title:
        axis.set_title(title)
    save_figure(figure, path)
