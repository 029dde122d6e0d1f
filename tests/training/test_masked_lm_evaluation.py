import numpy as np
import pytest

import keras_bigs
from keras_bigs.training.masked_lm_evaluation import HeldOutEvaluation
from keras_bigs.training.masked_lm_evaluation import masked_token_scores
from keras_bigs.training.masked_lm_evaluation import read_heldout_log
from keras_bigs.training.masked_lm_evaluation import unigram_counts
from keras_bigs.training.masked_lm_evaluation import unigram_scores
from tests.conftest import tiny_backbone


def _batches(rng, vocabulary_size=1000, batches=2):
    out = []
    for _ in range(batches):
        token_ids = rng.integers(5, vocabulary_size, (3, 16)).astype("int32")
        x = {
            "token_ids": token_ids,
            "segment_ids": np.zeros_like(token_ids),
            "padding_mask": np.ones_like(token_ids),
            "mask_positions": rng.integers(0, 16, (3, 4)),
        }
        y = rng.integers(5, vocabulary_size, (3, 4)).astype("int32")
        weights = np.array(
            [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]], "float32"
        )
        out.append((x, y, weights))
    return out


def test_masked_token_scores_count_each_used_mask_slot_once():
    masked_lm = keras_bigs.BiGSMaskedLM(tiny_backbone(16), preprocessor=None)
    batches = _batches(np.random.default_rng(0))
    scores = masked_token_scores(masked_lm, batches)

    losses, hits = [], []
    for x, y, weights in batches:
        logits = np.asarray(masked_lm.predict_on_batch(x), "float64")
        shifted = logits - logits.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        for i, j in zip(*np.nonzero(weights)):
            losses.append(-log_probs[i, j, y[i, j]])
            hits.append(logits[i, j].argmax() == y[i, j])
    assert scores["masked_tokens"] == len(losses) == 18
    assert scores["loss"] == pytest.approx(np.mean(losses), rel=1e-6)
    assert scores["accuracy"] == pytest.approx(np.mean(hits))
    # An untrained model is near the uniform distribution's loss.
    assert abs(scores["loss"] - np.log(30522)) < 0.5


def test_masked_token_scores_refuse_batches_without_masks():
    masked_lm = keras_bigs.BiGSMaskedLM(tiny_backbone(16), preprocessor=None)
    x, y, weights = _batches(np.random.default_rng(0), batches=1)[0]
    with pytest.raises(ValueError, match="no masked tokens"):
        masked_token_scores(masked_lm, [(x, y, np.zeros_like(weights))])


def test_unigram_baseline_predicts_the_most_frequent_training_token():
    x = {}
    training = [
        (x, np.array([[7, 7, 3], [7, 9, 9]]), np.array([[1, 1, 1], [1, 1, 0]])),
    ]
    counts = unigram_counts(training, vocabulary_size=10)
    # The 9 in an unused slot (weight 0) is not counted.
    assert counts.tolist() == [0, 0, 0, 1, 0, 0, 0, 3, 0, 1]
    heldout = [(x, np.array([[7, 3, 5, 7]]), np.array([[1, 1, 1, 0]]))]
    scores = unigram_scores(counts, heldout)
    assert scores["token"] == 7 and scores["masked_tokens"] == 3
    assert scores["accuracy"] == pytest.approx(1 / 3)
    # Add-one smoothing: p(t) = (c_t + 1) / (5 + 10).
    expected = -np.mean(np.log([4 / 15, 2 / 15, 1 / 15]))
    assert scores["loss"] == pytest.approx(expected)


def test_heldout_log_keeps_one_row_per_step_and_resumes_at_a_checkpoint(
    tmp_path,
):
    masked_lm = keras_bigs.BiGSMaskedLM(tiny_backbone(16), preprocessor=None)
    path = str(tmp_path / "heldout_log.csv")
    evaluation = HeldOutEvaluation(
        _batches(np.random.default_rng(1)), path, tokens_per_step=64
    )
    evaluation.set_model(masked_lm)
    for step in (0, 10, 20, 30):
        evaluation.record(step)
    first = read_heldout_log(path)
    assert [row["step"] for row in first] == [0, 10, 20, 30]
    assert [row["tokens_seen"] for row in first] == [0, 640, 1280, 1920]

    # A run that stopped after scoring step 30 but before its checkpoint
    # resumes from step 20: the row for 30 is dropped, then written again.
    evaluation.resume(20)
    assert [row["step"] for row in read_heldout_log(path)] == [0, 10, 20]
    evaluation.record(30)
    again = read_heldout_log(path)
    assert [row["step"] for row in again] == [0, 10, 20, 30]
    assert again[3]["loss"] == pytest.approx(first[3]["loss"])
    assert read_heldout_log(str(tmp_path / "missing.csv")) == []
