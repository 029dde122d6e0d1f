"""`freeze_ssm`: fine-tuning with every SSM parameter left untouched, as
the original's `run_glue_freeze.py`."""

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.keras_hub_internals import flatten_layers
from keras_bigs.training import BiGSAdamW
from keras_bigs.training import bigs_optimizer
from keras_bigs.training.optimizer import FROZEN_SSM_VARIABLE_NAMES
from tests.conftest import cpu_devices_xla_flags
from tests.training.distributed_common import compile_for_step
from tests.training.distributed_common import initial_weights
from tests.training.distributed_common import tiny_batch
from tests.training.distributed_common import tiny_classifier
from tests.training.test_distribution import run_script

LR = 0.01


def freeze_recipe(freeze_ssm, **kwargs):
    kwargs = {"global_clipnorm": 1.0, **kwargs}
    return bigs_optimizer(
        LR,
        total_steps=10,
        warmup_steps=0,
        schedule="constant",
        freeze_ssm=freeze_ssm,
        **kwargs,
    )


def snapshot(model):
    return {
        v.path: keras.ops.convert_to_numpy(v) for v in model.trainable_variables
    }


def fit_four_steps(classifier, optimizer):
    compile_for_step(classifier, optimizer)
    x, y = tiny_batch()
    # 8 examples in batches of 4, twice: four steps.
    classifier.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)


def is_ssm(path):
    return path.rsplit("/", 1)[-1] in FROZEN_SSM_VARIABLE_NAMES


def test_frozen_names_are_every_variable_of_an_s4d_conv():
    for per_channel in (False, True):
        ssm = keras_bigs.S4DConv(state_dim=4, kernel_per_channel=per_channel)
        ssm.build((None, 16, 8))
        assert sorted(v.name for v in ssm.weights) == sorted(
            FROZEN_SSM_VARIABLE_NAMES
        )


@pytest.mark.parametrize("freeze_ssm", [True, False])
def test_fit_leaves_exactly_the_ssm_parameters_bit_identical(freeze_ssm):
    classifier = tiny_classifier()
    initial_weights(classifier)
    before = snapshot(classifier)
    assert sum(is_ssm(path) for path in before) == 10  # 2 SSMs x 5
    fit_four_steps(classifier, freeze_recipe(freeze_ssm))
    assert int(keras.ops.convert_to_numpy(classifier.optimizer.iterations))
    for path, value in snapshot(classifier).items():
        unchanged = np.array_equal(value, before[path])
        assert unchanged == (freeze_ssm and is_ssm(path)), path
    if freeze_ssm:
        # Adam never saw the frozen gradients: their moments are zero.
        optimizer = classifier.optimizer
        for variable in classifier.trainable_variables:
            index = optimizer._get_variable_index(variable)
            for moments in (optimizer._momentums, optimizer._velocities):
                moment = keras.ops.convert_to_numpy(moments[index])
                assert (not moment.any()) == is_ssm(variable.path)


def test_frozen_ssms_train_like_non_trainable_ones():
    # The frozen gradients are out of the global norm and of weight decay,
    # as if the SSM layers were not trainable. A large epsilon makes the
    # step proportional to the (clipped) gradient and a small clip norm
    # makes clipping act, so a norm that counted the frozen gradients
    # would change every trained weight.
    options = dict(global_clipnorm=0.05, epsilon=1.0, weight_decay=0.1)
    frozen = tiny_classifier()
    weights = initial_weights(frozen)
    fit_four_steps(frozen, freeze_recipe(True, **options))

    reference = tiny_classifier(weights)
    ssm_layers = [
        layer
        for layer in flatten_layers(reference)
        if isinstance(layer, keras_bigs.S4DConv)
    ]
    assert len(ssm_layers) == 2
    for layer in ssm_layers:
        layer.trainable = False
    fit_four_steps(reference, freeze_recipe(False, **options))

    moved = 0
    for got, expected, start in zip(
        frozen.get_weights(), reference.get_weights(), weights
    ):
        # Compared as moves: counting the frozen gradients in the norm
        # changes them by about 2e-4 of their size.
        move = expected - start
        np.testing.assert_allclose(
            got - start, move, rtol=0, atol=1e-6 * np.abs(move).max()
        )
        moved += bool(move.any())
    assert moved == len(weights) - 10


def test_freeze_ssm_round_trips_through_the_config():
    optimizer = freeze_recipe(True)
    assert optimizer.freeze_ssm is True
    assert optimizer.get_config()["freeze_ssm"] is True
    restored = keras.optimizers.deserialize(
        keras.optimizers.serialize(optimizer)
    )
    assert isinstance(restored, BiGSAdamW)
    assert restored.freeze_ssm is True
    assert restored.get_config() == optimizer.get_config()
    assert BiGSAdamW().freeze_ssm is False
    assert BiGSAdamW.from_config(BiGSAdamW().get_config()).freeze_ssm is False


def assert_frozen_under_strategy(results, kind):
    assert (results["kind"], results["num_replicas"]) == (kind, 2)
    assert results["iterations"] == 2
    variables = results["variables"]
    assert sum(is_ssm(path) for path in variables) == 10
    for path, variable in variables.items():
        if is_ssm(path):
            assert variable["identical"], path
        else:
            # Adam moves every entry by about lr per step.
            assert variable["move"] > 0.5 * LR, path


@pytest.mark.backends("tensorflow")
def test_ssms_stay_frozen_under_tf_mirrored_strategy():
    results = run_script(
        "distributed_freeze_step.py", KERAS_BACKEND="tensorflow"
    )
    assert_frozen_under_strategy(results, "mirrored")


@pytest.mark.backends("jax")
def test_ssms_stay_frozen_under_jax_data_parallel():
    results = run_script(
        "distributed_freeze_step.py",
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=cpu_devices_xla_flags(2),
    )
    assert_frozen_under_strategy(results, "data_parallel")
