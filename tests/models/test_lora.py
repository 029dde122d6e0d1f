"""LoRA on BiGS: `BiGSBackbone.get_lora_target_names` and keras-hub's
`enable_lora`, on every block type and routing."""

import keras
import numpy as np
import pytest

import keras_bigs
from tests.conftest import tiny_backbone

HIDDEN, HEADS, LAYERS, RANK = 16, 2, 2, 4


def dense_adapter(d_in, d_out):
    """A (d_in, rank) and B (rank, d_out)."""
    return RANK * (d_in + d_out)


# Keras factorises attention's (d_in, heads, key_dim) kernels per head: A
# (d_in, heads, rank) and B (rank, key_dim).
ATTENTION_ADAPTER = RANK * (HIDDEN * HEADS + HIDDEN // HEADS)
# (block_type, routing): the adapted layers of one block (names may repeat:
# a stack block has two bidirectional SSMs) and their adapter sizes.
ADAPTED = {
    ("gated", "ssm"): [
        ("du_forward", dense_adapter(HIDDEN, HIDDEN)),
        ("du_backward", dense_adapter(HIDDEN, HIDDEN)),
        ("duc_forward", dense_adapter(HIDDEN, HIDDEN)),
        ("duc_backward", dense_adapter(HIDDEN, HIDDEN)),
    ],
    ("gated", "attention"): [
        ("du_forward", dense_adapter(HIDDEN, HIDDEN)),
        ("duc_forward", dense_adapter(HIDDEN, HIDDEN)),
        ("query", ATTENTION_ADAPTER),
        ("value", ATTENTION_ADAPTER),
    ],
    ("stack", "ssm"): [("out", dense_adapter(2 * HIDDEN, HIDDEN))] * 2,
    ("stack", "attention"): [
        ("query", ATTENTION_ADAPTER),
        ("value", ATTENTION_ADAPTER),
    ],
}
TEXTS = ["a fine film", "a dull film", "great acting", "poor plot"] * 2
LABELS = np.array([1, 0, 1, 0] * 2)


def backbone(block_type="gated", routing="ssm"):
    return tiny_backbone(
        16,
        num_layers=LAYERS,
        block_type=block_type,
        routing=routing,
        num_heads=HEADS,
    )


def classifier(backbone):
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16
    )
    return keras_bigs.BiGSClassifier(
        backbone, num_classes=2, preprocessor=preprocessor, dropout=0.0
    )


def numpy_weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


@pytest.mark.parametrize("block_type,routing", sorted(ADAPTED))
def test_only_the_adapters_train_and_their_count_follows_the_rank(
    block_type, routing
):
    model = backbone(block_type, routing)
    adapted = ADAPTED[(block_type, routing)]
    names = {name for name, _ in adapted}
    assert sorted(model.get_lora_target_names()) == sorted(names)
    model.enable_lora(RANK)
    trainable = model.trainable_weights
    assert trainable and all(
        w.path.split("/")[-1] in ("lora_kernel_a", "lora_kernel_b")
        for w in trainable
    )
    assert sum(int(np.prod(w.shape)) for w in trainable) == LAYERS * sum(
        size for _, size in adapted
    )
    assert {w.path.split("/")[-2] for w in trainable} == names


@pytest.mark.parametrize("block_type,routing", sorted(ADAPTED))
def test_adapters_start_at_the_base_model(block_type, routing):
    task = classifier(backbone(block_type, routing))
    before = task.predict(TEXTS, verbose=0)
    task.backbone.enable_lora(RANK)
    np.testing.assert_array_equal(task.predict(TEXTS, verbose=0), before)


def lora_classifier(rank=RANK):
    keras.utils.set_random_seed(0)
    task = classifier(backbone())
    task.backbone.enable_lora(rank)
    task.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return task


def test_fit_lowers_the_loss_and_leaves_the_base_weights():
    task = lora_classifier()
    frozen = {
        w.path: keras.ops.convert_to_numpy(w)
        for w in task.backbone.weights
        if "lora_kernel" not in w.path
    }
    before = task.evaluate(TEXTS, LABELS, verbose=0)
    task.fit(TEXTS, LABELS, epochs=5, batch_size=4, verbose=0)
    assert task.evaluate(TEXTS, LABELS, verbose=0) < before
    for w in task.backbone.weights:
        if w.path in frozen:
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(w), frozen[w.path], err_msg=w.path
            )
    moved = [
        w
        for w in task.backbone.weights
        if w.path.endswith("lora_kernel_b")
        and np.abs(keras.ops.convert_to_numpy(w)).max() > 0
    ]
    assert moved


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A LoRA classifier after a few steps, and its base saved before."""
    folder = tmp_path_factory.mktemp("lora")
    task = lora_classifier()
    # The base: the same seed, no adapters.
    keras.utils.set_random_seed(0)
    classifier(backbone()).save_to_preset(str(folder / "base"))
    task.fit(TEXTS, LABELS, epochs=3, batch_size=4, verbose=0)
    return task, folder


def test_adapters_save_and_load_onto_the_base(trained):
    task, folder = trained
    path = str(folder / "adapters.lora.h5")
    task.backbone.save_lora_weights(path)
    base = keras_bigs.BiGSClassifier.from_preset(str(folder / "base"))
    assert not np.allclose(
        base.predict(TEXTS, verbose=0), task.predict(TEXTS, verbose=0)
    )
    base.backbone.load_lora_weights(path)
    base.output_dense.set_weights(task.output_dense.get_weights())
    np.testing.assert_allclose(
        base.predict(TEXTS, verbose=0),
        task.predict(TEXTS, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("how", ["keras_file", "preset"])
def test_saving_merges_the_adapters_into_plain_weights(trained, how):
    task, folder = trained
    if how == "keras_file":
        path = str(folder / "merged.keras")
        task.save(path)
        merged = keras.saving.load_model(path)
    else:
        task.save_to_preset(str(folder / "merged"))
        merged = keras_bigs.BiGSClassifier.from_preset(str(folder / "merged"))
    assert not any("lora" in w.path for w in merged.weights)
    assert len(merged.weights) == len(classifier(backbone()).weights)
    np.testing.assert_allclose(
        merged.predict(TEXTS, verbose=0),
        task.predict(TEXTS, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_loading_adapters_of_another_rank_is_an_error(trained):
    task, folder = trained
    path = str(folder / "rank4.lora.h5")
    task.backbone.save_lora_weights(path)
    other = lora_classifier(rank=2)
    with pytest.raises(ValueError, match="rank=4.*rank=2"):
        other.backbone.load_lora_weights(path)
