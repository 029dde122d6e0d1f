"""A classifier's export, strings in: the Keras model's predictions for
every kind of string and batch, its signatures and token-id checks, 16-bit
weights, `saved_model_cli` and `tools/export_saved_model.py`. The exports
run in one fresh process with only TensorFlow and tensorflow-text
(`serve_without_keras.py`)."""

import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.serving import COMPARISON_TEXTS
from keras_bigs.serving.stored_weights import with_stored_weights
from tests.conftest import tiny_backbone
from tests.serving.serving_common import PREDICTED
from tests.serving.serving_common import SENT
from tests.serving.serving_common import SEQUENCE_LENGTH
from tests.serving.serving_common import TEXTS
from tests.serving.serving_common import TOKEN_INPUTS
from tests.serving.serving_common import assert_classifier_outputs
from tests.serving.serving_common import assert_token_ids_are_checked
from tests.serving.serving_common import cli_signatures
from tests.serving.serving_common import serve
from tests.tools.test_convert_checkpoint import load_tool


@pytest.fixture(scope="module")
def served(models, exports, tmp_path_factory):
    """The float32 and bfloat16 classifier exports, called once."""
    tokens = {
        name: np.asarray(value).astype("int32")
        for name, value in models.classifier.preprocessor(PREDICTED).items()
    }
    empty_tokens = {
        name: np.zeros((1, SEQUENCE_LENGTH), "int32") for name in TOKEN_INPUTS
    }
    empty_tokens["token_ids"][0, :2] = (101, 102)  # [CLS] [SEP]
    empty_tokens["padding_mask"][0, :2] = 1
    thousand = [SENT[i % len(SENT)] for i in range(1000)]
    requests = {
        "texts": ("classifier", "serving_default", {"text": SENT}),
        "tokens": ("classifier", "serve_tokens", tokens),
        "empty_tokens": ("classifier", "serve_tokens", empty_tokens),
        "one": ("classifier", "serving_default", {"text": SENT[:1]}),
        "thousand": ("classifier", "serving_default", {"text": thousand}),
        "bf16": ("classifier_bf16", "serving_default", {"text": SENT}),
    }

    def expected():
        return {"logits": models.classifier.predict(PREDICTED, verbose=0)}

    return serve(
        exports, requests, tmp_path_factory, expected, cli="classifier"
    )


# === Strings in, the Keras model's predictions out ===


@pytest.mark.backends("jax", "tensorflow")
def test_served_strings_give_the_keras_predictions(served):
    # Includes the empty string, unicode, special tokens and a string far
    # longer than the sequence length (truncated as predict truncates).
    texts = slice(0, len(TEXTS))
    assert_classifier_outputs(
        served.results, "texts", served.logits[texts], texts
    )


@pytest.mark.backends("jax", "tensorflow")
def test_token_signature_gives_the_same_outputs(served):
    assert_classifier_outputs(served.results, "tokens", served.logits)
    # The empty string is [CLS] [SEP] and padding.
    empty = TEXTS.index("")
    assert_classifier_outputs(
        served.results, "empty_tokens", served.logits[empty : empty + 1]
    )


@pytest.mark.backends("jax", "tensorflow")
def test_invalid_utf8_is_cleaned_not_an_error(served):
    invalid = slice(len(TEXTS), None)
    assert_classifier_outputs(
        served.results, "texts", served.logits[invalid], invalid
    )


@pytest.mark.backends("jax", "tensorflow")
def test_batches_of_one_and_of_a_thousand(served):
    assert_classifier_outputs(served.results, "one", served.logits[:1])
    rows = np.arange(1000) % len(SENT)
    assert_classifier_outputs(served.results, "thousand", served.logits[rows])


@pytest.mark.backends("jax", "tensorflow")
def test_report_and_loaded_signatures(served):
    tokens = {name: "int32" for name in TOKEN_INPUTS}
    classifier_outputs = {
        "label_id": "int64",
        "logits": "float32",
        "probabilities": "float32",
    }
    assert served.signatures["classifier"] == {
        "serving_default": {
            "inputs": {"text": "string"},
            "outputs": classifier_outputs,
        },
        "serve_tokens": {"inputs": tokens, "outputs": classifier_outputs},
    }
    report = served.reports["classifier"]
    # A fixed-length export: token inputs of the sequence length only.
    fixed = report["signatures"]["serve_tokens"]
    assert fixed["inputs"]["token_ids"]["shape"] == [None, SEQUENCE_LENGTH]
    assert report["buckets"] is None
    # The classifier was exported over an older export (overwrite=True).
    assert (
        pathlib.Path(served.folder["classifier"]) / "saved_model.pb"
    ).stat().st_size > 1000


@pytest.mark.backends("jax", "tensorflow")
def test_token_ids_outside_the_vocabulary_are_errors(served):
    assert_token_ids_are_checked(served.folder["classifier"])


# === 16-bit stored weights ===


@pytest.mark.backends("jax", "tensorflow")
def test_bfloat16_weights_are_smaller_and_close(served):
    full, half = served.reports["classifier"], served.reports["classifier_bf16"]
    assert half["variables_bytes"] < 0.55 * full["variables_bytes"]
    logits = served.results["bf16/logits"]
    np.testing.assert_allclose(logits, served.logits, rtol=0.02, atol=2e-3)
    assert not np.array_equal(logits, served.logits)  # really rounded
    comparison = half["comparison"]
    assert comparison["num_texts"] == len(COMPARISON_TEXTS)
    assert 0 < comparison["max_abs_logits_difference"] < 2e-3
    assert 0 <= comparison["label_agreement"] <= 1


@pytest.mark.backends("jax", "tensorflow")
def test_16_bit_storage_keeps_biases_norms_and_ssm_parameters_float32():
    backbone = tiny_backbone(
        SEQUENCE_LENGTH, state_dim=64, kernel_per_channel=True
    )  # A_re: (16, 64), big enough for 16 bits
    classifier = keras_bigs.BiGSClassifier(backbone, num_classes=2)
    weights, _ = with_stored_weights(classifier, "bfloat16")
    variables = (
        classifier.trainable_variables + classifier.non_trainable_variables
    )
    stored = {
        variable.path: copy.dtype
        for variable, copy in zip(variables, weights.stored)
    }
    assert stored["token_embedding/embeddings"] == "bfloat16"
    assert stored["bigs_layer_0/dv/kernel"] == "float32"  # (16, 32): small
    assert stored["bigs_layer_0/dv/bias"] == "float32"
    assert stored["bigs_layer_0/fs4/A_re"] == "float32"
    assert stored["bigs_layer_0/fs4/C"] == "float32"
    assert stored["bigs_layer_0/gated_ffn/do/kernel"] == "float32"


# === saved_model_cli and tools/export_saved_model.py ===


@pytest.mark.backends("jax", "tensorflow")
def test_saved_model_cli_lists_the_signatures(served):
    # `saved_model_cli show --dir CLASSIFIER --all`, run by the fresh
    # process.
    signatures = cli_signatures(served.saved_model_cli_output)
    outputs = [
        ("label_id", "DT_INT64", "(-1)"),
        ("logits", "DT_FLOAT", "(-1, 3)"),
        ("probabilities", "DT_FLOAT", "(-1, 3)"),
    ]
    assert signatures["serving_default"] == sorted(
        outputs + [("text", "DT_STRING", "(-1)")]
    )
    assert signatures["serve_tokens"] == sorted(
        outputs
        + [
            (name, "DT_INT32", f"(-1, {SEQUENCE_LENGTH})")
            for name in TOKEN_INPUTS
        ]
    )


@pytest.mark.backends("jax")
def test_tool_exports_a_preset(models, served, tmp_path, capsys):
    preset, destination = tmp_path / "preset", tmp_path / "exported" / "1"
    models.classifier.save_to_preset(str(preset))
    tool = load_tool("export_saved_model")
    assert (
        tool.main(
            [
                str(preset),
                str(destination),
                "--json",
                str(tmp_path / "report.json"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Exported BiGSClassifier (jax backend, float32 weights" in printed
    assert "signature 'serving_default'" in printed
    assert "input  text: string[batch]" in printed
    assert "output logits: float32[batch, 3]" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["task"] == "BiGSClassifier"
    assert report["signatures"] == served.reports["classifier"]["signatures"]
    serving = tf.saved_model.load(str(destination))
    outputs = serving.signatures["serving_default"](text=tf.constant(SENT))
    np.testing.assert_allclose(
        outputs["logits"], served.logits, rtol=1e-5, atol=1e-5
    )

    # An existing export is kept unless --overwrite.
    with pytest.raises(SystemExit):
        tool.main([str(preset), str(destination)])
    assert "exists and is not empty" in capsys.readouterr().err

    # With 16-bit weights it also prints how far the outputs moved.
    tool.print_report(served.reports["classifier_bf16"])
    assert (
        "vs float32 on the fixed batch: num_texts 16, "
        "max_abs_logits_difference "
    ) in capsys.readouterr().out
