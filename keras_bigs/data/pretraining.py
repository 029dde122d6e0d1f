"""`tf.data` pipelines for masked-LM pretraining of BiGS.

Two routes to `(x, y, sample_weight)` batches for a `BiGSMaskedLM` built
with `preprocessor=None`:

- raw text: `text_corpus_dataset` (or `tfds_text_dataset`) ->
  `pack_documents` -> `masked_lm_dataset` (masking online, as
  `BiGSMaskedLMPreprocessor` does);
- the original BiGS pretraining shards, already masked:
  `hdf5_shard_dataset`.

`shard_for_host` and `dataset_fn_for_input_context` split the input over
the hosts of a multi-host job.
"""

import math

import numpy as np
import tensorflow as tf

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


def _expand_paths(paths):
    """File paths from paths, glob patterns or a list of them.

    Each pattern's matches are sorted, so that every host lists the same
    files in the same order, which sharding needs.
    """
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    files = []
    for pattern in paths:
        pattern = str(pattern)
        # An existing path is taken as it is: file names may contain
        # glob characters ("[", "*").
        matches = ([pattern] if tf.io.gfile.exists(pattern)
                   else tf.io.gfile.glob(pattern))
        if not matches:
            raise FileNotFoundError(f"No file matches {pattern!r}.")
        files.extend(sorted(matches))
    if not files:
        raise ValueError("No input files given.")
    return list(dict.fromkeys(files))


def _check_has_text(path):
    """An error for a file with no text, read only up to its first
    non-space character (so cheap for real corpora)."""
    with tf.io.gfile.GFile(path, "rb") as file:
        while True:
            chunk = file.read(1 << 16)
            if not chunk:
                raise ValueError(
                    f"{path} is empty: a corpus file must contain at least "
                    "one document.")
            if chunk.strip():
                return


def text_corpus_dataset(paths, document_separator="line"):
    """Documents (strings) from plain UTF-8 text files.

    Files are read in sorted order, each line stripped of surrounding
    whitespace.

    Args:
        paths: a file, a glob pattern (`"corpus/*.txt"`) or a list of them;
            `gs://` and other `tf.io.gfile` paths work too.
        document_separator: `"line"`: every non-blank line is a document.
            `"blank_line"`: documents are paragraphs separated by blank
            lines, and the lines of one paragraph are joined with a space
            (a paragraph never spans two files).

    Returns:
        A `tf.data.Dataset` of scalar strings.

    Example:
    ```python
    from keras_bigs.data import text_corpus_dataset

    documents = text_corpus_dataset("wiki/*.txt", "blank_line")
    ```
    """
    if document_separator not in ("line", "blank_line"):
        raise ValueError(
            f"document_separator must be 'line' or 'blank_line', not "
            f"{document_separator!r}.")
    files = _expand_paths(paths)
    for path in files:
        _check_has_text(path)
    files = tf.data.Dataset.from_tensor_slices(files)
    if document_separator == "line":
        lines = files.flat_map(tf.data.TextLineDataset)
        return lines.map(tf.strings.strip).filter(
            lambda line: tf.strings.length(line) > 0)

    # A blank line after each file ends its last paragraph there.
    lines = files.flat_map(lambda path: tf.data.TextLineDataset(
        path).concatenate(tf.data.Dataset.from_tensors(tf.constant(""))))

    def add_line(paragraph, line):
        line = tf.strings.strip(line)
        is_blank = tf.equal(line, "")
        finished = tf.logical_and(is_blank, tf.not_equal(paragraph, ""))
        grown = tf.strings.strip(
            tf.strings.join([paragraph, line], separator=" "))
        return tf.where(is_blank, "", grown), (finished, paragraph)

    return lines.scan(tf.constant(""), add_line).filter(
        lambda finished, paragraph: finished
    ).map(lambda finished, paragraph: paragraph)


def tfds_text_dataset(name, split="train", text_key="text", data_dir=None):
    """Documents (strings) from a TensorFlow Datasets text corpus.

    Args:
        name: str. The TFDS name (`"wikipedia/20230601.en"`, `"c4/en"`).
        split: str. A TFDS split or slice.
        text_key: str. The feature holding the text.
        data_dir: str. TFDS's `data_dir`.

    Returns:
        A `tf.data.Dataset` of scalar strings.

    Example:
    ```python
    from keras_bigs.data import tfds_text_dataset

    documents = tfds_text_dataset("wikipedia/20230601.en")
    ```
    """
    import tensorflow_datasets as tfds

    dataset = tfds.load(name, split=split, data_dir=data_dir,
                        shuffle_files=False)
    spec = dataset.element_spec
    if not isinstance(spec, dict) or text_key not in spec:
        keys = sorted(spec) if isinstance(spec, dict) else spec
        raise ValueError(
            f"TFDS {name} ({split}) has no feature {text_key!r}; its "
            f"features are {keys}. Pass text_key=.")
    return dataset.map(lambda features: features[text_key],
                       num_parallel_calls=tf.data.AUTOTUNE)


def pack_documents(documents, tokenizer, sequence_length,
                   documents_per_batch=256):
    """Tokenize documents and pack them into full-length examples.

    The documents' tokens form one stream, consecutive documents separated
    by `[SEP]`; the stream is cut into examples
    `[CLS] <sequence_length - 2 tokens> [SEP]`, so long documents continue
    in the next example and short ones share one. Only the last example is
    padded. Documents with no tokens are dropped. The order of the
    documents is kept.

    Args:
        documents: a `tf.data.Dataset` of scalar strings.
        tokenizer: a `BiGSTokenizer` without a `sequence_length`.
        sequence_length: int. Length of every example.
        documents_per_batch: int. Documents tokenized per call (speed
            only).

    Returns:
        A `tf.data.Dataset` of dicts `token_ids` (int32), `segment_ids`
        (int32, all 0) and `padding_mask` (bool), each of shape
        `(sequence_length,)`: the inputs of `masked_lm_dataset`.

    Example:
    ```python
    import tensorflow as tf
    import keras_bigs
    from keras_bigs.data import pack_documents

    documents = tf.data.Dataset.from_tensor_slices(["One doc.", "Another."])
    packed = pack_documents(documents, keras_bigs.BiGSTokenizer(), 128)
    ```
    """
    if sequence_length < 3:
        raise ValueError(
            f"sequence_length must be at least 3 ([CLS] token [SEP]), not "
            f"{sequence_length}.")
    if getattr(tokenizer, "sequence_length", None):
        raise ValueError(
            "pack_documents needs a tokenizer without sequence_length "
            f"(it has {tokenizer.sequence_length}): packing decides the "
            "lengths.")
    cls_id = tokenizer.token_to_id("[CLS]")
    sep_id = tokenizer.token_to_id("[SEP]")
    pad_id = tokenizer.token_to_id("[PAD]")
    content_length = sequence_length - 2

    def tokens_with_separators(batch):
        tokens = tokenizer(batch)
        tokens = tf.ragged.boolean_mask(tokens, tokens.row_lengths() > 0)
        separators = tf.RaggedTensor.from_tensor(
            tf.fill([tokens.nrows(), 1], tf.cast(sep_id, tokens.dtype)))
        # `[SEP]` in front of every document; the one in front of the very
        # first is removed below.
        return tf.cast(tf.concat([separators, tokens], axis=1).flat_values,
                       tf.int32)

    def drop_first_separator(started, tokens):
        drop = tf.logical_and(tf.logical_not(started),
                              tf.size(tokens) > 0)
        tokens = tf.cond(drop, lambda: tokens[1:], lambda: tokens)
        return tf.logical_or(started, drop), tokens

    stream = documents.batch(documents_per_batch).map(
        tokens_with_separators, num_parallel_calls=tf.data.AUTOTUNE
    ).scan(tf.constant(False), drop_first_separator)

    def to_example(content):
        num_content = tf.shape(content)[0]
        token_ids = tf.concat([
            [cls_id], content, [sep_id],
            tf.fill([content_length - num_content], pad_id),
        ], axis=0)
        return {
            "token_ids": tf.ensure_shape(token_ids, [sequence_length]),
            "segment_ids": tf.zeros([sequence_length], tf.int32),
            # From the length, not `token_ids != [PAD]`: a document may
            # contain the literal text "[PAD]".
            "padding_mask": tf.range(sequence_length) < num_content + 2,
        }

    # `rebatch(n)` is `unbatch().batch(n)` with one copy: the stream, cut
    # into pieces of `content_length` tokens.
    return stream.rebatch(content_length).map(
        to_example, num_parallel_calls=tf.data.AUTOTUNE)


def _masked_lm_mask_generator(tokenizer, mask_selection_rate,
                              mask_selection_length, mask_token_rate,
                              random_token_rate):
    from keras_hub.layers import MaskedLMMaskGenerator

    return MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=mask_selection_rate,
        mask_token_id=tokenizer.token_to_id("[MASK]"),
        mask_selection_length=mask_selection_length,
        unselectable_token_ids=tokenizer.special_token_ids,
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
    )


def masked_lm_dataset(token_dataset, tokenizer, mask_selection_rate=0.15,
                      mask_selection_length=None, mask_token_rate=0.8,
                      random_token_rate=0.1, seed=None):
    """Mask packed token dicts online, as `BiGSMaskedLMPreprocessor` does.

    keras-hub's `MaskedLMMaskGenerator` selects each non-special token with
    probability `mask_selection_rate`; a selected token becomes `[MASK]`
    80% of the time, a random token 10%, and stays 10%. Elements may be
    single examples or batches (masking batches is faster).

    Args:
        token_dataset: a `tf.data.Dataset` of dicts `token_ids`,
            `segment_ids`, `padding_mask` (as from `pack_documents`).
        tokenizer: the `BiGSTokenizer` of the tokens.
        mask_selection_rate: float. Probability of selecting a token.
        mask_selection_length: int. Masked positions per example (unused
            slots have weight 0); default
            `ceil(mask_selection_rate * sequence_length)`.
        mask_token_rate: float. Share of selected tokens set to `[MASK]`.
        random_token_rate: float. Share set to a random token.
        seed: int or `None`. `None` draws new masks on every pass over the
            data (dynamic masking). With a global TF seed set (e.g. by
            `keras.utils.set_random_seed`), every new iterator repeats the
            same masks: `.repeat()` the dataset so that one iterator serves
            all epochs, as `tools/pretrain.py` does. An int makes the masks reproducible:
            every pass, and every run, masks the same way (static masking);
            masking then runs sequentially, one example at a time, which is
            slower.

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)`: `x` the dict
        `token_ids, segment_ids, padding_mask, mask_positions`, `y` the
        original ids at `mask_positions`, `sample_weight` 1 for used slots,
        0 for padding slots. `BiGSMaskedLM(..., preprocessor=None)` trains
        on it.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.data import masked_lm_dataset
    from keras_bigs.data import pack_documents
    from keras_bigs.data import text_corpus_dataset

    tokenizer = keras_bigs.BiGSTokenizer()
    packed = pack_documents(text_corpus_dataset("corpus/*.txt"), tokenizer,
                            sequence_length=128)
    batches = masked_lm_dataset(packed.shuffle(10_000).batch(256), tokenizer)
    ```
    """
    spec = token_dataset.element_spec
    needed = ("token_ids", "segment_ids", "padding_mask")
    if not isinstance(spec, dict) or any(key not in spec for key in needed):
        raise ValueError(
            f"masked_lm_dataset needs elements that are dicts with "
            f"{list(needed)} (as from pack_documents); got {spec}.")
    if mask_selection_length is None:
        sequence_length = spec["token_ids"].shape[-1]
        if sequence_length is None:
            raise ValueError(
                "The token_ids have no static length: pass "
                "mask_selection_length.")
        mask_selection_length = math.ceil(
            mask_selection_rate * sequence_length)
    masker = _masked_lm_mask_generator(
        tokenizer, mask_selection_rate, mask_selection_length,
        mask_token_rate, random_token_rate)

    def mask_rows_in_order(token_ids):
        # tf-text draws each row's random numbers in a parallel loop, in no
        # fixed order; masking one row at a time keeps a seed reproducible.
        length = token_ids.shape[-1]
        spec = {
            "token_ids": tf.TensorSpec([length], token_ids.dtype),
            "mask_positions": tf.TensorSpec([mask_selection_length],
                                            tf.int64),
            "mask_ids": tf.TensorSpec([mask_selection_length],
                                      token_ids.dtype),
            "mask_weights": tf.TensorSpec([mask_selection_length],
                                          masker.compute_dtype),
        }
        return tf.map_fn(masker, token_ids, fn_output_signature=spec,
                         parallel_iterations=1)

    def mask(features):
        token_ids = features["token_ids"]
        if seed is None:
            masked = masker(token_ids)
        else:
            # Inside a traced function this sets the seed of this
            # function's graph only, which fixes the masker's random ops.
            tf.random.set_seed(seed)
            masked = (masker(token_ids) if token_ids.shape.rank == 1
                      else mask_rows_in_order(token_ids))
        x = {
            "token_ids": masked["token_ids"],
            "segment_ids": features["segment_ids"],
            "padding_mask": features["padding_mask"],
            "mask_positions": masked["mask_positions"],
        }
        return x, masked["mask_ids"], masked["mask_weights"]

    # Stateful random ops in parallel calls draw in scheduling order, so a
    # seeded (reproducible) masking must run sequentially.
    parallel_calls = None if seed is not None else tf.data.AUTOTUNE
    return token_dataset.map(mask, num_parallel_calls=parallel_calls)


def _shard_layout(path, sequence_length):
    """`(num_examples, max_predictions)` of an original pretraining shard;
    a `ValueError` naming the file if it is not one."""
    import h5py

    expected = (
        "an HDF5 file with 2-D integer datasets input_ids, input_mask, "
        "segment_ids of shape (N, sequence_length) and masked_lm_positions, "
        "masked_lm_ids of shape (N, max_predictions)")
    try:
        file = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(
            f"{path} is not an HDF5 file ({error}); a BiGS pretraining "
            f"shard is {expected}.") from None
    with file:
        missing = [key for key in HDF5_SHARD_KEYS if key not in file]
        if missing:
            raise ValueError(
                f"{path} is not a BiGS pretraining shard: it lacks "
                f"{missing} (it has {sorted(file.keys())}); a shard is "
                f"{expected}.")
        shapes = {key: file[key].shape for key in HDF5_SHARD_KEYS}
        kinds = {key: file[key].dtype.kind for key in HDF5_SHARD_KEYS}
    problems = [f"{key} has shape {shape}" for key, shape in shapes.items()
                if len(shape) != 2]
    problems += [f"{key} has dtype kind {kind!r}, not integer"
                 for key, kind in kinds.items() if kind not in "iu"]
    if not problems:
        num_examples = shapes["input_ids"][0]
        problems += [
            f"{key} has {shape[0]} rows, input_ids {num_examples}"
            for key, shape in shapes.items() if shape[0] != num_examples]
        problems += [
            f"{key} has length {shapes[key][1]}, not the sequence_length "
            f"{sequence_length}"
            for key in HDF5_SHARD_KEYS[:3]
            if shapes[key][1] != sequence_length]
        if shapes["masked_lm_positions"][1] != shapes["masked_lm_ids"][1]:
            problems.append(
                f"masked_lm_positions has width "
                f"{shapes['masked_lm_positions'][1]}, masked_lm_ids "
                f"{shapes['masked_lm_ids'][1]}")
    if problems:
        raise ValueError(
            f"{path} is not a valid BiGS pretraining shard: "
            f"{'; '.join(problems)}. A shard is {expected}.")
    return num_examples, shapes["masked_lm_positions"][1]


def _read_shard_blocks(path, max_predictions):
    """Blocks of `(x, y, sample_weight)` from one shard, as numpy arrays."""
    import h5py

    with h5py.File(path, "r") as file:
        arrays = {key: file[key] for key in HDF5_SHARD_KEYS}
        num_examples = arrays["input_ids"].shape[0]
        for start in range(0, num_examples, _HDF5_BLOCK_SIZE):
            block = {key: np.asarray(array[start:start + _HDF5_BLOCK_SIZE],
                                     dtype=np.int32)
                     for key, array in arrays.items()}
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


def hdf5_shard_dataset(paths, sequence_length, max_predictions=None,
                       shuffle_files=True, seed=None,
                       shuffle_buffer_size=None):
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
    files = _expand_paths(paths)
    widths = {path: _shard_layout(path, sequence_length)[1]
              for path in files}
    if max_predictions is None:
        if len(set(widths.values())) > 1:
            raise ValueError(
                f"The shards have different numbers of predictions "
                f"({widths}); pass max_predictions.")
        max_predictions = next(iter(widths.values()))
    too_wide = {path: width for path, width in widths.items()
                if width > max_predictions}
    if too_wide:
        raise ValueError(
            f"Shards with more than max_predictions={max_predictions} "
            f"masked positions: {too_wide}.")

    signature = (
        {
            "token_ids": tf.TensorSpec([None, sequence_length], tf.int32),
            "segment_ids": tf.TensorSpec([None, sequence_length], tf.int32),
            "padding_mask": tf.TensorSpec([None, sequence_length], tf.bool),
            # int64, as keras-hub's masker gives them in masked_lm_dataset.
            "mask_positions": tf.TensorSpec([None, max_predictions],
                                            tf.int64),
        },
        tf.TensorSpec([None, max_predictions], tf.int32),
        tf.TensorSpec([None, max_predictions], tf.float32),
    )

    def read_file(path):
        return tf.data.Dataset.from_generator(
            _read_shard_blocks, args=(path, max_predictions),
            output_signature=signature)

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        dataset = dataset.shuffle(len(files), seed=seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.interleave(read_file, cycle_length=1).unbatch()
    if shuffle_buffer_size:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=seed,
                                  reshuffle_each_iteration=True)
    return dataset


def shard_for_host(dataset_or_files, num_hosts, host_index,
                   make_dataset=None):
    """This host's part of the input of a multi-host job.

    Each example goes to exactly one host. Given files, each host reads
    its own files (`files[host_index::num_hosts]`) when there are at least
    as many files as hosts; with fewer files every host reads them all and
    keeps every `num_hosts`-th example (`dataset.shard`), which needs
    `make_dataset` to give the same order on every host (seed any shuffle,
    or shuffle after sharding). Given a dataset, it is `dataset.shard`.

    Args:
        dataset_or_files: a `tf.data.Dataset`, or a file, glob pattern or
            list of them (glob matches are sorted, so every host sees the
            same list).
        num_hosts: int. The number of hosts (input pipelines).
        host_index: int. This host, in `[0, num_hosts)`.
        make_dataset: callable, files (a list of str) -> `tf.data.Dataset`.
            Required with files.

    Returns:
        A `tf.data.Dataset`.

    Example:
    ```python
    import jax
    from keras_bigs.data import hdf5_shard_dataset
    from keras_bigs.data import shard_for_host

    train = shard_for_host(
        "shards/train*.hdf5", jax.process_count(), jax.process_index(),
        lambda files: hdf5_shard_dataset(files, sequence_length=128))
    ```
    """
    if not (isinstance(num_hosts, (int, np.integer)) and num_hosts >= 1):
        raise ValueError(f"num_hosts must be a positive int, not "
                         f"{num_hosts!r}.")
    if not 0 <= host_index < num_hosts:
        raise ValueError(
            f"host_index must be in [0, {num_hosts}), not {host_index!r}.")
    if isinstance(dataset_or_files, tf.data.Dataset):
        return dataset_or_files.shard(num_hosts, host_index)
    if make_dataset is None:
        raise ValueError(
            "shard_for_host needs make_dataset (files -> tf.data.Dataset) "
            "when given files.")
    files = _expand_paths(dataset_or_files)
    if len(files) >= num_hosts:
        return make_dataset(files[host_index::num_hosts])
    return make_dataset(files).shard(num_hosts, host_index)


def dataset_fn_for_input_context(make_dataset, global_batch_size):
    """Adapt a dataset builder to `tf.distribute`'s input contexts.

    Args:
        make_dataset: callable with keyword arguments `num_hosts`,
            `host_index` and `batch_size` (per replica) returning this input
            pipeline's batched dataset, typically through `shard_for_host`.
        global_batch_size: int. The batch size summed over all replicas.

    Returns:
        A function of a `tf.distribute.InputContext`, for
        `strategy.distribute_datasets_from_function`.

    Example:
    ```python
    from keras_bigs.data import dataset_fn_for_input_context
    from keras_bigs.data import hdf5_shard_dataset
    from keras_bigs.data import shard_for_host

    def make_dataset(num_hosts, host_index, batch_size):
        return shard_for_host(
            "shards/train*.hdf5", num_hosts, host_index,
            lambda files: hdf5_shard_dataset(files, 128, seed=0),
        ).batch(batch_size, drop_remainder=True)

    dataset = strategy.distribute_datasets_from_function(
        dataset_fn_for_input_context(make_dataset, global_batch_size=256))
    ```
    """
    def dataset_fn(input_context):
        return make_dataset(
            num_hosts=input_context.num_input_pipelines,
            host_index=input_context.input_pipeline_id,
            batch_size=input_context.get_per_replica_batch_size(
                global_batch_size),
        )

    return dataset_fn
