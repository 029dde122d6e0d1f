"""Reading the TSV files of the official GLUE download."""

import csv
import dataclasses
import io
import math
import os
import warnings

import numpy as np

from keras_bigs.data.glue_tasks import get_glue_task

# Test files have no labels; these stand in for them where an array of
# labels is needed (the value TFDS uses as well).
_NO_LABEL = -1


@dataclasses.dataclass(frozen=True)
class GlueExamples:
    """The examples of one GLUE file (or part of one), as Python lists.

    Attributes:
        task: str. The task name.
        split: str. The split they come from.
        path: str. The file read.
        texts: tuple of one (single-sentence tasks) or two lists of str.
        labels: np.ndarray, class ids (int32) or scores (float32, STS-B);
            -1 for test files, which have no labels.
        line_numbers: np.ndarray of int. Each example's 1-based line in
            the file.
        skipped: int. Malformed rows skipped (`skip_malformed=True`).
    """

    task: str
    split: str
    path: str
    texts: tuple
    labels: np.ndarray
    line_numbers: np.ndarray
    skipped: int = 0

    def __len__(self):
        return len(self.labels)

    def select(self, indices, split=None):
        """The examples at `indices` (in that order), as a new object."""
        indices = np.asarray(indices, dtype=np.int64)
        return dataclasses.replace(
            self,
            split=self.split if split is None else split,
            texts=tuple([column[i] for i in indices] for column in self.texts),
            labels=self.labels[indices],
            line_numbers=self.line_numbers[indices],
        )


class _MalformedRow(ValueError):
    pass


def glue_file_path(task, path_or_glue_dir, split):
    """The file that holds a split of a task, which may not exist.

    Args:
        task: a `GlueTask`.
        path_or_glue_dir: a file (returned as it is), the GLUE folder or
            the task's folder.
        split: str. A split of the task.

    Returns:
        str. `<glue_dir>/<folder>/<file>`, or `<task folder>/<file>`.

    Example:
    ```python
    from keras_bigs.data import GLUE_TASKS
    from keras_bigs.data.glue_tsv import glue_file_path

    glue_file_path(GLUE_TASKS["rte"], "../shared/glue", "dev")
    # "../shared/glue/RTE/dev.tsv"
    ```
    """
    path = os.fspath(path_or_glue_dir)
    if not os.path.isdir(path):
        return path
    file_name = task.file_name(split)
    candidate = os.path.join(path, task.folder, file_name)
    if not os.path.exists(candidate) and os.path.exists(
        os.path.join(path, file_name)
    ):
        # `path` is the task's own folder.
        candidate = os.path.join(path, file_name)
    return candidate


def _decode(path):
    with open(path, "rb") as file:
        raw = file.read()
    try:
        # utf-8-sig: MRPC's files start with a byte-order mark, which would
        # otherwise become part of the first header name.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, line {line}: not valid UTF-8 ({error.reason} at byte "
            f"{error.start})."
        ) from None


def _column_index(column, header, path):
    if isinstance(column, int):
        return column
    if column not in header:
        raise ValueError(
            f"{path}, line 1: the header has no column {column!r} "
            f"(it has {header})."
        )
    return header.index(column)


def read_glue_tsv(task, path_or_glue_dir, split, skip_malformed=False):
    """Read one TSV file of the official GLUE download.

    Columns are found by header name where the file has a header (every
    file except CoLA's train and dev). Rows are split on tabs only,
    quotes included (`csv.QUOTE_NONE`): GLUE sentences contain stray
    quotes. Blank lines are ignored.

    A row with another number of columns than the header (or, without a
    header, than the task's layout), or with a label the task does not have,
    is malformed: an error naming the file and line, or, with
    `skip_malformed=True`, skipped, counted in `skipped` and reported in one
    warning. A missing file, a file with no rows (nothing, or a header only),
    a header lacking a needed column and invalid UTF-8 are always errors.

    Args:
        task: a task name (`"rte"`) or `GlueTask`.
        path_or_glue_dir: a TSV file, the GLUE folder (with `RTE/` etc.
            inside) or the task's folder.
        split: str. `"train"`, `"dev"` (`"dev_matched"`, ...) or `"test"`
            (`"test_matched"`, ...); test files have no labels.
        skip_malformed: bool. Skip malformed rows instead of raising.

    Returns:
        A `GlueExamples`.

    Example:
    ```python
    from keras_bigs.data import read_glue_tsv

    examples = read_glue_tsv("rte", "../shared/glue", "dev")
    len(examples), examples.texts[1][0]  # 277, "Christopher Reeve had an ..."
    ```
    """
    task = get_glue_task(task)
    task.file_name(split)  # An unknown split is an error, even for a file.
    path = glue_file_path(task, path_or_glue_dir, split)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"GLUE {task.name} {split} file not found: {path}"
        )
    is_test = split.startswith("test")
    has_header = True if is_test else task.has_header
    if is_test:
        text_columns = task.test_text_columns
        label_column = None
    else:
        text_columns = tuple(
            c for c in (task.text_a_column, task.text_b_column) if c is not None
        )
        label_column = task.label_column
    label_ids = {name: i for i, name in enumerate(task.label_names)}

    reader = csv.reader(
        io.StringIO(_decode(path), newline=""),
        delimiter="\t",
        quoting=csv.QUOTE_NONE,
    )
    num_columns = None
    texts = tuple([] for _ in text_columns)
    labels, line_numbers = [], []
    skipped, first_problem = 0, None
    for row in reader:
        if not row:
            continue
        if num_columns is None and has_header:
            header = row
            num_columns = len(header)
            text_indices = [
                _column_index(c, header, path) for c in text_columns
            ]
            label_index = (
                None
                if label_column is None
                else _column_index(label_column, header, path)
            )
            continue
        if num_columns is None:
            # Without a header the layout fixes the number of columns.
            text_indices = list(text_columns)
            label_index = label_column
            num_columns = max(text_indices + [label_index]) + 1
        try:
            if len(row) != num_columns:
                raise _MalformedRow(
                    f"expected {num_columns} tab-separated columns, found "
                    f"{len(row)}"
                )
            label = _NO_LABEL
            if label_index is not None:
                label = _parse_label(task, row[label_index], label_ids)
        except _MalformedRow as problem:
            message = f"{path}, line {reader.line_num}: {problem}"
            if not skip_malformed:
                raise ValueError(
                    message + " (skip_malformed=True, or --skip-malformed "
                    "in tools/run_glue.py, skips such rows)."
                ) from None
            skipped += 1
            first_problem = first_problem or message
            continue
        for column, index in zip(texts, text_indices):
            column.append(row[index])
        labels.append(label)
        line_numbers.append(reader.line_num)

    if not labels:
        if num_columns is None:
            what = "is empty"
        elif skipped:
            what = f"has no well-formed rows ({skipped} malformed skipped)"
        else:
            what = "has a header but no rows"
        raise ValueError(f"{path} {what}: no GLUE examples to read.")
    if skipped:
        warnings.warn(
            f"Skipped {skipped} malformed rows of {path}; the first: "
            f"{first_problem}",
            stacklevel=2,
        )
    return GlueExamples(
        task=task.name,
        split=split,
        path=path,
        texts=texts,
        labels=np.asarray(labels, dtype=task.label_dtype),
        line_numbers=np.asarray(line_numbers, dtype=np.int64),
        skipped=skipped,
    )


def _parse_label(task, value, label_ids):
    if task.is_regression:
        try:
            score = float(value)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise _MalformedRow(f"the score {value!r} is not a number")
        return score
    if value not in label_ids:
        raise _MalformedRow(
            f"unknown label {value!r} (the {task.name} labels are "
            f"{list(task.label_names)})"
        )
    return label_ids[value]
