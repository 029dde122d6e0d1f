"""GLUE splits as `tf.data` datasets, from TSV files or TFDS."""

import numpy as np
import tensorflow as tf

from keras_bigs.data.glue_splits import DEFAULT_VALIDATION_FRACTION
from keras_bigs.data.glue_splits import carved_indices
from keras_bigs.data.glue_splits import train_validation_split
from keras_bigs.data.glue_tasks import CARVED_FROM_TRAIN
from keras_bigs.data.glue_tasks import get_glue_task
from keras_bigs.data.glue_tsv import read_glue_tsv


def _structure(texts):
    """`x` as keras-hub preprocessors take it: one string tensor for
    single-sentence tasks, a tuple `(a, b)` for pairs."""
    return texts[0] if len(texts) == 1 else tuple(texts)


def examples_dataset(examples):
    """Unbatched `tf.data` examples of a `GlueExamples`, in its order.

    Args:
        examples: a `GlueExamples` (as from `read_glue_tsv`).

    Returns:
        A `tf.data.Dataset` of `(x, label)`, `x` a string for
        single-sentence tasks and a pair `(text_a, text_b)` otherwise; of
        `x` alone for test splits, which have no labels.

    Example:
    ```python
    from keras_bigs.data import read_glue_tsv
    from keras_bigs.data.glue_dataset import examples_dataset

    dev = examples_dataset(read_glue_tsv("rte", "../shared/glue", "dev"))
    int(dev.cardinality())  # 277
    ```
    """
    x = _structure(
        tuple(tf.constant(column, tf.string) for column in examples.texts)
    )
    if examples.split.startswith("test"):
        return tf.data.Dataset.from_tensor_slices(x)
    return tf.data.Dataset.from_tensor_slices((x, examples.labels))


def _tsv_examples(
    task, glue_dir, split, skip_malformed, validation_fraction, validation_seed
):
    if glue_dir is None:
        raise ValueError(
            "glue_dir is required to read GLUE TSV files (or pass "
            "use_tfds=True)."
        )
    if split in ("train", CARVED_FROM_TRAIN) and (
        validation_fraction is not None or split == CARVED_FROM_TRAIN
    ):
        fraction = (
            DEFAULT_VALIDATION_FRACTION
            if validation_fraction is None
            else validation_fraction
        )
        train, validation = train_validation_split(
            task, glue_dir, fraction, validation_seed, skip_malformed
        )
        return train if split == "train" else validation
    return read_glue_tsv(task, glue_dir, split, skip_malformed)


def tfds_glue_dataset(
    task, split, data_dir=None, validation_fraction=None, validation_seed=0
):
    """Unbatched examples of a GLUE split from `tensorflow_datasets`.

    Args:
        task: a `GlueTask`.
        split: str. A GLUE split name (`"dev"`, mapped to TFDS's
            `"validation"`), a TFDS slice, or `"carved_from_train"`.
        data_dir: str. TFDS's `data_dir`.
        validation_fraction: float or int. As in `glue_dataset`.
        validation_seed: int. As in `glue_dataset`.

    Returns:
        `(dataset, size)`: a `tf.data.Dataset` of `(x, label)` as
        `examples_dataset` gives them (of `x` for test splits), and its
        number of examples (negative when TFDS does not know it).

    Example:
    ```python
    from keras_bigs.data import GLUE_TASKS
    from keras_bigs.data.glue_dataset import tfds_glue_dataset

    dev, size = tfds_glue_dataset(GLUE_TASKS["rte"], "dev")
    ```
    """
    # Imported here: TFDS is slow to import, and only TFDS data needs it.
    import tensorflow_datasets as tfds

    carve = split == CARVED_FROM_TRAIN or (
        split == "train" and validation_fraction is not None
    )
    tfds_split = "train" if carve else task.tfds_split(split)
    dataset = tfds.load(
        task.tfds_name, split=tfds_split, data_dir=data_dir, shuffle_files=False
    )
    missing = [
        key
        for key in task.tfds_text_features + ("label",)
        if key not in dataset.element_spec
    ]
    if missing:
        raise ValueError(
            f"TFDS {task.tfds_name} ({tfds_split}) lacks the features "
            f"{missing}; it has {sorted(dataset.element_spec)}."
        )
    size = int(dataset.cardinality())
    if carve:
        if size < 0:
            raise ValueError(
                f"Cannot carve a validation split from TFDS "
                f"{task.tfds_name}: its size is unknown."
            )
        fraction = (
            DEFAULT_VALIDATION_FRACTION
            if validation_fraction is None
            else validation_fraction
        )
        train_rows, validation_rows = carved_indices(
            size, fraction, validation_seed
        )
        keep_rows = train_rows if split == "train" else validation_rows
        keep = np.zeros(size, dtype=bool)
        keep[keep_rows] = True
        keep = tf.constant(keep)
        dataset = (
            dataset.enumerate()
            .filter(lambda index, features: tf.gather(keep, index))
            .map(lambda index, features: features)
        )
        size = len(keep_rows)

    is_test = split.startswith("test")

    def to_example(features):
        x = _structure(tuple(features[key] for key in task.tfds_text_features))
        if is_test:
            return x
        return x, tf.cast(features["label"], task.label_dtype)

    dataset = dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset, size


def batch_glue_dataset(
    dataset, size, batch_size, shuffle, seed=0, drop_remainder=False
):
    """Shuffle (optionally), batch and prefetch unbatched GLUE examples.

    Args:
        dataset: a `tf.data.Dataset` of unbatched examples.
        size: int. Its number of examples (the shuffle buffer holds them
            all); 0 or negative when unknown.
        batch_size: int.
        shuffle: bool. Shuffle over the whole split, in a new order every
            epoch.
        seed: int. Seeds the shuffle: the same seed gives the same
            sequence of epoch orders.
        drop_remainder: bool. Drop the last partial batch, so that every
            batch has the static shape `(batch_size,)`.

    Returns:
        A batched, prefetched `tf.data.Dataset`.

    Example:
    ```python
    from keras_bigs.data import read_glue_tsv
    from keras_bigs.data.glue_dataset import batch_glue_dataset
    from keras_bigs.data.glue_dataset import examples_dataset

    dev = read_glue_tsv("rte", "../shared/glue", "dev")
    batches = batch_glue_dataset(examples_dataset(dev), len(dev), 32,
                                 shuffle=False)
    int(batches.cardinality())  # 9
    ```
    """
    if shuffle:
        # The whole split fits in the buffer (GLUE's largest has ~400k
        # rows), so every order is equally likely.
        dataset = dataset.shuffle(
            size if size > 0 else 100_000,
            seed=seed,
            reshuffle_each_iteration=True,
        )
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def glue_dataset(
    task,
    glue_dir=None,
    split="train",
    batch_size=32,
    shuffle=None,
    seed=0,
    drop_remainder=False,
    skip_malformed=False,
    use_tfds=False,
    tfds_data_dir=None,
    validation_fraction=None,
    validation_seed=0,
):
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
        "train",
        CARVED_FROM_TRAIN,
    ):
        raise ValueError(
            f"validation_fraction carves rows out of train.tsv; it does "
            f"not apply to split {split!r}."
        )
    if split != CARVED_FROM_TRAIN and not use_tfds:
        task.file_name(split)  # An unknown split is an error here.
    if use_tfds:
        dataset, size = tfds_glue_dataset(
            task, split, tfds_data_dir, validation_fraction, validation_seed
        )
    else:
        examples = _tsv_examples(
            task,
            glue_dir,
            split,
            skip_malformed,
            validation_fraction,
            validation_seed,
        )
        dataset, size = examples_dataset(examples), len(examples)
    if shuffle is None:
        shuffle = split == "train"
    return batch_glue_dataset(
        dataset, size, batch_size, shuffle, seed, drop_remainder
    )
