"""Which GLUE split to evaluate on, and validation rows carved out of
train.tsv for tasks without a dev file."""

import os

import numpy as np

from keras_bigs.data.glue_tasks import CARVED_FROM_TRAIN
from keras_bigs.data.glue_tasks import get_glue_task
from keras_bigs.data.glue_tsv import glue_file_path
from keras_bigs.data.glue_tsv import read_glue_tsv

DEFAULT_VALIDATION_FRACTION = 0.05


def carved_indices(num_examples, validation_fraction, seed):
    """Which rows of a train split stay for training and which are held out.

    Args:
        num_examples: int. Rows in the train split.
        validation_fraction: float in (0, 1), the share held out (rounded
            to whole rows, at least one), or an int, the number of rows.
        seed: int. Fixes the random choice of held-out rows.

    Returns:
        `(train, validation)` row indices, each sorted (file order).

    Example:
    ```python
    from keras_bigs.data.glue_splits import carved_indices

    train, validation = carved_indices(100, 0.05, seed=0)
    len(train), len(validation)  # 95, 5
    ```
    """
    if isinstance(validation_fraction, bool):
        raise ValueError(
            f"validation_fraction must be a fraction or a count, not "
            f"{validation_fraction!r}."
        )
    if isinstance(validation_fraction, (int, np.integer)):
        count = int(validation_fraction)
    elif 0 < validation_fraction < 1:
        count = max(1, round(validation_fraction * num_examples))
    else:
        raise ValueError(
            f"validation_fraction must be in (0, 1) or a count of rows, "
            f"not {validation_fraction!r}."
        )
    if not 0 < count < num_examples:
        raise ValueError(
            f"Cannot hold out {count} of {num_examples} training examples: "
            "both parts must be non-empty."
        )
    order = np.random.default_rng(seed).permutation(num_examples)
    return np.sort(order[count:]), np.sort(order[:count])


def train_validation_split(
    task,
    glue_dir,
    validation_fraction=DEFAULT_VALIDATION_FRACTION,
    seed=0,
    skip_malformed=False,
):
    """Hold a validation part out of train.tsv, for tasks without dev data.

    Every row of train.tsv lands in exactly one part; the choice is a random
    permutation fixed by `seed` (the same on every machine), and both parts
    keep the file's order.

    Args:
        task: a task name or `GlueTask`.
        glue_dir: the GLUE folder, the task's folder, or train.tsv itself.
        validation_fraction: float in (0, 1), the share held out (rounded
            to whole rows, at least one), or an int, the number of rows.
        seed: int. Fixes which rows are held out.
        skip_malformed: bool. As in `read_glue_tsv`.

    Returns:
        `(train, validation)`, two `GlueExamples` (splits `"train"` and
        `"carved_from_train"`).

    Example:
    ```python
    from keras_bigs.data import train_validation_split

    train, validation = train_validation_split("sst2", "../shared/glue")
    len(train), len(validation)  # 63982, 3367
    ```
    """
    examples = read_glue_tsv(
        task, glue_dir, "train", skip_malformed=skip_malformed
    )
    train_rows, validation_rows = carved_indices(
        len(examples), validation_fraction, seed
    )
    return (
        examples.select(train_rows, split="train"),
        examples.select(validation_rows, split=CARVED_FROM_TRAIN),
    )


def dev_split(task):
    """The dev split a task is evaluated on: the first of its dev splits.

    Args:
        task: a `GlueTask`.

    Returns:
        str. `"dev"`, or `"dev_matched"` for MNLI; a `ValueError` for a
        task without dev data (the diagnostic set `"ax"`).

    Example:
    ```python
    from keras_bigs.data import GLUE_TASKS
    from keras_bigs.data.glue_splits import dev_split

    dev_split(GLUE_TASKS["mnli"])  # "dev_matched"
    ```
    """
    if not task.dev_splits:
        raise ValueError(
            f"GLUE task {task.name!r} has only the splits "
            f"{list(task.splits)}: nothing to evaluate on."
        )
    return task.dev_splits[0]


def evaluation_split(task, glue_dir):
    """The split to evaluate on: the dev file if there is one, else a part
    carved from train.

    Args:
        task: a task name or `GlueTask`.
        glue_dir: the GLUE folder (or the task's folder).

    Returns:
        `"dev"` (`"dev_matched"` for MNLI) when that file exists in
        `glue_dir`, else `CARVED_FROM_TRAIN` (`"carved_from_train"`). Pass
        it as `glue_dataset(split=...)`; when it is the carved split, train
        with `glue_dataset(split="train", validation_fraction=...)` so the
        held-out rows stay out of training.

    Example:
    ```python
    from keras_bigs.data import CARVED_FROM_TRAIN
    from keras_bigs.data import evaluation_split
    from keras_bigs.data import glue_dataset

    split = evaluation_split("sst2", "../shared/glue")  # "carved_from_train"
    fraction = 0.05 if split == CARVED_FROM_TRAIN else None
    train = glue_dataset("sst2", "../shared/glue", "train",
                         validation_fraction=fraction)
    validation = glue_dataset("sst2", "../shared/glue", split,
                              validation_fraction=fraction)
    ```
    """
    task = get_glue_task(task)
    dev = dev_split(task)
    if os.path.isfile(glue_file_path(task, glue_dir, dev)):
        return dev
    train_path = glue_file_path(task, glue_dir, "train")
    if not os.path.isfile(train_path):
        raise FileNotFoundError(
            f"GLUE {task.name}: neither {dev} nor train data found in "
            f"{glue_dir} (looked for {train_path})."
        )
    return CARVED_FROM_TRAIN
