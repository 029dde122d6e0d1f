"""The paper's Table 1 at any scale (what `tools/ablation_study.py` runs):
pretrain GATED/SSM (BiGS), STACK/ATT (BERT), GATED/ATT and STACK/SSM at
matched parameter counts on one corpus with one budget, score them on
held-out text, fine-tune each and a from-scratch BiGS on GLUE, and tabulate.

Every stage keeps its result on disk and a rerun skips it: a pretraining run
resumes from its newest checkpoint, an interrupted GLUE fine-tuning (minutes
long) starts again.
"""

import dataclasses
import json
import math
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf

from keras_bigs.data.glue_tasks import get_glue_task
from keras_bigs.data.pretraining_corpus import CORPUS_FIELDS
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_masked_lm_preprocessor import (
    BiGSMaskedLMPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.training.glue_finetuning import GlueRun
from keras_bigs.training.glue_finetuning import finetune_glue
from keras_bigs.training.masked_lm_evaluation import unigram_counts
from keras_bigs.training.masked_lm_evaluation import unigram_scores
from keras_bigs.training.masked_lm_pretraining import PretrainRun
from keras_bigs.training.masked_lm_pretraining import pretrain
from keras_bigs.training.paper_table1 import paper_table1_markdown
from keras_bigs.training.recipe import PRETRAINING_DEFAULTS
from keras_bigs.training.recipe import Recipe
from keras_bigs.training.small_bigs import small_backbone


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One row of the paper's Table 1: a block type and a routing layer
    (`BiGSBackbone`'s `block_type` and `routing`)."""

    label: str
    block_type: str
    routing: str


ARCHITECTURES = {
    "gated_ssm": Architecture("GATED/SSM", "gated", "ssm"),
    "stack_attention": Architecture("STACK/ATT", "stack", "attention"),
    "gated_attention": Architecture("GATED/ATT", "gated", "attention"),
    "stack_ssm": Architecture("STACK/SSM", "stack", "ssm"),
}
# The architecture that the from-scratch model (no pretraining) copies, and
# the one the others match in parameters.
REFERENCE = "gated_ssm"
SCRATCH = "gated_ssm_scratch"
DEFAULT_GLUE_TASKS = ("sst2", "mrpc", "stsb", "rte", "cola")
# Training batches whose masked labels give the unigram counts.
UNIGRAM_BATCHES = 400

# What the paper's Table 1 reports (BERT-large scale, 11B tokens, GLUE
# dev), as its text states it.
PAPER_FINDING = (
    "Paper, Table 1 (BERT-large size, 11B tokens, GLUE dev): GATED/SSM "
    "matches STACK/ATT (BERT) on average; STACK/SSM falls well short of "
    "both. The ordering: GATED/SSM close to STACK/ATT, both above STACK/SSM."
)


def _study_recipe():
    return Recipe(**PRETRAINING_DEFAULTS, learning_rate=1e-3, verbose=2)


def model_label(name):
    """`"gated_ssm"` -> `"GATED/SSM"`; the from-scratch model is marked."""
    if name == SCRATCH:
        return f"{ARCHITECTURES[REFERENCE].label} (no pretraining)"
    return ARCHITECTURES[name].label


@dataclasses.dataclass
class AblationStudy:
    """What to compare and with what budget; the defaults are
    `tools/ablation_study.py`'s.

    The corpus fields are `PretrainRun`'s (exactly one of `text_files`,
    `tfds_name`, `hdf5_files`). `num_layers`, `hidden_dim`, `state_dim`
    are shared by every architecture; `intermediate_dim` is GATED/SSM's,
    and each other architecture gets the `intermediate_dim` that brings its
    encoder (the layers between embeddings and heads) closest to GATED/SSM's
    parameter count (`matched_architectures`). Every model pretrains
    `pretrain_steps` steps of `recipe.batch_size` x `sequence_length`
    tokens with the same `recipe` (pretraining's, `PRETRAINING_DEFAULTS`,
    at 1e-3; its `freeze_ssm` applies to fine-tuning only), is scored on
    held-out documents (one in `heldout_every`) every `evaluate_every`
    steps, and is fine-tuned with one recipe (`glue_recipe`) on each of
    `glue_tasks` (from `glue_dir`; none when `glue_dir` is `None`).
    Fine-tuning runs padding-invariant, on batches grouped by length.
    """

    output_dir: str
    text_files: list = None
    document_separator: str = "line"
    tfds_name: str = None
    tfds_split: str = "train"
    tfds_text_key: str = "text"
    hdf5_files: list = None
    architectures: tuple = tuple(ARCHITECTURES)
    num_layers: int = 4
    hidden_dim: int = 128
    intermediate_dim: int = 256
    state_dim: int = 16
    sequence_length: int = 128
    pretrain_steps: int = 2000
    evaluate_every: int = 250
    heldout_every: int = 50
    glue_dir: str = None
    glue_tasks: tuple = DEFAULT_GLUE_TASKS
    glue_learning_rate: float = 3e-4
    glue_epochs: int = 3
    glue_max_steps: int = 600
    glue_batch_size: int = 32
    recipe: Recipe = dataclasses.field(default_factory=_study_recipe)

    def __post_init__(self):
        self.architectures = tuple(self.architectures)
        self.glue_tasks = tuple(self.glue_tasks)
        unknown = [a for a in self.architectures if a not in ARCHITECTURES]
        if unknown or not self.architectures:
            raise ValueError(
                f"Unknown architecture(s) {unknown}; choose from "
                f"{list(ARCHITECTURES)}."
            )
        if REFERENCE not in self.architectures:
            raise ValueError(
                f"The study needs {REFERENCE!r} (BiGS): the others are "
                "matched to its parameter count and compared with it."
            )
        if self.heldout_every < 2:
            raise ValueError(
                f"heldout_every must be at least 2: the study scores every "
                f"model on held-out text (got {self.heldout_every})."
            )
        for task in self.glue_tasks:
            get_glue_task(task)  # names the task and the known ones
        if self.evaluate_every > self.pretrain_steps:
            self.evaluate_every = self.pretrain_steps

    def path(self, *parts):
        return os.path.join(self.output_dir, *parts)


def encoder_parameters(backbone):
    """Parameters of the layers between the embeddings and the pooler: what
    the architectures differ in."""
    return int(sum(layer.count_params() for layer in backbone.bigs_layers))


def _arguments(study, architecture, intermediate_dim):
    """`small_backbone` arguments of one architecture at one width."""
    return {
        "num_layers": study.num_layers,
        "hidden_dim": study.hidden_dim,
        "intermediate_dim": intermediate_dim,
        "state_dim": study.state_dim,
        "block_type": architecture.block_type,
        "routing": architecture.routing,
    }


def _backbone(study, architecture, intermediate_dim):
    return small_backbone(
        study.sequence_length,
        **_arguments(study, architecture, intermediate_dim),
    )


def matched_architectures(study):
    """Each architecture's `small_backbone` arguments, with the
    `intermediate_dim` (a multiple of 8) that matches its encoder to
    GATED/SSM's, and the resulting parameter counts.

    Encoder parameters grow linearly with `intermediate_dim`, so two
    widths give the line and the matching width is read off it.

    Returns:
        `{name: {"label", "arguments", "encoder_parameters",
        "parameters"}}`: `arguments` for `small_backbone`,
        `parameters` the whole backbone's.
    """
    reference = _backbone(
        study, ARCHITECTURES[REFERENCE], study.intermediate_dim
    )
    target = encoder_parameters(reference)
    matched = {}
    for name in study.architectures:
        architecture = ARCHITECTURES[name]
        width = study.intermediate_dim
        if name != REFERENCE:
            low = encoder_parameters(_backbone(study, architecture, width))
            high = encoder_parameters(_backbone(study, architecture, 2 * width))
            per_unit = (high - low) / width
            width = max(
                8, int(round((width + (target - low) / per_unit) / 8)) * 8
            )
        backbone = _backbone(study, architecture, width)
        matched[name] = {
            "label": architecture.label,
            "arguments": _arguments(study, architecture, width),
            "encoder_parameters": encoder_parameters(backbone),
            "parameters": int(backbone.count_params()),
        }
    return matched


def _pretrain_run(study, name, arguments):
    # The study's `glue_dir` is fine-tuning data, never the corpus.
    corpus = [field for field in CORPUS_FIELDS if field != "glue_dir"]
    return PretrainRun(
        output_dir=study.path("pretrain", name),
        **{field: getattr(study, field) for field in corpus},
        architecture=arguments,
        sequence_length=study.sequence_length,
        steps=study.pretrain_steps,
        checkpoint_every=study.evaluate_every,
        keep_checkpoints=2,
        heldout_every=study.heldout_every,
        recipe=dataclasses.replace(study.recipe, freeze_ssm=False),
    )


def glue_recipe(study):
    """The recipe of every GLUE fine-tuning: fine-tuning's schedule and
    warm-up at the study's GLUE learning rate and batch size, with the
    study's optimizer constants, hardware, seed and `freeze_ssm`."""
    finetuning = Recipe()
    return dataclasses.replace(
        study.recipe,
        learning_rate=study.glue_learning_rate,
        batch_size=study.glue_batch_size,
        schedule=finetuning.schedule,
        warmup_fraction=finetuning.warmup_fraction,
    )


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def _write_json(path, value):
    # Written whole, then renamed: a stopped run never leaves half a file
    # that a rerun would take for a finished stage.
    with open(path + ".partial", "w") as f:
        json.dump(value, f, indent=2)
    os.replace(path + ".partial", path)


def pretrain_stage(study, name, arguments):
    """Pretrain one architecture (skipped when its results are on disk
    for the same budget); returns its `pretrain_results.json`."""
    run = _pretrain_run(study, name, arguments)
    results_path = os.path.join(run.output_dir, "pretrain_results.json")
    if os.path.isfile(results_path):
        results = _read_json(results_path)
        if results.get("steps") == study.pretrain_steps:
            print(f"[{model_label(name)}] pretrained: kept {results_path}")
            return results
    print(f"[{model_label(name)}] pretraining")
    return pretrain(run)


def scratch_stage(study, arguments):
    """Save the from-scratch model: GATED/SSM as initialised with the
    study's seed, with the pretrained models' preprocessor, so that it is
    fine-tuned by the same code from the same kind of preset."""
    model_dir = study.path("pretrain", SCRATCH, "model")
    if os.path.isdir(model_dir):
        return model_dir
    keras.utils.set_random_seed(study.recipe.seed)
    masked_lm = BiGSMaskedLM(
        small_backbone(study.sequence_length, **arguments),
        preprocessor=BiGSMaskedLMPreprocessor(
            BiGSTokenizer(), sequence_length=study.sequence_length
        ),
    )
    partial = model_dir + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    masked_lm.save_to_preset(partial)
    os.replace(partial, model_dir)
    return model_dir


def unigram_stage(study, arguments):
    """The unigram baseline on the held-out batches every model is scored
    on: counts from the masked labels of `UNIGRAM_BATCHES` training
    batches. Returns (and keeps) `unigram_baseline.json`."""
    path = study.path("unigram_baseline.json")
    if os.path.isfile(path):
        return _read_json(path)
    run = _pretrain_run(study, REFERENCE, arguments)
    tokenizer = BiGSTokenizer()
    corpus = run.corpus(tokenizer)
    batch_size, seed = run.recipe.batch_size, run.recipe.seed
    training = corpus.training_dataset_fn(batch_size, seed)(
        tf.distribute.InputContext()
    )
    counts = unigram_counts(
        training.take(UNIGRAM_BATCHES).as_numpy_iterator(),
        tokenizer.vocabulary_size(),
    )
    heldout = corpus.evaluation_dataset(batch_size, seed, heldout=True)
    scores = unigram_scores(counts, heldout.as_numpy_iterator())
    scores["token_text"] = tokenizer.id_to_token(scores["token"])
    scores["counted_tokens"] = int(counts.sum())
    _write_json(path, scores)
    return scores


def glue_stage(study, name, task):
    """Fine-tune one model on one GLUE task (skipped when its
    `eval_results.json` is on disk); returns the results."""
    output_dir = study.path("glue", name, task)
    results_path = os.path.join(output_dir, "eval_results.json")
    if os.path.isfile(results_path):
        print(f"[{model_label(name)}] {task}: kept {results_path}")
        return _read_json(results_path)
    print(f"[{model_label(name)}] fine-tuning on {task}")
    return finetune_glue(
        GlueRun(
            task=task,
            glue_dir=study.glue_dir,
            output_dir=output_dir,
            preset=study.path("pretrain", name, "model"),
            padding_invariant=True,
            sequence_length=study.sequence_length,
            epochs=study.glue_epochs,
            max_steps=study.glue_max_steps,
            recipe=glue_recipe(study),
        )
    )


def glue_score(task, results):
    """A task's main GLUE metric (its first: accuracy, F1 for MRPC,
    Pearson for STS-B, Matthews for CoLA) x 100, as GLUE tables print.

    A model that predicts one constant has no correlation with the labels
    (Pearson's is undefined, NaN): it scores 0, so that the average stays
    defined and counts it as having learned nothing."""
    value = results[get_glue_task(task).metrics[0]]
    return 0.0 if math.isnan(value) else 100 * value


def ordering_verdict(glue_average):
    """Whether the paper's ordering holds in `glue_average` (`{name:
    average}`): GATED/SSM and STACK/ATT both above STACK/SSM, and how far
    GATED/SSM is from STACK/ATT. `None` where an architecture is missing."""
    needed = ("gated_ssm", "stack_attention", "stack_ssm")
    if any(name not in glue_average for name in needed):
        return None
    gated, stack_att, stack_ssm = (glue_average[n] for n in needed)
    return {
        "gated_ssm_minus_stack_attention": gated - stack_att,
        "gated_ssm_minus_stack_ssm": gated - stack_ssm,
        "stack_attention_minus_stack_ssm": stack_att - stack_ssm,
        "both_above_stack_ssm": bool(
            gated > stack_ssm and stack_att > stack_ssm
        ),
    }


def results_table(results):
    """The study as a Markdown table: one row per model; encoder
    parameters, final held-out masked-token loss and accuracy, each GLUE
    task's main metric and their average; the unigram baseline below.
    The paper's Table 1 (top) follows, under a title that attributes it to
    the paper."""
    tasks = results["glue_tasks"]
    header = ["model", "encoder params", "MLM loss", "MLM acc"]
    header += [f"{task} ({get_glue_task(task).metrics[0]})" for task in tasks]
    header += ["GLUE avg"] if tasks else []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, model in results["models"].items():
        heldout = model.get("heldout")
        row = [
            model_label(name),
            f"{model['encoder_parameters']:,}",
            f"{heldout['loss']:.3f}" if heldout else "-",
            f"{100 * heldout['accuracy']:.1f}" if heldout else "-",
        ]
        row += [f"{model['glue'][task]:.1f}" for task in tasks]
        row += [f"{model['glue_average']:.1f}"] if tasks else []
        lines.append("| " + " | ".join(row) + " |")
    unigram = results["unigram_baseline"]
    lines.append(
        f"| unigram baseline (always {unigram['token_text']!r}) | - | "
        f"{unigram['loss']:.3f} | {100 * unigram['accuracy']:.1f} |"
        + " - |"
        * (len(tasks) + (1 if tasks else 0))
    )
    return "\n".join(lines) + "\n\n" + paper_table1_markdown()


def study_budget(study):
    """What every model gets: tokens, sizes, steps, rates, seed."""
    recipe = study.recipe
    sizes_and_steps = (
        "num_layers",
        "hidden_dim",
        "state_dim",
        "sequence_length",
        "pretrain_steps",
        "evaluate_every",
        "heldout_every",
        "glue_learning_rate",
        "glue_epochs",
        "glue_max_steps",
        "glue_batch_size",
    )
    return {
        "tokens_per_model": study.pretrain_steps
        * recipe.batch_size
        * study.sequence_length,
        **{key: getattr(study, key) for key in sizes_and_steps},
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
        "seed": recipe.seed,
    }


def run_ablation_study(study):
    """Run (or finish) the study; write `results.json` and `results.md`
    to `study.output_dir` and return the results.

    `results.json` holds the budget, each model's architecture and
    parameter counts, its held-out curve (`heldout_curve`: step,
    tokens_seen, loss, accuracy), final held-out scores, GLUE scores and
    average, the unigram baseline, and `ordering` (`ordering_verdict`).
    """
    os.makedirs(study.output_dir, exist_ok=True)
    started = time.time()
    matched = matched_architectures(study)
    for name, model in matched.items():
        print(
            f"{model['label']:>10}: intermediate_dim "
            f"{model['arguments']['intermediate_dim']}, encoder parameters "
            f"{model['encoder_parameters']:,} (backbone "
            f"{model['parameters']:,})"
        )
    _write_json(study.path("architectures.json"), matched)

    models = {}
    for name, model in matched.items():
        pretrained = pretrain_stage(study, name, model["arguments"])
        curve = pretrained["heldout"]
        models[name] = {
            **model,
            "heldout_curve": curve,
            "heldout": curve[-1],
            "pretrain_seconds": pretrained["seconds_this_run"],
            "tokens_per_s": pretrained.get("tokens_per_s"),
        }
    reference = matched[REFERENCE]
    scratch_stage(study, reference["arguments"])
    models[SCRATCH] = {**reference, "heldout_curve": None, "heldout": None}
    unigram = unigram_stage(study, reference["arguments"])

    tasks = list(study.glue_tasks) if study.glue_dir else []
    for name, model in models.items():
        model["glue"] = {
            task: glue_score(task, glue_stage(study, name, task))
            for task in tasks
        }
        if tasks:
            model["glue_average"] = float(np.mean(list(model["glue"].values())))
    glue_average = {
        name: model["glue_average"]
        for name, model in models.items()
        if "glue_average" in model
    }
    results = {
        "budget": study_budget(study),
        "glue_tasks": tasks,
        "models": models,
        "unigram_baseline": unigram,
        "ordering": ordering_verdict(glue_average),
        "paper": PAPER_FINDING,
        "backend": keras.backend.backend(),
        "seconds_this_run": round(time.time() - started, 1),
    }
    _write_json(study.path("results.json"), results)
    with open(study.path("results.md"), "w") as f:
        f.write(results_table(results) + "\n")
    return results
