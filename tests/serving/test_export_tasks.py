"""The exports of the other tasks, strings in: sentence-pair regression and
fill-mask, and the signatures each export reports and loads with. The
exports run in one fresh process with only TensorFlow and tensorflow-text
(`serve_without_keras.py`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.serving.serving_common import MASKED
from tests.serving.serving_common import MAX_MASKS
from tests.serving.serving_common import PAIRS
from tests.serving.serving_common import SEQUENCE_LENGTH
from tests.serving.serving_common import TOKEN_INPUTS
from tests.serving.serving_common import TOP_K
from tests.serving.serving_common import expected_fill_mask
from tests.serving.serving_common import fill_mask_inputs
from tests.serving.serving_common import serve
from tests.serving.serving_common import utf8


@pytest.fixture(scope="module")
def served(models, exports, tmp_path_factory):
    """The regressor (pairs) and masked LM exports, called once."""
    mlm_tokens, _, _ = fill_mask_inputs(models.masked_lm, MASKED)
    requests = {
        "pairs": (
            "regressor",
            "serving_default",
            {"text_a": utf8(PAIRS[0]), "text_b": utf8(PAIRS[1])},
        ),
        "fill_mask": ("masked_lm", "serving_default", {"text": utf8(MASKED)}),
        "fill_mask_tokens": ("masked_lm", "serve_tokens", mlm_tokens),
    }

    def expected():
        pairs = (
            tf.data.Dataset.from_tensor_slices(PAIRS)
            .batch(8)
            .map(lambda a, b: ((a, b),))
        )  # `(x,)`: a bare pair reads as `(x, y)`
        tokenizer = models.masked_lm.preprocessor.tokenizer
        return {
            "scores": models.regressor.predict(pairs, verbose=0)[:, 0],
            "fill_mask": expected_fill_mask(models.masked_lm, MASKED),
            "vocabulary": np.array(tokenizer.get_vocabulary(), dtype=object),
        }

    return serve(exports, requests, tmp_path_factory, expected)


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
def test_report_and_loaded_signatures(served):
    # The classifier's: test_export_classifier.py.
    tokens = {name: "int32" for name in TOKEN_INPUTS}
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
    assert report["backend"] == keras.backend.backend()
    assert 0 < report["variables_bytes"] < report["total_bytes"]
