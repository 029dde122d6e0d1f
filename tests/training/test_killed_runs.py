"""A pretraining run killed with SIGKILL inside a checkpoint write, then
mid-period, and resumed each time, with its newest checkpoint damaged
before the last resume, resumes each time from the newest whole
checkpoint and ends with the weights of a run that was never
interrupted."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import keras_bigs
from keras_bigs.training import bigs_optimizer
from keras_bigs.training.callbacks import restore_training_state
from tests.conftest import REPO_ROOT

# Runs tools/pretrain.py in this process, killing itself (SIGKILL, no
# clean-up) at the global step given, or right after writing the
# temporary file of the checkpoint given, before it is renamed.
RUNNER = textwrap.dedent(
    """
    import os, signal, sys
    import keras
    sys.path.insert(0, os.path.join(sys.argv[1], "tools"))
    import pretrain

    kill, at, args = sys.argv[2], sys.argv[3], sys.argv[4:]

    class KillAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = int(keras.ops.convert_to_numpy(
                self.model.optimizer.iterations))
            if step == int(at):
                os.kill(os.getpid(), signal.SIGKILL)

    if kill == "in_write":
        save_weights = keras.Model.save_weights

        def save_and_die(self, path, *a, **k):
            save_weights(self, path, *a, **k)
            if os.path.basename(path) == at:
                with open(path, "r+b") as f:  # half-written, then killed
                    f.truncate(os.path.getsize(path) // 2)
                os.kill(os.getpid(), signal.SIGKILL)

        keras.Model.save_weights = save_and_die
    callbacks = [KillAt()] if kill == "at_step" else []
    sys.exit(pretrain.main(args, callbacks=callbacks))
    """
)


def run_pretrain(tmp_path, output, kill="none", at="0"):
    corpus = tmp_path / "corpus.txt"
    if not corpus.exists():
        sentences = ["the cat sat on the mat", "a dog barks at the cat"]
        corpus.write_text("\n".join(sentences * 40) + "\n")
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    args = ["--text", str(corpus), "--output-dir", str(output)]
    args += ["--steps", "6", "--checkpoint-every", "2", "--batch-size", "4"]
    args += ["--sequence-length", "32", "--heldout-every", "4"]
    args += ["--verbose", "0"]
    return subprocess.run(
        [sys.executable, str(runner), str(REPO_ROOT), kill, at, *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            # What a killed run printed reaches the pipe.
            "PYTHONUNBUFFERED": "1",
            **jax_compilation_cache(tmp_path / "jax_cache"),
        },
        timeout=600,
    )


def jax_compilation_cache(folder):
    """Environment variables that make a JAX process keep and reuse its
    compiled programs in `folder`: runs of one tool after another compile
    the same programs (speed only; other backends ignore them)."""
    return {
        "JAX_COMPILATION_CACHE_DIR": str(folder),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }


def checkpoint_arrays(path):
    arrays = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


def checkpoints(output):
    return sorted(os.listdir(output / "checkpoints"))


@pytest.mark.backends("jax", "tensorflow")
def test_a_killed_run_resumes_from_whole_checkpoints(tmp_path):
    output = tmp_path / "killed"
    partial = ".partial-step-00000004.weights.h5"
    killed = run_pretrain(tmp_path, output, "in_write", partial)
    assert killed.returncode == -9
    # The half-written file never took the checkpoint's name.
    assert checkpoints(output) == [partial, "step-00000002.weights.h5"]

    # Resumed from the whole checkpoint, then killed mid-period.
    killed = run_pretrain(tmp_path, output, "at_step", "5")
    assert killed.returncode == -9
    assert "step-00000002.weights.h5" in killed.stdout
    assert checkpoints(output) == [
        "step-00000002.weights.h5",
        "step-00000004.weights.h5",
    ]
    assert not (output / "model").exists()

    # The newest checkpoint damaged on disk: the run resumes from the one
    # before it, and says so.
    newest = output / "checkpoints" / "step-00000004.weights.h5"
    newest.write_bytes(newest.read_bytes()[:1000])
    resumed = run_pretrain(tmp_path, output)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "step-00000004.weights.h5 is unreadable" in resumed.stderr
    assert "Resuming from" in resumed.stdout
    assert "step-00000002.weights.h5" in resumed.stdout

    final = checkpoint_arrays(
        output / "checkpoints" / "step-00000006.weights.h5"
    )
    assert final["optimizer/vars/0"] == 6  # the step counter
    assert all(np.all(np.isfinite(value)) for value in final.values())
    uninterrupted = run_pretrain(tmp_path, tmp_path / "uninterrupted")
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]
    expected = checkpoint_arrays(
        tmp_path / "uninterrupted/checkpoints/step-00000006.weights.h5"
    )
    assert sorted(final) == sorted(expected)
    for name, value in expected.items():
        difference = np.linalg.norm(final[name] - value.astype(np.float64))
        assert difference <= 1e-6 * np.linalg.norm(value), name
    assert "step-00000004.weights.h5" in checkpoints(output)  # rewritten
    results = json.loads((output / "pretrain_results.json").read_text())
    assert results["start_step"] == 2 and results["steps"] == 6
    with open(output / "training_log.csv") as f:
        epochs = [int(row["epoch"]) for row in csv.DictReader(f)]
    assert epochs == [0, 1, 2]  # each period logged once across the runs
    # Held-out scores at the start and at every checkpoint, each once.
    with open(output / "heldout_log.csv") as f:
        heldout = list(csv.DictReader(f))
    assert [int(row["step"]) for row in heldout] == [0, 2, 4, 6]
    assert [int(row["tokens_seen"]) for row in heldout] == [0, 256, 512, 768]
    assert [row["step"] for row in results["heldout"]] == [0, 2, 4, 6]
    assert all(0 <= float(row["accuracy"]) <= 1 for row in heldout)
    # The final preset is the model of the last checkpoint, and fine-tunes
    # as a classifier.
    masked_lm = keras_bigs.BiGSMaskedLM.from_preset(
        str(output / "model"), preprocessor=None
    )
    masked_lm.compile(optimizer=bigs_optimizer(1e-3, total_steps=6))
    restore_training_state(
        masked_lm, output / "checkpoints" / "step-00000006.weights.h5"
    )
    classifier = keras_bigs.BiGSClassifier.from_preset(
        str(output / "model"), num_classes=2
    )
    for a, b in zip(masked_lm.backbone.weights, classifier.backbone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert classifier.predict(["a raw sentence"], verbose=0).shape == (1, 2)


def test_a_checkpoint_onto_a_full_disk_is_an_error_and_keeps_the_last(
    tmp_path, monkeypatch
):
    import errno

    import keras

    from keras_bigs.training.callbacks import StepCheckpoint

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    folder = tmp_path / "checkpoints"
    callback = StepCheckpoint(str(folder))
    callback.set_model(model)
    callback.on_epoch_end(0)
    before = (folder / "step-00000000.weights.h5").read_bytes()
    model.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)

    def disk_full(path):  # a few bytes written, then no space left
        with open(path, "wb") as file:
            file.write(b"\x89HDF")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model, "save_weights", disk_full)
    with pytest.raises(
        OSError,
        match=r"Could not write .*step-00000001\.weights\.h5 \(No space "
        r"left on device\); what was there before is intact",
    ):
        callback.on_epoch_end(1)
    assert os.listdir(folder) == ["step-00000000.weights.h5"]
    assert (folder / "step-00000000.weights.h5").read_bytes() == before


def test_a_checkpoint_restores_dropouts_random_state(tmp_path):
    import keras

    from keras_bigs.training.callbacks import restore_training_state
    from keras_bigs.training.callbacks import save_training_state

    def model():
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dropout(0.5),
                keras.layers.Dense(1),
            ]
        )
        model.compile(optimizer="adam", loss="mse")
        return model

    x, y = np.arange(32.0).reshape(4, 8) / 32, np.ones((4, 1))
    keras.utils.set_random_seed(1)
    uninterrupted = model()
    uninterrupted.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
    keras.utils.set_random_seed(1)
    stopped = model()
    stopped.fit(x, y, epochs=1, batch_size=2, shuffle=False, verbose=0)
    path = str(tmp_path / "step.weights.h5")
    save_training_state(stopped, path)
    # Another seed: only the checkpoint can give the dropout masks back.
    keras.utils.set_random_seed(2)
    resumed = model()
    restore_training_state(resumed, path)
    resumed.fit(
        x, y, epochs=3, initial_epoch=1, batch_size=2, shuffle=False, verbose=0
    )
    for expected, value in zip(uninterrupted.weights, resumed.weights):
        np.testing.assert_array_equal(value, expected)
