"""A pretraining run killed with SIGKILL at three moments (mid-period,
inside a checkpoint write, mid-period again) and resumed each time, with
its newest checkpoint damaged before the last resume, resumes each time
from the newest whole checkpoint and ends as a complete run.

Not checked here: that it ends with the weights of an uninterrupted run.
Two uninterrupted runs with the same seed differ too (masks are drawn by
stateful random ops in a parallel tf.data map), so that comparison waits
for deterministic masking."""

import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import keras_bigs
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
    args += ["--sequence-length", "32", "--verbose", "0"]
    return subprocess.run(
        [sys.executable, str(runner), str(REPO_ROOT), kill, at, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=600,
    )


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
def test_a_run_killed_three_times_resumes_from_whole_checkpoints(tmp_path):
    output = tmp_path / "killed"
    killed = run_pretrain(tmp_path, output, "at_step", "3")
    assert killed.returncode == -9
    assert checkpoints(output) == ["step-00000002.weights.h5"]

    partial = ".partial-step-00000004.weights.h5"
    killed = run_pretrain(tmp_path, output, "in_write", partial)
    assert killed.returncode == -9
    # The half-written file never took the checkpoint's name.
    assert checkpoints(output) == [partial, "step-00000002.weights.h5"]

    killed = run_pretrain(tmp_path, output, "at_step", "5")
    assert killed.returncode == -9
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
    assert "step-00000004.weights.h5" in checkpoints(output)  # rewritten
    classifier = keras_bigs.BiGSClassifier.from_preset(
        str(output / "model"), num_classes=2
    )
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
