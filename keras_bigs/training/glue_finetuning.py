"""Fine-tune and evaluate BiGS on a GLUE task (what `tools/run_glue.py`
runs): data, model, recipe, distribution, evaluation with the task's
official metrics, and the saved best model."""

import dataclasses

import keras

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
from keras_bigs.training.finetuning import ExamplesFineTuning
from keras_bigs.training.finetuning import finetune
from keras_bigs.training.recipe import Recipe
from keras_bigs.training.sequence_length import fit_to_sequence_length
from keras_bigs.training.small_bigs import small_backbone

# From scratch: SST-2's sentences fit in 64 tokens.
SCRATCH_SEQUENCE_LENGTH = 64
# The peak learning rate by where the model starts, unless the recipe
# names one.
LEARNING_RATES = {"scratch": 1e-3, "preset": 2e-5}


@dataclasses.dataclass
class GlueRun:
    """What to fine-tune and how; the defaults are `tools/run_glue.py`'s.

    `preset=None` trains `small_backbone()` (small_bigs.py) from scratch.
    `padding_invariant`: build (or load) the backbone padding-invariant;
    `None` keeps the preset's setting (off from scratch). A
    padding-invariant model trains and evaluates on batches grouped by
    length, padded to `buckets` (default: powers of two from 16 up to the
    sequence length).
    Learning rate (unless `recipe` names one), epochs and sequence length
    default by that choice: from scratch 1e-3, 1 epoch, 64 tokens; from a
    preset 2e-5, 3 epochs, the preset's length. `reinitialize_head`: a new
    head even where the preset has one of the task's size. `export_dir`:
    also export the best model there as a SavedModel for TF Serving
    (`keras_bigs.export_for_serving`; sentence pairs for pair tasks).
    `recipe`: optimizer, schedule, batch size, precision, hardware, seed
    (`Recipe`, fine-tuning's defaults). `skip_malformed`: skip malformed
    TSV rows (counted) instead of stopping at the first.
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
    epochs: int = None
    max_steps: int = None
    dropout: float = 0.1
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    skip_malformed: bool = False
    export_dir: str = None
    recipe: Recipe = dataclasses.field(default_factory=Recipe)

    def __post_init__(self):
        scratch = self.preset is None and self.from_mnli is None
        self.recipe = self.recipe.with_learning_rate(
            LEARNING_RATES["scratch" if scratch else "preset"]
        )
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
        keras.utils.set_random_seed(run.recipe.seed)
        sequence_length = run.sequence_length or SCRATCH_SEQUENCE_LENGTH
        backbone = small_backbone(
            sequence_length,
            padding_invariant=bool(run.padding_invariant),
            **run.recipe.backbone_options(),
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
    kwargs = run.recipe.backbone_options()
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
    classifier = BiGSClassifier.from_preset(
        start,
        num_classes=task.num_classes,
        reinitialize_head=run.reinitialize_head or from_mnli_head,
        dropout=run.dropout,
        **kwargs,
    )
    return fit_to_sequence_length(classifier, run.sequence_length, start)


def check_export(export_dir):
    """Refuse an export destination before training: a run must not fail
    at its very end."""
    check_destination(export_dir)
    if keras.backend.backend() not in ("jax", "tensorflow"):
        raise RuntimeError(
            "export_dir needs KERAS_BACKEND=jax or tensorflow; export the "
            "saved best_model later with tools/export_saved_model.py "
            "instead."
        )


def export_summary(classifier, export_dir, pairs):
    """Export for serving; the report's path, sizes, time and inputs."""
    report = export_for_serving(classifier, export_dir, pairs=pairs)
    keys = ("path", "weights_dtype", "total_bytes", "export_seconds")
    summary = {key: report[key] for key in keys}
    summary["inputs"] = sorted(
        report["signatures"]["serving_default"]["inputs"]
    )
    return summary


class GlueFineTuning(ExamplesFineTuning):
    """A GLUE task for `finetune`: the task's train and evaluation splits,
    the classifier of `build_classifier`, the task's official metrics.

    Args:
        run: the `GlueRun`.
    """

    def __init__(self, run):
        self.run = run
        self.task = get_glue_task(run.task)
        self.preset = run.from_mnli or run.preset
        if run.export_dir:
            check_export(run.export_dir)

    def read_data(self):
        run = self.run
        self.data = glue_training_data(
            self.task,
            run.glue_dir,
            run.validation_fraction,
            use_tfds=run.use_tfds,
            tfds_data_dir=run.tfds_data_dir,
            skip_malformed=run.skip_malformed,
        )
        return self.data.num_train

    def describe(self):
        return (
            f"GLUE {self.task.name}: {self.data.num_train} training "
            f"examples, evaluation on {self.data.evaluation_split}"
        )

    def build_model(self):
        return build_classifier(self.run, self.task)

    def save(self, model, output_dir):
        if not self.run.export_dir:
            return {"export": None}
        export = export_summary(model, self.run.export_dir, self.task.is_pair)
        return {"export": export}


def finetune_glue(run):
    """Fine-tune, evaluate and save; returns the evaluation results.

    Writes to `run.output_dir`: `eval_results.json` (the task's metrics on
    the evaluation split, which split that is, timing and throughput),
    `best_model/` (a keras-hub preset of the best epoch, loadable with
    `BiGSClassifier.from_preset`), `training_log.csv` and `tensorboard/`;
    with `run.export_dir`, a SavedModel of the best model there.
    """
    return finetune(
        GlueFineTuning(run),
        run.recipe,
        run.output_dir,
        run.epochs,
        run.max_steps,
    )
