"""Fine-tune and evaluate BiGS on a long-document SCROLLS task (what
`tools/run_scrolls.py` runs): ContractNLI as pair classification, QuALITY
as multiple choice, through the shared fine-tuning loop."""

import dataclasses
import os

import keras

from keras_bigs.data.glue_training_data import GlueTrainingData
from keras_bigs.data.scrolls import SCROLLS_TASKS
from keras_bigs.data.scrolls import read_scrolls_jsonl
from keras_bigs.data.scrolls import scrolls_dataset
from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_multiple_choice import BiGSMultipleChoice
from keras_bigs.models.bigs_multiple_choice_preprocessor import (
    BiGSMultipleChoicePreprocessor,
)
from keras_bigs.models.bigs_text_classifier_preprocessor import (
    BiGSTextClassifierPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.training.finetuning import ExamplesFineTuning
from keras_bigs.training.finetuning import finetune
from keras_bigs.training.recipe import Recipe
from keras_bigs.training.sequence_length import fit_to_sequence_length
from keras_bigs.training.small_bigs import small_backbone

# The paper fine-tunes its SCROLLS models at 4,096 tokens.
SCRATCH_SEQUENCE_LENGTH = 4096
LEARNING_RATES = {"scratch": 1e-3, "preset": 2e-5}


@dataclasses.dataclass
class ScrollsRun:
    """What to fine-tune and how; the defaults are `tools/run_scrolls.py`'s.

    `task`: `"contract_nli"` or `"quality"`. `data_dir` holds the task's
    `train.jsonl` and `validation.jsonl` (tau/scrolls layout); the model
    is scored on `validation.jsonl`. `preset=None` trains a
    `small_backbone(hidden_dim=..., num_layers=..., dt_min=...,
    dt_max=...)` from scratch.
    `sequence_length` beyond the preset's position table extends it
    (`extend_sequence_length`). Inputs are truncated from the document's
    end: the query (and QuALITY's option) is kept whole.
    `padding_invariant` and `buckets` as in `GlueRun`; `recipe` the shared
    recipe (`--remat` for long inputs).
    """

    task: str
    data_dir: str
    output_dir: str = "scrolls_output"
    preset: str = None
    sequence_length: int = None
    padding_invariant: bool = None
    buckets: tuple = None
    hidden_dim: int = 128
    num_layers: int = 2
    dt_min: float = 0.01
    dt_max: float = 1.0
    epochs: int = None
    max_steps: int = None
    dropout: float = 0.1
    recipe: Recipe = dataclasses.field(default_factory=Recipe)

    def __post_init__(self):
        if self.task not in SCROLLS_TASKS:
            raise ValueError(
                f"Unknown SCROLLS task {self.task!r}; expected one of "
                f"{sorted(SCROLLS_TASKS)}."
            )
        scratch = self.preset is None
        self.recipe = self.recipe.with_learning_rate(
            LEARNING_RATES["scratch" if scratch else "preset"]
        )
        if self.epochs is None:
            self.epochs = 1 if scratch else 3


def task_classes(task):
    """`(model class, preprocessor class)` of a SCROLLS task."""
    if SCROLLS_TASKS[task].multiple_choice:
        return BiGSMultipleChoice, BiGSMultipleChoicePreprocessor
    return BiGSClassifier, BiGSTextClassifierPreprocessor


def build_scrolls_model(run):
    """The task model to fine-tune, with its preprocessor (truncating the
    document, never the query)."""
    model_class, preprocessor_class = task_classes(run.task)
    task = SCROLLS_TASKS[run.task]
    head = {} if task.multiple_choice else {"num_classes": task.num_classes}
    preprocessor_kwargs = {"truncate": "waterfall"}
    if run.buckets:
        preprocessor_kwargs["buckets"] = run.buckets
    if run.preset is None:
        keras.utils.set_random_seed(run.recipe.seed)
        length = run.sequence_length or SCRATCH_SEQUENCE_LENGTH
        backbone = small_backbone(
            length,
            hidden_dim=run.hidden_dim,
            intermediate_dim=2 * run.hidden_dim,
            num_layers=run.num_layers,
            dt_min=run.dt_min,
            dt_max=run.dt_max,
            padding_invariant=bool(run.padding_invariant),
            **run.recipe.backbone_options(),
        )
        preprocessor = preprocessor_class(
            BiGSTokenizer(), sequence_length=length, **preprocessor_kwargs
        )
        return model_class(
            backbone, preprocessor=preprocessor, dropout=run.dropout, **head
        )
    kwargs = run.recipe.backbone_options()
    if run.padding_invariant is not None:
        kwargs["padding_invariant"] = run.padding_invariant
    model = model_class.from_preset(
        run.preset,
        dropout=run.dropout,
        preprocessor=None,
        reinitialize_head=True,
        **head,
        **kwargs,
    )
    model = fit_to_sequence_length(model, run.sequence_length, run.preset)
    length = model.backbone.max_sequence_length
    model.preprocessor = preprocessor_class(
        BiGSTokenizer.from_preset(run.preset),
        sequence_length=length,
        **preprocessor_kwargs,
    )
    model.backbone.check_preprocessor(model.preprocessor)
    return model


class ScrollsFineTuning(ExamplesFineTuning):
    """A SCROLLS task for `finetune`: `train.jsonl` and `validation.jsonl`
    of `run.data_dir`, the model of `build_scrolls_model`, the paper's
    metric (accuracy for ContractNLI, exact match for QuALITY).

    Args:
        run: the `ScrollsRun`.
    """

    def __init__(self, run):
        self.run = run
        self.task = SCROLLS_TASKS[run.task]
        self.preset = run.preset

    def read_data(self):
        def read(split):
            path = os.path.join(self.run.data_dir, f"{split}.jsonl")
            return read_scrolls_jsonl(self.run.task, path)

        train, validation = read("train"), read("validation")
        self.data = GlueTrainingData(
            task=self.task,
            evaluation_split="validation",
            train=scrolls_dataset(self.run.task, train),
            evaluation=scrolls_dataset(self.run.task, validation),
            num_train=len(train),
            num_evaluation=len(validation),
        )
        return len(train)

    def describe(self):
        return (
            f"SCROLLS {self.task.name}: {self.data.num_train} training "
            f"examples, evaluation on {self.data.num_evaluation} of "
            "validation.jsonl"
        )

    def build_model(self):
        return build_scrolls_model(self.run)


def finetune_scrolls(run):
    """Fine-tune, evaluate on `validation.jsonl` and save; returns the
    results.

    Writes to `run.output_dir`: `eval_results.json` (the task's metric,
    `accuracy` or `exact_match`, and `num_eval_examples`, with timing and
    the recipe), `best_model/` (a keras-hub preset of the best epoch),
    `training_log.csv` and `tensorboard/`.
    """
    return finetune(
        ScrollsFineTuning(run),
        run.recipe,
        run.output_dir,
        run.epochs,
        run.max_steps,
    )
