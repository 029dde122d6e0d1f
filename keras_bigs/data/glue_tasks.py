"""The GLUE benchmark's tasks: file layout, labels, metrics, TFDS names.

`GLUE_TASKS` describes every task; `get_glue_task` finds one by name.
"""

import dataclasses

# The pseudo-split of examples held out of train.tsv, for tasks whose GLUE
# folder has no dev file.
CARVED_FROM_TRAIN = "carved_from_train"

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
            + (
                f" (or {CARVED_FROM_TRAIN!r} through glue_dataset)"
                if "train" in self.splits
                else ""
            )
            + "."
        )

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
    task.name: task
    for task in (
        # No header: source, label, original judgement mark, sentence.
        GlueTask(
            "cola",
            "CoLA",
            False,
            3,
            None,
            1,
            _ZERO_ONE,
            ("matthews_corrcoef",),
            "glue/cola",
            ("sentence",),
            _splits("train", "dev", "test"),
            ("sentence",),
        ),
        GlueTask(
            "sst2",
            "SST-2",
            True,
            "sentence",
            None,
            "label",
            _ZERO_ONE,
            ("accuracy",),
            "glue/sst2",
            ("sentence",),
            _splits("train", "dev", "test"),
            ("sentence",),
        ),
        # Quality, #1 ID, #2 ID, #1 String, #2 String.
        GlueTask(
            "mrpc",
            "MRPC",
            True,
            "#1 String",
            "#2 String",
            "Quality",
            _ZERO_ONE,
            ("f1", "accuracy"),
            "glue/mrpc",
            ("sentence1", "sentence2"),
            _splits("train", "dev", "test"),
            ("#1 String", "#2 String"),
        ),
        # index genre filename year old_index source1 source2 sentence1
        # sentence2 score.
        GlueTask(
            "stsb",
            "STS-B",
            True,
            "sentence1",
            "sentence2",
            "score",
            (),
            ("pearson", "spearman"),
            "glue/stsb",
            ("sentence1", "sentence2"),
            _splits("train", "dev", "test"),
            ("sentence1", "sentence2"),
        ),
        # id qid1 qid2 question1 question2 is_duplicate.
        GlueTask(
            "qqp",
            "QQP",
            True,
            "question1",
            "question2",
            "is_duplicate",
            _ZERO_ONE,
            ("f1", "accuracy"),
            "glue/qqp",
            ("question1", "question2"),
            _splits("train", "dev", "test"),
            ("question1", "question2"),
        ),
        # sentence1 and sentence2 are columns 8 and 9, gold_label the last.
        GlueTask(
            "mnli",
            "MNLI",
            True,
            "sentence1",
            "sentence2",
            "gold_label",
            _MNLI_LABELS,
            ("accuracy",),
            "glue/mnli",
            ("premise", "hypothesis"),
            _splits(
                "train",
                "dev_matched",
                "dev_mismatched",
                "test_matched",
                "test_mismatched",
            ),
            ("sentence1", "sentence2"),
        ),
        # index question sentence label.
        GlueTask(
            "qnli",
            "QNLI",
            True,
            "question",
            "sentence",
            "label",
            _NLI_LABELS,
            ("accuracy",),
            "glue/qnli",
            ("question", "sentence"),
            _splits("train", "dev", "test"),
            ("question", "sentence"),
        ),
        # index sentence1 sentence2 label.
        GlueTask(
            "rte",
            "RTE",
            True,
            "sentence1",
            "sentence2",
            "label",
            _NLI_LABELS,
            ("accuracy",),
            "glue/rte",
            ("sentence1", "sentence2"),
            _splits("train", "dev", "test"),
            ("sentence1", "sentence2"),
        ),
        GlueTask(
            "wnli",
            "WNLI",
            True,
            "sentence1",
            "sentence2",
            "label",
            _ZERO_ONE,
            ("accuracy",),
            "glue/wnli",
            ("sentence1", "sentence2"),
            _splits("train", "dev", "test"),
            ("sentence1", "sentence2"),
        ),
        # The diagnostic set: MNLI-style pairs, a test split only, scored
        # by GLUE with Matthews correlation. The GLUE download script saves
        # it as diagnostic/diagnostic.tsv (index sentence1 sentence2).
        GlueTask(
            "ax",
            "diagnostic",
            True,
            "sentence1",
            "sentence2",
            None,
            _MNLI_LABELS,
            ("matthews_corrcoef",),
            "glue/ax",
            ("premise", "hypothesis"),
            (("test", "diagnostic.tsv"),),
            ("sentence1", "sentence2"),
        ),
    )
}


def get_glue_task(task):
    """A `GlueTask` from itself or its name.

    Args:
        task: a `GlueTask`, or a task name, case-insensitive and with or
            without hyphens (`"SST-2"`, `"sst2"`).

    Returns:
        The `GlueTask` of `GLUE_TASKS`.

    Example:
    ```python
    from keras_bigs.data import get_glue_task

    get_glue_task("SST-2").folder  # "SST-2"
    ```
    """
    if isinstance(task, GlueTask):
        return task
    key = str(task).lower().replace("-", "")
    if key not in GLUE_TASKS:
        raise ValueError(
            f"Unknown GLUE task {task!r}; the tasks are {list(GLUE_TASKS)}."
        )
    return GLUE_TASKS[key]
