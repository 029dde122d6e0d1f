"""Callbacks for the training tools: task metrics with best-model keeping,
throughput, step-numbered checkpoints, and the epoch logs."""

import csv
import os
import time
import warnings

import h5py
import keras
import numpy as np

from keras_bigs.convert.readers import non_finite_variable
from keras_bigs.presets.atomic_writes import write_file_atomically
from keras_bigs.training.distribution.multi_host import HostCopy
from keras_bigs.training.metrics import compute_metrics


class ScoringCallback(keras.callbacks.Callback):
    """A callback that scores the model it trains: predict with the model
    of `with self.scoring_model() as model:`, the model itself, or in a
    JAX job of several processes its `HostCopy` (Keras' `predict` cannot
    gather outputs that span other processes' devices)."""

    _host_copy = None

    def scoring_model(self):
        """Context giving the model to predict with, holding the trained
        model's weights now."""
        if self._host_copy is None or self._host_copy.model is not self.model:
            self._host_copy = HostCopy(self.model)
        return self._host_copy.current()


class BestEpochEvaluation(ScoringCallback):
    """Scores the model after every epoch, adds the scores to the epoch
    logs as `val_<name>` (so `CSVLogger` and `TensorBoard` placed after it
    record them), remembers the weights of the best epoch by `main_metric`
    (higher is better), and restores them when training ends.

    Subclasses define `evaluate()`, which returns `{name: value}`, and
    predict with the model of `with self.scoring_model() as model:`.

    Args:
        main_metric: str. The score that decides the best epoch.
        restore_best_weights: bool. Put the best epoch's weights back at
            the end of training.
    """

    def __init__(self, main_metric, restore_best_weights=True):
        super().__init__()
        self.main_metric = main_metric
        self.restore_best_weights = restore_best_weights
        self.best = None
        self.best_epoch = None
        self.best_weights = None

    def evaluate(self):
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        results = self.evaluate()
        if logs is not None:
            logs.update(
                {f"val_{name}": value for name, value in results.items()}
            )
        main = results[self.main_metric]
        if self.best is None or main > self.best:
            self.best, self.best_epoch = main, epoch + 1
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        print(
            f"Epoch {epoch + 1}: "
            + ", ".join(f"val_{k} {v:.4f}" for k, v in results.items())
            + f" (best {self.main_metric} {self.best:.4f}, epoch "
            f"{self.best_epoch})"
        )

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class TaskMetricsEvaluation(BestEpochEvaluation):
    """Official task metrics on validation data after every epoch; the
    first metric decides which epoch is best (see `BestEpochEvaluation`).

    Args:
        dataset: a `tf.data.Dataset` of preprocessed `(x, labels)` batches.
        metric_names: metric names for `compute_metrics`; the first decides
            which epoch is best (higher is better).
        restore_best_weights: bool. Put the best epoch's weights back at the
            end of training.
    """

    def __init__(self, dataset, metric_names, restore_best_weights=True):
        super().__init__(metric_names[0], restore_best_weights)
        self.inputs = dataset.map(lambda x, y: x)
        self.labels = np.concatenate(
            [np.asarray(y) for _, y in dataset.as_numpy_iterator()]
        )
        self.metric_names = tuple(metric_names)

    def evaluate(self):
        """`{metric: value}` of the model now."""
        with self.scoring_model() as model:
            predictions = model.predict(self.inputs, verbose=0)
        return compute_metrics(self.metric_names, predictions, self.labels)


class Throughput(keras.callbacks.Callback):
    """Training examples and tokens per second, the first (compiling) batch
    of the run excluded; logged per epoch as `examples_per_s` and
    `tokens_per_s`, and kept for the whole run in `summary()`.

    Args:
        batch_size: int. Global examples per step.
        sequence_length: int. Tokens per example (padded length); `None`
            when batches have different lengths (no `tokens_per_s` then).
    """

    def __init__(self, batch_size, sequence_length):
        super().__init__()
        self.batch_size = batch_size
        self.sequence_length = sequence_length
        self.steps = 0
        self.seconds = 0.0
        self._compiled = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_steps, self._epoch_seconds = 0, 0.0
        self._last = None

    def on_train_batch_begin(self, batch, logs=None):
        self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        elapsed = time.perf_counter() - self._last
        if not self._compiled:
            self._compiled = True  # the first step compiles: not counted
            return
        self._epoch_steps += 1
        self._epoch_seconds += elapsed

    def on_epoch_end(self, epoch, logs=None):
        self.steps += self._epoch_steps
        self.seconds += self._epoch_seconds
        if logs is not None and self._epoch_seconds > 0:
            rate = self._epoch_steps * self.batch_size / self._epoch_seconds
            logs["examples_per_s"] = rate
            if self.sequence_length:
                logs["tokens_per_s"] = rate * self.sequence_length

    def summary(self):
        """`{"examples_per_s", "tokens_per_s"}` over the whole run."""
        if self.seconds == 0:
            return {"examples_per_s": None, "tokens_per_s": None}
        rate = self.steps * self.batch_size / self.seconds
        return {
            "examples_per_s": rate,
            "tokens_per_s": (
                rate * self.sequence_length if self.sequence_length else None
            ),
        }


class StepCheckpoint(keras.callbacks.Callback):
    """Save the training state (`save_training_state`: weights, optimizer
    state, dropout's random state) to `DIR/step-<global step>.weights.h5`
    after every epoch, keeping the newest `keep` files. With
    `steps_per_epoch` set to the checkpoint interval, an epoch is one
    checkpoint period.

    Whole-model `.keras` files would not do: keras-hub tasks override
    `compile()`, so loading one recompiles with the task's default optimizer
    and drops the saved optimizer state. `restore_training_state` rebuilds
    it instead.
    """

    def __init__(self, directory, keep=3):
        super().__init__()
        self.directory = directory
        self.keep = keep

    def on_train_begin(self, logs=None):
        # What a run killed while writing left behind.
        for name in (
            os.listdir(self.directory) if os.path.isdir(self.directory) else []
        ):
            if name.startswith(".partial-step-"):
                os.remove(os.path.join(self.directory, name))

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        path = os.path.join(self.directory, f"step-{step:08d}.weights.h5")
        # Whole or not at all: a run killed while writing leaves the older
        # checkpoints as they were, and no half-written newest one.
        write_file_atomically(
            path, lambda path: save_training_state(self.model, path)
        )
        for old in checkpoint_paths(self.directory)[: -self.keep]:
            os.remove(old)


# The group of a training checkpoint that holds the random state.
RANDOM_STATE_GROUP = "random_generator_states"


def random_generator_states(model):
    """The state variables of the model's seed generators (dropout's), in
    the model's order. `save_weights` leaves them out, so a run resumed
    from its weights alone would draw other dropout masks than an
    uninterrupted one. (Their paths are numbered per process, so a file
    keeps them by position.)"""
    return [
        variable
        for variable in model.variables
        if variable.name == "seed_generator_state"
    ]


def save_training_state(model, path):
    """Write what a resumed run needs to continue as if never stopped: the
    weights and optimizer state (`model.save_weights`) and, in the same
    file, the random state of the model's seed generators."""
    model.save_weights(path)
    with h5py.File(path, "a") as file:
        group = file.create_group(RANDOM_STATE_GROUP)
        for index, variable in enumerate(random_generator_states(model)):
            group.create_dataset(
                str(index), data=keras.ops.convert_to_numpy(variable)
            )


def restore_training_state(model, path):
    """Load a `save_training_state` file into a compiled `model` built as
    the one that wrote it: weights, optimizer slots and step counter, and
    the random state where the file has it."""
    model.optimizer.build(model.trainable_variables)
    model.load_weights(path)
    with h5py.File(path, "r") as file:
        if RANDOM_STATE_GROUP not in file:
            return
        saved = file[RANDOM_STATE_GROUP]
        for index, variable in enumerate(random_generator_states(model)):
            if str(index) in saved:
                variable.assign(saved[str(index)][()])


def restore_newest_training_state(model, paths):
    """Restore the newest of the checkpoint `paths` (oldest first) that
    reads whole, warning about each newer one that does not (a file
    damaged after it was written); returns its path.

    Raises:
        ValueError: none of them reads.
    """
    for path in reversed(paths):
        try:
            restore_training_state(model, path)
            found = non_finite_variable(
                {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}
            )
            if found is not None:
                raise ValueError(f"variable {found[0]!r} is not finite")
            return path
        except (OSError, ValueError, KeyError) as error:
            warnings.warn(
                f"Checkpoint {path} is unreadable ({error}); resuming from "
                "the one before it.",
                stacklevel=2,
            )
    raise ValueError(
        f"None of the checkpoints {[str(p) for p in paths]} is readable; "
        "remove them to start the run afresh."
    )


def checkpoint_paths(directory):
    """The `step-*.weights.h5` checkpoints in `directory`, oldest first."""
    if not os.path.isdir(directory):
        return []
    names = sorted(
        name
        for name in os.listdir(directory)
        if name.startswith("step-") and name.endswith(".weights.h5")
    )
    return [os.path.join(directory, name) for name in names]


def checkpoint_step(path):
    """The global step a `step-<n>.weights.h5` checkpoint was written at."""
    return int(os.path.basename(path)[len("step-") : -len(".weights.h5")])


def logging_callbacks(output_dir, resume_epoch=None):
    """The epoch logs of a run: `training_log.csv` and `tensorboard/` in
    `output_dir`. Place them after the callbacks that add to the logs.

    Args:
        output_dir: str.
        resume_epoch: int. For a resumed run, the epoch it starts at: the
            CSV rows before it are kept and appended to, later ones (of
            epochs the run redoes) dropped. `None` starts a new log.
    """
    path = os.path.join(output_dir, "training_log.csv")
    if resume_epoch is not None:
        keep_csv_rows(path, lambda row: int(row["epoch"]) < resume_epoch)
    return [
        keras.callbacks.CSVLogger(path, append=resume_epoch is not None),
        keras.callbacks.TensorBoard(os.path.join(output_dir, "tensorboard")),
    ]


def keep_csv_rows(path, keep):
    """Rewrite the CSV file at `path` with the rows where `keep(row)`
    holds (a missing file stays missing)."""
    if not os.path.exists(path):
        return
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        fields, rows = reader.fieldnames, [row for row in reader if keep(row)]
    write_csv(path, fields, rows)


def write_csv(path, fields, rows):
    """Write `rows` (dicts) under the header `fields`, whole or not at
    all."""

    def write(temporary):
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    write_file_atomically(path, write)
