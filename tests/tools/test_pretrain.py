import csv
import json

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.training import bigs_optimizer
from keras_bigs.training.callbacks import restore_training_state
from tests.tools.test_convert_checkpoint import load_tool


class Interrupt(keras.callbacks.Callback):
    """Stops the run abruptly after `step` steps, as a crash would."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        iterations = int(
            keras.ops.convert_to_numpy(self.model.optimizer.iterations)
        )
        if iterations == self.step:
            raise KeyboardInterrupt(f"interrupted at step {iterations}")


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    sentences = [
        "the cat sat on the mat",
        "a dog barks at the cat",
        "birds sing in the morning",
        "the sun is warm today",
    ]
    path.write_text("\n".join(sentences * 20) + "\n")
    return path


# The tools are backend-agnostic wrappers over keras_bigs.training, whose
# parts are tested on every backend; end to end they run on jax, to keep
# the suite in CI's time budget.
@pytest.mark.backends("jax")
def test_pretrain_resumes_from_the_last_checkpoint(corpus, tmp_path):
    pretrain = load_tool("pretrain")
    output = tmp_path / "run"
    args = [
        "--text",
        str(corpus),
        "--output-dir",
        str(output),
        "--steps",
        "6",
        "--checkpoint-every",
        "2",
        "--batch-size",
        "4",
        "--sequence-length",
        "32",
        "--heldout-every",
        "4",
        "--verbose",
        "0",
    ]
    with pytest.raises(KeyboardInterrupt):
        pretrain.main(args, callbacks=[Interrupt(step=5)])
    checkpoints = sorted(p.name for p in (output / "checkpoints").iterdir())
    assert checkpoints == [
        "step-00000002.weights.h5",
        "step-00000004.weights.h5",
    ]
    assert not (output / "model").exists()

    assert pretrain.main(args) == 0
    results = json.loads((output / "pretrain_results.json").read_text())
    assert results["start_step"] == 4 and results["steps"] == 6
    with open(output / "training_log.csv") as f:
        epochs = [int(row["epoch"]) for row in csv.DictReader(f)]
    assert epochs == [0, 1, 2]  # each period logged once across both runs
    # Held-out scores at the start and at every checkpoint, each once.
    with open(output / "heldout_log.csv") as f:
        heldout = list(csv.DictReader(f))
    assert [int(row["step"]) for row in heldout] == [0, 2, 4, 6]
    assert [int(row["tokens_seen"]) for row in heldout] == [0, 256, 512, 768]
    assert [row["step"] for row in results["heldout"]] == [0, 2, 4, 6]
    assert all(0 <= float(row["accuracy"]) <= 1 for row in heldout)
    # The last checkpoint holds the optimizer state at step 6.
    masked_lm = keras_bigs.BiGSMaskedLM.from_preset(
        str(output / "model"), preprocessor=None
    )
    masked_lm.compile(optimizer=bigs_optimizer(1e-3, total_steps=6))
    restore_training_state(
        masked_lm, output / "checkpoints" / "step-00000006.weights.h5"
    )
    assert int(keras.ops.convert_to_numpy(masked_lm.optimizer.iterations)) == 6

    # The final preset is the resumed model, and fine-tunes as a classifier.
    classifier = keras_bigs.BiGSClassifier.from_preset(
        str(output / "model"), num_classes=2
    )
    for a, b in zip(masked_lm.backbone.weights, classifier.backbone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert classifier.predict(["a raw sentence"], verbose=0).shape == (1, 2)


@pytest.mark.backends("jax")
def test_pretraining_lowers_the_masked_lm_loss(corpus, tmp_path):
    output = tmp_path / "run"
    load_tool("pretrain").main(
        [
            "--text",
            str(corpus),
            "--output-dir",
            str(output),
            "--steps",
            "30",
            "--checkpoint-every",
            "30",
            "--batch-size",
            "8",
            "--sequence-length",
            "32",
            "--learning-rate",
            "3e-3",
            "--verbose",
            "0",
        ]
    )
    results = json.loads((output / "pretrain_results.json").read_text())
    assert results["loss_reduction"] >= 0.3


@pytest.mark.backends("jax")
def test_pretrain_padding_invariant_groups_batches_by_length(tmp_path, capsys):
    # Packed text fills every example but the last, so training runs at
    # the full length; buckets pay off on examples shorter than it (the
    # original's HDF5 shards). What matters here: the model, the preset
    # and the pipeline carry the mode, and no batch compiles anew.
    output = tmp_path / "run"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(f"line {i} of the corpus" for i in range(50)))
    load_tool("pretrain").main(
        [
            "--text",
            str(corpus),
            "--output-dir",
            str(output),
            "--steps",
            "4",
            "--checkpoint-every",
            "4",
            "--batch-size",
            "4",
            "--sequence-length",
            "64",
            "--padding-invariant",
            "--verbose",
            "0",
        ]
    )
    results = json.loads((output / "pretrain_results.json").read_text())
    assert results["padding_invariant"] is True
    assert results["buckets"] == [16, 32, 64]
    lengths = results["compiled_training_programs"]["lengths"]
    assert set(lengths) <= {16, 32, 64} and len(lengths) == len(set(lengths))
    assert "Compiled programs: train" in capsys.readouterr().out
    masked_lm = keras_bigs.BiGSMaskedLM.from_preset(str(output / "model"))
    assert masked_lm.backbone.padding_invariant
    assert masked_lm.preprocessor.padding_lengths == (16, 32, 64)
