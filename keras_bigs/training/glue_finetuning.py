"""Fine-tune and evaluate BiGS on a GLUE task (what `tools/run_glue.py`
runs): data, model, recipe, distribution, evaluation with the task's
official metrics, and the saved best model."""

import dataclasses
import json
import math
import os
import time

import keras
import tensorflow as tf

from keras_bigs.data.glue_splits import DEFAULT_VALIDATION_FRACTION
from keras_bigs.data.glue_tasks import get_glue_task
from keras_bigs.data.glue_training_data import glue_training_data
from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_presets import BIGS_PRESETS
from keras_bigs.models.bigs_text_classifier_preprocessor import (
    BiGSTextClassifierPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.serving import check_destination
from keras_bigs.serving import export_for_serving
from keras_bigs.training.callbacks import TaskMetricsEvaluation
from keras_bigs.training.callbacks import Throughput
from keras_bigs.training.compilations import TraceCounter
from keras_bigs.training.distribution import set_mixed_precision
from keras_bigs.training.distribution import setup_distribution
from keras_bigs.training.optimizer import bigs_optimizer
from keras_bigs.training.small_bigs import small_architecture
from keras_bigs.training.small_bigs import small_backbone

# From scratch: SST-2's sentences fit in 64 tokens.
SCRATCH_SEQUENCE_LENGTH = 64


@dataclasses.dataclass
class GlueRun:
    """What to fine-tune and how; the defaults are `tools/run_glue.py`'s.

    `preset=None` trains `small_backbone()` (small_bigs.py) from scratch.
    `padding_invariant`: build (or load) the backbone padding-invariant;
    `None` keeps the preset's setting (off from scratch). A
    padding-invariant model trains and evaluates on batches grouped by
    length, padded to `buckets` (default: powers of two from 16 up to the
    sequence length).
    Learning rate, epochs and sequence length default by that choice: from
    scratch 1e-3, 1 epoch, 64 tokens; from a preset 2e-5, 3 epochs, the
    preset's length. `reinitialize_head`: a new head even where the preset
    has one of the task's size. `export_dir`: also export the best model
    there as a SavedModel for TF Serving (`keras_bigs.export_for_serving`;
    sentence pairs for pair tasks).
    """

    task: str
    glue_dir: str = None
    output_dir: str = "glue_output"
    preset: str = None
    from_mnli: str = None
    reinitialize_head: bool = False
    padding_invariant: bool = None
    buckets: tuple = None
    use_tfds: bool = False
    tfds_data_dir: str = None
    sequence_length: int = None
    batch_size: int = 32
    epochs: int = None
    max_steps: int = None
    learning_rate: float = None
    schedule: str = "linear"
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    global_clipnorm: float = 1.0
    dropout: float = 0.1
    strategy: str = "auto"
    tpu: str = None
    mixed_precision: str = None
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    seed: int = 0
    verbose: int = 1
    export_dir: str = None

    def __post_init__(self):
        scratch = self.preset is None and self.from_mnli is None
        if self.learning_rate is None:
            self.learning_rate = 1e-3 if scratch else 2e-5
        if self.epochs is None:
            self.epochs = 1 if scratch else 3


def mnli_counterpart(preset):
    """The MNLI-fine-tuned preset of a registered pretrained one
    (`bigs_512_en` -> `bigs_512_en_mnli`), as the paper starts RTE, MRPC and
    STS-B from MNLI."""
    name = f"{preset}_mnli"
    if name not in BIGS_PRESETS:
        raise ValueError(
            f"No MNLI checkpoint is registered for {preset!r}; registered "
            f"MNLI presets: "
            f"{[p for p in BIGS_PRESETS if p.endswith('_mnli')]}. Pass "
            "--from-mnli with a preset name or folder."
        )
    return name


def build_classifier(run, task):
    """The classifier to fine-tune, with its preprocessor."""
    start = run.from_mnli or run.preset
    if start is None:
        keras.utils.set_random_seed(run.seed)
        sequence_length = run.sequence_length or SCRATCH_SEQUENCE_LENGTH
        backbone = small_backbone(
            sequence_length, padding_invariant=bool(run.padding_invariant)
        )
        preprocessor = BiGSTextClassifierPreprocessor(
            BiGSTokenizer(),
            sequence_length=sequence_length,
            buckets=run.buckets or "auto",
        )
        return BiGSClassifier(
            backbone,
            num_classes=task.num_classes,
            preprocessor=preprocessor,
            dropout=run.dropout,
        )
    kwargs = {}
    if run.padding_invariant is not None:
        kwargs["padding_invariant"] = run.padding_invariant
    preprocessor_kwargs = {}
    if run.sequence_length:
        preprocessor_kwargs["sequence_length"] = run.sequence_length
    if run.buckets:
        preprocessor_kwargs["buckets"] = run.buckets
    if preprocessor_kwargs:
        kwargs["preprocessor"] = BiGSTextClassifierPreprocessor.from_preset(
            start, **preprocessor_kwargs
        )
    # An MNLI head (3 classes) only fits MNLI itself; other tasks get a new
    # head on the MNLI-tuned backbone.
    from_mnli_head = run.from_mnli is not None and task.name != "mnli"
    return BiGSClassifier.from_preset(
        start,
        num_classes=task.num_classes,
        reinitialize_head=run.reinitialize_head or from_mnli_head,
        dropout=run.dropout,
        **kwargs,
    )


def _static_batches(setup):
    """Whether batches need a static shape: whenever the batch is split
    over replicas, and always on TPUs."""
    return setup.num_replicas > 1 or setup.kind == "tpu"


def training_dataset_fn(
    data, preprocessor, batch_size, seed, drop_remainder, buckets=None
):
    """The training input, for `DistributionSetup.distribute_dataset`.

    Args:
        data: the run's `GlueTrainingData`.
        preprocessor: the classifier's preprocessor, mapped over batches.
        batch_size: int. The global batch size.
        seed: int. Seeds the shuffle.
        drop_remainder: bool. Give every batch a static shape.
        buckets: lengths to group examples by (`bucket_batches`), or
            `None` for batches in shuffled order.

    Returns:
        `dataset_fn(input_context)`: endless, shuffled, preprocessed
        batches (per replica) of `data.train`, in a new order each pass
        (`fit` counts the steps per epoch).
    """

    def dataset_fn(input_context):
        dataset = data.train_batches(
            input_context.get_per_replica_batch_size(batch_size),
            seed=seed,
            drop_remainder=drop_remainder,
            preprocessor=preprocessor,
            buckets=buckets,
            repeat=True,
        )
        dataset = dataset.shard(
            input_context.num_input_pipelines, input_context.input_pipeline_id
        )
        return dataset.prefetch(tf.data.AUTOTUNE)

    return dataset_fn


def evaluation_dataset(data, preprocessor, batch_size, buckets=None):
    """The evaluation input: preprocessed batches of `data.evaluation`,
    in order (grouped by length with `buckets`), cached after the first
    pass.

    Args:
        data: the run's `GlueTrainingData`.
        preprocessor: the classifier's preprocessor, mapped over batches.
        batch_size: int.
        buckets: lengths to group examples by, or `None`.

    Returns:
        A `tf.data.Dataset` of known size.
    """
    dataset = data.evaluation_batches(batch_size, preprocessor, buckets)
    dataset = dataset.cache()
    # Grouped batches have no cardinality until counted (fills the cache).
    count = sum(1 for _ in dataset)
    return dataset.apply(tf.data.experimental.assert_cardinality(count))


def finetune_glue(run):
    """Fine-tune, evaluate and save; returns the evaluation results.

    Writes to `run.output_dir`: `eval_results.json` (the task's metrics on
    the evaluation split, which split that is, timing and throughput),
    `best_model/` (a keras-hub preset of the best epoch, loadable with
    `BiGSClassifier.from_preset`), `training_log.csv` and `tensorboard/`;
    with `run.export_dir`, a SavedModel of the best model there.
    """
    task = get_glue_task(run.task)
    if run.export_dir:
        # Before training: a run must not fail at its very end.
        check_destination(run.export_dir)
        if keras.backend.backend() not in ("jax", "tensorflow"):
            raise RuntimeError(
                "export_dir needs KERAS_BACKEND=jax or tensorflow; export "
                "the saved best_model later with "
                "tools/export_saved_model.py instead."
            )
    os.makedirs(run.output_dir, exist_ok=True)
    set_mixed_precision(run.mixed_precision)
    setup = setup_distribution(run.strategy, tpu=run.tpu)
    keras.utils.set_random_seed(run.seed)

    data = glue_training_data(
        task,
        run.glue_dir,
        run.validation_fraction,
        use_tfds=run.use_tfds,
        tfds_data_dir=run.tfds_data_dir,
    )
    steps_per_epoch = max(1, data.num_train // run.batch_size)
    total_steps = run.epochs * steps_per_epoch
    if run.max_steps:
        total_steps = min(total_steps, run.max_steps)
        steps_per_epoch = min(steps_per_epoch, total_steps)
    epochs = math.ceil(total_steps / steps_per_epoch)

    with setup.scope():
        classifier = build_classifier(run, task)
        preprocessor = classifier.preprocessor
        classifier.preprocessor = None  # the input pipeline preprocesses
        classifier.compile(
            optimizer=bigs_optimizer(
                run.learning_rate,
                total_steps=total_steps,
                warmup_steps=int(run.warmup_fraction * total_steps),
                schedule=run.schedule,
                weight_decay=run.weight_decay,
                global_clipnorm=run.global_clipnorm,
            ),
        )
    buckets = preprocessor.padding_lengths
    train = setup.distribute_dataset(
        training_dataset_fn(
            data,
            preprocessor,
            run.batch_size,
            run.seed,
            drop_remainder=_static_batches(setup),
            buckets=buckets,
        )
    )
    validation = evaluation_dataset(data, preprocessor, run.batch_size, buckets)
    sequence_length = preprocessor.sequence_length

    evaluation = TaskMetricsEvaluation(validation, task.metrics)
    # Bucketed batches have no one padded length to count tokens by.
    throughput = Throughput(
        run.batch_size, None if buckets else sequence_length
    )
    traces = TraceCounter(classifier)
    callbacks = [
        evaluation,
        throughput,
        keras.callbacks.CSVLogger(
            os.path.join(run.output_dir, "training_log.csv")
        ),
        keras.callbacks.TensorBoard(
            os.path.join(run.output_dir, "tensorboard")
        ),
    ]
    print(
        f"GLUE {task.name}: {data.num_train} training examples, "
        f"evaluation on {data.evaluation_split}; {total_steps} steps of "
        f"{run.batch_size} ({setup.kind}, {setup.num_replicas} replica(s)); "
        f"{classifier.count_params():,} parameters"
    )
    start = time.time()
    classifier.fit(
        train,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        verbose=run.verbose,
    )
    train_seconds = time.time() - start
    programs = traces.summary()
    print(
        "Compiled programs: "
        + (
            "; ".join(
                f"{step} {value['programs']} (lengths "
                f"{', '.join(str(n) for n in value['lengths'])})"
                for step, value in programs.items()
            )
            or "none (eager)"
        )
    )

    metrics = evaluation.evaluate()  # the best epoch's weights, restored
    classifier.preprocessor = preprocessor
    classifier.save_to_preset(os.path.join(run.output_dir, "best_model"))
    export = None
    if run.export_dir:
        report = export_for_serving(
            classifier, run.export_dir, pairs=task.is_pair
        )
        export = {
            key: report[key]
            for key in (
                "path",
                "weights_dtype",
                "total_bytes",
                "export_seconds",
            )
        }
        export["inputs"] = sorted(
            report["signatures"]["serving_default"]["inputs"]
        )
    results = {
        "task": task.name,
        "split": data.evaluation_split,
        "num_eval_examples": int(len(evaluation.labels)),
        **metrics,
        "best_epoch": evaluation.best_epoch,
        "epochs": epochs,
        "steps": total_steps,
        "num_train_examples": data.num_train,
        "train_seconds": round(train_seconds, 1),
        **throughput.summary(),
        "preset": run.from_mnli or run.preset,
        "architecture": (
            None
            if run.from_mnli or run.preset
            else small_architecture(classifier.backbone)
        ),
        "sequence_length": sequence_length,
        "padding_invariant": classifier.backbone.padding_invariant,
        "buckets": list(buckets) if buckets else None,
        "compiled_programs": programs,
        "backend": keras.backend.backend(),
        "strategy": setup.kind,
        "batch_size": run.batch_size,
        "learning_rate": run.learning_rate,
        "seed": run.seed,
        "export": export,
    }
    with open(os.path.join(run.output_dir, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return results
