"""int8 against float32: size on disk, CPU speed and how far outputs move
(what `tools/benchmark_quantization.py` runs)."""

import os
import warnings

import keras
import numpy as np

from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_question_answerer import BiGSQuestionAnswerer
from keras_bigs.models.bigs_text_embedder import BiGSTextEmbedder
from keras_bigs.models.bigs_token_classifier import BiGSTokenClassifier
from keras_bigs.performance.benchmark import interleaved_seconds
from keras_bigs.performance.benchmark import random_batch

VARIANTS = ("float32", "int8")
# Original checkpoints (in the reference fixtures) and the task each is
# loaded as.
FIXTURE_TASKS = (
    ("flax_classifier", BiGSClassifier),
    ("flax_regressor", BiGSClassifier),
    ("torch_classifier", BiGSClassifier),
    ("flax_masked_lm", BiGSMaskedLM),
    ("flax_token_classifier", BiGSTokenClassifier),
    ("torch_question_answering", BiGSQuestionAnswerer),
    ("flax_classifier", BiGSTextEmbedder),
)


def classifier_pair(
    sequence_length, hidden_dim, num_layers, intermediate_dim, state_dim
):
    """`{"float32": ..., "int8": ...}`: one random BiGS classifier and a
    copy of it quantized to int8."""
    pair = {}
    for variant in VARIANTS:
        keras.utils.set_random_seed(0)
        backbone = BiGSBackbone(
            vocabulary_size=30522,
            num_layers=num_layers,
            hidden_dim=hidden_dim,
            intermediate_dim=intermediate_dim,
            state_dim=state_dim,
            max_sequence_length=sequence_length,
        )
        pair[variant] = BiGSClassifier(backbone, num_classes=2)
    pair["int8"].quantize("int8")
    return pair


def weights_bytes(task, directory):
    """Bytes of the weight files `save_to_preset` writes."""
    task.save_to_preset(directory)
    return sum(
        os.path.getsize(os.path.join(directory, name))
        for name in os.listdir(directory)
        if name.endswith(".h5")
    )


def compare(pair, batch_size, sequence_length, directory, repeats=5):
    """Size, predict seconds per batch (interleaved turns) and the output
    difference of a `classifier_pair`."""
    x, _ = random_batch(batch_size, sequence_length)
    logits = {v: np.asarray(pair[v].predict_on_batch(x)) for v in VARIANTS}
    seconds = interleaved_seconds(
        {v: (lambda v=v: pair[v].predict_on_batch(x)) for v in VARIANTS},
        repeats=repeats,
    )
    return {
        variant: {
            "weights_bytes": weights_bytes(
                pair[variant], os.path.join(directory, variant)
            ),
            "seconds_per_batch": seconds[variant],
            "examples_per_s": batch_size / seconds[variant],
            "relative_logits_error": relative_error(
                logits[variant], logits["float32"]
            ),
        }
        for variant in VARIANTS
    }


def fixture_errors(fixtures_dir):
    """`[(checkpoint, task, output, relative error)]`: how far int8 moves
    each task's outputs on the reference checkpoints' inputs."""
    rows = []
    for name, cls in FIXTURE_TASKS:
        folder = os.path.join(fixtures_dir, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no pooler for some heads
            task = cls.from_preset(folder, preprocessor=None)
        reference = np.load(os.path.join(folder, "reference_outputs.npz"))
        x = next(reference_batches(reference))[1]
        if cls is BiGSMaskedLM:
            positions = np.arange(1, 9, dtype="int32")
            x = dict(
                x, mask_positions=np.tile(positions, (len(x["token_ids"]), 1))
            )
        before = task.predict(x, verbose=0)
        task.quantize("int8")
        after = task.predict(x, verbose=0)
        if not isinstance(before, dict):
            before, after = {"logits": before}, {"logits": after}
        for key in sorted(before):
            rows.append(
                (
                    name,
                    cls.__name__,
                    key,
                    relative_error(after[key], before[key]),
                )
            )
    return rows
