"""Every training tool takes the recipe flags and hands the recipe to its
run (the runs themselves are stubbed: nothing trains here)."""

import dataclasses

import keras
import numpy as np
import pytest

from keras_bigs.training import PRETRAINING_DEFAULTS
from keras_bigs.training import Recipe
from keras_bigs.training.ablation_study import AblationStudy
from tests.tools.test_convert_checkpoint import load_tool

GLUE = ["--task", "rte", "--glue-dir", "glue", "--output-dir", "out"]
NER = ["--train", "a.txt", "--validation", "b.txt", "--output-dir", "out"]
PRETRAIN = ["--text", "corpus.txt", "--output-dir", "out"]


def run_of(tool_name, runner, argv, monkeypatch):
    """The run that the tool's `main(argv)` hands to `runner`."""
    tool = load_tool(tool_name)
    runs = []
    monkeypatch.setattr(
        tool, runner, lambda run, **kwargs: runs.append(run) or {}
    )
    assert tool.main(argv) == 0
    return runs[0]


@pytest.mark.parametrize(
    "tool_name, runner, argv, expected",
    [
        # From scratch: 1e-3 on every tool; fine-tuning's schedule, or
        # pretraining's.
        ("run_glue", "finetune_glue", GLUE, Recipe(learning_rate=1e-3)),
        ("run_ner", "finetune_tagger", NER, Recipe(learning_rate=1e-3)),
        (
            "pretrain",
            "pretrain",
            PRETRAIN,
            Recipe(learning_rate=1e-3, **PRETRAINING_DEFAULTS),
        ),
    ],
)
def test_each_tool_runs_with_its_default_recipe_or_the_flags(
    tool_name, runner, argv, expected, monkeypatch
):
    assert run_of(tool_name, runner, argv, monkeypatch).recipe == expected
    flags = ["--batch-size", "8", "--seed", "3", "--weight-decay", "0"]
    changed = dataclasses.replace(
        expected, batch_size=8, seed=3, weight_decay=0.0
    )
    run = run_of(tool_name, runner, argv + flags, monkeypatch)
    assert run.recipe == changed


def test_the_ablation_study_takes_the_recipe_flags():
    tool = load_tool("ablation_study")
    args = tool.parse_args(PRETRAIN + ["--learning-rate", "5e-4"])
    study = AblationStudy(output_dir="out", text_files=["corpus.txt"])
    assert Recipe.from_args(args) == dataclasses.replace(
        study.recipe, learning_rate=5e-4
    )


@pytest.mark.parametrize(
    "tool_name, runner, argv",
    [("run_glue", "finetune_glue", GLUE), ("run_ner", "finetune_tagger", NER)],
)
def test_freeze_ssm_reaches_the_optimizer(tool_name, runner, argv, monkeypatch):
    assert not run_of(tool_name, runner, argv, monkeypatch).recipe.freeze_ssm
    run = run_of(tool_name, runner, argv + ["--freeze-ssm"], monkeypatch)
    optimizer = run.recipe.optimizer(total_steps=10)
    for name in ("A_re", "A_im", "C", "D", "log_step"):
        assert optimizer.is_frozen(keras.Variable(np.zeros(2), name=name))
    assert not optimizer.is_frozen(keras.Variable(np.zeros(2), name="kernel"))
