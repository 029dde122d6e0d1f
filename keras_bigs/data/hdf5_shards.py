"""The original BiGS pretraining shards (HDF5, already masked) as
`tf.data` examples."""

import h5py
import numpy as np
import tensorflow as tf

from keras_bigs.data.files import expand_paths

# The datasets of an original pretraining shard, in the order the original
# loader reads them (`bigs_dataset/pretraining_dataset.py` of
# github.com/jxiw/BiGS, from academic-budget-bert).
HDF5_SHARD_KEYS = (
    "input_ids",
    "input_mask",
    "segment_ids",
    "masked_lm_positions",
    "masked_lm_ids",
)
# Examples read from an HDF5 file per Python call; the rest of the pipeline
# runs in TensorFlow.
_HDF5_BLOCK_SIZE = 1024


def _shard_layout(path, sequence_length):
    """`(num_examples, max_predictions)` of an original pretraining shard;
    a `ValueError` naming the file if it is not one."""
    expected = (
        "an HDF5 file with 2-D integer datasets input_ids, input_mask, "
        "segment_ids of shape (N, sequence_length) and masked_lm_positions, "
        "masked_lm_ids of shape (N, max_predictions)"
    )
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(
            f"{path} is not an HDF5 file ({error}); a BiGS pretraining "
            f"shard is {expected}."
        ) from None
    with file:
        missing = [key for key in HDF5_SHARD_KEYS if key not in file]
        if missing:
            raise ValueError(
                f"{path} is not a BiGS pretraining shard: it lacks "
                f"{missing} (it has {sorted(file.keys())}); a shard is "
                f"{expected}."
            )
        shapes = {key: file[key].shape for key in HDF5_SHARD_KEYS}
        kinds = {key: file[key].dtype.kind for key in HDF5_SHARD_KEYS}
    problems = [
        f"{key} has shape {shape}"
        for key, shape in shapes.items()
        if len(shape) != 2
    ]
    problems += [
        f"{key} has dtype kind {kind!r}, not integer"
        for key, kind in kinds.items()
        if kind not in "iu"
    ]
    if not problems:
        num_examples = shapes["input_ids"][0]
        problems += [
            f"{key} has {shape[0]} rows, input_ids {num_examples}"
            for key, shape in shapes.items()
            if shape[0] != num_examples
        ]
        problems += [
            f"{key} has length {shapes[key][1]}, not the sequence_length "
            f"{sequence_length}"
            for key in HDF5_SHARD_KEYS[:3]
            if shapes[key][1] != sequence_length
        ]
        if shapes["masked_lm_positions"][1] != shapes["masked_lm_ids"][1]:
            problems.append(
                f"masked_lm_positions has width "
                f"{shapes['masked_lm_positions'][1]}, masked_lm_ids "
                f"{shapes['masked_lm_ids'][1]}"
            )
    if problems:
        raise ValueError(
            f"{path} is not a valid BiGS pretraining shard: "
            f"{'; '.join(problems)}. A shard is {expected}."
        )
    return num_examples, shapes["masked_lm_positions"][1]


def _read_shard_blocks(path, max_predictions):
    """Blocks of `(x, y, sample_weight)` from one shard, as numpy arrays."""
    with h5py.File(path, "r") as file:
        arrays = {key: file[key] for key in HDF5_SHARD_KEYS}
        num_examples = arrays["input_ids"].shape[0]
        for start in range(0, num_examples, _HDF5_BLOCK_SIZE):
            block = {
                key: np.asarray(
                    array[start : start + _HDF5_BLOCK_SIZE], dtype=np.int32
                )
                for key, array in arrays.items()
            }
            positions = block["masked_lm_positions"]
            # As the original loader: the first position 0 ends the list
            # (position 0 is [CLS], never masked).
            weights = np.cumprod(positions != 0, axis=1).astype(np.int32)
            padding = max_predictions - positions.shape[1]
            pad = [(0, 0), (0, padding)]
            weights = np.pad(weights, pad)
            positions = np.pad(positions, pad) * weights
            ids = np.pad(block["masked_lm_ids"], pad) * weights
            x = {
                "token_ids": block["input_ids"],
                "segment_ids": block["segment_ids"],
                "padding_mask": block["input_mask"] != 0,
                "mask_positions": positions.astype(np.int64),
            }
            yield x, ids, weights.astype(np.float32)


def hdf5_shard_dataset(
    paths,
    sequence_length,
    max_predictions=None,
    shuffle_files=True,
    seed=None,
    shuffle_buffer_size=None,
):
    """Pre-masked examples from the original BiGS pretraining shards.

    The original pretraining data (the academic-budget-bert / NVIDIA BERT
    format read by `bigs_dataset/pretraining_dataset.py` in
    github.com/jxiw/BiGS) is a set of HDF5 files, each holding five
    2-D integer datasets with one row per example (the "(5, N)" arrays of
    that repository's README):

    - `input_ids` `(N, sequence_length)`: token ids (uncased BERT
      vocabulary), masking already applied;
    - `input_mask` `(N, sequence_length)`: 1 for tokens, 0 for padding;
    - `segment_ids` `(N, sequence_length)`: all 0 (no next-sentence task);
    - `masked_lm_positions` `(N, max_predictions)`: masked positions,
      padded with 0 (the first 0 ends the list);
    - `masked_lm_ids` `(N, max_predictions)`: the original tokens there,
      padded with 0.

    Other datasets (`next_sentence_labels`) are ignored. Every file is
    checked when the dataset is made.

    Args:
        paths: a file, glob pattern, or list of them.
        sequence_length: int. The length of the shards' examples, which
            the model must accept.
        max_predictions: int. Width of `mask_positions`; shards with fewer
            predictions are padded (weight 0). Default: the shards' width,
            which must then be the same in every file.
        shuffle_files: bool. Read the files in a random order, a new one
            every epoch.
        seed: int. Seeds the file order and the example shuffle.
        shuffle_buffer_size: int. Shuffle examples through a buffer of
            this size (examples within a shard are ordered as written).

    Returns:
        A `tf.data.Dataset` of unbatched `(x, y, sample_weight)`: `x` the
        dict `token_ids, segment_ids, padding_mask, mask_positions`, as
        `masked_lm_dataset` gives, for `BiGSMaskedLM(...,
        preprocessor=None)`.

    Example:
    ```python
    from keras_bigs.data import hdf5_shard_dataset

    train = hdf5_shard_dataset("books_wiki_en_corpus/train*.hdf5",
                               sequence_length=128, max_predictions=20)
    masked_lm.fit(train.batch(256, drop_remainder=True))
    ```
    """
    files = expand_paths(paths)
    widths = {path: _shard_layout(path, sequence_length)[1] for path in files}
    if max_predictions is None:
        if len(set(widths.values())) > 1:
            raise ValueError(
                f"The shards have different numbers of predictions "
                f"({widths}); pass max_predictions."
            )
        max_predictions = next(iter(widths.values()))
    too_wide = {
        path: width for path, width in widths.items() if width > max_predictions
    }
    if too_wide:
        raise ValueError(
            f"Shards with more than max_predictions={max_predictions} "
            f"masked positions: {too_wide}."
        )

    signature = (
        {
            "token_ids": tf.TensorSpec([None, sequence_length], tf.int32),
            "segment_ids": tf.TensorSpec([None, sequence_length], tf.int32),
            "padding_mask": tf.TensorSpec([None, sequence_length], tf.bool),
            # int64, as masked_lm_dataset gives them.
            "mask_positions": tf.TensorSpec([None, max_predictions], tf.int64),
        },
        tf.TensorSpec([None, max_predictions], tf.int32),
        tf.TensorSpec([None, max_predictions], tf.float32),
    )

    def read_file(path):
        return tf.data.Dataset.from_generator(
            _read_shard_blocks,
            args=(path, max_predictions),
            output_signature=signature,
        )

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        dataset = dataset.shuffle(
            len(files), seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.interleave(read_file, cycle_length=1).unbatch()
    if shuffle_buffer_size:
        dataset = dataset.shuffle(
            shuffle_buffer_size, seed=seed, reshuffle_each_iteration=True
        )
    return dataset
