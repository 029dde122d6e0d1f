"""`BiGSBackbone(remat=True)`: each BiGS layer recomputed in the backward
pass, with the outputs and gradients of the model without it."""

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.keras_hub_internals import flatten_layers
from tests.conftest import tiny_backbone

LENGTH = 32


def batch():
    rng = np.random.default_rng(0)
    mask = np.ones((2, LENGTH), "int32")
    mask[1, 20:] = 0
    return {
        "token_ids": rng.integers(1, 1000, (2, LENGTH)).astype("int32"),
        "segment_ids": rng.integers(0, 2, (2, LENGTH)).astype("int32"),
        "padding_mask": mask,
    }


def backbone(remat, block_type="gated"):
    keras.utils.set_random_seed(0)
    return tiny_backbone(
        LENGTH,
        num_layers=2,
        block_type=block_type,
        padding_invariant=True,
        dropout=0.0,
        remat=remat,
    )


def rematerialized(layer):
    """Whether Keras calls `layer` through its rematerialized call."""
    call = layer.call
    return layer.rematerialized_call(call) is not call


def gradients(model, x):
    """d sum(sequence_output²) / d each trainable weight, in training mode."""

    def loss(outputs):
        return keras.ops.sum(outputs["sequence_output"] ** 2)

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def jax_loss(trainable, non_trainable):
            outputs, _ = model.stateless_call(
                trainable, non_trainable, x, training=True
            )
            return loss(outputs)

        values = [v.value for v in model.trainable_variables]
        others = [v.value for v in model.non_trainable_variables]
        grads = jax.jit(jax.grad(jax_loss))(values, others)
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss(model(x, training=True))
        grads = [
            tf.zeros(v.shape) if g is None else tf.convert_to_tensor(g)
            for v, g in zip(
                model.trainable_variables,
                tape.gradient(value, model.trainable_variables),
            )
        ]
    else:
        loss(model(x, training=True)).backward()
        grads = [
            np.zeros(v.shape) if v.value.grad is None else v.value.grad
            for v in model.trainable_variables
        ]
    return [keras.ops.convert_to_numpy(g) for g in grads]


@pytest.mark.parametrize("block_type", ["gated", "stack"])
def test_gradients_and_outputs_equal_those_without_remat(block_type):
    plain, remat = backbone(False, block_type), backbone(True, block_type)
    x = batch()
    for a, b in zip(plain.weights, remat.weights):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    expected, got = plain.predict(x, verbose=0), remat.predict(x, verbose=0)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    expected, got = gradients(plain, x), gradients(remat, x)
    scale = max(float(np.max(np.abs(g))) for g in expected)
    assert scale > 0
    for variable, e, g in zip(plain.trainable_variables, expected, got):
        np.testing.assert_allclose(
            g, e, rtol=0, atol=1e-6 * scale, err_msg=variable.path
        )


def test_each_block_and_nothing_inside_it_is_rematerialized():
    model = backbone(True)
    inner = [
        layer
        for block in model.bigs_layers
        for layer in flatten_layers(block, include_self=False)
    ]
    assert model.bigs_layers and inner
    for block in model.bigs_layers:
        assert rematerialized(block)
    for layer in inner + [model.token_embedding, model.pooled_dense]:
        assert not rematerialized(layer), layer.path
    for block in backbone(False).bigs_layers:
        assert not rematerialized(block)


def primitive_count(jaxpr, names):
    """How many equations of `jaxpr` and the jaxprs nested in it apply a
    primitive in `names`."""
    count = 0
    for eqn in jaxpr.eqns:
        count += eqn.primitive.name in names
        for param in eqn.params.values():
            inner = getattr(param, "jaxpr", None)
            if inner is not None:
                count += primitive_count(getattr(inner, "jaxpr", inner), names)
    return count


@pytest.mark.backends("jax")
def test_jax_gradient_recomputes_each_block():
    import jax

    x = batch()
    counts = {}
    for remat in (False, True):
        model = backbone(remat)

        def loss(trainable, non_trainable, model=model):
            outputs, _ = model.stateless_call(trainable, non_trainable, x)
            return keras.ops.sum(outputs["sequence_output"] ** 2)

        jaxpr = jax.make_jaxpr(jax.grad(loss))(
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
        )
        # `jax.checkpoint`'s primitive (`remat2` before JAX renamed it).
        counts[remat] = primitive_count(jaxpr.jaxpr, {"checkpoint", "remat2"})
    assert counts == {False: 0, True: model.num_layers}


def test_fit_with_remat_ends_with_the_weights_of_fit_without(tmp_path):
    x, y = batch(), np.array([0, 1])
    trained = {}
    for remat in (False, True):
        classifier = keras_bigs.BiGSClassifier(
            backbone(remat), num_classes=2, preprocessor=None, dropout=0.0
        )
        initial = [keras.ops.convert_to_numpy(w) for w in classifier.weights]
        classifier.compile(optimizer=keras.optimizers.AdamW(1e-2))
        classifier.fit(x, y, batch_size=2, epochs=3, verbose=0)
        trained[remat] = [
            keras.ops.convert_to_numpy(w) for w in classifier.weights
        ]
    for a, b in zip(trained[False], trained[True]):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    assert any(not np.array_equal(a, s) for a, s in zip(trained[1], initial))
    # Saved, the task keeps remat; `from_preset` turns it on or off.
    classifier.save_to_preset(str(tmp_path))
    restored = keras_bigs.BiGSClassifier.from_preset(str(tmp_path))
    assert restored.backbone.remat and restored.backbone.get_config()["remat"]
    assert rematerialized(restored.backbone.bigs_layers[0])
    off = keras_bigs.BiGSClassifier.from_preset(str(tmp_path), remat=False)
    assert not off.backbone.remat
    for a, b in zip(off.weights, restored.weights):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )


@pytest.mark.backends("tensorflow", "torch")
def test_stack_layers_with_dropout_refuse_remat():
    with pytest.raises(ValueError, match="dropout=0.1.*new random mask"):
        tiny_backbone(LENGTH, block_type="stack", dropout=0.1, remat=True)
