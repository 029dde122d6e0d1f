"""A fine-tuned classifier's GLUE dev metrics by input length (Figures 6, 7).

MODEL is a `BiGSClassifier` checkpoint (a keras-hub preset folder saved by
`tools/run_glue.py`, or an original classification checkpoint) with its
preprocessor. Evaluates on the task's dev split (or the part carved from
train, as `run_glue.py` does when there is no dev file), bins the examples
by token length (the packed input's padding-mask count) and writes a bar
chart (--output), the table as CSV (--csv) and prints it.

    python tools/analyze_by_length.py runs/rte/best_model --task rte \
        --glue-dir ../shared/glue --output rte_by_length.png --csv rte.csv
"""

import argparse
import csv
import pathlib
import sys

import keras_bigs
from keras_bigs.analysis import classifier_predictions
from keras_bigs.analysis import metrics_by_length
from keras_bigs.analysis import plot_metric_by_length
from keras_bigs.data import CARVED_FROM_TRAIN
from keras_bigs.data import evaluation_split
from keras_bigs.data import get_glue_task
from keras_bigs.data import glue_dataset
from keras_bigs.training.command_line import run_tool


def parse_bins(values):
    """One int: that many equal-count bins; several: the edges."""
    if len(values) == 1:
        return values[0]
    return values


def cell(value):
    if value is None:  # an empty bin has no metric
        return f"{'-':>17}"
    if isinstance(value, float):
        return f"{value:>17.4f}"
    return f"{value:>17}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="classifier preset name or folder")
    parser.add_argument("--task", required=True)
    parser.add_argument("--glue-dir", required=True)
    parser.add_argument("--output", required=True, help="PNG to write")
    parser.add_argument(
        "--bins",
        type=int,
        nargs="+",
        default=[5],
        help="a number of equal-count bins (default 5), or "
        "ascending edges in tokens, e.g. 0 64 128 512",
    )
    parser.add_argument(
        "--metric", help="metric drawn; default the task's main one"
    )
    parser.add_argument("--csv", help="write the table here")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=None,
        help="for a carved split: as run_glue's (default 5%%)",
    )
    args = parser.parse_args(argv)

    try:
        task = get_glue_task(args.task)
        split = evaluation_split(task, args.glue_dir)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    metric = args.metric or task.metrics[0]
    if metric not in task.metrics:
        parser.error(
            f"--metric {metric!r}: {task.name}'s metrics are "
            f"{list(task.metrics)}"
        )
    classifier = keras_bigs.BiGSClassifier.from_preset(args.model)
    fraction = args.validation_fraction if split == CARVED_FROM_TRAIN else None
    dataset = glue_dataset(
        task,
        args.glue_dir,
        split,
        batch_size=args.batch_size,
        shuffle=False,
        validation_fraction=fraction,
    )
    predictions, labels, lengths = classifier_predictions(classifier, dataset)
    try:
        rows = metrics_by_length(
            task.metrics, predictions, labels, lengths, parse_bins(args.bins)
        )
    except ValueError as error:
        parser.error(str(error))
    plot_metric_by_length(
        rows, metric, args.output, title=f"{task.name} ({split}) by length"
    )

    columns = ["low", "high", "count", *task.metrics]
    print(f"{task.name} {split}: {len(labels)} examples")
    print("  ".join(f"{c:>17}" for c in columns))
    for row in rows:
        print("  ".join(cell(row[c]) for c in columns))
    if args.csv:
        with pathlib.Path(args.csv).open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
