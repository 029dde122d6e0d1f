"""The exports of padding-invariant tasks: any length, each batch padded to
its bucket; and the token signature's checks of its inputs. The exports run
in one fresh process with only TensorFlow and tensorflow-text
(`serve_without_keras.py`)."""

import numpy as np
import pytest
import tensorflow as tf

from tests.serving.serving_common import HUGE_TEXT
from tests.serving.serving_common import PREDICTED
from tests.serving.serving_common import SENT
from tests.serving.serving_common import SEQUENCE_LENGTH
from tests.serving.serving_common import SHORT_TEXTS
from tests.serving.serving_common import SHORT_TOKENS
from tests.serving.serving_common import assert_classifier_outputs
from tests.serving.serving_common import assert_token_ids_are_checked
from tests.serving.serving_common import full_length_tokens
from tests.serving.serving_common import serve
from tests.serving.serving_common import utf8


@pytest.fixture(scope="module")
def served(models, exports, tmp_path_factory):
    """The padding-invariant classifier and embedder exports, called once."""
    invariant_tokens = full_length_tokens(SHORT_TEXTS)
    short_tokens = {
        name: value[:, :SHORT_TOKENS]
        for name, value in invariant_tokens.items()
    }
    requests = {
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
        "invariant_tokens_short": ("invariant", "serve_tokens", short_tokens),
        "invariant_tokens_full": (
            "invariant",
            "serve_tokens",
            invariant_tokens,
        ),
        "embedder_texts": ("embedder", "serving_default", {"text": SENT}),
        "embedder_tokens": ("embedder", "serve_tokens", short_tokens),
    }

    def expected():
        invariant, embedder = models.invariant, models.embedder
        return {
            "invariant": invariant.predict(PREDICTED, verbose=0),
            "invariant_short": invariant.predict(SHORT_TEXTS, verbose=0),
            "invariant_huge": invariant.predict([HUGE_TEXT], verbose=0),
            "embeddings": embedder.predict(PREDICTED, verbose=0),
            "short_embeddings": embedder.predict(SHORT_TEXTS, verbose=0),
        }

    return serve(exports, requests, tmp_path_factory, expected)


@pytest.mark.backends("jax", "tensorflow")
def test_invariant_export_serves_any_length_and_bucket(served):
    report = served.reports["invariant"]
    assert report["buckets"] == [16, SEQUENCE_LENGTH]
    tokens = report["signatures"]["serve_tokens"]["inputs"]["token_ids"]
    assert tokens["shape"] == [None, None]


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
    report = served.reports["embedder"]
    signature = report["signatures"]["serving_default"]
    assert signature["outputs"] == {
        "embedding": {"dtype": "float32", "shape": [None, 16]}
    }
    # No buckets: one length converted, token inputs of any length served
    # (`embedder_tokens` are SHORT_TOKENS long).
    assert report["buckets"] == [SEQUENCE_LENGTH]
    tokens = report["signatures"]["serve_tokens"]["inputs"]["token_ids"]
    assert tokens["shape"] == [None, None]
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
    # The fixed-length classifier's: test_export_classifier.py.
    serve_tokens = assert_token_ids_are_checked(served.folder["invariant"])
    too_long = np.ones((1, SEQUENCE_LENGTH + 1), "int32")
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=rf"length\] \[{SEQUENCE_LENGTH + 1}\] \[are longer than the "
        rf"maximum length {SEQUENCE_LENGTH} of the model",
    ):
        serve_tokens(
            token_ids=too_long, segment_ids=0 * too_long, padding_mask=too_long
        )
