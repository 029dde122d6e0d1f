import csv
import json

import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data.training_input import evaluation_dataset
from keras_bigs.data.training_input import training_dataset_fn
from keras_bigs.training import FineTuningTask
from keras_bigs.training import Recipe
from keras_bigs.training import compute_metrics
from keras_bigs.training import finetune
from keras_bigs.training.callbacks import TaskMetricsEvaluation
from keras_bigs.training.finetuning import training_steps
from keras_bigs.training.glue_finetuning import GlueFineTuning
from keras_bigs.training.token_classification import TaggingFineTuning
from tests.conftest import tiny_backbone


@pytest.mark.parametrize(
    "arguments, expected",
    [
        # 100 examples in batches of 32: 3 whole batches, or 4 with the
        # partial one.
        ((100, 32, 3), (3, 3, 9)),
        ((100, 32, 3, None, False), (4, 3, 12)),
        # A cap within the second epoch ends it early.
        ((100, 32, 3, 5), (3, 2, 5)),
        # A cap below one epoch shortens the epoch.
        ((100, 32, 3, 2), (2, 1, 2)),
        # Fewer examples than a batch: still one step an epoch.
        ((10, 32, 2), (1, 2, 2)),
    ],
)
def test_training_steps(arguments, expected):
    steps = training_steps(*arguments)
    assert (steps.steps_per_epoch, steps.epochs, steps.total) == expected


def test_glue_and_tagging_are_tasks_of_the_one_loop():
    assert issubclass(GlueFineTuning, FineTuningTask)
    assert issubclass(TaggingFineTuning, FineTuningTask)
    # GLUE epochs are whole batches; tagging counts the last partial one.
    assert GlueFineTuning.whole_batches and not TaggingFineTuning.whole_batches


POSITIVE = ["good", "great", "fine", "nice"]
NEGATIVE = ["bad", "awful", "poor", "sad"]


def sentences(count, seed):
    """Sentences whose label is whether their one adjective is positive."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    texts = [
        f"the film was {rng.choice(POSITIVE if label else NEGATIVE)}"
        for label in labels
    ]
    return texts, labels


class SentimentTask(FineTuningTask):
    """The least a new task defines: data, a model and its metric."""

    def read_data(self):
        self.train = sentences(64, seed=0)
        self.validation = sentences(24, seed=1)
        return len(self.train[0])

    def describe(self):
        return "Sentiment: 64 sentences"

    def build_model(self):
        preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16
        )
        return keras_bigs.BiGSClassifier(
            tiny_backbone(16), num_classes=2, preprocessor=preprocessor
        )

    def training_dataset_fn(
        self, preprocessor, batch_size, seed, drop_remainder
    ):
        examples = tf.data.Dataset.from_tensor_slices(self.train)

        def global_batches(size):
            return (
                examples.shuffle(64, seed=seed)
                .batch(size, drop_remainder=drop_remainder)
                .map(preprocessor)
                .repeat()
            )

        return training_dataset_fn(global_batches, batch_size)

    def evaluation(self, preprocessor, batch_size):
        batches = tf.data.Dataset.from_tensor_slices(self.validation)
        batches = batches.batch(batch_size).map(preprocessor)
        return TaskMetricsEvaluation(evaluation_dataset(batches), ["accuracy"])

    def results(self, trained):
        return {"task": "sentiment", **trained.scores}

    def save(self, model, output_dir):
        (output_dir / "best_model" / "labels.txt").write_text("neg\npos\n")
        return {"labels": ["neg", "pos"]}


@pytest.mark.backends("jax", "tensorflow")
def test_a_task_is_trained_scored_and_saved_by_the_loop(tmp_path):
    recipe = Recipe(learning_rate=3e-3, batch_size=16, verbose=0)
    results = finetune(SentimentTask(), recipe, tmp_path, epochs=2)

    assert results == json.loads((tmp_path / "eval_results.json").read_text())
    assert results["task"] == "sentiment" and results["labels"] == [
        "neg",
        "pos",
    ]
    assert results["steps"] == 8 and results["epochs"] == 2
    assert results["learning_rate"] == 3e-3 and results["batch_size"] == 16
    assert results["sequence_length"] == 16 and results["preset"] is None
    assert results["architecture"]["num_layers"] == 1
    with open(tmp_path / "training_log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    accuracies = [float(row["val_accuracy"]) for row in rows]
    best = max(accuracies)
    assert results["accuracy"] == pytest.approx(best)
    # The first epoch to reach the best score, counted from 1.
    assert results["best_epoch"] == accuracies.index(best) + 1
    assert (tmp_path / "best_model" / "labels.txt").is_file()

    # The saved model, with its preprocessor, is the best epoch's.
    classifier = keras_bigs.BiGSClassifier.from_preset(
        str(tmp_path / "best_model")
    )
    texts, labels = sentences(24, seed=1)
    predictions = classifier.predict(texts, verbose=0)
    expected = compute_metrics(["accuracy"], predictions, labels)
    assert results["accuracy"] == pytest.approx(expected["accuracy"])
