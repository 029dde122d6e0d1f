"""`export_for_serving`: SavedModels for TF Serving, loaded and called in a
fresh process that has only TensorFlow and tensorflow-text.

Each tiny model is exported once per backend (module fixture); every check
on the exports runs in one subprocess call. Keras exports TF SavedModels from
JAX and TensorFlow only: on torch, only the error is tested.
"""

import json
import pathlib
import pickle
import re
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_hub.layers import MultiSegmentPacker

import keras_bigs
from keras_bigs.serving import COMPARISON_TEXTS
from keras_bigs.serving import export_for_serving
from keras_bigs.serving.stored_weights import with_stored_weights
from tests.conftest import tiny_backbone
from tests.tools.test_convert_checkpoint import load_tool

HERE = pathlib.Path(__file__).resolve().parent
SEQUENCE_LENGTH = 32
TEXTS = [
    "a gripping, beautifully acted film.",
    "the plot is thin and the jokes fall flat.",
    "",  # [CLS] [SEP] and padding
    "Héllo wörld — ünïcode ☃ 東京 🙂 zero\u200bwidth",
    "a very long review " * 500,  # truncated to SEQUENCE_LENGTH
    "[CLS] literal [SEP] special tokens",
    "good movie",
]
# Invalid UTF-8, and the text each is once cleaned (U+FFFD is dropped).
INVALID_UTF8 = [
    (b"good \xff\xfe movie", "good movie"),
    (b"caf\xc3", "caf"),
    (b"\xed\xa0\x80", ""),
    (b"\xff", ""),
]
# What the classifier is sent (one batch: each new batch size costs an XLA
# compilation of a JAX export) and the strings `predict` gets for them.
SENT = [t.encode("utf-8") for t in TEXTS] + [b for b, _ in INVALID_UTF8]
PREDICTED = TEXTS + [clean for _, clean in INVALID_UTF8]
PAIRS = (
    ["A man is playing a guitar.", "", "A dog runs. " * 40, "Same."],
    ["A person plays music.", "Nothing before.", "", "Same."],
)
MASKED = [
    "The capital of France is [MASK].",
    "no mask in this one",
    "[MASK] " * 7 + "more masks than served",
    "a [MASK] b [MASK] c",
    "",
]
TOP_K, MAX_MASKS = 4, 5
TOKEN_INPUTS = ("token_ids", "segment_ids", "padding_mask")
# Rows of at most SHORT_TOKENS tokens, for the padding-invariant model.
SHORT_TEXTS = ["good movie", "", "a gripping, beautifully acted film."]
SHORT_TOKENS = 12
HUGE_TEXT = " ".join(f"word{i % 50}" for i in range(10_000))


def full_length_tokens(texts):
    """`texts` as `[CLS] tokens [SEP]`, padded to SEQUENCE_LENGTH."""
    tokenizer = keras_bigs.BiGSTokenizer()
    token_ids = np.zeros((len(texts), SEQUENCE_LENGTH), "int32")
    for row, text in enumerate(texts):
        ids = [101, *np.asarray(tokenizer(text)).tolist(), 102]
        assert len(ids) <= SHORT_TOKENS
        token_ids[row, : len(ids)] = ids
    return {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": (token_ids != 0).astype("int32"),
    }


def utf8(texts):
    return [t.encode("utf-8") if isinstance(t, str) else t for t in texts]


def predict_tokens(task, x):
    """`task.predict` on token inputs (the preprocessor set aside)."""
    preprocessor, task.preprocessor = task.preprocessor, None
    try:
        return task.predict(x, verbose=0)
    finally:
        task.preprocessor = preprocessor


def fill_mask_inputs(masked_lm, texts):
    """Tokenized and packed as the masked LM's preprocessor does, without
    its random masking, and the first MAX_MASKS `[MASK]` positions."""
    tokenizer = masked_lm.preprocessor.tokenizer
    packer = MultiSegmentPacker(
        start_value=tokenizer.cls_token_id,
        end_value=tokenizer.sep_token_id,
        pad_value=tokenizer.pad_token_id,
        sequence_length=SEQUENCE_LENGTH,
    )
    token_ids, segment_ids = (
        np.asarray(v).astype("int32") for v in packer(tokenizer(texts))
    )
    x = {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": (token_ids != tokenizer.pad_token_id).astype("int32"),
    }
    positions = np.zeros((len(texts), MAX_MASKS), "int32")
    found = np.zeros((len(texts), MAX_MASKS), bool)
    for row, ids in enumerate(token_ids):
        masks = np.flatnonzero(ids == tokenizer.mask_token_id)[:MAX_MASKS]
        positions[row, : len(masks)] = masks
        found[row, : len(masks)] = True
    return x, positions, found


def expected_fill_mask(masked_lm, texts):
    x, positions, found = fill_mask_inputs(masked_lm, texts)
    logits = predict_tokens(masked_lm, {**x, "mask_positions": positions})
    logits = logits.astype("float64")
    probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    ids = np.argsort(-probabilities, axis=-1)[..., :TOP_K]
    return {
        "ids": ids,
        "scores": np.take_along_axis(probabilities, ids, -1),
        "positions": positions,
        "found": found,
    }


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)

    def preprocessor(cls):
        return cls(keras_bigs.BiGSTokenizer(), sequence_length=SEQUENCE_LENGTH)

    classifier_preprocessor = keras_bigs.BiGSTextClassifierPreprocessor
    return types.SimpleNamespace(
        classifier=keras_bigs.BiGSClassifier(
            tiny_backbone(SEQUENCE_LENGTH),
            num_classes=3,
            preprocessor=preprocessor(classifier_preprocessor),
        ),
        regressor=keras_bigs.BiGSClassifier(
            tiny_backbone(SEQUENCE_LENGTH),
            num_classes=1,
            preprocessor=preprocessor(classifier_preprocessor),
        ),
        masked_lm=keras_bigs.BiGSMaskedLM(
            tiny_backbone(SEQUENCE_LENGTH),
            preprocessor=preprocessor(keras_bigs.BiGSMaskedLMPreprocessor),
        ),
        # Two layers with large weights, so that padding would matter.
        invariant=keras_bigs.BiGSClassifier(
            strong(
                tiny_backbone(
                    SEQUENCE_LENGTH, num_layers=2, padding_invariant=True
                )
            ),
            num_classes=3,
            preprocessor=preprocessor(classifier_preprocessor),
        ),
        embedder=keras_bigs.BiGSTextEmbedder(
            strong(tiny_backbone(SEQUENCE_LENGTH, padding_invariant=True)),
            preprocessor=preprocessor(keras_bigs.BiGSTextEmbedderPreprocessor),
        ),
    )


def strong(backbone):
    """`backbone` with weights under which every block moves the output."""
    rng = np.random.default_rng(1)
    for variable in backbone.weights:
        if len(variable.shape) == 2 and "embedding" not in variable.path:
            scale = 1.5 / np.sqrt(variable.shape[0])
            variable.assign(
                rng.normal(0, scale, variable.shape).astype("float32")
            )
    return backbone


@pytest.fixture(scope="module")
def served(models, tmp_path_factory):
    """Export each model once; call every export in one fresh process."""
    root = tmp_path_factory.mktemp("serving")
    folder = {
        name: str(root / name)
        for name in (
            "classifier",
            "classifier_bf16",
            "regressor",
            "masked_lm",
            "invariant",
            "embedder",
        )
    }
    # A folder holding an older export: replaced with overwrite=True.
    pathlib.Path(folder["classifier"]).mkdir()
    (root / "classifier" / "saved_model.pb").write_text("an older export")
    reports = {
        "classifier": export_for_serving(
            models.classifier, folder["classifier"], overwrite=True
        ),
        "classifier_bf16": export_for_serving(
            models.classifier,
            folder["classifier_bf16"],
            weights_dtype="bfloat16",
        ),
        "regressor": export_for_serving(
            models.regressor, folder["regressor"], pairs=True
        ),
        "masked_lm": export_for_serving(
            models.masked_lm,
            folder["masked_lm"],
            top_k=TOP_K,
            max_masks=MAX_MASKS,
        ),
        "invariant": export_for_serving(models.invariant, folder["invariant"]),
        "embedder": export_for_serving(models.embedder, folder["embedder"]),
    }
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
    mlm_tokens, _, _ = fill_mask_inputs(models.masked_lm, MASKED)
    invariant_tokens = full_length_tokens(SHORT_TEXTS)
    requests = {
        "texts": ("classifier", "serving_default", {"text": SENT}),
        "tokens": ("classifier", "serve_tokens", tokens),
        "empty_tokens": ("classifier", "serve_tokens", empty_tokens),
        "one": ("classifier", "serving_default", {"text": SENT[:1]}),
        "thousand": ("classifier", "serving_default", {"text": thousand}),
        "bf16": ("classifier_bf16", "serving_default", {"text": SENT}),
        "pairs": (
            "regressor",
            "serving_default",
            {"text_a": utf8(PAIRS[0]), "text_b": utf8(PAIRS[1])},
        ),
        "fill_mask": ("masked_lm", "serving_default", {"text": utf8(MASKED)}),
        "fill_mask_tokens": ("masked_lm", "serve_tokens", mlm_tokens),
        "invariant_texts": ("invariant", "serving_default", {"text": SENT}),
        "invariant_short": (
            "invariant",
            "serving_default",
            {"text": utf8(SHORT_TEXTS)},
        ),
        "invariant_no_rows": (
            "invariant",
            "serving_default",
            {"text": np.array([], dtype=bytes)},
        ),
        "invariant_empty_rows": (
            "invariant",
            "serving_default",
            {"text": utf8(["", "", ""])},
        ),
        "invariant_huge_row": (
            "invariant",
            "serving_default",
            {"text": utf8([HUGE_TEXT])},
        ),
        # Token inputs of the rows' own length, and of the full length.
        "invariant_tokens_short": (
            "invariant",
            "serve_tokens",
            {
                name: value[:, :SHORT_TOKENS]
                for name, value in invariant_tokens.items()
            },
        ),
        "invariant_tokens_full": (
            "invariant",
            "serve_tokens",
            invariant_tokens,
        ),
        "embedder_texts": ("embedder", "serving_default", {"text": SENT}),
        "embedder_tokens": (
            "embedder",
            "serve_tokens",
            {
                name: value[:, :SHORT_TOKENS]
                for name, value in invariant_tokens.items()
            },
        ),
    }
    requests = {
        key: (folder[model], signature, inputs)
        for key, (model, signature, inputs) in requests.items()
    }
    with open(root / "requests.pkl", "wb") as f:
        pickle.dump(requests, f)
    results_path = root / "results.npz"
    # From an empty folder, so nothing of this repository is importable
    # from the working directory. It runs while this process computes the
    # Keras predictions to compare with.
    process = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "serve_without_keras.py"),
            str(root / "requests.pkl"),
            str(results_path),
            folder["classifier"],
        ],
        cwd=tmp_path_factory.mktemp("empty"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pairs = (
            tf.data.Dataset.from_tensor_slices(PAIRS)
            .batch(8)
            .map(lambda a, b: ((a, b),))
        )  # `(x,)`: a bare pair reads as `(x, y)`
        expected = types.SimpleNamespace(
            logits=models.classifier.predict(PREDICTED, verbose=0),
            scores=models.regressor.predict(pairs, verbose=0)[:, 0],
            fill_mask=expected_fill_mask(models.masked_lm, MASKED),
            invariant=models.invariant.predict(PREDICTED, verbose=0),
            invariant_short=models.invariant.predict(SHORT_TEXTS, verbose=0),
            invariant_huge=models.invariant.predict([HUGE_TEXT], verbose=0),
            embeddings=models.embedder.predict(PREDICTED, verbose=0),
            short_embeddings=models.embedder.predict(SHORT_TEXTS, verbose=0),
            vocabulary=np.array(
                models.masked_lm.preprocessor.tokenizer.get_vocabulary(),
                dtype=object,
            ),
        )
        _, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr[-3000:]
    with open(str(results_path) + ".json") as f:
        signatures = json.load(f)
    with open(str(results_path) + ".cli.txt") as f:
        saved_model_cli_output = f.read()
    return types.SimpleNamespace(
        folder=folder,
        reports=reports,
        results=dict(np.load(results_path)),
        saved_model_cli_output=saved_model_cli_output,
        signatures={name: signatures[path] for name, path in folder.items()},
        **vars(expected),
    )


def assert_classifier_outputs(results, key, logits, rows=slice(None)):
    """The served `key` outputs (`rows` of them) are `logits` and what
    follows from them."""
    np.testing.assert_allclose(
        results[f"{key}/logits"][rows], logits, rtol=1e-5, atol=1e-5
    )
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        results[f"{key}/probabilities"][rows],
        probabilities,
        rtol=1e-5,
        atol=1e-5,
    )
    assert results[f"{key}/label_id"].dtype == np.int64
    np.testing.assert_array_equal(
        results[f"{key}/label_id"][rows], logits.argmax(-1)
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
def test_sentence_pairs_regression(served):
    np.testing.assert_allclose(
        served.results["pairs/score"], served.scores, rtol=1e-5, atol=1e-5
    )
    assert served.signatures["regressor"]["serving_default"] == {
        "inputs": {"text_a": "string", "text_b": "string"},
        "outputs": {"score": "float32"},
    }


@pytest.mark.backends("jax", "tensorflow")
def test_fill_mask(served):
    expected, vocabulary = served.fill_mask, served.vocabulary
    found = expected["found"]
    for key in ("fill_mask", "fill_mask_tokens"):
        results = {
            name.split("/")[1]: value
            for name, value in served.results.items()
            if name.startswith(key + "/")
        }
        np.testing.assert_array_equal(results["num_masks"], found.sum(-1))
        np.testing.assert_array_equal(
            results["mask_positions"],
            np.where(found, expected["positions"], -1),
        )
        ids, scores = results["top_k_token_ids"], results["top_k_scores"]
        np.testing.assert_array_equal(ids[found], expected["ids"][found])
        np.testing.assert_allclose(
            scores[found], expected["scores"][found], rtol=1e-5, atol=1e-7
        )
        assert (ids[~found] == -1).all() and (scores[~found] == 0).all()
    tokens = served.results["fill_mask/top_k_tokens"]
    np.testing.assert_array_equal(
        [token.decode("utf-8") for token in tokens[found].ravel()],
        vocabulary[expected["ids"][found]].ravel(),
    )
    assert (tokens[~found] == b"").all()
    # A row with more masks than MAX_MASKS: the first MAX_MASKS are served.
    assert found.sum(-1).tolist() == [1, 0, MAX_MASKS, 2, 0]


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
    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522,
        num_layers=1,
        hidden_dim=16,
        intermediate_dim=32,
        state_dim=64,
        max_sequence_length=SEQUENCE_LENGTH,
        kernel_per_channel=True,
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


# === Signatures ===


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
    fill_mask = {
        "mask_positions": "int32",
        "num_masks": "int32",
        "top_k_scores": "float32",
        "top_k_token_ids": "int32",
    }
    assert served.signatures["masked_lm"] == {
        "serving_default": {
            "inputs": {"text": "string"},
            "outputs": {**fill_mask, "top_k_tokens": "string"},
        },
        "serve_tokens": {"inputs": tokens, "outputs": fill_mask},
    }
    report = served.reports["masked_lm"]
    assert report["signatures"]["serving_default"]["outputs"][
        "top_k_tokens"
    ] == {"dtype": "string", "shape": [None, MAX_MASKS, TOP_K]}
    assert report["signatures"]["serve_tokens"]["inputs"]["token_ids"] == {
        "dtype": "int32",
        "shape": [None, SEQUENCE_LENGTH],
    }
    assert report["task"] == "BiGSMaskedLM"
    # The classifier was exported over an older export (overwrite=True).
    assert (
        pathlib.Path(served.folder["classifier"]) / "saved_model.pb"
    ).stat().st_size > 1000
    assert report["backend"] == keras.backend.backend()
    assert 0 < report["variables_bytes"] < report["total_bytes"]


def cli_signatures(output):
    """`{signature: sorted [(tensor, dtype, shape)]}` from the output of
    `saved_model_cli show --all`."""
    return {
        block.split("'", 1)[0]: sorted(
            re.findall(
                r"\['(\w+)'\] tensor_info:\s+dtype: (\w+)\s+shape: (\S[^\n]*)",
                block,
            )
        )
        for block in output.split("signature_def['")[1:]
    }


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


# === Errors ===


@pytest.mark.backends("jax", "tensorflow")
def test_unsupported_tasks_and_arguments_are_errors(models, tmp_path):
    path = str(tmp_path / "export")
    with pytest.raises(
        TypeError,
        match="exports BiGSClassifier, BiGSMaskedLM, BiGSTextEmbedder; got "
        "BiGSBackbone",
    ):
        export_for_serving(models.classifier.backbone, path)
    with pytest.raises(ValueError, match="weights_dtype='int8'"):
        export_for_serving(models.classifier, path, weights_dtype="int8")
    with pytest.raises(ValueError, match="max_masks=33; expected 1 to 32"):
        export_for_serving(models.masked_lm, path, max_masks=33)
    if keras.backend.backend() == "tensorflow":
        with pytest.raises(ValueError, match="JAX backend only"):
            export_for_serving(models.classifier, path, platforms=["cpu"])


@pytest.mark.backends("jax", "tensorflow")
def test_a_task_without_preprocessor_is_an_error(models, tmp_path):
    preprocessor = models.classifier.preprocessor
    models.classifier.preprocessor = None
    try:
        with pytest.raises(
            ValueError,
            match=(
                r"has no preprocessor .* tokenizes its string inputs in the "
                r"graph\. Set `task.preprocessor` to a "
                r"BiGSTextClassifierPreprocessor"
            ),
        ):
            export_for_serving(models.classifier, str(tmp_path / "export"))
    finally:
        models.classifier.preprocessor = preprocessor


@pytest.mark.backends("jax", "tensorflow")
def test_a_non_empty_destination_is_an_error(models, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(
        FileExistsError, match=("exists and is not empty. Pass overwrite=True")
    ):
        export_for_serving(models.classifier, str(tmp_path))
    # overwrite=True replaces earlier exports, not any folder.
    with pytest.raises(
        FileExistsError,
        match=("holds no SavedModel .*replaces an earlier export only"),
    ):
        export_for_serving(models.classifier, str(tmp_path), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.backends("torch")
def test_torch_backend_is_an_error(tmp_path):
    classifier = keras_bigs.BiGSClassifier(
        tiny_backbone(SEQUENCE_LENGTH),
        num_classes=2,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=SEQUENCE_LENGTH
        ),
    )
    with pytest.raises(
        RuntimeError,
        match=(
            "needs the JAX or TensorFlow backend; this process runs Keras on "
            "'torch'.*KERAS_BACKEND=jax"
        ),
    ):
        export_for_serving(classifier, str(tmp_path / "export"))


# === tools/export_saved_model.py ===


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


# === A padding-invariant model: any length, batches padded to buckets ===


@pytest.mark.backends("jax", "tensorflow")
def test_invariant_export_serves_any_length_and_bucket(served):
    report = served.reports["invariant"]
    assert report["buckets"] == [16, SEQUENCE_LENGTH]
    tokens = report["signatures"]["serve_tokens"]["inputs"]["token_ids"]
    assert tokens["shape"] == [None, None]
    fixed = served.reports["classifier"]["signatures"]["serve_tokens"]
    assert fixed["inputs"]["token_ids"]["shape"] == [None, SEQUENCE_LENGTH]
    assert served.reports["classifier"]["buckets"] is None


@pytest.mark.backends("jax", "tensorflow")
def test_invariant_export_gives_the_keras_predictions(served):
    # Mixed short, long (truncated), empty and invalid-UTF-8 rows.
    assert_classifier_outputs(
        served.results, "invariant_texts", served.invariant
    )
    assert_classifier_outputs(
        served.results, "invariant_short", served.invariant_short
    )
    assert_classifier_outputs(
        served.results, "invariant_huge_row", served.invariant_huge
    )
    empty = served.invariant_short[SHORT_TEXTS.index("")]
    assert_classifier_outputs(
        served.results, "invariant_empty_rows", np.stack([empty] * 3)
    )
    assert served.results["invariant_no_rows/logits"].shape == (0, 3)


@pytest.mark.backends("jax", "tensorflow")
def test_invariant_token_signature_takes_any_length(served):
    for key in ("invariant_tokens_short", "invariant_tokens_full"):
        assert_classifier_outputs(served.results, key, served.invariant_short)


@pytest.mark.backends("jax", "tensorflow")
def test_embedder_serves_the_keras_embeddings(served):
    signature = served.reports["embedder"]["signatures"]["serving_default"]
    assert signature["outputs"] == {
        "embedding": {"dtype": "float32", "shape": [None, 16]}
    }
    for key, expected in (
        ("embedder_texts", served.embeddings),
        ("embedder_tokens", served.short_embeddings),
    ):
        embedding = served.results[f"{key}/embedding"]
        np.testing.assert_allclose(embedding, expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(
            np.linalg.norm(embedding, axis=-1), 1.0, rtol=1e-6
        )


@pytest.mark.backends("jax", "tensorflow")
def test_token_ids_outside_the_vocabulary_are_errors(served):
    for name in ("classifier", "invariant"):
        serve_tokens = tf.saved_model.load(served.folder[name]).signatures[
            "serve_tokens"
        ]
        inputs = {k: v.copy() for k, v in full_length_tokens(["a b"]).items()}
        inputs["token_ids"][0, 2] = 50_000
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"Token id\] \[50000\] \[is outside the vocabulary "
            r"\[0, 30522\) of the model",
        ):
            serve_tokens(**inputs)
        inputs["token_ids"][0, 2] = -3
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[-3\]"):
            serve_tokens(**inputs)
    serve_tokens = tf.saved_model.load(served.folder["invariant"]).signatures[
        "serve_tokens"
    ]
    too_long = np.ones((1, SEQUENCE_LENGTH + 1), "int32")
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=rf"length\] \[{SEQUENCE_LENGTH + 1}\] \[are longer than the "
        rf"maximum length {SEQUENCE_LENGTH} of the model",
    ):
        serve_tokens(
            token_ids=too_long, segment_ids=0 * too_long, padding_mask=too_long
        )
