"""Masked-LM pretraining of BiGS (what `tools/pretrain.py` runs): corpus ->
packed, masked batches -> `BiGSMaskedLM`, with periodic checkpoints that a
restarted run resumes from."""

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_bigs.data.glue_tasks import GLUE_TASKS
from keras_bigs.data.glue_tsv import read_glue_tsv
from keras_bigs.data.hdf5_shards import hdf5_shard_dataset
from keras_bigs.data.holdout import hold_out_every
from keras_bigs.data.host_sharding import shard_for_host
from keras_bigs.data.length_buckets import bucket_batches
from keras_bigs.data.length_buckets import check_buckets
from keras_bigs.data.length_buckets import default_buckets
from keras_bigs.data.masked_lm import masked_lm_dataset
from keras_bigs.data.masked_lm import pack_documents
from keras_bigs.data.text_corpus import text_corpus_dataset
from keras_bigs.data.text_corpus import tfds_text_dataset
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_masked_lm_preprocessor import (
    BiGSMaskedLMPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.training.callbacks import StepCheckpoint
from keras_bigs.training.callbacks import Throughput
from keras_bigs.training.callbacks import checkpoint_paths
from keras_bigs.training.callbacks import checkpoint_step
from keras_bigs.training.callbacks import restore_training_state
from keras_bigs.training.compilations import TraceCounter
from keras_bigs.training.distribution import set_mixed_precision
from keras_bigs.training.distribution import setup_distribution
from keras_bigs.training.masked_lm_evaluation import HeldOutEvaluation
from keras_bigs.training.masked_lm_evaluation import read_heldout_log
from keras_bigs.training.optimizer import bigs_optimizer
from keras_bigs.training.sequence_length import extend_sequence_length
from keras_bigs.training.small_bigs import small_architecture
from keras_bigs.training.small_bigs import small_backbone

# Examples masked once, with a fixed seed, to measure the loss before and
# after training.
EVAL_EXAMPLES = 256
# The most held-out examples scored at each checkpoint.
HELDOUT_EXAMPLES = 1024


@dataclasses.dataclass
class PretrainRun:
    """What to pretrain on and how; the defaults are `tools/pretrain.py`'s.

    Exactly one corpus: `text_files` (plain text, one document per line or
    blank-line separated), `glue_dir` (every sentence of the GLUE training
    files there), `tfds_name` (a TFDS text dataset) or `hdf5_files` (the
    original pre-masked shards). `preset=None` starts `small_backbone()`
    from scratch; a preset shorter than `sequence_length` is extended
    (position embeddings copied), as the paper continues 128 -> 512 ->
    4096. `padding_invariant`: build (or load) the backbone
    padding-invariant (`None` keeps the preset's setting, off from
    scratch); such a model trains on batches grouped by length, padded to
    `buckets` (default: powers of two from 16 up to `sequence_length`),
    which saves compute where examples are shorter than `sequence_length`
    (HDF5 shards, or a corpus of short documents). `architecture`: from
    scratch, `small_backbone` arguments (`num_layers`, `hidden_dim`,
    `block_type`, ...) in place of its defaults. `heldout_every`: hold out
    every n-th document (every n-th example of HDF5 shards) from training
    and score the masked LM on them at every checkpoint
    (`heldout_log.csv`); 0 holds out nothing.
    """

    output_dir: str
    text_files: list = None
    document_separator: str = "line"
    glue_dir: str = None
    tfds_name: str = None
    tfds_split: str = "train"
    tfds_text_key: str = "text"
    hdf5_files: list = None
    preset: str = None
    architecture: dict = None
    sequence_length: int = 128
    padding_invariant: bool = None
    buckets: tuple = None
    batch_size: int = 32
    steps: int = 1000
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    learning_rate: float = None
    schedule: str = "cosine"
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    global_clipnorm: float = 1.0
    strategy: str = "auto"
    tpu: str = None
    mixed_precision: str = None
    seed: int = 0
    verbose: int = 1
    heldout_every: int = 0

    def __post_init__(self):
        sources = [
            self.text_files,
            self.glue_dir,
            self.tfds_name,
            self.hdf5_files,
        ]
        if sum(source is not None for source in sources) != 1:
            raise ValueError(
                "Pass exactly one corpus: text_files, glue_dir, tfds_name or "
                "hdf5_files."
            )
        if self.preset is not None and self.architecture:
            raise ValueError(
                "architecture sets up a model from scratch; a preset brings "
                "its own. Pass one of preset and architecture."
            )
        if self.heldout_every == 1 or self.heldout_every < 0:
            raise ValueError(
                f"heldout_every must be 0 (nothing held out) or at least 2, "
                f"not {self.heldout_every}."
            )
        if self.learning_rate is None:
            self.learning_rate = 1e-3 if self.preset is None else 1e-4
        if self.checkpoint_every > self.steps:
            self.checkpoint_every = self.steps


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


def _documents(run):
    if run.text_files is not None:
        return text_corpus_dataset(run.text_files, run.document_separator)
    if run.glue_dir is not None:
        return tf.data.Dataset.from_tensor_slices(glue_sentences(run.glue_dir))
    return tfds_text_dataset(run.tfds_name, run.tfds_split, run.tfds_text_key)


@dataclasses.dataclass(frozen=True)
class CorpusSource:
    """A run's corpus, opened once; each host's examples on demand.

    Attributes:
        examples: callable `(num_hosts, host_index)` -> that host's
            unbatched training examples (`tf.data.Dataset`):
            `(x, y, sample_weight)` when `premasked`, else packed token
            dicts for `masked_lm_dataset`.
        premasked: bool. Whether the examples come masked (the original
            HDF5 shards).
        heldout: callable `()` -> the held-out examples, in the same form;
            `None` when nothing is held out.
    """

    examples: Callable
    premasked: bool
    heldout: Callable = None


def corpus_source(run, tokenizer):
    """The `CorpusSource` of the run's corpus.

    Args:
        run: a `PretrainRun`; its corpus fields, `sequence_length`,
            `heldout_every` and `seed` (the HDF5 file order) are read.
        tokenizer: the `BiGSTokenizer` that packs text documents.

    Returns:
        A `CorpusSource`.
    """
    every = run.heldout_every
    if run.hdf5_files is not None:

        def shards(files):
            return hdf5_shard_dataset(files, run.sequence_length, seed=run.seed)

        def hdf5_examples(num_hosts, host_index):
            examples = shard_for_host(
                run.hdf5_files, num_hosts, host_index, shards
            )
            return hold_out_every(examples, every)[0] if every else examples

        def hdf5_heldout():
            return hold_out_every(shards(run.hdf5_files), every)[1]

        return CorpusSource(
            hdf5_examples,
            premasked=True,
            heldout=hdf5_heldout if every else None,
        )

    documents = _documents(run)
    heldout_documents = None
    if every:
        documents, heldout_documents = hold_out_every(documents, every)

    def packed_examples(num_hosts, host_index):
        return pack_documents(
            shard_for_host(documents, num_hosts, host_index),
            tokenizer,
            run.sequence_length,
        )

    def packed_heldout():
        return pack_documents(heldout_documents, tokenizer, run.sequence_length)

    return CorpusSource(
        packed_examples,
        premasked=False,
        heldout=packed_heldout if every else None,
    )


def training_dataset_fn(
    corpus, tokenizer, batch_size, seed, skip_batches=0, buckets=None
):
    """The training input, for `DistributionSetup.distribute_dataset`.

    Args:
        corpus: the run's `CorpusSource`.
        tokenizer: the `BiGSTokenizer` of the corpus (for masking).
        batch_size: int. The global batch size.
        seed: int. Seeds the example shuffle.
        skip_batches: int. Batches to skip, so that a resumed run reads on
            where it stopped.
        buckets: lengths to group examples by (`bucket_batches`), the last
            the sequence length; `None`: every batch at full length.

    Returns:
        `dataset_fn(input_context)`: endless, shuffled, masked batches
        (per replica).
    """

    def dataset_fn(input_context):
        per_replica = input_context.get_per_replica_batch_size(batch_size)
        examples = corpus.examples(
            input_context.num_input_pipelines, input_context.input_pipeline_id
        )
        examples = examples.repeat().shuffle(10_000, seed=seed)
        if buckets is None:
            batches = examples.batch(per_replica, drop_remainder=True)
        else:
            batches = bucket_batches(
                examples, per_replica, buckets, drop_remainder=True
            )
        if not corpus.premasked:
            batches = masked_lm_dataset(
                batches,
                tokenizer,
                sequence_length=None if buckets is None else buckets[-1],
            )
        return batches.skip(skip_batches).prefetch(tf.data.AUTOTUNE)

    return dataset_fn


def evaluation_dataset(corpus, tokenizer, batch_size, seed, heldout=False):
    """Examples masked once with a fixed seed: the same batches at every
    point of training. By default the first `EVAL_EXAMPLES` training
    examples, to measure the loss drop (fitting, not generalisation); with
    `heldout=True` the first `HELDOUT_EXAMPLES` held-out ones.

    Args:
        corpus: the run's `CorpusSource`.
        tokenizer: the `BiGSTokenizer` of the corpus (for masking).
        batch_size: int.
        seed: int. Fixes the masks.
        heldout: bool. Score held-out examples (the corpus must hold some
            out).

    Returns:
        A cached `tf.data.Dataset` of known size.
    """
    if heldout:
        examples = corpus.heldout().take(HELDOUT_EXAMPLES)
    else:
        examples = corpus.examples(1, 0).take(EVAL_EXAMPLES)
    batches = examples.batch(batch_size)
    if not corpus.premasked:
        batches = masked_lm_dataset(batches, tokenizer, seed=seed)
    batches = batches.cache()
    count = sum(1 for _ in batches)  # fills the cache; a known size
    if count == 0:
        raise ValueError(
            "The corpus holds out no examples: hold out a larger share (a "
            "smaller heldout_every) or use a larger corpus."
            if heldout
            else "The corpus gave no examples to evaluate on."
        )
    return batches.apply(tf.data.experimental.assert_cardinality(count))


def build_masked_lm(run, load_weights=True):
    """A new `BiGSMaskedLM` (token-id input) from the preset or scratch."""
    if run.preset is None:
        keras.utils.set_random_seed(run.seed)
        return BiGSMaskedLM(
            small_backbone(
                run.sequence_length,
                padding_invariant=bool(run.padding_invariant),
                **(run.architecture or {}),
            ),
            preprocessor=None,
        )
    kwargs = {}
    if run.padding_invariant is not None:
        kwargs["padding_invariant"] = run.padding_invariant
    masked_lm = BiGSMaskedLM.from_preset(
        run.preset, preprocessor=None, load_weights=load_weights, **kwargs
    )
    if masked_lm.backbone.max_sequence_length < run.sequence_length:
        masked_lm = extend_sequence_length(masked_lm, run.sequence_length)
    return masked_lm


def _iterations(model):
    return int(
        np.asarray(keras.ops.convert_to_numpy(model.optimizer.iterations))
    )


def pretrain(run, callbacks=()):
    """Pretrain, resuming from the newest checkpoint in
    `run.output_dir/checkpoints` when there is one.

    Writes `checkpoints/step-<n>.weights.h5` every `checkpoint_every` steps,
    `training_log.csv`, `tensorboard/`, and at the end `model/` (a keras-hub
    preset with tokenizer and `BiGSMaskedLMPreprocessor`, loadable by every
    task class, e.g. `BiGSClassifier.from_preset(path, num_classes=2)`) and
    `pretrain_results.json` (loss on a fixed masked batch before and after,
    throughput); with `run.heldout_every`, `heldout_log.csv` (held-out
    masked-token loss and accuracy at step 0 and every checkpoint).
    Returns the results.
    """
    os.makedirs(run.output_dir, exist_ok=True)
    set_mixed_precision(run.mixed_precision)
    setup = setup_distribution(run.strategy, tpu=run.tpu)
    tokenizer = BiGSTokenizer()
    checkpoints_dir = os.path.join(run.output_dir, "checkpoints")
    results_path = os.path.join(run.output_dir, "pretrain_results.json")
    corpus = corpus_source(run, tokenizer)
    evaluation = evaluation_dataset(corpus, tokenizer, run.batch_size, run.seed)
    heldout = None
    if corpus.heldout is not None:
        heldout = HeldOutEvaluation(
            evaluation_dataset(
                corpus, tokenizer, run.batch_size, run.seed, heldout=True
            ),
            os.path.join(run.output_dir, "heldout_log.csv"),
            tokens_per_step=run.batch_size * run.sequence_length,
        )

    existing = checkpoint_paths(checkpoints_dir)
    with setup.scope():
        # A resumed run rebuilds the same model and optimizer, then loads
        # the checkpoint's weights and optimizer state over them.
        masked_lm = build_masked_lm(run, load_weights=not existing)
        masked_lm.compile(
            optimizer=bigs_optimizer(
                run.learning_rate,
                total_steps=run.steps,
                warmup_steps=int(run.warmup_fraction * run.steps),
                schedule=run.schedule,
                weight_decay=run.weight_decay,
                global_clipnorm=run.global_clipnorm,
            )
        )
        if existing:
            restore_training_state(masked_lm, existing[-1])
            print(f"Resuming from {existing[-1]}")
    buckets = None
    if masked_lm.backbone.padding_invariant:
        buckets = check_buckets(
            run.buckets or default_buckets(run.sequence_length),
            run.sequence_length,
        )
    elif run.buckets:
        raise ValueError(
            "buckets need a padding-invariant model (padding_invariant=True "
            "or a preset saved with it): the outputs of this one depend on "
            "the padded length."
        )
    start_step = checkpoint_step(existing[-1]) if existing else 0
    if heldout is not None:
        heldout.set_model(masked_lm)
        heldout.resume(start_step)
        if start_step == 0:
            heldout.record(0)
    if start_step == 0:
        initial_loss = float(masked_lm.evaluate(evaluation, verbose=0)[0])
        with open(results_path, "w") as f:
            json.dump({"initial_eval_loss": initial_loss}, f)
    else:
        with open(results_path) as f:
            initial_loss = json.load(f)["initial_eval_loss"]

    train = setup.distribute_dataset(
        training_dataset_fn(
            corpus,
            tokenizer,
            run.batch_size,
            run.seed,
            skip_batches=start_step,
            buckets=buckets,
        )
    )
    throughput = Throughput(
        run.batch_size, None if buckets else run.sequence_length
    )
    traces = TraceCounter(masked_lm)
    epochs = math.ceil(run.steps / run.checkpoint_every)
    print(
        f"Masked-LM pretraining: steps {start_step} -> {run.steps} of "
        f"{run.batch_size} x {run.sequence_length} tokens ({setup.kind}, "
        f"{setup.num_replicas} replica(s)); "
        f"{masked_lm.count_params():,} parameters"
    )
    started = time.time()
    masked_lm.fit(
        train,
        epochs=epochs,
        initial_epoch=start_step // run.checkpoint_every,
        steps_per_epoch=run.checkpoint_every,
        callbacks=[
            throughput,
            # Before the checkpoint: a run stopped between the two redoes
            # the period and its row.
            *([heldout] if heldout else []),
            StepCheckpoint(checkpoints_dir, keep=run.keep_checkpoints),
            keras.callbacks.CSVLogger(
                os.path.join(run.output_dir, "training_log.csv"), append=True
            ),
            keras.callbacks.TensorBoard(
                os.path.join(run.output_dir, "tensorboard")
            ),
            *callbacks,
        ],
        verbose=run.verbose,
    )
    programs = traces.summary().get("train", {"programs": 0, "lengths": []})
    print(
        f"Compiled training programs: {programs['programs']} (lengths "
        f"{', '.join(str(n) for n in programs['lengths'])})"
    )
    final_loss = float(masked_lm.evaluate(evaluation, verbose=0)[0])

    masked_lm.preprocessor = BiGSMaskedLMPreprocessor(
        tokenizer, sequence_length=run.sequence_length
    )
    masked_lm.save_to_preset(os.path.join(run.output_dir, "model"))
    results = {
        "initial_eval_loss": initial_loss,
        "final_eval_loss": final_loss,
        "loss_reduction": 1 - final_loss / initial_loss,
        "start_step": start_step,
        "steps": _iterations(masked_lm),
        "seconds_this_run": round(time.time() - started, 1),
        **throughput.summary(),
        "sequence_length": run.sequence_length,
        "padding_invariant": masked_lm.backbone.padding_invariant,
        "buckets": list(buckets) if buckets else None,
        "compiled_training_programs": programs,
        "batch_size": run.batch_size,
        "heldout": (
            read_heldout_log(heldout.path) if heldout is not None else None
        ),
        "preset": run.preset,
        "architecture": (
            None if run.preset else small_architecture(masked_lm.backbone)
        ),
        "backend": keras.backend.backend(),
        "strategy": setup.kind,
    }
    with open(results_path, "w") as f:
        json.dump(results, f, indent=2)
    return results
