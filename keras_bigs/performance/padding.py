"""Full-length against bucketed padding on real text: fine-tuning and
serving throughput (what `tools/benchmark_padding.py` runs)."""

import os
import time

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from keras_bigs.data.glue_training_data import glue_training_data
from keras_bigs.models.bigs_backbone import BiGSBackbone
from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_text_classifier_preprocessor import (
    BiGSTextClassifierPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import VOCABULARY_PATH
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.serving.export import export_for_serving
from keras_bigs.serving.pipeline import save_pipeline
from keras_bigs.serving.pipeline import serving_pipeline
from keras_bigs.serving.signatures import DEFAULT_SIGNATURE
from keras_bigs.training.optimizer import bigs_optimizer

VARIANTS = ("fixed", "bucketed")


def bigs_classifier(
    sequence_length,
    hidden_dim,
    num_layers,
    state_dim,
    buckets=None,
    padding_invariant=False,
    seed=0,
):
    """A BiGS classifier (BERT vocabulary, intermediate 3H, two classes)
    initialised from `seed`, whose preprocessor pads to `sequence_length`
    or, with `buckets`, to the smallest bucket that holds a batch."""
    keras.utils.set_random_seed(seed)
    backbone = BiGSBackbone(
        vocabulary_size=30522,
        num_layers=num_layers,
        hidden_dim=hidden_dim,
        intermediate_dim=3 * hidden_dim,
        state_dim=state_dim,
        max_sequence_length=sequence_length,
        padding_invariant=padding_invariant,
    )
    preprocessor = BiGSTextClassifierPreprocessor(
        BiGSTokenizer(), sequence_length=sequence_length, buckets=buckets
    )
    return BiGSClassifier(backbone, num_classes=2, preprocessor=preprocessor)


def bigs_classifiers(
    sequence_length, hidden_dim, num_layers, state_dim, buckets, seed=0
):
    """`{"fixed": ..., "bucketed": ...}`: the same BiGS classifier (equal
    weights) padding to `sequence_length`, and padding-invariant with
    `buckets`."""
    return {
        variant: bigs_classifier(
            sequence_length,
            hidden_dim,
            num_layers,
            state_dim,
            buckets=buckets if variant == "bucketed" else None,
            padding_invariant=variant == "bucketed",
            seed=seed,
        )
        for variant in VARIANTS
    }


def _batches(dataset, count):
    return [
        keras.tree.map_structure(lambda t: t.numpy(), batch)
        for batch in dataset.take(count)
    ]


def finetuning_throughput(
    glue_dir, classifiers, batch_size=32, turns=6, bucketed_per_turn=10
):
    """Training examples per second of `classifiers` on SST-2's training
    sentences, in turns (one full-length batch, then `bucketed_per_turn`
    bucketed batches) so that machine load hits both alike; every batch
    shape is compiled before timing.

    The classifiers train on preprocessed batches and get their
    preprocessors back at the end.

    Returns:
        `{variant: {"examples_per_s", "mean_padded_length", "batches",
        "programs"}}`.
    """
    data = glue_training_data("sst2", glue_dir)
    counts = {"fixed": turns, "bucketed": turns * bucketed_per_turn}
    batches = {}
    preprocessors = {}
    for variant, classifier in classifiers.items():
        preprocessor = preprocessors[variant] = classifier.preprocessor
        dataset = data.train_batches(
            batch_size,
            seed=0,
            preprocessor=preprocessor,
            buckets=preprocessor.padding_lengths,
            repeat=True,
        )
        batches[variant] = _batches(dataset, counts[variant])
        classifier.preprocessor = None
        classifier.compile(
            optimizer=bigs_optimizer(
                2e-5, total_steps=1000, warmup_steps=0, schedule="constant"
            )
        )
    programs = {}
    for variant, classifier in classifiers.items():
        shapes = {}
        for x, y in batches[variant]:
            shapes.setdefault(x["token_ids"].shape, (x, y))
        for x, y in shapes.values():  # compile every shape
            classifier.train_on_batch(x, y)
        programs[variant] = sorted(shape[1] for shape in shapes)
    seconds = {variant: 0.0 for variant in VARIANTS}
    for turn in range(turns):
        for variant, per_turn in (
            ("fixed", 1),
            ("bucketed", bucketed_per_turn),
        ):
            classifier = classifiers[variant]
            for x, y in batches[variant][
                turn * per_turn : (turn + 1) * per_turn
            ]:
                start = time.perf_counter()
                classifier.train_on_batch(x, y)
                seconds[variant] += time.perf_counter() - start
    for variant, classifier in classifiers.items():
        classifier.preprocessor = preprocessors[variant]
    results = {}
    for variant in VARIANTS:
        rows = sum(len(y) for _, y in batches[variant])
        lengths = [x["token_ids"].shape[1] for x, _ in batches[variant]]
        results[variant] = {
            "examples_per_s": rows / seconds[variant],
            "mean_padded_length": float(np.mean(lengths)),
            "batches": len(lengths),
            "programs": programs[variant],
        }
    return results


def bert_classifier(sequence_length, hidden_dim, num_layers, seed=0):
    """keras-hub's BERT of the same depth and width (intermediate `4H`),
    with its own preprocessor on the same vocabulary."""
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=30522,
        num_layers=num_layers,
        num_heads=max(1, hidden_dim // 64),
        hidden_dim=hidden_dim,
        intermediate_dim=4 * hidden_dim,
        max_sequence_length=sequence_length,
    )
    tokenizer = keras_hub.models.BertTokenizer(
        vocabulary=str(VOCABULARY_PATH), lowercase=True
    )
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    return keras_hub.models.BertTextClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )


def export_bucketed(task, path, buckets):
    """A strings-in SavedModel of a keras-hub text classifier that pads each
    batch to its bucket, assembled as `export_for_serving` assembles BiGS
    (for models whose outputs do not depend on padding, such as BERT)."""
    pipeline = serving_pipeline(task, buckets, any_length=True)
    save_pipeline(pipeline, path, task.preprocessor)


def serving_throughput(paths, texts, batch_size=32, turns=20):
    """Examples per second of each SavedModel's `serving_default` (raw
    strings in), in turns over the same batches of `texts`, after a
    warm-up pass over all of them (which compiles every bucket).

    Returns:
        `{name: examples_per_s}`.
    """
    functions = {
        name: tf.saved_model.load(path).signatures[DEFAULT_SIGNATURE]
        for name, path in paths.items()
    }
    batches = [
        tf.constant(texts[i : i + batch_size])
        for i in range(0, batch_size * turns, batch_size)
    ]
    for function in functions.values():
        for batch in batches:
            function(text=batch)
    seconds = {name: 0.0 for name in functions}
    for batch in batches:
        for name, function in functions.items():
            start = time.perf_counter()
            function(text=batch)["logits"].numpy()
            seconds[name] += time.perf_counter() - start
    rows = sum(int(batch.shape[0]) for batch in batches)
    return {name: rows / s for name, s in seconds.items()}


def serving_comparison(
    glue_dir, classifiers, bert, directory, batch_size=32, turns=20
):
    """Export BiGS full-length, BiGS bucketed and BERT bucketed, and time
    them on SST-2's held-out sentences."""
    data = glue_training_data("sst2", glue_dir)
    texts = [x.decode() for x, _ in data.evaluation.as_numpy_iterator()]
    buckets = classifiers["bucketed"].preprocessor.padding_lengths
    paths = {}
    for variant, classifier in classifiers.items():
        paths[f"bigs_{variant}"] = os.path.join(directory, f"bigs_{variant}")
        export_for_serving(classifier, paths[f"bigs_{variant}"])
    paths["bert_bucketed"] = os.path.join(directory, "bert_bucketed")
    export_bucketed(bert, paths["bert_bucketed"], buckets)
    return serving_throughput(paths, texts, batch_size, turns)


__all__ = [
    "bert_classifier",
    "bigs_classifier",
    "bigs_classifiers",
    "export_bucketed",
    "finetuning_throughput",
    "serving_comparison",
    "serving_throughput",
]
