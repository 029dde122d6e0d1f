import json

import pytest

import keras_bigs
from tests.tools.test_convert_checkpoint import load_tool


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
