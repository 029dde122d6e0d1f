"""Held-out masked-LM loss against tokens seen, one line per model."""

from keras_bigs.analysis.plotting import pyplot
from keras_bigs.analysis.plotting import save_figure


def plot_heldout_curves(curves, path, baseline_loss=None, title=None):
    """Held-out masked-token loss against training tokens seen.

    Args:
        curves: `{label: rows}`, rows as in a pretraining run's
            `heldout_log.csv` (dicts with `tokens_seen` and `loss`).
        path: where to write the PNG.
        baseline_loss: optional loss drawn as a dashed line (the unigram
            baseline).
        title: optional figure title.

    Example:
    ```python
    import os
    import tempfile
    from keras_bigs.analysis import plot_heldout_curves

    rows = [{"tokens_seen": n, "loss": 10.0 / (1 + n / 1e5)}
            for n in (0, 100_000, 200_000)]
    path = os.path.join(tempfile.mkdtemp(), "curves.png")
    plot_heldout_curves({"GATED/SSM": rows}, path, baseline_loss=7.5)
    os.path.getsize(path) > 0  # True
    ```
    """
    if not curves:
        raise ValueError("No curves to plot.")
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    for label, rows in curves.items():
        axis.plot(
            [row["tokens_seen"] / 1e6 for row in rows],
            [row["loss"] for row in rows],
            marker="o",
            markersize=3,
            label=label,
        )
    if baseline_loss is not None:
        axis.axhline(
            baseline_loss, color="grey", linestyle="--", label="unigram"
        )
    axis.set_xlabel("training tokens seen (millions)")
    axis.set_ylabel("held-out masked-token loss (nats)")
    axis.grid(alpha=0.3)
    axis.legend()
    if title:
        axis.set_title(title)
    save_figure(figure, path)
