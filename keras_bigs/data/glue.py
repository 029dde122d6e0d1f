"""The GLUE benchmark: its nine tasks, their files, and `tf.data` pipelines.

`GLUE_TASKS` describes every task (file layout, labels, metrics, TFDS name);
`read_glue_tsv` reads one file of the official GLUE download into Python
lists; `glue_dataset` turns a split into batches of `(x, label)` that a
`BiGSClassifier` with its preprocessor trains on directly.
"""

import csv
import dataclasses
import io
import math
import os
import warnings

import numpy as np
import tensorflow as tf

# The pseudo-split of examples held out of train.tsv, for tasks whose GLUE
# folder has no dev file (the shared SST-2 folder, for one).
CARVED_FROM_TRAIN = "carved_from_train"
DEFAULT_VALIDATION_FRACTION = 0.05

# GLUE's own split names, and the names TFDS gives the same splits.
_TFDS_SPLITS = {
    "train": "train",
    "dev": "validation",
    "dev_matched": "validation_matched",
    "dev_mismatched": "validation_mismatched",
    "test": "test",
    "test_matched": "test_matched",
    "test_mismatched": "test_mismatched",
}
# Test files have no labels; these stand in for them where an array of
# labels is needed (the value TFDS uses as well).
_NO_LABEL = -1


@dataclasses.dataclass(frozen=True)
class GlueTask:
    """Where a GLUE task's data is and how to read it.

    Args:
        name: str. The short task name (`"mnli"`).
        folder: str. The task's folder in the GLUE download (`"MNLI"`).
        has_header: bool. Whether train and dev files start with a header
            row (CoLA's do not; every test file has one).
        text_a_column: str or int. Column of the first text in train/dev
            files: a header name, or a 0-based index where there is no
            header.
        text_b_column: str, int or `None`. Column of the second text of
            pair tasks.
        label_column: str, int or `None`. Column of the label in train/dev.
        label_names: tuple of str. The label strings as written in the
            files, in class-id order; empty for regression (STS-B).
        metrics: tuple of str. GLUE's metrics for the task, main one first.
        tfds_name: str. The TFDS dataset (`"glue/mnli"`).
        tfds_text_features: tuple of str. TFDS feature names of the texts.
        split_files: tuple of `(split, file name)` pairs.
        test_text_columns: tuple of str. Header names of the texts in the
            test files, whose layout differs from train/dev.

    Example:
    ```python
    from keras_bigs.data import GLUE_TASKS

    task = GLUE_TASKS["mnli"]
    task.num_classes, task.label_names[0]  # 3, "entailment"
    task.file_name("dev_matched")          # "dev_matched.tsv"
    ```
    """

    name: str
    folder: str
    has_header: bool
    text_a_column: object
    text_b_column: object
    label_column: object
    label_names: tuple
    metrics: tuple
    tfds_name: str
    tfds_text_features: tuple
    split_files: tuple
    test_text_columns: tuple

    @property
    def is_regression(self):
        return not self.label_names

    @property
    def num_classes(self):
        """Width of the classifier head: 1 for regression."""
        return 1 if self.is_regression else len(self.label_names)

    @property
    def is_pair(self):
        return self.text_b_column is not None

    @property
    def splits(self):
        return tuple(split for split, _ in self.split_files)

    @property
    def dev_splits(self):
        return tuple(s for s in self.splits if s.startswith("dev"))

    @property
    def label_dtype(self):
        return "float32" if self.is_regression else "int32"

    def file_name(self, split):
        for name, file_name in self.split_files:
            if name == split:
                return file_name
        raise ValueError(
            f"GLUE task {self.name!r} has no split {split!r}; its splits "
            f"are {list(self.splits)}"
            + (f" (or {CARVED_FROM_TRAIN!r} through glue_dataset)"
               if "train" in self.splits else "") + ".")

    def tfds_split(self, split):
        """TFDS's name of a GLUE split; other strings (TFDS slices such as
        `"train[:10%]"`) pass through."""
        return _TFDS_SPLITS.get(split, split)


def _splits(*names):
    return tuple((name, f"{name}.tsv") for name in names)


_ZERO_ONE = ("0", "1")
_NLI_LABELS = ("entailment", "not_entailment")
# The order of Hugging Face `datasets` and TFDS, which the original BiGS
# fine-tuning read MNLI with: the published `bigs_*_mnli` heads use it.
# (BERT's `MnliProcessor` puts contradiction first.)
_MNLI_LABELS = ("entailment", "neutral", "contradiction")

GLUE_TASKS = {
    task.name: task for task in (
        # No header: source, label, original judgement mark, sentence.
        GlueTask("cola", "CoLA", False, 3, None, 1, _ZERO_ONE,
                 ("matthews_corrcoef",), "glue/cola", ("sentence",),
                 _splits("train", "dev", "test"), ("sentence",)),
        GlueTask("sst2", "SST-2", True, "sentence", None, "label",
                 _ZERO_ONE, ("accuracy",), "glue/sst2", ("sentence",),
                 _splits("train", "dev", "test"), ("sentence",)),
        # Quality, #1 ID, #2 ID, #1 String, #2 String.
        GlueTask("mrpc", "MRPC", True, "#1 String", "#2 String", "Quality",
                 _ZERO_ONE, ("f1", "accuracy"), "glue/mrpc",
                 ("sentence1", "sentence2"),
                 _splits("train", "dev", "test"),
                 ("#1 String", "#2 String")),
        # index genre filename year old_index source1 source2 sentence1
        # sentence2 score.
        GlueTask("stsb", "STS-B", True, "sentence1", "sentence2", "score",
                 (), ("pearson", "spearman"), "glue/stsb",
                 ("sentence1", "sentence2"),
                 _splits("train", "dev", "test"),
                 ("sentence1", "sentence2")),
        # id qid1 qid2 question1 question2 is_duplicate.
        GlueTask("qqp", "QQP", True, "question1", "question2",
                 "is_duplicate", _ZERO_ONE, ("f1", "accuracy"), "glue/qqp",
                 ("question1", "question2"),
                 _splits("train", "dev", "test"),
                 ("question1", "question2")),
        # sentence1 and sentence2 are columns 8 and 9, gold_label the last.
        GlueTask("mnli", "MNLI", True, "sentence1", "sentence2",
                 "gold_label", _MNLI_LABELS, ("accuracy",), "glue/mnli",
                 ("premise", "hypothesis"),
                 _splits("train", "dev_matched", "dev_mismatched",
                         "test_matched", "test_mismatched"),
                 ("sentence1", "sentence2")),
        # index question sentence label.
        GlueTask("qnli", "QNLI", True, "question", "sentence", "label",
                 _NLI_LABELS, ("accuracy",), "glue/qnli",
                 ("question", "sentence"),
                 _splits("train", "dev", "test"), ("question", "sentence")),
        # index sentence1 sentence2 label.
        GlueTask("rte", "RTE", True, "sentence1", "sentence2", "label",
                 _NLI_LABELS, ("accuracy",), "glue/rte",
                 ("sentence1", "sentence2"),
                 _splits("train", "dev", "test"),
                 ("sentence1", "sentence2")),
        GlueTask("wnli", "WNLI", True, "sentence1", "sentence2", "label",
                 _ZERO_ONE, ("accuracy",), "glue/wnli",
                 ("sentence1", "sentence2"),
                 _splits("train", "dev", "test"),
                 ("sentence1", "sentence2")),
        # The diagnostic set: MNLI-style pairs, a test split only, scored
        # by GLUE with Matthews correlation. The GLUE download script saves
        # it as diagnostic/diagnostic.tsv (index sentence1 sentence2).
        GlueTask("ax", "diagnostic", True, "sentence1", "sentence2", None,
                 _MNLI_LABELS, ("matthews_corrcoef",), "glue/ax",
                 ("premise", "hypothesis"),
                 (("test", "diagnostic.tsv"),), ("sentence1", "sentence2")),
    )
}


def get_glue_task(task):
    """A `GlueTask` from itself or its name (case-insensitive)."""
    if isinstance(task, GlueTask):
        return task
    key = str(task).lower().replace("-", "")
    if key not in GLUE_TASKS:
        raise ValueError(
            f"Unknown GLUE task {task!r}; the tasks are {list(GLUE_TASKS)}.")
    return GLUE_TASKS[key]


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
            texts=tuple([column[i] for i in indices]
                        for column in self.texts),
            labels=self.labels[indices],
            line_numbers=self.line_numbers[indices],
        )


class _MalformedRow(ValueError):
    pass


def _glue_file_path(task, path_or_glue_dir, split):
    """The file of `split`: `path_or_glue_dir` itself if it is a file, else
    `<glue_dir>/<folder>/<file>` (or `<task folder>/<file>`)."""
    path = os.fspath(path_or_glue_dir)
    if not os.path.isdir(path):
        return path
    file_name = task.file_name(split)
    candidate = os.path.join(path, task.folder, file_name)
    if not os.path.exists(candidate) and os.path.exists(
            os.path.join(path, file_name)):
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
        line = raw[:error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, line {line}: not valid UTF-8 ({error.reason} at byte "
            f"{error.start}).") from None


def _column_index(column, header, path):
    if isinstance(column, int):
        return column
    if column not in header:
        raise ValueError(
            f"{path}, line 1: the header has no column {column!r} "
            f"(it has {header}).")
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
    path = _glue_file_path(task, path_or_glue_dir, split)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"GLUE {task.name} {split} file not found: {path}")
    is_test = split.startswith("test")
    has_header = True if is_test else task.has_header
    if is_test:
        text_columns = task.test_text_columns
        label_column = None
    else:
        text_columns = tuple(c for c in (task.text_a_column,
                                         task.text_b_column) if c is not None)
        label_column = task.label_column
    label_ids = {name: i for i, name in enumerate(task.label_names)}

    reader = csv.reader(io.StringIO(_decode(path), newline=""),
                        delimiter="\t", quoting=csv.QUOTE_NONE)
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
            text_indices = [_column_index(c, header, path)
                            for c in text_columns]
            label_index = (None if label_column is None
                           else _column_index(label_column, header, path))
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
                    f"{len(row)}")
            label = _NO_LABEL
            if label_index is not None:
                label = _parse_label(task, row[label_index], label_ids)
        except _MalformedRow as problem:
            message = f"{path}, line {reader.line_num}: {problem}"
            if not skip_malformed:
                raise ValueError(
                    message + " (skip_malformed=True skips such rows)."
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
            f"{first_problem}", stacklevel=2)
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
            f"{list(task.label_names)})")
    return label_ids[value]


def _carved_indices(num_examples, validation_fraction, seed):
    """`(train, validation)` row indices, each sorted (file order)."""
    if isinstance(validation_fraction, bool):
        raise ValueError(
            f"validation_fraction must be a fraction or a count, not "
            f"{validation_fraction!r}.")
    if isinstance(validation_fraction, (int, np.integer)):
        count = int(validation_fraction)
    elif 0 < validation_fraction < 1:
        count = max(1, round(validation_fraction * num_examples))
    else:
        raise ValueError(
            f"validation_fraction must be in (0, 1) or a count of rows, "
            f"not {validation_fraction!r}.")
    if not 0 < count < num_examples:
        raise ValueError(
            f"Cannot hold out {count} of {num_examples} training examples: "
            "both parts must be non-empty.")
    order = np.random.default_rng(seed).permutation(num_examples)
    return np.sort(order[count:]), np.sort(order[:count])


def train_validation_split(task, glue_dir,
                           validation_fraction=DEFAULT_VALIDATION_FRACTION,
                           seed=0, skip_malformed=False):
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
    examples = read_glue_tsv(task, glue_dir, "train",
                             skip_malformed=skip_malformed)
    train_rows, validation_rows = _carved_indices(
        len(examples), validation_fraction, seed)
    return (examples.select(train_rows, split="train"),
            examples.select(validation_rows, split=CARVED_FROM_TRAIN))


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
    if not task.dev_splits:
        raise ValueError(
            f"GLUE task {task.name!r} has only the splits "
            f"{list(task.splits)}: nothing to evaluate on.")
    dev = task.dev_splits[0]
    if os.path.isfile(_glue_file_path(task, glue_dir, dev)):
        return dev
    train_path = _glue_file_path(task, glue_dir, "train")
    if not os.path.isfile(train_path):
        raise FileNotFoundError(
            f"GLUE {task.name}: neither {dev} nor train data found in "
            f"{glue_dir} (looked for {train_path}).")
    return CARVED_FROM_TRAIN


def _structure(texts):
    """`x` as keras-hub preprocessors take it: one string tensor for
    single-sentence tasks, a tuple `(a, b)` for pairs."""
    return texts[0] if len(texts) == 1 else tuple(texts)


def _tsv_dataset(task, glue_dir, split, skip_malformed, validation_fraction,
                 validation_seed):
    if glue_dir is None:
        raise ValueError(
            "glue_dir is required to read GLUE TSV files (or pass "
            "use_tfds=True).")
    if split in ("train", CARVED_FROM_TRAIN) and (
            validation_fraction is not None or split == CARVED_FROM_TRAIN):
        fraction = (DEFAULT_VALIDATION_FRACTION if validation_fraction is None
                    else validation_fraction)
        train, validation = train_validation_split(
            task, glue_dir, fraction, validation_seed, skip_malformed)
        examples = train if split == "train" else validation
    else:
        examples = read_glue_tsv(task, glue_dir, split, skip_malformed)
    x = _structure(tuple(tf.constant(column, tf.string)
                         for column in examples.texts))
    if split.startswith("test"):
        return tf.data.Dataset.from_tensor_slices(x), len(examples)
    return (tf.data.Dataset.from_tensor_slices((x, examples.labels)),
            len(examples))


def _tfds_dataset(task, split, data_dir, validation_fraction,
                  validation_seed):
    import tensorflow_datasets as tfds

    carve = split == CARVED_FROM_TRAIN or (
        split == "train" and validation_fraction is not None)
    tfds_split = "train" if carve else task.tfds_split(split)
    dataset = tfds.load(task.tfds_name, split=tfds_split, data_dir=data_dir,
                        shuffle_files=False)
    missing = [key for key in task.tfds_text_features + ("label",)
               if key not in dataset.element_spec]
    if missing:
        raise ValueError(
            f"TFDS {task.tfds_name} ({tfds_split}) lacks the features "
            f"{missing}; it has {sorted(dataset.element_spec)}.")
    size = int(dataset.cardinality())
    if carve:
        if size < 0:
            raise ValueError(
                f"Cannot carve a validation split from TFDS "
                f"{task.tfds_name}: its size is unknown.")
        fraction = (DEFAULT_VALIDATION_FRACTION if validation_fraction is None
                    else validation_fraction)
        train_rows, validation_rows = _carved_indices(
            size, fraction, validation_seed)
        keep_rows = train_rows if split == "train" else validation_rows
        keep = np.zeros(size, dtype=bool)
        keep[keep_rows] = True
        keep = tf.constant(keep)
        dataset = dataset.enumerate().filter(
            lambda index, features: tf.gather(keep, index)
        ).map(lambda index, features: features)
        size = len(keep_rows)

    is_test = split.startswith("test")

    def to_example(features):
        x = _structure(tuple(features[key]
                             for key in task.tfds_text_features))
        if is_test:
            return x
        return x, tf.cast(features["label"], task.label_dtype)

    dataset = dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset, size


def glue_dataset(task, glue_dir=None, split="train", batch_size=32,
                 shuffle=None, seed=0, drop_remainder=False,
                 skip_malformed=False, use_tfds=False, tfds_data_dir=None,
                 validation_fraction=None, validation_seed=0):
    """Batches of a GLUE split, ready for `BiGSClassifier.fit`.

    Each element is `(x, label)`: `x` a batch of strings for single-sentence
    tasks (CoLA, SST-2) and a tuple `(text_a, text_b)` for pair tasks, as
    `BiGSTextClassifierPreprocessor` takes them; labels are class ids
    (int32), or float32 scores for STS-B. Test splits have no labels and
    yield `x` only.

    Args:
        task: a task name (`"mnli"`) or `GlueTask`.
        glue_dir: the GLUE folder (with `MNLI/` etc. inside); unused with
            `use_tfds=True`.
        split: str. A split of the task (`"train"`, `"dev"`,
            `"dev_matched"`, `"test"`, ...), or `"carved_from_train"`: the
            part of train.tsv held out by `validation_fraction`.
        batch_size: int.
        shuffle: bool. Default: `True` for `"train"` only. Shuffles over
            the whole split, in a new order every epoch.
        seed: int. Seeds the shuffle: the same seed gives the same
            sequence of epoch orders.
        drop_remainder: bool. Drop the last partial batch, so that every
            batch has the static shape `(batch_size,)`.
        skip_malformed: bool. Skip malformed TSV rows (see
            `read_glue_tsv`).
        use_tfds: bool. Read `tensorflow_datasets` (`task.tfds_name`)
            instead of TSV files, with labels in the same order.
        tfds_data_dir: str. TFDS's `data_dir`.
        validation_fraction: float or int. With `split="train"`, leave out
            the rows that `"carved_from_train"` holds out (a share of the
            rows, or a count); `"carved_from_train"` defaults to 5%.
        validation_seed: int. Fixes which rows are carved out; keep it the
            same for the train and carved splits (it is separate from
            `seed` so that reshuffling never leaks validation rows).

    Returns:
        A batched, prefetched `tf.data.Dataset`.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.data import glue_dataset

    train = glue_dataset("rte", "../shared/glue", "train", batch_size=32)
    dev = glue_dataset("rte", "../shared/glue", "dev", batch_size=32)
    classifier = keras_bigs.BiGSClassifier.from_preset(
        "bigs_512_en", num_classes=2)
    classifier.fit(train, validation_data=dev, epochs=3)
    ```
    """
    task = get_glue_task(task)
    if validation_fraction is not None and split not in (
            "train", CARVED_FROM_TRAIN):
        raise ValueError(
            f"validation_fraction carves rows out of train.tsv; it does "
            f"not apply to split {split!r}.")
    if split != CARVED_FROM_TRAIN and not use_tfds:
        task.file_name(split)  # An unknown split is an error here.
    if use_tfds:
        dataset, size = _tfds_dataset(task, split, tfds_data_dir,
                                      validation_fraction, validation_seed)
    else:
        dataset, size = _tsv_dataset(task, glue_dir, split, skip_malformed,
                                     validation_fraction, validation_seed)
    if shuffle is None:
        shuffle = split == "train"
    if shuffle:
        # The whole split fits in the buffer (GLUE's largest has ~400k
        # rows), so every order is equally likely.
        dataset = dataset.shuffle(size if size > 0 else 100_000, seed=seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)
