"""Fine-tune and evaluate BiGS on a CoNLL-format tagging task (what
`tools/run_ner.py` runs): data, model, recipe, distribution, entity-level
evaluation, and the saved best model."""

import dataclasses
import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_bigs.data.conll import conll_dataset
from keras_bigs.data.conll import read_conll
from keras_bigs.data.conll import tag_vocabulary
from keras_bigs.models.bigs_token_classifier import BiGSTokenClassifier
from keras_bigs.models.bigs_token_classifier import word_labels
from keras_bigs.models.bigs_token_classifier_preprocessor import (
    BiGSTokenClassifierPreprocessor,
)
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.training.callbacks import BestEpochEvaluation
from keras_bigs.training.callbacks import Throughput
from keras_bigs.training.distribution import set_mixed_precision
from keras_bigs.training.distribution import setup_distribution
from keras_bigs.training.entity_metrics import entity_scores
from keras_bigs.training.optimizer import bigs_optimizer
from keras_bigs.training.small_bigs import small_architecture
from keras_bigs.training.small_bigs import small_backbone

# From scratch: CoNLL-2003 sentences fit in 128 wordpieces.
SCRATCH_SEQUENCE_LENGTH = 128


@dataclasses.dataclass
class TaggingRun:
    """What to fine-tune and how; the defaults are `tools/run_ner.py`'s.

    `preset=None` trains `small_backbone()` from scratch (1e-3, 3 epochs,
    128 tokens); from a preset 5e-5, 3 epochs, the preset's length.
    `tag_column` picks the CoNLL column (-1: the last, CoNLL-2003's named
    entities); `scheme` is `"BIO"` or `"IOB1"` (see `entity_scores`).
    """

    train_file: str
    validation_file: str
    output_dir: str = "tagging_output"
    tag_column: int = -1
    scheme: str = "BIO"
    preset: str = None
    sequence_length: int = None
    batch_size: int = 32
    epochs: int = 3
    learning_rate: float = None
    schedule: str = "linear"
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    global_clipnorm: float = 1.0
    dropout: float = 0.1
    strategy: str = "auto"
    tpu: str = None
    mixed_precision: str = None
    seed: int = 0
    verbose: int = 1

    def __post_init__(self):
        if self.learning_rate is None:
            self.learning_rate = 1e-3 if self.preset is None else 5e-5


class EntityEvaluation(BestEpochEvaluation):
    """Entity precision, recall and F1 and word accuracy on validation
    sentences after each epoch; the best epoch by F1 is kept (see
    `BestEpochEvaluation`).

    Args:
        sentences: the validation `ConllSentences`.
        preprocessor: the model's `BiGSTokenClassifierPreprocessor`.
        vocabulary: list of tags (label id -> tag).
        scheme: `"BIO"` or `"IOB1"`.
    """

    def __init__(self, sentences, preprocessor, vocabulary, scheme):
        super().__init__("entity_f1")
        self.sentences = sentences
        self.preprocessor = preprocessor
        self.vocabulary = list(vocabulary)
        self.scheme = scheme

    def evaluate(self):
        """Entity scores and word accuracy of the model now."""
        predicted = word_labels(
            self.model, self.preprocessor, self.sentences.words
        )
        tags = [[self.vocabulary[i] for i in row] for row in predicted]
        scores = entity_scores(self.sentences.tags, tags, self.scheme)
        pairs = [
            (p, t)
            for prediction, truth in zip(tags, self.sentences.tags)
            for p, t in zip(prediction + ["O"] * len(truth), truth)
        ]
        return {
            **{f"entity_{k}": scores[k] for k in ("precision", "recall", "f1")},
            "word_accuracy": float(np.mean([p == t for p, t in pairs])),
        }


def build_tagger(run, num_classes):
    """The token classifier to fine-tune, with its preprocessor."""
    if run.preset is None:
        keras.utils.set_random_seed(run.seed)
        sequence_length = run.sequence_length or SCRATCH_SEQUENCE_LENGTH
        return BiGSTokenClassifier(
            small_backbone(sequence_length),
            num_classes=num_classes,
            preprocessor=BiGSTokenClassifierPreprocessor(
                BiGSTokenizer(), sequence_length=sequence_length
            ),
            dropout=run.dropout,
        )
    kwargs = {}
    if run.sequence_length:
        kwargs["preprocessor"] = BiGSTokenClassifierPreprocessor.from_preset(
            run.preset, sequence_length=run.sequence_length
        )
    return BiGSTokenClassifier.from_preset(
        run.preset, num_classes=num_classes, dropout=run.dropout, **kwargs
    )


def finetune_tagger(run):
    """Fine-tune, evaluate and save; returns the evaluation results.

    Writes to `run.output_dir`: `eval_results.json` (entity precision,
    recall and F1 and word accuracy on the validation file, timing),
    `best_model/` (a keras-hub preset of the best epoch) with
    `best_model/tags.json` (label id -> tag) and `training_log.csv`.
    """
    os.makedirs(run.output_dir, exist_ok=True)
    set_mixed_precision(run.mixed_precision)
    setup = setup_distribution(run.strategy, tpu=run.tpu)
    keras.utils.set_random_seed(run.seed)
    train = read_conll(run.train_file, run.tag_column)
    validation = read_conll(run.validation_file, run.tag_column)
    vocabulary = tag_vocabulary(train, validation)
    steps_per_epoch = max(1, math.ceil(len(train) / run.batch_size))
    total_steps = run.epochs * steps_per_epoch

    with setup.scope():
        tagger = build_tagger(run, len(vocabulary))
        preprocessor = tagger.preprocessor
        tagger.compile(
            optimizer=bigs_optimizer(
                run.learning_rate,
                total_steps=total_steps,
                warmup_steps=int(run.warmup_fraction * total_steps),
                schedule=run.schedule,
                weight_decay=run.weight_decay,
                global_clipnorm=run.global_clipnorm,
            ),
        )
    examples = conll_dataset(train, vocabulary)

    def dataset_fn(input_context):
        batches = (
            examples.shuffle(len(train), seed=run.seed)
            .ragged_batch(
                input_context.get_per_replica_batch_size(run.batch_size)
            )
            .shard(
                input_context.num_input_pipelines,
                input_context.input_pipeline_id,
            )
            .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        )
        return batches.repeat().prefetch(tf.data.AUTOTUNE)

    evaluation = EntityEvaluation(
        validation, preprocessor, vocabulary, run.scheme
    )
    throughput = Throughput(run.batch_size, preprocessor.sequence_length)
    print(
        f"Tagging {run.train_file}: {len(train)} training sentences, "
        f"{len(validation)} validation sentences, {len(vocabulary)} tags; "
        f"{total_steps} steps of {run.batch_size} ({setup.kind}); "
        f"{tagger.count_params():,} parameters"
    )
    tagger.preprocessor = None  # the input pipeline preprocesses
    start = time.time()
    try:
        tagger.fit(
            setup.distribute_dataset(dataset_fn),
            epochs=run.epochs,
            steps_per_epoch=steps_per_epoch,
            callbacks=[
                evaluation,
                throughput,
                keras.callbacks.CSVLogger(
                    os.path.join(run.output_dir, "training_log.csv")
                ),
            ],
            verbose=run.verbose,
        )
    finally:
        tagger.preprocessor = preprocessor
    train_seconds = time.time() - start
    scores = evaluation.evaluate()  # the best epoch's weights, restored
    best_model = os.path.join(run.output_dir, "best_model")
    tagger.save_to_preset(best_model)
    with open(os.path.join(best_model, "tags.json"), "w") as f:
        json.dump(vocabulary, f)
    results = {
        "train_file": run.train_file,
        "validation_file": run.validation_file,
        "num_train_sentences": len(train),
        "num_validation_sentences": len(validation),
        "tags": vocabulary,
        "scheme": run.scheme,
        # precision, recall and f1 of entities; word_accuracy
        **{name.removeprefix("entity_"): v for name, v in scores.items()},
        "best_epoch": evaluation.best_epoch,
        "epochs": run.epochs,
        "steps": total_steps,
        "train_seconds": round(train_seconds, 1),
        **throughput.summary(),
        "preset": run.preset,
        "architecture": (
            None if run.preset else small_architecture(tagger.backbone)
        ),
        "sequence_length": preprocessor.sequence_length,
        "backend": keras.backend.backend(),
        "strategy": setup.kind,
        "batch_size": run.batch_size,
        "learning_rate": run.learning_rate,
        "seed": run.seed,
    }
    with open(os.path.join(run.output_dir, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return results
