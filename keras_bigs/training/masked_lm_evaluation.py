"""Masked-token loss and accuracy on held-out text, the unigram baseline
they are compared with, and a callback that records them during
pretraining."""

import csv
import os

import keras
import numpy as np

from keras_bigs.training.callbacks import ScoringCallback
from keras_bigs.training.callbacks import keep_csv_rows
from keras_bigs.training.callbacks import write_csv

HELDOUT_LOG_FIELDS = ("step", "tokens_seen", "loss", "accuracy")


def _log_softmax(logits):
    # log p = l - logsumexp(l), shifted by the maximum for stability.
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _per_token(total_loss, correct, count):
    """Mean loss and accuracy over `count` scored masked tokens."""
    if count == 0:
        raise ValueError("The batches have no masked tokens to score.")
    return {
        "loss": total_loss / count,
        "accuracy": correct / count,
        "masked_tokens": count,
    }


def masked_token_scores(masked_lm, batches):
    """Cross-entropy and accuracy of `masked_lm` over the masked tokens of
    `batches`, each masked token counting once (unused mask slots, of
    weight 0, are skipped).

    Args:
        masked_lm: a `BiGSMaskedLM` taking token ids
            (`preprocessor=None`).
        batches: iterable of `(x, y, sample_weight)`, as from
            `masked_lm_dataset`.

    Returns:
        dict: `loss` (mean negative log-likelihood of the original token,
        in nats), `accuracy` (share of masked tokens whose top-scoring
        token is the original), `masked_tokens` (how many were scored).
    """
    total_loss, correct, count = 0.0, 0, 0
    for x, y, weights in batches:
        logits = np.asarray(
            keras.ops.convert_to_numpy(masked_lm.predict_on_batch(x)),
            "float64",
        )
        labels = np.asarray(y)
        used = np.asarray(weights) > 0
        log_probs = _log_softmax(logits)
        picked = np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
        total_loss -= picked[used].sum()
        correct += int((logits.argmax(-1) == labels)[used].sum())
        count += int(used.sum())
    return _per_token(total_loss, correct, count)


def unigram_counts(batches, vocabulary_size):
    """How often each token id is a masked token's label in `batches`:
    masked positions are a uniform sample of the maskable tokens, so
    these are the corpus' unigram counts (special tokens excluded).

    Args:
        batches: iterable of `(x, y, sample_weight)`.
        vocabulary_size: int.

    Returns:
        int64 array of shape `(vocabulary_size,)`.
    """
    counts = np.zeros(vocabulary_size, "int64")
    for _, y, weights in batches:
        labels = np.asarray(y)[np.asarray(weights) > 0]
        counts += np.bincount(labels, minlength=vocabulary_size)
    return counts


def unigram_scores(counts, batches):
    """The unigram baseline on `batches`: predict the most frequent token
    at every masked position, with the add-one-smoothed unigram
    distribution of `counts` as its probabilities.

    Args:
        counts: token counts from `unigram_counts` (of training text).
        batches: iterable of `(x, y, sample_weight)` (held-out text).

    Returns:
        dict: `loss`, `accuracy`, `masked_tokens` as `masked_token_scores`
        gives them, and `token` (the id it predicts).
    """
    # p(t) = (c_t + 1) / (sum c + V): add-one smoothing, so that a token
    # never seen in training has finite loss.
    log_probs = np.log(counts + 1.0) - np.log(counts.sum() + len(counts))
    token = int(counts.argmax())
    total_loss, correct, count = 0.0, 0, 0
    for _, y, weights in batches:
        labels = np.asarray(y)[np.asarray(weights) > 0]
        total_loss -= log_probs[labels].sum()
        correct += int((labels == token).sum())
        count += labels.size
    return {**_per_token(total_loss, correct, count), "token": token}


def read_heldout_log(path):
    """The rows of a `HeldOutEvaluation` CSV, as dicts of numbers, in step
    order; `[]` when there is no file."""
    if not os.path.isfile(path):
        return []
    with open(path) as f:
        rows = [
            {
                "step": int(row["step"]),
                "tokens_seen": int(row["tokens_seen"]),
                "loss": float(row["loss"]),
                "accuracy": float(row["accuracy"]),
            }
            for row in csv.DictReader(f)
        ]
    return sorted(rows, key=lambda row: row["step"])


class HeldOutEvaluation(ScoringCallback):
    """Scores the masked LM on held-out batches after every epoch (with
    `steps_per_epoch` the checkpoint interval: at every checkpoint) and
    keeps the curve in a CSV (`step, tokens_seen, loss, accuracy`).

    The scores also go into the epoch logs as `heldout_loss` and
    `heldout_accuracy`, for `CSVLogger` and `TensorBoard` placed after it.
    A resumed run calls `resume(step)` first: rows past the checkpoint it
    resumes from are dropped and written again as training reaches them.

    Args:
        batches: the held-out `(x, y, sample_weight)` batches, masked once
            (the same masks at every point).
        path: str. The CSV file.
        tokens_per_step: int. Token positions per training step (global
            batch size x sequence length), for `tokens_seen`.
    """

    def __init__(self, batches, path, tokens_per_step):
        super().__init__()
        self.batches = batches
        self.path = path
        self.tokens_per_step = tokens_per_step

    def resume(self, step):
        """Keep the rows up to `step` (all of them when the file is
        complete up to there)."""
        keep_csv_rows(self.path, lambda row: int(row["step"]) <= step)

    def record(self, step):
        """Score the model now and add the row for `step`; returns it."""
        with self.scoring_model() as model:
            scores = masked_token_scores(model, self.batches)
        row = {
            "step": step,
            "tokens_seen": step * self.tokens_per_step,
            "loss": scores["loss"],
            "accuracy": scores["accuracy"],
        }
        rows = [r for r in read_heldout_log(self.path) if r["step"] != step]
        write_csv(self.path, HELDOUT_LOG_FIELDS, rows + [row])
        return row

    def on_epoch_end(self, epoch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        row = self.record(step)
        if logs is not None:
            logs["heldout_loss"] = row["loss"]
            logs["heldout_accuracy"] = row["accuracy"]
        print(
            f"Step {step}: held-out masked-token loss {row['loss']:.4f}, "
            f"accuracy {row['accuracy']:.4f}"
        )
