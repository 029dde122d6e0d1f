import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import get_glue_task
from keras_bigs.data import glue_dataset
from keras_bigs.training import compute_metrics
from keras_bigs.training.glue_finetuning import GlueRun
from keras_bigs.training.glue_finetuning import build_classifier
from tests.conftest import shared_dir
from tests.conftest import tiny_backbone
from tests.tools.test_convert_checkpoint import load_tool


# End to end on jax and tensorflow (the TPU path); the parts run on every
# backend in tests/training and tests/data.
@pytest.mark.backends("jax", "tensorflow")
@pytest.mark.parametrize(
    "task, metrics, eval_examples",
    [
        ("wnli", ("accuracy",), 71),
        ("stsb", ("pearson", "spearman"), 1500),
    ],
)
def test_run_glue_trains_evaluates_and_saves_the_best_model(
    task, metrics, eval_examples, tmp_path
):
    glue_dir = shared_dir() / "glue"
    output = tmp_path / task
    # STS-B (pairs, regression) also exports its best model for serving.
    export = (
        ["--export", str(tmp_path / "serving" / "1")] if task == "stsb" else []
    )
    status = load_tool("run_glue").main(
        [
            "--task",
            task,
            "--glue-dir",
            str(glue_dir),
            "--output-dir",
            str(output),
            "--max-steps",
            "3",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--sequence-length",
            "32",
            "--verbose",
            "0",
            *export,
        ]
    )
    assert status == 0
    results = json.loads((output / "eval_results.json").read_text())
    assert results["split"] == "dev"
    assert results["num_eval_examples"] == eval_examples
    assert results["steps"] == 3 and results["tokens_per_s"] > 0
    assert (output / "training_log.csv").read_text().count("\n") == 2

    # The saved model reproduces the reported metrics on the dev set.
    classifier = keras_bigs.BiGSClassifier.from_preset(
        str(output / "best_model")
    )
    assert classifier.preprocessor.sequence_length == 32
    dev = glue_dataset(task, glue_dir, "dev", batch_size=64)
    labels = np.concatenate([y for _, y in dev.as_numpy_iterator()])
    # `(x,)`: keras-hub reads a bare pair `(a, b)` as `(x, y)`.
    predictions = classifier.predict(dev.map(lambda x, y: (x,)), verbose=0)
    expected = compute_metrics(metrics, predictions, labels)
    for name in metrics:
        assert results[name] == pytest.approx(expected[name], abs=1e-5)

    if export:
        assert results["export"]["inputs"] == ["text_a", "text_b"]
        serving = tf.saved_model.load(export[1]).signatures["serving_default"]
        (text_a, text_b), _ = next(iter(dev))
        scores = serving(text_a=text_a, text_b=text_b)["score"]
        np.testing.assert_allclose(
            scores, predictions[: len(scores), 0], rtol=1e-5, atol=1e-5
        )
    else:
        assert results["export"] is None


def test_run_glue_refuses_a_non_empty_export_folder(tmp_path, capsys):
    (tmp_path / "saved_model.pb").write_text("an older export")
    with pytest.raises(SystemExit):
        load_tool("run_glue").main(
            [
                "--task",
                "rte",
                "--glue-dir",
                "glue",
                "--output-dir",
                "x",
                "--export",
                str(tmp_path),
            ]
        )
    assert "exists and is not empty" in capsys.readouterr().err


def test_run_glue_needs_a_data_source(capsys):
    with pytest.raises(SystemExit):
        load_tool("run_glue").main(["--task", "rte", "--output-dir", "x"])
    assert "pass --glue-dir DIR, or --tfds" in capsys.readouterr().err


def test_a_preset_head_of_the_task_size_is_kept_another_needs_a_new_one(
    tmp_path,
):
    saved = keras_bigs.BiGSClassifier(
        tiny_backbone(16),
        num_classes=2,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16
        ),
    )
    saved.save_to_preset(str(tmp_path / "preset"))

    def build(task, **kwargs):
        run = GlueRun(task=task, preset=str(tmp_path / "preset"), **kwargs)
        return build_classifier(run, get_glue_task(task))

    kept = build("cola")
    np.testing.assert_array_equal(
        np.asarray(kept.output_dense.kernel),
        np.asarray(saved.output_dense.kernel),
    )
    assert not np.array_equal(
        np.asarray(build("cola", reinitialize_head=True).output_dense.kernel),
        np.asarray(saved.output_dense.kernel),
    )
    with pytest.raises(ValueError, match="reinitialize_head=True"):
        build("stsb")
    assert build("stsb", reinitialize_head=True).num_classes == 1


@pytest.mark.backends("jax", "tensorflow")
def test_run_glue_padding_invariant_trains_on_length_buckets(tmp_path, capsys):
    glue_dir = shared_dir() / "glue"
    output = tmp_path / "wnli"
    status = load_tool("run_glue").main(
        [
            "--task",
            "wnli",
            "--glue-dir",
            str(glue_dir),
            "--output-dir",
            str(output),
            "--max-steps",
            "6",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--sequence-length",
            "128",
            "--padding-invariant",
            "--buckets",
            "32,64",
            "--verbose",
            "0",
            "--export",
            str(tmp_path / "serving" / "1"),
        ]
    )
    assert status == 0
    results = json.loads((output / "eval_results.json").read_text())
    assert results["padding_invariant"] is True
    assert results["buckets"] == [32, 64, 128]
    assert results["tokens_per_s"] is None and results["examples_per_s"] > 0
    train = results["compiled_programs"]["train"]
    if keras.backend.backend() == "jax":
        # One program per bucket that the batches used, never one per batch.
        assert train["lengths"] == sorted(set(train["lengths"]))
        assert set(train["lengths"]) <= {32, 64, 128}
    else:  # one graph takes every length
        assert train["programs"] <= 2
    assert "Compiled programs: train" in capsys.readouterr().out

    classifier = keras_bigs.BiGSClassifier.from_preset(
        str(output / "best_model")
    )
    assert classifier.backbone.padding_invariant
    assert classifier.preprocessor.padding_lengths == (32, 64, 128)
    dev = glue_dataset("wnli", glue_dir, "dev", batch_size=16)
    labels = np.concatenate([y for _, y in dev.as_numpy_iterator()])
    predictions = classifier.predict(dev.map(lambda x, y: (x,)), verbose=0)
    expected = compute_metrics(("accuracy",), predictions, labels)
    assert results["accuracy"] == pytest.approx(expected["accuracy"])

    serving = tf.saved_model.load(str(tmp_path / "serving" / "1"))
    (text_a, text_b), _ = next(iter(dev))
    logits = serving.signatures["serving_default"](
        text_a=text_a, text_b=text_b
    )["logits"]
    np.testing.assert_allclose(
        logits, predictions[: len(logits)], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    "buckets,message",
    [("32,16", "16 follows 32"), ("16,x", "comma-separated lengths")],
)
def test_run_glue_rejects_bad_bucket_lists(buckets, message, capsys):
    with pytest.raises(SystemExit):
        load_tool("run_glue").parse_args(
            [
                "--task",
                "rte",
                "--glue-dir",
                "g",
                "--output-dir",
                "o",
                "--buckets",
                buckets,
            ]
        )
    assert message in capsys.readouterr().err


def test_buckets_need_a_padding_invariant_model(tmp_path):
    run = GlueRun(task="sst2", buckets=(16, 32), sequence_length=64)
    with pytest.raises(ValueError, match="not padding-invariant"):
        build_classifier(run, get_glue_task("sst2"))


def malformed_glue_dir(tmp_path):
    """An RTE folder whose train.tsv line 3 has a column too few."""
    rte = tmp_path / "glue" / "RTE"
    rte.mkdir(parents=True)
    header = "index\tsentence1\tsentence2\tlabel\n"
    rows = [f"{i}\ta premise {i}\ta hypothesis\tentailment\n" for i in range(8)]
    rows[1] = "1\ta premise with no label\tentailment\n"
    (rte / "train.tsv").write_text(header + "".join(rows))
    (rte / "dev.tsv").write_text(header + "".join(rows[2:]))
    return tmp_path / "glue"


def test_user_mistakes_are_one_line_errors_and_the_bad_row_can_be_skipped(
    tmp_path, capsys
):
    run_glue = load_tool("run_glue")
    glue_dir = malformed_glue_dir(tmp_path)
    flags = ["--task", "rte", "--glue-dir", str(glue_dir)]
    flags += ["--output-dir", str(tmp_path / "out"), "--max-steps", "1"]
    assert run_glue.run_tool(run_glue.main, flags) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith(
        f"run_glue.py: error: {glue_dir}/RTE/train.tsv, line 3: expected 4 "
    )
    assert "--skip-malformed in tools/run_glue.py" in error

    missing = flags + ["--skip-malformed", "--preset", str(tmp_path / "no")]
    assert run_glue.run_tool(run_glue.main, missing) == 2
    assert "error: No preset folder" in capsys.readouterr().err

    assert run_glue.run_tool(run_glue.main, flags + ["--skip-malformed"]) == 0
    results = json.loads((tmp_path / "out" / "eval_results.json").read_text())
    assert results["num_train_examples"] == 7
