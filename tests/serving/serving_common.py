"""What the `export_for_serving` tests share: the texts they send, the tiny
models, the exports (each written once per test process, on first use) and
the fresh process that calls them as a server would.

Keras exports TF SavedModels from JAX and TensorFlow only: on torch, only
the error is tested.
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
from keras_bigs.serving import export_for_serving
from tests.conftest import tiny_backbone

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

# The exports: `{name: (model, export_for_serving keyword arguments)}`.
# Each is used by one test file only: test files run in separate worker
# processes (tests/run.sh), and an export two files shared would be written
# in each.
EXPORTS = {
    # Written over a folder holding an older export (`overwrite=True`).
    "classifier": ("classifier", {"overwrite": True}),
    "classifier_bf16": ("classifier", {"weights_dtype": "bfloat16"}),
    "regressor": ("regressor", {"pairs": True}),
    "masked_lm": ("masked_lm", {"top_k": TOP_K, "max_masks": MAX_MASKS}),
    "invariant": ("invariant", {}),
    "embedder": ("embedder", {}),
}


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


def tiny_models():
    """The tasks exported: a 3-class classifier, a regressor, a masked LM,
    a padding-invariant classifier (bucketed) and text embedder (not)."""
    keras.utils.set_random_seed(0)

    def preprocessor(cls, **kwargs):
        return cls(
            keras_bigs.BiGSTokenizer(),
            sequence_length=SEQUENCE_LENGTH,
            **kwargs,
        )

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
        # Without buckets: converted at the one full length, it still
        # serves token inputs of any length.
        embedder=keras_bigs.BiGSTextEmbedder(
            strong(tiny_backbone(SEQUENCE_LENGTH, padding_invariant=True)),
            preprocessor=preprocessor(
                keras_bigs.BiGSTextEmbedderPreprocessor, buckets=None
            ),
        ),
    )


class Exports:
    """The `EXPORTS` of `models` under `root`, each written on first use:
    `exports[name]` is `(folder, report)`."""

    def __init__(self, models, root):
        self.models, self.root, self.written = models, root, {}

    def __getitem__(self, name):
        if name not in self.written:
            model, kwargs = EXPORTS[name]
            folder = self.root / name
            if kwargs.get("overwrite"):
                folder.mkdir()
                (folder / "saved_model.pb").write_text("an older export")
            report = export_for_serving(
                getattr(self.models, model), str(folder), **kwargs
            )
            self.written[name] = (str(folder), report)
        return self.written[name]


def serve(exports, requests, tmp_path_factory, expected, cli=None):
    """Call exports as a server would, in one fresh process
    (`serve_without_keras.py`), while this one computes `expected()`, the
    Keras results to compare with.

    Args:
        exports: the `Exports`.
        requests: `{key: (export name, signature, inputs)}`.
        tmp_path_factory: pytest's, for the request and result files.
        expected: a function returning `{name: value}`.
        cli: an export name: also run `saved_model_cli show --all` on it.

    Returns:
        A namespace: `folder` and `reports` (`{name: ...}` of the exports
        called), `results` (`{"key/output": array}`), `signatures`
        (`{name: {signature: {"inputs", "outputs"}}}`, dtypes as loaded),
        `saved_model_cli_output` and the values of `expected()`.
    """
    names = dict.fromkeys(name for name, _, _ in requests.values())
    folder = {name: exports[name][0] for name in names}
    reports = {name: exports[name][1] for name in names}
    calls = {
        key: (folder[name], signature, inputs)
        for key, (name, signature, inputs) in requests.items()
    }
    root = tmp_path_factory.mktemp("requests")
    with open(root / "requests.pkl", "wb") as f:
        pickle.dump(calls, f)
    results_path = root / "results.npz"
    command = [
        sys.executable,
        str(HERE / "serve_without_keras.py"),
        str(root / "requests.pkl"),
        str(results_path),
    ]
    # From an empty folder, so nothing of this repository is importable
    # from the working directory.
    process = subprocess.Popen(
        command + ([folder[cli]] if cli else []),
        cwd=tmp_path_factory.mktemp("empty"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        keras_results = expected()
        _, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr[-3000:]
    with open(str(results_path) + ".json") as f:
        signatures = json.load(f)
    cli_output = None
    if cli:
        with open(str(results_path) + ".cli.txt") as f:
            cli_output = f.read()
    return types.SimpleNamespace(
        folder=folder,
        reports=reports,
        results=dict(np.load(results_path)),
        saved_model_cli_output=cli_output,
        signatures={name: signatures[path] for name, path in folder.items()},
        **keras_results,
    )


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


def assert_token_ids_are_checked(folder):
    """The `serve_tokens` signature of the export at `folder` refuses token
    ids outside the vocabulary, naming the first; returns the signature."""
    serve_tokens = tf.saved_model.load(folder).signatures["serve_tokens"]
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
    return serve_tokens


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
