import warnings

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.analysis import AGREEMENT_PROBES_PATH
from keras_bigs.analysis import ProbeItem
from keras_bigs.analysis import generate_agreement_probes
from keras_bigs.analysis import read_probe_tsv
from keras_bigs.analysis import run_agreement_probes
from keras_bigs.analysis.agreement import candidate_token_ids
from keras_bigs.analysis.agreement import format_probe_tsv
from keras_bigs.analysis.agreement import probe_accuracy
from keras_bigs.analysis.agreement import probe_inputs
from keras_bigs.analysis.agreement import score_candidates
from keras_bigs.analysis.prediction import preprocessor_detached
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone

HEADER = "phenomenon\tsentence\tcorrect\tincorrect\n"


def test_shipped_items_are_the_generators_output():
    assert AGREEMENT_PROBES_PATH.read_text(encoding="utf-8") == (
        format_probe_tsv(generate_agreement_probes())
    )
    items = read_probe_tsv()
    counts = probe_accuracy(items, np.zeros((len(items), 2)))
    assert {name: row["count"] for name, row in counts.items()} == {
        "simple": 36,
        "pp_1_attractor": 72,
        "pp_2_attractors": 144,
        "rc_1_attractor": 72,
        "rc_2_attractors": 144,
        "all": 468,
    }


def test_shipped_items_are_agreement_pairs_of_single_wordpieces():
    items = read_probe_tsv()
    ids = candidate_token_ids(items, keras_bigs.BiGSTokenizer())
    assert ids.shape == (len(items), 2)
    pairs = {frozenset((i.correct, i.incorrect)) for i in items}
    assert pairs == {
        frozenset(p) for p in (("is", "are"), ("was", "were"), ("has", "have"))
    }
    item = next(i for i in items if i.phenomenon == "rc_2_attractors")
    # A singular head with plural attractors takes the singular verb.
    assert item.sentence.startswith(
        "the author that the books near the villages like [MASK]"
    )
    assert item.correct in ("is", "was", "has")


def test_bad_items_are_named(tmp_path):
    path = tmp_path / "items.tsv"
    path.write_text(HEADER + "x\tthe [MASK] and [MASK]\tis\tare\n")
    with pytest.raises(ValueError, match="line 2: .*exactly one"):
        read_probe_tsv(path)
    path.write_text(HEADER + "x\tthe cat [MASK]\tsleeps\tsleepzzqx\n")
    items = read_probe_tsv(path)
    with pytest.raises(
        ValueError, match="line 2 .*'sleepzzqx' is not a single wordpiece"
    ):
        candidate_token_ids(items, keras_bigs.BiGSTokenizer())
    path.write_text("sentence\tcorrect\n")
    with pytest.raises(ValueError, match="header"):
        read_probe_tsv(path)


def test_probe_inputs_pack_cls_sentence_sep():
    tokenizer = keras_bigs.BiGSTokenizer()
    items = [ProbeItem("x", "the author [MASK] here .", "is", "are")]
    inputs = probe_inputs(items, tokenizer, 16)
    assert inputs["token_ids"][0, :7].tolist() == [
        101,
        tokenizer.token_to_id("the"),
        tokenizer.token_to_id("author"),
        103,
        tokenizer.token_to_id("here"),
        tokenizer.token_to_id("."),
        102,
    ]
    assert inputs["padding_mask"][0].sum() == 7
    assert inputs["mask_positions"].tolist() == [[3]]


def test_scores_are_the_masked_lm_logits_of_the_candidates():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masked_lm = keras_bigs.BiGSMaskedLM.from_preset(
            str(fixture_dir("torch_masked_lm")), preprocessor=None
        )
    rng = np.random.default_rng(0)
    n, length = 5, 64
    token_ids = rng.integers(5, 1000, size=(n, length)).astype("int32")
    positions = rng.integers(1, 20, size=(n, 1)).astype("int32")
    inputs = {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": np.ones_like(token_ids),
        "mask_positions": positions,
    }
    candidates = rng.integers(5, 1000, size=(n, 2)).astype("int32")
    scores = score_candidates(masked_lm, inputs, candidates)
    logits = masked_lm.predict(inputs, verbose=0)  # (n, 1, 1000)
    for i in range(n):
        assert scores[i].tolist() == pytest.approx(
            logits[i, 0, candidates[i]].tolist(), rel=1e-5, abs=1e-5
        )
    items = [
        ProbeItem("a" if i < 3 else "b", "[MASK]", "x", "y") for i in range(n)
    ]
    results = probe_accuracy(items, scores)
    right = scores[:, 0] > scores[:, 1]
    assert results["a"]["accuracy"] == pytest.approx(right[:3].mean())
    assert results["all"]["correct"] == right.sum()


def test_run_bypasses_the_random_masking_preprocessor():
    keras.utils.set_random_seed(0)
    backbone = tiny_backbone(32)
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32
    )
    masked_lm = keras_bigs.BiGSMaskedLM(backbone, preprocessor=preprocessor)
    items = read_probe_tsv()[:40]
    first, scores = run_agreement_probes(masked_lm, items)
    again, _ = run_agreement_probes(masked_lm, items)
    assert first == again and first["all"]["count"] == 40
    assert masked_lm.preprocessor is preprocessor
    inputs = probe_inputs(items, preprocessor.tokenizer, 32)
    with preprocessor_detached(masked_lm):
        logits = masked_lm.predict(inputs, verbose=0)[:, 0]
    ids = candidate_token_ids(items, preprocessor.tokenizer)
    np.testing.assert_allclose(
        scores, np.take_along_axis(logits, ids, axis=1), rtol=1e-5, atol=1e-6
    )
