"""The model, batch and training step shared by the distributed checks
(`distributed_jax_step.py`, `distributed_tf_step.py`)."""

import keras
import numpy as np

import keras_bigs

TINY = dict(
    vocabulary_size=100,
    num_layers=1,
    hidden_dim=8,
    intermediate_dim=16,
    state_dim=4,
    max_sequence_length=16,
)
BATCH = 8


def tiny_batch():
    rng = np.random.default_rng(0)
    x = {
        "token_ids": rng.integers(1, 100, (BATCH, 16)).astype("int32"),
        "segment_ids": rng.integers(0, 2, (BATCH, 16)).astype("int32"),
        "padding_mask": (
            np.arange(16) < rng.integers(8, 17, (BATCH, 1))
        ).astype("int32"),
    }
    return x, rng.integers(0, 3, (BATCH,)).astype("int32")


def tiny_classifier(weights=None):
    """A BiGSClassifier on token ids, without dropout (so that every
    device count computes the same function)."""
    keras.utils.set_random_seed(0)
    classifier = keras_bigs.BiGSClassifier(
        keras_bigs.BiGSBackbone(dropout=0.0, **TINY), num_classes=3, dropout=0.0
    )
    if weights is not None:
        classifier.set_weights(weights)
    return classifier


def initial_weights(classifier):
    """Gives `classifier` weights larger than BiGS's 0.02-stddev
    initialisation, so that one SGD step moves every parameter visibly;
    returns them."""
    rng = np.random.default_rng(1)
    for v in classifier.trainable_variables:
        if v.name in ("kernel", "embeddings"):
            v.assign(rng.normal(0.0, 0.3, v.shape).astype("float32"))
    return [np.asarray(w) for w in classifier.get_weights()]


def compile_for_step(classifier, optimizer):
    classifier.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[],
    )


def train_one_step(classifier, x, y):
    """Loss of one `train_on_batch` with plain SGD, and the weights after."""
    compile_for_step(classifier, keras.optimizers.SGD(learning_rate=0.5))
    loss = classifier.train_on_batch(x, y)
    loss = float(loss[0] if isinstance(loss, (list, tuple)) else loss)
    return loss, [np.asarray(w) for w in classifier.get_weights()]
