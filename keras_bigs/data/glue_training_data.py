"""The data of a GLUE fine-tuning run, read once: the train examples and
those of the split it is evaluated on."""

import dataclasses

import tensorflow as tf

from keras_bigs.data.glue_dataset import batch_glue_dataset
from keras_bigs.data.glue_dataset import examples_dataset
from keras_bigs.data.glue_dataset import tfds_glue_dataset
from keras_bigs.data.glue_splits import DEFAULT_VALIDATION_FRACTION
from keras_bigs.data.glue_splits import dev_split
from keras_bigs.data.glue_splits import evaluation_split
from keras_bigs.data.glue_splits import train_validation_split
from keras_bigs.data.glue_tasks import CARVED_FROM_TRAIN
from keras_bigs.data.glue_tasks import GlueTask
from keras_bigs.data.glue_tasks import get_glue_task
from keras_bigs.data.glue_tsv import read_glue_tsv
from keras_bigs.data.length_buckets import bucket_batches
from keras_bigs.data.training_input import evaluation_dataset
from keras_bigs.data.training_input import training_dataset_fn

# Examples tokenized per preprocessor call before they are grouped into
# length buckets (tokenizing a batch at a time is much faster).
PREPROCESS_BLOCK = 256


@dataclasses.dataclass(frozen=True)
class GlueTrainingData:
    """A GLUE task's training and evaluation examples.

    Attributes:
        task: the `GlueTask`.
        evaluation_split: str. The split evaluated on: `"dev"`
            (`"dev_matched"` for MNLI) or `"carved_from_train"`.
        train: `tf.data.Dataset` of unbatched `(x, label)`, in file order,
            without the carved rows.
        evaluation: `tf.data.Dataset` of unbatched `(x, label)` of
            `evaluation_split`, in file order.
        num_train: int. Examples in `train`.
        num_evaluation: int. Examples in `evaluation`.
    """

    task: GlueTask
    evaluation_split: str
    train: tf.data.Dataset
    evaluation: tf.data.Dataset
    num_train: int
    num_evaluation: int

    def train_batches(
        self,
        batch_size,
        seed,
        drop_remainder=False,
        preprocessor=None,
        buckets=None,
        repeat=False,
    ):
        """Shuffled batches of `train`, in a new order every epoch, as
        `glue_dataset(split="train", seed=seed, ...)` gives them; with a
        `preprocessor`, preprocessed; with `buckets` too, grouped by length
        (see `bucketed`). `repeat=True`: endless, epoch after epoch; with
        `buckets` the grouping then runs across epochs, so that every
        batch is full and each bucket has one batch shape."""
        if buckets is not None:
            examples = self.train.shuffle(
                self.num_train, seed=seed, reshuffle_each_iteration=True
            )
            if repeat:
                examples = examples.repeat()
            return bucketed(
                examples, preprocessor, batch_size, buckets, drop_remainder
            )
        batches = batch_glue_dataset(
            self.train,
            self.num_train,
            batch_size,
            shuffle=True,
            seed=seed,
            drop_remainder=drop_remainder,
        )
        batches = _preprocessed(batches, preprocessor)
        return batches.repeat() if repeat else batches

    def evaluation_batches(self, batch_size, preprocessor=None, buckets=None):
        """Batches of `evaluation`, in file order (with `buckets`, in the
        order `bucketed` groups them, the same on every pass)."""
        if buckets is not None:
            return bucketed(self.evaluation, preprocessor, batch_size, buckets)
        batches = batch_glue_dataset(
            self.evaluation, self.num_evaluation, batch_size, shuffle=False
        )
        return _preprocessed(batches, preprocessor)

    def training_dataset_fn(
        self, preprocessor, batch_size, seed, drop_remainder, buckets=None
    ):
        """The training input, for `DistributionSetup.distribute_dataset`:
        endless, shuffled, preprocessed batches of `train`, in a new order
        each pass (`fit` counts the steps per epoch), each input pipeline
        keeping its rows (`training_dataset_fn`).

        Args:
            preprocessor: the classifier's preprocessor, mapped over
                batches.
            batch_size: int. The global batch size.
            seed: int. Seeds the shuffle.
            drop_remainder: bool. Give every batch a static shape.
            buckets: lengths to group examples by (`bucket_batches`), or
                `None` for batches in shuffled order.

        Returns:
            `dataset_fn(input_context)`.
        """

        def global_batches(size):
            return self.train_batches(
                size,
                seed=seed,
                drop_remainder=drop_remainder,
                preprocessor=preprocessor,
                buckets=buckets,
                repeat=True,
            )

        return training_dataset_fn(global_batches, batch_size)

    def evaluation_dataset(self, preprocessor, batch_size, buckets=None):
        """Preprocessed batches of `evaluation`, in order (grouped by
        length with `buckets`), cached after the first pass; a
        `tf.data.Dataset` of known size."""
        return evaluation_dataset(
            self.evaluation_batches(batch_size, preprocessor, buckets),
            f"No {self.evaluation_split} examples of {self.task.name} to "
            "evaluate on.",
        )


def _preprocessed(batches, preprocessor):
    if preprocessor is None:
        return batches
    return batches.map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)


def bucketed(examples, preprocessor, batch_size, buckets, drop_remainder=False):
    """Preprocessed batches of unbatched examples, each batch holding rows
    of one length bucket, padded to it (`bucket_batches`).

    Args:
        examples: a `tf.data.Dataset` of unbatched `(x, label)` (shuffle
            it before, with a seed, for training).
        preprocessor: maps a batch of raw `x` to model inputs (with a
            `padding_mask`), e.g. a `BiGSTextClassifierPreprocessor`.
        batch_size: int.
        buckets: increasing lengths; the last is the longest input.
        drop_remainder: bool. Every batch full (see `bucket_batches`).

    Returns:
        A prefetched `tf.data.Dataset` of `(inputs, labels)` batches.
    """
    if preprocessor is None:
        raise ValueError(
            "Grouping by length needs the preprocessor that tokenizes the "
            "examples."
        )
    tokenized = (
        examples.batch(PREPROCESS_BLOCK)
        .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        .unbatch()
    )
    return bucket_batches(
        tokenized, batch_size, buckets, drop_remainder
    ).prefetch(tf.data.AUTOTUNE)


def _count(dataset, size):
    """`size`, or, when it is unknown (negative), the examples counted."""
    return size if size >= 0 else sum(1 for _ in dataset)


def glue_training_data(
    task,
    glue_dir=None,
    validation_fraction=DEFAULT_VALIDATION_FRACTION,
    validation_seed=0,
    use_tfds=False,
    tfds_data_dir=None,
    skip_malformed=False,
):
    """Read a GLUE task's train split and the split to evaluate on, once.

    From TSV files the evaluation split is `evaluation_split(task,
    glue_dir)`: the dev file when there is one, else the rows that
    `validation_fraction` carves out of train.tsv, which are then left out
    of `train`. TFDS has every dev split, so with `use_tfds=True` it is the
    dev split.

    Args:
        task: a task name (`"sst2"`) or `GlueTask`.
        glue_dir: the GLUE folder (or the task's folder); unused with
            `use_tfds=True`.
        validation_fraction: float or int. The share (or count) of train
            rows held out when there is no dev file.
        validation_seed: int. Fixes which rows are held out.
        use_tfds: bool. Read `tensorflow_datasets` instead of TSV files.
        tfds_data_dir: str. TFDS's `data_dir`.
        skip_malformed: bool. Skip malformed TSV rows (see
            `read_glue_tsv`).

    Returns:
        A `GlueTrainingData`.

    Example:
    ```python
    from keras_bigs.data import glue_training_data

    data = glue_training_data("sst2", "../shared/glue")
    data.evaluation_split  # "carved_from_train"
    data.num_train, data.num_evaluation  # 63982, 3367
    train = data.train_batches(32, seed=0)
    ```
    """
    task = get_glue_task(task)
    if use_tfds:
        split = dev_split(task)
        train, num_train = tfds_glue_dataset(task, "train", tfds_data_dir)
        evaluation, num_evaluation = tfds_glue_dataset(
            task, split, tfds_data_dir
        )
        return GlueTrainingData(
            task,
            split,
            train,
            evaluation,
            _count(train, num_train),
            _count(evaluation, num_evaluation),
        )
    split = evaluation_split(task, glue_dir)
    if split == CARVED_FROM_TRAIN:
        train, evaluation = train_validation_split(
            task, glue_dir, validation_fraction, validation_seed, skip_malformed
        )
    else:
        train = read_glue_tsv(task, glue_dir, "train", skip_malformed)
        evaluation = read_glue_tsv(task, glue_dir, split, skip_malformed)
    return GlueTrainingData(
        task,
        split,
        examples_dataset(train),
        examples_dataset(evaluation),
        len(train),
        len(evaluation),
    )
