import argparse
import dataclasses

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.training import PRETRAINING_DEFAULTS
from keras_bigs.training import Recipe
from keras_bigs.training import add_recipe_arguments
from keras_bigs.training.optimizer import FROZEN_SSM_VARIABLE_NAMES
from tests.conftest import tiny_backbone

# A value unlike every field default, for each field: a flag that failed to
# reach its field would leave the default there.
CHANGED = Recipe(
    learning_rate=3e-4,
    schedule="constant",
    warmup_fraction=0.25,
    weight_decay=0.05,
    global_clipnorm=0.5,
    batch_size=7,
    seed=11,
    strategy="mirrored",
    tpu="my-tpu",
    mixed_precision="mixed_bfloat16",
    freeze_ssm=True,
    verbose=2,
)


def as_flags(recipe):
    """The command line that sets every field of `recipe`."""
    argv = []
    for field in dataclasses.fields(recipe):
        value = getattr(recipe, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            argv += [flag] if value else []
        else:
            argv += [flag, str(value)]
    return argv


def parsed(argv, **defaults):
    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser, **defaults)
    return Recipe.from_args(parser.parse_args(argv))


def test_every_field_has_a_flag_that_sets_it():
    for field in dataclasses.fields(Recipe):
        assert getattr(CHANGED, field.name) != field.default, field.name
    assert parsed(as_flags(CHANGED)) == CHANGED


def test_without_flags_the_recipe_has_the_field_or_tool_defaults():
    assert parsed([]) == Recipe()
    assert parsed([], **PRETRAINING_DEFAULTS) == Recipe(
        schedule="cosine", warmup_fraction=0.06
    )
    # A flag still wins over the tool's default.
    assert parsed(
        ["--schedule", "linear"], **PRETRAINING_DEFAULTS
    ).schedule == ("linear")


def test_a_tool_default_must_name_a_field():
    with pytest.raises(TypeError, match="no Recipe fields"):
        add_recipe_arguments(argparse.ArgumentParser(), warmup_steps=10)


def test_the_learning_rate_defaults_by_the_run_unless_given():
    assert Recipe().with_learning_rate(2e-5).learning_rate == 2e-5
    assert Recipe(learning_rate=1e-3).with_learning_rate(
        2e-5
    ).learning_rate == (1e-3)
    with pytest.raises(ValueError, match="no learning rate"):
        Recipe().optimizer(total_steps=10)


def test_the_optimizer_follows_the_recipe():
    optimizer = CHANGED.optimizer(total_steps=40)
    schedule = optimizer._learning_rate  # the WarmupDecay itself
    assert schedule.warmup_steps == 10 and schedule.total_steps == 40
    assert schedule.decay == "constant"
    assert float(schedule(10)) == pytest.approx(3e-4)
    assert optimizer.weight_decay == 0.05
    assert optimizer.global_clipnorm == 0.5
    assert optimizer.freeze_ssm


def train_one_step(classifier, optimizer):
    """Weights before and after one training step on a random batch."""
    classifier.compile(optimizer=optimizer)
    rng = np.random.default_rng(0)
    x = {
        "token_ids": rng.integers(1, 100, (4, 16)).astype("int32"),
        "segment_ids": np.zeros((4, 16), "int32"),
        "padding_mask": np.ones((4, 16), "int32"),
    }
    before = {v.path: np.asarray(v) for v in classifier.trainable_weights}
    classifier.train_on_batch(x, np.array([0, 1, 0, 1]))
    after = {v.path: np.asarray(v) for v in classifier.trainable_weights}
    return before, after


@pytest.mark.backends("jax", "tensorflow")
def test_freeze_ssm_leaves_every_ssm_parameter_as_it_was():
    keras.utils.set_random_seed(0)
    classifier = keras_bigs.BiGSClassifier(tiny_backbone(16), num_classes=2)
    recipe = parsed(
        ["--freeze-ssm", "--learning-rate", "1e-2", "--warmup-fraction", "0"]
    )
    before, after = train_one_step(classifier, recipe.optimizer(10))
    frozen = [
        path
        for path in before
        if path.rsplit("/", 1)[-1] in FROZEN_SSM_VARIABLE_NAMES
    ]
    assert len(frozen) == 2 * len(FROZEN_SSM_VARIABLE_NAMES)  # two SSMs
    for path in frozen:
        np.testing.assert_array_equal(before[path], after[path])
    trained = [p for p in before if p not in frozen and p.startswith("bigs_")]
    changed = [p for p in trained if not np.array_equal(before[p], after[p])]
    # The rest of the block trains (a LayerNorm may see no gradient yet).
    assert len(changed) >= len(trained) - 2, sorted(set(trained) - set(changed))
