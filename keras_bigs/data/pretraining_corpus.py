"""A masked-LM pretraining corpus: text files, GLUE sentences, a TFDS text
dataset or the original pre-masked HDF5 shards, opened once, with its
training examples, held-out examples, and the training and
evaluation inputs made of them."""

import dataclasses
import os
from collections.abc import Callable

import tensorflow as tf

from keras_bigs.data.glue_tasks import GLUE_TASKS
from keras_bigs.data.glue_tsv import read_glue_tsv
from keras_bigs.data.hdf5_shards import hdf5_shard_dataset
from keras_bigs.data.holdout import hold_out_every
from keras_bigs.data.length_buckets import bucket_batches
from keras_bigs.data.masked_lm import masked_lm_dataset
from keras_bigs.data.masked_lm import pack_documents
from keras_bigs.data.text_corpus import text_corpus_dataset
from keras_bigs.data.text_corpus import tfds_text_dataset
from keras_bigs.data.training_input import evaluation_dataset
from keras_bigs.data.training_input import training_dataset_fn

# Examples masked once, with a fixed seed, to measure the loss before and
# after training.
EVAL_EXAMPLES = 256
# Training examples shuffled together (a corpus of more examples is
# shuffled within windows of this many).
SHUFFLE_BUFFER = 10_000
# The most held-out examples scored at each checkpoint.
HELDOUT_EXAMPLES = 1024
# The arguments of `corpus_source` that name the corpus.
CORPUS_FIELDS = (
    "text_files",
    "document_separator",
    "glue_dir",
    "tfds_name",
    "tfds_split",
    "tfds_text_key",
    "hdf5_files",
)


def glue_sentences(glue_dir):
    """Every sentence of the GLUE training files found in `glue_dir`."""
    sentences = []
    for task in GLUE_TASKS.values():
        if os.path.isfile(os.path.join(glue_dir, task.folder, "train.tsv")):
            examples = read_glue_tsv(task, glue_dir, "train")
            for column in examples.texts:
                sentences.extend(column)
    if not sentences:
        raise FileNotFoundError(f"No GLUE train.tsv files in {glue_dir}.")
    return sentences


@dataclasses.dataclass(frozen=True)
class CorpusSource:
    """A corpus, opened once; its examples on demand.

    Attributes:
        examples: callable `()` -> the unbatched training examples
            (`tf.data.Dataset`; every input pipeline reads them all):
            `(x, y, sample_weight)` when `premasked`, else packed token
            dicts for `masked_lm_dataset`.
        premasked: bool. Whether the examples come masked (the original
            HDF5 shards).
        tokenizer: the `BiGSTokenizer` that packs and masks the text.
        heldout: callable `()` -> the held-out examples, in the same form;
            `None` when nothing is held out.
    """

    examples: Callable
    premasked: bool
    tokenizer: object
    heldout: Callable = None

    def _masked(self, batches, **kwargs):
        if self.premasked:
            return batches
        return masked_lm_dataset(batches, self.tokenizer, **kwargs)

    def training_dataset_fn(
        self, batch_size, seed, skip_batches=0, buckets=None
    ):
        """The training input, for `DistributionSetup.distribute_dataset`:
        endless, shuffled, masked batches (per replica).

        Every input pipeline (JAX process, TensorFlow worker) reads the
        whole corpus, forms the same global batches and keeps its rows of
        them (`training_dataset_fn`), repeating the reading and masking in
        each.

        Args:
            batch_size: int. The global batch size.
            seed: int. Seeds the example shuffle and the masks, so that a
                run is reproducible.
            skip_batches: int. Batches to skip, so that a resumed run
                reads on where it stopped.
            buckets: lengths to group examples by (`bucket_batches`), the
                last the sequence length; `None`: every batch at full
                length.

        Returns:
            `dataset_fn(input_context)`.
        """

        def global_batches(size):
            # Shuffled within each pass, then repeated: every example once
            # per pass, and a corpus smaller than the buffer is read once to
            # fill it, not repeated until it holds `SHUFFLE_BUFFER` rows.
            examples = (
                self.examples()
                .shuffle(
                    SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True
                )
                .repeat()
            )
            if buckets is None:
                batched = examples.batch(size, drop_remainder=True)
            else:
                batched = bucket_batches(
                    examples, size, buckets, drop_remainder=True
                )
            batched = self._masked(
                batched,
                seed=seed,
                sequence_length=None if buckets is None else buckets[-1],
            )
            return batched.skip(skip_batches)

        return training_dataset_fn(global_batches, batch_size)

    def evaluation_dataset(self, batch_size, seed, heldout=False):
        """Examples masked once with a fixed seed: the same batches at
        every point of training. By default the first `EVAL_EXAMPLES`
        training examples, to measure the loss drop (fitting, not
        generalisation); with `heldout=True` the first `HELDOUT_EXAMPLES`
        held-out ones.

        Args:
            batch_size: int.
            seed: int. Fixes the masks.
            heldout: bool. Score held-out examples (the corpus must hold
                some out).

        Returns:
            A cached `tf.data.Dataset` of known size.
        """
        if heldout:
            examples = self.heldout().take(HELDOUT_EXAMPLES)
            empty = (
                "The corpus holds out no examples: hold out a larger share "
                "(a smaller heldout_every) or use a larger corpus."
            )
        else:
            examples = self.examples().take(EVAL_EXAMPLES)
            empty = "The corpus gave no examples to evaluate on."
        batches = self._masked(examples.batch(batch_size), seed=seed)
        return evaluation_dataset(batches, empty)


def _documents(text_files, document_separator, glue_dir, tfds):
    if text_files is not None:
        return text_corpus_dataset(text_files, document_separator)
    if glue_dir is not None:
        return tf.data.Dataset.from_tensor_slices(glue_sentences(glue_dir))
    return tfds_text_dataset(*tfds)


def _hdf5_source(hdf5_files, tokenizer, sequence_length, every, seed):
    def shards(files):
        return hdf5_shard_dataset(files, sequence_length, seed=seed)

    def hdf5_examples():
        examples = shards(hdf5_files)
        return hold_out_every(examples, every)[0] if every else examples

    def hdf5_heldout():
        return hold_out_every(shards(hdf5_files), every)[1]

    return CorpusSource(
        hdf5_examples,
        premasked=True,
        tokenizer=tokenizer,
        heldout=hdf5_heldout if every else None,
    )


def corpus_source(
    tokenizer,
    sequence_length,
    *,
    text_files=None,
    document_separator="line",
    glue_dir=None,
    tfds_name=None,
    tfds_split="train",
    tfds_text_key="text",
    hdf5_files=None,
    heldout_every=0,
    seed=0,
):
    r"""Open a corpus: exactly one of `text_files`, `glue_dir`, `tfds_name`,
    `hdf5_files`.

    Args:
        tokenizer: the `BiGSTokenizer` that packs text documents.
        sequence_length: int. Tokens per packed example (HDF5 shards: the
            length they were written for).
        text_files: text files or glob patterns, one document per line or
            blank-line separated (`document_separator`: `"line"` or
            `"blank_line"`).
        glue_dir: a GLUE folder; every sentence of its training files.
        tfds_name, tfds_split, tfds_text_key: a TFDS text dataset.
        hdf5_files: the original pre-masked shards.
        heldout_every: int. Hold out every n-th document (every n-th
            example of HDF5 shards); 0 holds out nothing.
        seed: int. The HDF5 file order.

    Returns:
        A `CorpusSource`.

    Example:
    ```python
    import os, tempfile
    import keras_bigs
    from keras_bigs.data.pretraining_corpus import corpus_source

    path = os.path.join(tempfile.mkdtemp(), "corpus.txt")
    with open(path, "w") as f:
        f.write("\n".join(f"document {i} of the corpus" for i in range(40)))
    corpus = corpus_source(
        keras_bigs.BiGSTokenizer(), 32, text_files=[path], heldout_every=4)
    batches = corpus.evaluation_dataset(batch_size=8, seed=0, heldout=True)
    x, y, sample_weight = next(iter(batches))
    x["token_ids"].shape  # (2, 32): 10 held-out documents, packed
    ```
    """
    every = heldout_every
    if hdf5_files is not None:
        return _hdf5_source(hdf5_files, tokenizer, sequence_length, every, seed)
    documents = _documents(
        text_files,
        document_separator,
        glue_dir,
        (tfds_name, tfds_split, tfds_text_key),
    )
    heldout_documents = None
    if every:
        documents, heldout_documents = hold_out_every(documents, every)

    def packed_examples():
        return pack_documents(documents, tokenizer, sequence_length)

    def packed_heldout():
        return pack_documents(heldout_documents, tokenizer, sequence_length)

    return CorpusSource(
        packed_examples,
        premasked=False,
        tokenizer=tokenizer,
        heldout=packed_heldout if every else None,
    )
