"""Masked-LM pretraining of BiGS (what `tools/pretrain.py` runs): corpus ->
packed, masked batches -> `BiGSMaskedLM`, with periodic checkpoints that a
restarted run resumes from."""

import dataclasses
import json
import math
import os
import time

import keras
import numpy as np

from keras_bigs.data.length_buckets import check_buckets
from keras_bigs.data.length_buckets import default_buckets
from keras_bigs.data.pretraining_corpus import CORPUS_FIELDS
from keras_bigs.data.pretraining_corpus import corpus_source
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_masked_lm_preprocessor import (
    BiGSMaskedLMPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.training.callbacks import StepCheckpoint
from keras_bigs.training.callbacks import Throughput
from keras_bigs.training.callbacks import checkpoint_paths
from keras_bigs.training.callbacks import checkpoint_step
from keras_bigs.training.callbacks import logging_callbacks
from keras_bigs.training.callbacks import restore_newest_training_state
from keras_bigs.training.compilations import TraceCounter
from keras_bigs.training.compilations import print_programs
from keras_bigs.training.masked_lm_evaluation import HeldOutEvaluation
from keras_bigs.training.masked_lm_evaluation import read_heldout_log
from keras_bigs.training.recipe import PRETRAINING_DEFAULTS
from keras_bigs.training.recipe import Recipe
from keras_bigs.training.sequence_length import fit_to_sequence_length
from keras_bigs.training.small_bigs import small_architecture
from keras_bigs.training.small_bigs import small_backbone

# The peak learning rate by where the model starts, unless the recipe
# names one.
LEARNING_RATES = {"scratch": 1e-3, "preset": 1e-4}


def _pretraining_recipe():
    return Recipe(**PRETRAINING_DEFAULTS)


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
    (`heldout_log.csv`); 0 holds out nothing. `recipe`: optimizer,
    schedule, batch size, precision, hardware, seed (`Recipe`;
    by default pretraining's, `PRETRAINING_DEFAULTS`); its learning rate
    defaults to 1e-3 from scratch, 1e-4 from a preset.
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
    steps: int = 1000
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    heldout_every: int = 0
    recipe: Recipe = dataclasses.field(default_factory=_pretraining_recipe)

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
        self.recipe = self.recipe.with_learning_rate(
            LEARNING_RATES["scratch" if self.preset is None else "preset"]
        )
        if self.checkpoint_every > self.steps:
            self.checkpoint_every = self.steps

    def path(self, *parts):
        return os.path.join(self.output_dir, *parts)

    def corpus(self, tokenizer):
        """The run's `CorpusSource` (`corpus_source`)."""
        return corpus_source(
            tokenizer,
            self.sequence_length,
            heldout_every=self.heldout_every,
            seed=self.recipe.seed,
            **{name: getattr(self, name) for name in CORPUS_FIELDS},
        )


def build_masked_lm(run, load_weights=True):
    """A new `BiGSMaskedLM` (token-id input) from the preset or scratch."""
    if run.preset is None:
        keras.utils.set_random_seed(run.recipe.seed)
        return BiGSMaskedLM(
            small_backbone(
                run.sequence_length,
                padding_invariant=bool(run.padding_invariant),
                **(run.architecture or {}),
                **run.recipe.backbone_options(),
            ),
            preprocessor=None,
        )
    kwargs = run.recipe.backbone_options()
    if run.padding_invariant is not None:
        kwargs["padding_invariant"] = run.padding_invariant
    masked_lm = BiGSMaskedLM.from_preset(
        run.preset, preprocessor=None, load_weights=load_weights, **kwargs
    )
    return fit_to_sequence_length(masked_lm, run.sequence_length, run.preset)


def resumed_masked_lm(run, setup, checkpoints):
    """`(masked LM, checkpoint)`: the model compiled with the recipe's
    optimizer under the distribution scope; with `checkpoints`, the
    weights and optimizer state of the newest readable one loaded over
    it, and its path (else None)."""
    with setup.scope():
        # A resumed run rebuilds the same model and optimizer, then loads
        # the checkpoint's weights and optimizer state over them.
        masked_lm = build_masked_lm(run, load_weights=not checkpoints)
        masked_lm.compile(optimizer=run.recipe.optimizer(run.steps))
        if not checkpoints:
            return masked_lm, None
        checkpoint = restore_newest_training_state(masked_lm, checkpoints)
        print(f"Resuming from {checkpoint}")
    return masked_lm, checkpoint


def training_buckets(run, masked_lm):
    """The lengths training batches are padded to: `None` (one length)
    unless the model is padding-invariant."""
    if masked_lm.backbone.padding_invariant:
        return check_buckets(
            run.buckets or default_buckets(run.sequence_length),
            run.sequence_length,
        )
    if run.buckets:
        raise ValueError(
            "buckets need a padding-invariant model (padding_invariant=True "
            "or a preset saved with it): the outputs of this one depend on "
            "the padded length."
        )
    return None


def heldout_evaluation(run, corpus):
    """The `HeldOutEvaluation` callback of the run; `None` when the corpus
    holds nothing out."""
    if corpus.heldout is None:
        return None
    recipe = run.recipe
    return HeldOutEvaluation(
        corpus.evaluation_dataset(recipe.batch_size, recipe.seed, heldout=True),
        run.path("heldout_log.csv"),
        tokens_per_step=recipe.batch_size * run.sequence_length,
    )


def start_heldout_log(heldout, masked_lm, start_step):
    """Keep the held-out rows up to `start_step`; a new run scores the
    model before training."""
    heldout.set_model(masked_lm)
    heldout.resume(start_step)
    if start_step == 0:
        heldout.record(0)


def start_eval_losses(run, masked_lm, evaluation, start_step):
    """`(initial, now)`: the loss on the evaluation batches before any
    training (measured and kept in `pretrain_results.json` by a new run,
    read back by a resumed one) and now.

    A resumed run evaluates too, as a new run does before training: on
    JAX an `evaluate` before `fit` changes later training steps in the
    last bits, and a resumed run must repeat what an uninterrupted one
    did to end with its weights.
    """
    loss_now = float(masked_lm.evaluate(evaluation, verbose=0)[0])
    results_path = run.path("pretrain_results.json")
    if start_step:
        with open(results_path) as f:
            return json.load(f)["initial_eval_loss"], loss_now
    with open(results_path, "w") as f:
        json.dump({"initial_eval_loss": loss_now}, f)
    return loss_now, loss_now


def save_model(run, masked_lm, tokenizer):
    """`model/`: the masked LM with its preprocessor, a keras-hub preset
    every task class loads."""
    masked_lm.preprocessor = BiGSMaskedLMPreprocessor(
        tokenizer, sequence_length=run.sequence_length
    )
    masked_lm.save_to_preset(run.path("model"))


def _iterations(model):
    return int(
        np.asarray(keras.ops.convert_to_numpy(model.optimizer.iterations))
    )


def fit_from(run, masked_lm, train, start_step, callbacks):
    """Train from `start_step` to `run.steps`, one epoch per checkpoint
    period."""
    masked_lm.fit(
        train,
        epochs=math.ceil(run.steps / run.checkpoint_every),
        initial_epoch=start_step // run.checkpoint_every,
        steps_per_epoch=run.checkpoint_every,
        callbacks=callbacks,
        verbose=run.recipe.verbose,
    )


def period_callbacks(run, heldout, start_step):
    """What runs at every checkpoint period: held-out scoring, the
    checkpoint, the epoch logs (kept up to `start_step`)."""
    return [
        # Before the checkpoint: a run stopped between the two redoes the
        # period and its row.
        *([heldout] if heldout else []),
        StepCheckpoint(run.path("checkpoints"), keep=run.keep_checkpoints),
        *logging_callbacks(
            run.output_dir, resume_epoch=start_step // run.checkpoint_every
        ),
    ]


def model_results(run, masked_lm, buckets, programs, heldout):
    """The results entries on the model, its input and held-out scores."""
    return {
        "sequence_length": run.sequence_length,
        "padding_invariant": masked_lm.backbone.padding_invariant,
        "buckets": list(buckets) if buckets else None,
        "compiled_training_programs": programs,
        "batch_size": run.recipe.batch_size,
        "heldout": (
            read_heldout_log(heldout.path) if heldout is not None else None
        ),
        "preset": run.preset,
        "architecture": (
            None if run.preset else small_architecture(masked_lm.backbone)
        ),
    }


def pretrain(run, callbacks=()):
    """Pretrain, resuming from the newest checkpoint in
    `run.output_dir/checkpoints` when there is one.

    Writes `checkpoints/step-<n>.weights.h5` every `checkpoint_every` steps,
    `training_log.csv`, `tensorboard/`, and at the end `model/` (a keras-hub
    preset with tokenizer and `BiGSMaskedLMPreprocessor`, loadable by every
    task class, e.g. `BiGSClassifier.from_preset(path, num_classes=2)`) and
    `pretrain_results.json` (loss on a fixed masked batch before training,
    when this run started and after, throughput); with
    `run.heldout_every`, `heldout_log.csv` (held-out masked-token loss and
    accuracy at step 0 and every checkpoint).
    Returns the results.
    """
    os.makedirs(run.output_dir, exist_ok=True)
    recipe = run.recipe
    # Seeded where the model is built from scratch; the data by its seeds.
    setup = recipe.prepare(seed_generators=False)
    tokenizer = BiGSTokenizer()
    corpus = run.corpus(tokenizer)
    evaluation = corpus.evaluation_dataset(recipe.batch_size, recipe.seed)
    heldout = heldout_evaluation(run, corpus)
    checkpoints = checkpoint_paths(run.path("checkpoints"))
    masked_lm, checkpoint = resumed_masked_lm(run, setup, checkpoints)
    buckets = training_buckets(run, masked_lm)
    start_step = checkpoint_step(checkpoint) if checkpoint else 0
    if heldout is not None:
        start_heldout_log(heldout, masked_lm, start_step)
    initial_loss, start_loss = start_eval_losses(
        run, masked_lm, evaluation, start_step
    )
    train = setup.distribute_dataset(
        corpus.training_dataset_fn(
            recipe.batch_size, recipe.seed, start_step, buckets
        )
    )
    throughput = Throughput(
        recipe.batch_size, None if buckets else run.sequence_length
    )
    traces = TraceCounter(masked_lm)
    print(
        f"Masked-LM pretraining: steps {start_step} -> {run.steps} of "
        f"{recipe.batch_size} x {run.sequence_length} tokens ({setup.kind}, "
        f"{setup.num_replicas} replica(s)); "
        f"{masked_lm.count_params():,} parameters"
    )
    started = time.time()
    fit_from(
        run,
        masked_lm,
        train,
        start_step,
        [throughput, *period_callbacks(run, heldout, start_step), *callbacks],
    )
    compiled = traces.summary()
    print_programs(compiled)
    programs = compiled.get("train", {"programs": 0, "lengths": []})
    final_loss = float(masked_lm.evaluate(evaluation, verbose=0)[0])
    save_model(run, masked_lm, tokenizer)
    results = {
        "initial_eval_loss": initial_loss,
        "start_eval_loss": start_loss,
        "final_eval_loss": final_loss,
        "loss_reduction": 1 - final_loss / initial_loss,
        "start_step": start_step,
        "steps": _iterations(masked_lm),
        "seconds_this_run": round(time.time() - started, 1),
        **throughput.summary(),
        **model_results(run, masked_lm, buckets, programs, heldout),
        "backend": keras.backend.backend(),
        "strategy": setup.kind,
    }
    with open(run.path("pretrain_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return results
