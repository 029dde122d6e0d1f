"""One fine-tuning loop for every task that trains a model on labelled
examples and keeps its best epoch by a validation score (GLUE
classification and regression, token tagging, ...): a task is the data it
reads, the model it builds and the evaluation that scores it."""

import dataclasses
import json
import math
import os
import time

import keras

from keras_bigs.training.callbacks import TaskMetricsEvaluation
from keras_bigs.training.callbacks import Throughput
from keras_bigs.training.callbacks import logging_callbacks
from keras_bigs.training.compilations import TraceCounter
from keras_bigs.training.compilations import print_programs
from keras_bigs.training.small_bigs import small_architecture


class FineTuningTask:
    """The parts of a fine-tuning run that depend on its task; `finetune`
    does the rest (setup, optimizer, training, the best model, results).

    Subclasses define the methods that raise `NotImplementedError`.

    Attributes:
        preset: the preset the model starts from; `None` for
            `small_backbone()` from scratch (the results then give its
            architecture).
        whole_batches: bool. An epoch is `num_train // batch_size` steps
            (`True`) or `ceil(num_train / batch_size)` (`False`).

    Example:
    ```python
    from keras_bigs.training import GlueRun
    from keras_bigs.training.glue_finetuning import GlueFineTuning

    task = GlueFineTuning(GlueRun(task="wnli", glue_dir="../shared/glue"))
    task.read_data()  # 635
    task.describe()  # "GLUE wnli: 635 training examples, evaluation on dev"
    # finetune(task, run.recipe, run.output_dir, run.epochs) trains it.
    ```
    """

    preset = None
    whole_batches = True

    def read_data(self):
        """Read the data, after the recipe's setup and seeding; returns the
        number of training examples."""
        raise NotImplementedError

    def describe(self):
        """One line on the data, printed before training."""
        raise NotImplementedError

    def build_model(self):
        """The task model with its preprocessor; called under the
        distribution scope."""
        raise NotImplementedError

    def training_dataset_fn(
        self, preprocessor, batch_size, seed, drop_remainder
    ):
        """The training input, for `DistributionSetup.distribute_dataset`:
        endless preprocessed batches; `drop_remainder` asks for static
        batch shapes."""
        raise NotImplementedError

    def evaluation(self, preprocessor, batch_size):
        """The `BestEpochEvaluation` callback that scores every epoch."""
        raise NotImplementedError

    def buckets(self, preprocessor):
        """The lengths batches are padded to; `None`: one length."""
        return None

    def results(self, trained):
        """The task's entries in `eval_results.json`, from the
        `FineTuned` run."""
        raise NotImplementedError

    def save(self, model, output_dir):
        """Write what the task keeps beside `best_model/`; returns entries
        for `eval_results.json`."""
        return {}


class ExamplesFineTuning(FineTuningTask):
    """A task whose data is a `GlueTrainingData` (`self.data`, from
    `read_data`) of `(x, label)` examples and whose model's preprocessor
    packs them: batches grouped by the preprocessor's length buckets,
    scored each epoch with `self.task.metrics`. GLUE and SCROLLS
    fine-tuning are two."""

    def buckets(self, preprocessor):
        return preprocessor.padding_lengths

    def training_dataset_fn(
        self, preprocessor, batch_size, seed, drop_remainder
    ):
        return self.data.training_dataset_fn(
            preprocessor,
            batch_size,
            seed,
            drop_remainder,
            self.buckets(preprocessor),
        )

    def evaluation(self, preprocessor, batch_size):
        validation = self.data.evaluation_dataset(
            preprocessor, batch_size, self.buckets(preprocessor)
        )
        return TaskMetricsEvaluation(validation, self.task.metrics)

    def results(self, trained):
        buckets = self.buckets(trained.model.preprocessor)
        return {
            "task": self.task.name,
            "split": self.data.evaluation_split,
            "num_eval_examples": int(len(trained.evaluation.labels)),
            **trained.scores,
            "num_train_examples": self.data.num_train,
            "padding_invariant": trained.model.backbone.padding_invariant,
            "buckets": list(buckets) if buckets else None,
            "compiled_programs": trained.programs,
        }


@dataclasses.dataclass(frozen=True)
class TrainingSteps:
    """How long a run trains: `epochs` of `steps_per_epoch`, `total` steps
    in all (the last epoch may stop early)."""

    steps_per_epoch: int
    epochs: int
    total: int


def training_steps(num_train, batch_size, epochs, max_steps=None, whole=True):
    """`epochs` passes over `num_train` examples, capped at `max_steps`.

    Args:
        num_train: int. Training examples.
        batch_size: int. The global batch size.
        epochs: int.
        max_steps: int or `None`. The most steps.
        whole: bool. An epoch is the whole batches (`True`) or every batch
            including a last partial one (`False`).

    Returns:
        A `TrainingSteps`.
    """
    if whole:
        per_epoch = max(1, num_train // batch_size)
    else:
        per_epoch = max(1, math.ceil(num_train / batch_size))
    total = epochs * per_epoch
    if max_steps:
        total = min(total, max_steps)
        per_epoch = min(per_epoch, total)
    return TrainingSteps(per_epoch, math.ceil(total / per_epoch), total)


@dataclasses.dataclass
class FineTuned:
    """What `finetune` trained, for `FineTuningTask.results`.

    Attributes:
        model: the task model, with the best epoch's weights and its
            preprocessor.
        evaluation: the `BestEpochEvaluation` callback.
        scores: its scores of the best epoch.
        steps: the `TrainingSteps`.
        programs: `TraceCounter.summary()` of the run.
    """

    model: keras.Model
    evaluation: keras.callbacks.Callback
    scores: dict
    steps: TrainingSteps
    programs: dict


def static_batches(setup):
    """Whether batches need a static shape: whenever the batch is split
    over replicas, and always on TPUs."""
    return setup.num_replicas > 1 or setup.kind == "tpu"


def compiled_model(task, recipe, setup, total_steps):
    """The task's model, compiled with the recipe's optimizer under the
    distribution scope, and its preprocessor, detached (the input
    pipeline preprocesses)."""
    with setup.scope():
        model = task.build_model()
        model.compile(optimizer=recipe.optimizer(total_steps))
    preprocessor = model.preprocessor
    model.preprocessor = None
    return model, preprocessor


def run_results(trained, task, recipe, setup, seconds, throughput):
    """The entries every fine-tuning run reports besides the task's."""
    backbone = trained.model.backbone
    return {
        "best_epoch": trained.evaluation.best_epoch,
        "epochs": trained.steps.epochs,
        "steps": trained.steps.total,
        "train_seconds": round(seconds, 1),
        **throughput.summary(),
        "preset": task.preset,
        "architecture": (None if task.preset else small_architecture(backbone)),
        "sequence_length": trained.model.preprocessor.sequence_length,
        "remat": backbone.remat,
        "backend": keras.backend.backend(),
        "strategy": setup.kind,
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
        "seed": recipe.seed,
    }


def fit_and_score(model, preprocessor, train, steps, callbacks, verbose):
    """Train on preprocessed batches, then score the best epoch (the
    first callback, the `BestEpochEvaluation`, restores its weights);
    the preprocessor is back on the model after.

    Returns:
        `(seconds of training, TraceCounter.summary(), scores)`.
    """
    traces = TraceCounter(model)
    start = time.time()
    try:
        model.fit(
            train,
            epochs=steps.epochs,
            steps_per_epoch=steps.steps_per_epoch,
            callbacks=callbacks,
            verbose=verbose,
        )
        seconds = time.time() - start
        programs = traces.summary()
        scores = callbacks[0].evaluate()
    finally:
        model.preprocessor = preprocessor
    return seconds, programs, scores


def finetune(task, recipe, output_dir, epochs, max_steps=None):
    """Fine-tune `task`'s model with `recipe`, keep the best epoch, save
    it and return the results.

    Writes to `output_dir`: `best_model/` (a keras-hub preset of the best
    epoch, with its preprocessor), what `task.save` writes,
    `training_log.csv`, `tensorboard/` and `eval_results.json` (the
    task's results, the best epoch, steps, timing, throughput, the model
    and the recipe).

    Args:
        task: a `FineTuningTask`.
        recipe: the `Recipe`, with its learning rate.
        output_dir: str.
        epochs: int.
        max_steps: int or `None`. Stop after this many steps.

    Returns:
        The results written to `eval_results.json`.
    """
    os.makedirs(output_dir, exist_ok=True)
    setup = recipe.prepare()
    num_train = task.read_data()
    steps = training_steps(
        num_train, recipe.batch_size, epochs, max_steps, task.whole_batches
    )
    model, preprocessor = compiled_model(task, recipe, setup, steps.total)
    buckets = task.buckets(preprocessor)
    train = setup.distribute_dataset(
        task.training_dataset_fn(
            preprocessor,
            recipe.batch_size,
            recipe.seed,
            drop_remainder=static_batches(setup),
        )
    )
    evaluation = task.evaluation(preprocessor, recipe.batch_size)
    # Bucketed batches have no one padded length to count tokens by.
    throughput = Throughput(
        recipe.batch_size, None if buckets else preprocessor.sequence_length
    )
    print(
        f"{task.describe()}; {steps.total} steps of {recipe.batch_size} "
        f"({setup.kind}, {setup.num_replicas} replica(s)); "
        f"{model.count_params():,} parameters"
    )
    seconds, programs, scores = fit_and_score(
        model,
        preprocessor,
        train,
        steps,
        [evaluation, throughput, *logging_callbacks(output_dir)],
        recipe.verbose,
    )
    print_programs(programs)
    model.save_to_preset(os.path.join(output_dir, "best_model"))
    trained = FineTuned(model, evaluation, scores, steps, programs)
    results = {
        **task.results(trained),
        **run_results(trained, task, recipe, setup, seconds, throughput),
        **task.save(model, output_dir),
    }
    with open(os.path.join(output_dir, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return results
