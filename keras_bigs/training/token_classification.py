"""Fine-tune and evaluate BiGS on a CoNLL-format tagging task (what
`tools/run_ner.py` runs): data, model, recipe, distribution, entity-level
evaluation, and the saved best model."""

import dataclasses
import json
import os

import keras
import numpy as np

from keras_bigs.data.conll import conll_training_dataset_fn
from keras_bigs.data.conll import read_conll
from keras_bigs.data.conll import tag_vocabulary
from keras_bigs.models.bigs_token_classifier import BiGSTokenClassifier
from keras_bigs.models.bigs_token_classifier import word_labels
from keras_bigs.models.bigs_token_classifier_preprocessor import (
    BiGSTokenClassifierPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.training.callbacks import BestEpochEvaluation
from keras_bigs.training.entity_metrics import entity_scores
from keras_bigs.training.finetuning import FineTuningTask
from keras_bigs.training.finetuning import finetune
from keras_bigs.training.recipe import Recipe
from keras_bigs.training.sequence_length import fit_to_sequence_length
from keras_bigs.training.small_bigs import small_backbone

# From scratch: CoNLL-2003 sentences fit in 128 wordpieces.
SCRATCH_SEQUENCE_LENGTH = 128
# The peak learning rate by where the model starts, unless the recipe
# names one.
LEARNING_RATES = {"scratch": 1e-3, "preset": 5e-5}


@dataclasses.dataclass
class TaggingRun:
    """What to fine-tune and how; the defaults are `tools/run_ner.py`'s.

    `preset=None` trains `small_backbone()` from scratch (1e-3, 3 epochs,
    128 tokens); from a preset 5e-5 (unless `recipe` names a learning
    rate), 3 epochs, the preset's length. `tag_column` picks the CoNLL
    column (-1: the last, CoNLL-2003's named entities); `scheme` is
    `"BIO"` or `"IOB1"` (see `entity_scores`). `recipe`: optimizer,
    schedule, batch size, precision, hardware, seed (`Recipe`,
    fine-tuning's defaults).
    """

    train_file: str
    validation_file: str
    output_dir: str = "tagging_output"
    tag_column: int = -1
    scheme: str = "BIO"
    preset: str = None
    sequence_length: int = None
    epochs: int = 3
    dropout: float = 0.1
    recipe: Recipe = dataclasses.field(default_factory=Recipe)

    def __post_init__(self):
        self.recipe = self.recipe.with_learning_rate(
            LEARNING_RATES["scratch" if self.preset is None else "preset"]
        )


class EntityEvaluation(BestEpochEvaluation):
    """Entity precision, recall and F1 and word accuracy on validation
    sentences after each epoch; the best epoch by F1 is kept (see
    `BestEpochEvaluation`).

    Args:
        sentences: the validation `ConllSentences`.
        preprocessor: the model's `BiGSTokenClassifierPreprocessor`.
        vocabulary: list of tags (label id -> tag).
        scheme: `"BIO"` or `"IOB1"`.
    """

    def __init__(self, sentences, preprocessor, vocabulary, scheme):
        super().__init__("entity_f1")
        self.sentences = sentences
        self.preprocessor = preprocessor
        self.vocabulary = list(vocabulary)
        self.scheme = scheme

    def evaluate(self):
        """Entity scores and word accuracy of the model now."""
        with self.scoring_model() as model:
            predicted = word_labels(
                model, self.preprocessor, self.sentences.words
            )
        tags = [[self.vocabulary[i] for i in row] for row in predicted]
        scores = entity_scores(self.sentences.tags, tags, self.scheme)
        pairs = [
            (p, t)
            for prediction, truth in zip(tags, self.sentences.tags)
            for p, t in zip(prediction + ["O"] * len(truth), truth)
        ]
        return {
            **{f"entity_{k}": scores[k] for k in ("precision", "recall", "f1")},
            "word_accuracy": float(np.mean([p == t for p, t in pairs])),
        }


def build_tagger(run, num_classes):
    """The token classifier to fine-tune, with its preprocessor."""
    if run.preset is None:
        keras.utils.set_random_seed(run.recipe.seed)
        sequence_length = run.sequence_length or SCRATCH_SEQUENCE_LENGTH
        return BiGSTokenClassifier(
            small_backbone(sequence_length, **run.recipe.backbone_options()),
            num_classes=num_classes,
            preprocessor=BiGSTokenClassifierPreprocessor(
                BiGSTokenizer(), sequence_length=sequence_length
            ),
            dropout=run.dropout,
        )
    kwargs = run.recipe.backbone_options()
    if run.sequence_length:
        kwargs["preprocessor"] = BiGSTokenClassifierPreprocessor.from_preset(
            run.preset, sequence_length=run.sequence_length
        )
    tagger = BiGSTokenClassifier.from_preset(
        run.preset, num_classes=num_classes, dropout=run.dropout, **kwargs
    )
    return fit_to_sequence_length(tagger, run.sequence_length, run.preset)


class TaggingFineTuning(FineTuningTask):
    """A CoNLL tagging task for `finetune`: the training and validation
    files, the token classifier of `build_tagger`, entity F1.

    Args:
        run: the `TaggingRun`.
    """

    whole_batches = False

    def __init__(self, run):
        self.run = run
        self.preset = run.preset

    def read_data(self):
        self.train = read_conll(self.run.train_file, self.run.tag_column)
        self.validation = read_conll(
            self.run.validation_file, self.run.tag_column
        )
        self.vocabulary = tag_vocabulary(self.train, self.validation)
        return len(self.train)

    def describe(self):
        return (
            f"Tagging {self.run.train_file}: {len(self.train)} training "
            f"sentences, {len(self.validation)} validation sentences, "
            f"{len(self.vocabulary)} tags"
        )

    def build_model(self):
        return build_tagger(self.run, len(self.vocabulary))

    def training_dataset_fn(
        self, preprocessor, batch_size, seed, drop_remainder
    ):
        return conll_training_dataset_fn(
            self.train, self.vocabulary, preprocessor, batch_size, seed
        )

    def evaluation(self, preprocessor, batch_size):
        return EntityEvaluation(
            self.validation, preprocessor, self.vocabulary, self.run.scheme
        )

    def results(self, trained):
        return {
            "train_file": self.run.train_file,
            "validation_file": self.run.validation_file,
            "num_train_sentences": len(self.train),
            "num_validation_sentences": len(self.validation),
            "tags": self.vocabulary,
            "scheme": self.run.scheme,
            # precision, recall and f1 of entities; word_accuracy
            **{
                name.removeprefix("entity_"): value
                for name, value in trained.scores.items()
            },
        }

    def save(self, model, output_dir):
        with open(
            os.path.join(output_dir, "best_model", "tags.json"), "w"
        ) as f:
            json.dump(self.vocabulary, f)
        return {}


def finetune_tagger(run):
    """Fine-tune, evaluate and save; returns the evaluation results.

    Writes to `run.output_dir`: `eval_results.json` (entity precision,
    recall and F1 and word accuracy on the validation file, timing),
    `best_model/` (a keras-hub preset of the best epoch) with
    `best_model/tags.json` (label id -> tag), `training_log.csv` and
    `tensorboard/`.
    """
    return finetune(
        TaggingFineTuning(run), run.recipe, run.output_dir, run.epochs
    )
