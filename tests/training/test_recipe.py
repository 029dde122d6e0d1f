import argparse
import dataclasses

import numpy as np
import pytest

from keras_bigs.training import PRETRAINING_DEFAULTS
from keras_bigs.training import Recipe
from keras_bigs.training import TaggingRun
from keras_bigs.training import add_recipe_arguments
from keras_bigs.training.command_line import run_from_args
from tests.training.distributed_common import initial_weights
from tests.training.distributed_common import tiny_classifier
from tests.training.test_freeze_ssm import fit_four_steps
from tests.training.test_freeze_ssm import is_ssm
from tests.training.test_freeze_ssm import snapshot

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
    coordinator_address="10.0.0.1:1234",
    num_processes=2,
    process_id=1,
    mixed_precision="mixed_bfloat16",
    freeze_ssm=True,
    remat=True,
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
    flagged = parsed(["--schedule", "linear"], **PRETRAINING_DEFAULTS)
    assert flagged.schedule == "linear"


def test_a_tool_default_must_name_a_field():
    with pytest.raises(TypeError, match="no Recipe fields"):
        add_recipe_arguments(argparse.ArgumentParser(), warmup_steps=10)


def test_the_learning_rate_defaults_by_the_run_unless_given():
    assert Recipe().with_learning_rate(2e-5).learning_rate == 2e-5
    named = Recipe(learning_rate=1e-3)
    assert named.with_learning_rate(2e-5).learning_rate == 1e-3
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


def test_freeze_ssm_leaves_every_ssm_parameter_as_it_was():
    recipe = parsed(
        ["--freeze-ssm", "--learning-rate", "1e-2", "--warmup-fraction", "0"]
    )
    classifier = tiny_classifier()
    initial_weights(classifier)
    before = snapshot(classifier)
    assert sum(is_ssm(path) for path in before) == 10  # 2 SSMs x 5
    fit_four_steps(classifier, recipe.optimizer(10))
    # The SSM parameters, and only they, are bit-identical.
    for path, value in snapshot(classifier).items():
        assert np.array_equal(value, before[path]) == is_ssm(path), path


def test_a_run_field_without_a_flag_is_an_error_unless_kept():
    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser)
    parser.add_argument("--train")
    parser.add_argument("--validation")
    parser.add_argument("--output-dir")
    args = parser.parse_args(["--train", "t", "--validation", "v"])
    with pytest.raises(ValueError, match=r"TaggingRun\.train_file has no flag"):
        run_from_args(TaggingRun, args)
    kept = dict(tag_column=None, scheme=None, preset=None, sequence_length=None)
    run = run_from_args(
        TaggingRun,
        args,
        train_file="train",
        validation_file="validation",
        dropout=None,
        epochs=None,
        **kept,
    )
    assert (run.train_file, run.validation_file) == ("t", "v")
    assert run.scheme == TaggingRun.__dataclass_fields__["scheme"].default


def test_remat_reaches_every_run_s_backbone_from_scratch_and_preset(tmp_path):
    from keras_bigs.data.glue_tasks import get_glue_task
    from keras_bigs.training import GlueRun
    from keras_bigs.training import PretrainRun
    from keras_bigs.training.glue_finetuning import build_classifier
    from keras_bigs.training.masked_lm_pretraining import build_masked_lm
    from keras_bigs.training.token_classification import build_tagger

    recipe = parsed(["--remat"])
    assert recipe.backbone_options() == {"remat": True}
    assert parsed([]).backbone_options() == {}
    sst2 = get_glue_task("sst2")
    scratch = {
        "glue": build_classifier(GlueRun("sst2", recipe=recipe), sst2),
        "tagging": build_tagger(TaggingRun("train", "dev", recipe=recipe), 5),
        "pretraining": build_masked_lm(
            PretrainRun(
                "out", ["corpus.txt"], sequence_length=32, recipe=recipe
            )
        ),
    }
    for name, model in scratch.items():
        assert model.backbone.remat, name
    preset = str(tmp_path / "preset")
    build_classifier(GlueRun("sst2"), sst2).save_to_preset(preset)
    from_preset = {
        "glue": build_classifier(
            GlueRun("sst2", preset=preset, recipe=recipe), sst2
        ),
        "tagging": build_tagger(
            TaggingRun("train", "dev", preset=preset, recipe=recipe), 5
        ),
        "pretraining": build_masked_lm(
            PretrainRun(
                "out",
                ["corpus.txt"],
                preset=preset,
                sequence_length=64,
                recipe=recipe,
            )
        ),
    }
    for name, model in from_preset.items():
        assert model.backbone.remat, name
    # Without the flag a run keeps the preset's setting (off here).
    assert not build_classifier(
        GlueRun("sst2", preset=preset), sst2
    ).backbone.remat
