"""tools/run_scrolls.py end to end on generated SCROLLS files (no SCROLLS
data ships here): both tasks from scratch with --remat, a preset whose
position table the tool extends, and a malformed file."""

import json

import keras_bigs
from keras_bigs.training.command_line import run_tool
from tests.data.test_scrolls import contract_nli
from tests.data.test_scrolls import quality
from tests.data.test_scrolls import write
from tests.tools.test_convert_checkpoint import load_tool

TINY = ["--hidden-dim", "16", "--num-layers", "1", "--batch-size", "4"]
LABELS = ["Entailment", "Contradiction", "Not mentioned"]
OPTIONS = ["a blue boat", "a red car", "a green kite", "a yellow bus"]


def task_files(folder, task):
    folder.mkdir()
    for split, count in (("train", 8), ("validation", 5)):
        if task == "contract_nli":
            records = [contract_nli(i, LABELS[i % 3]) for i in range(count)]
        else:
            records = [quality(i, OPTIONS[i % 4]) for i in range(count)]
        write(folder / f"{split}.jsonl", records)
    return str(folder)


def run_scrolls(*argv):
    """The tool's exit status, as from the command line."""
    return run_tool(load_tool("run_scrolls").main, [str(a) for a in argv])


def test_both_tasks_train_evaluate_and_save_and_a_preset_is_extended(
    tmp_path, capsys
):
    # ContractNLI from scratch, with remat.
    scratch = tmp_path / "contract_nli"
    data = task_files(tmp_path / "contract_nli_data", "contract_nli")
    assert (
        run_scrolls(
            "--task",
            "contract_nli",
            "--data-dir",
            data,
            "--output-dir",
            scratch,
            "--sequence-length",
            32,
            "--max-steps",
            1,
            "--remat",
            *TINY,
        )
        == 0
    )
    results = json.loads((scratch / "eval_results.json").read_text())
    assert results["task"] == "contract_nli"
    assert results["num_eval_examples"] == 5
    assert 0.0 <= results["accuracy"] <= 1.0 and results["remat"]
    preset = scratch / "best_model"
    model = keras_bigs.BiGSClassifier.from_preset(str(preset))
    assert model.backbone.remat and model.backbone.max_sequence_length == 32
    capsys.readouterr()
    # QuALITY from that preset, longer than its position table,
    # padding-invariant (choices bucketed by their longest).
    longer = tmp_path / "quality"
    data = task_files(tmp_path / "quality_data", "quality")
    assert (
        run_scrolls(
            "--task",
            "quality",
            "--data-dir",
            data,
            "--output-dir",
            longer,
            "--preset",
            preset,
            "--sequence-length",
            64,
            "--max-steps",
            1,
            "--padding-invariant",
            *TINY,
        )
        == 0
    )
    assert "from 32 to 64 tokens" in capsys.readouterr().out
    results = json.loads((longer / "eval_results.json").read_text())
    assert results["num_eval_examples"] == 5 and results["padding_invariant"]
    assert 0.0 <= results["exact_match"] <= 1.0
    assert results["sequence_length"] == 64
    model = keras_bigs.BiGSMultipleChoice.from_preset(
        str(longer / "best_model")
    )
    assert model.backbone.max_sequence_length == 64 and model.backbone.remat


def test_a_malformed_file_is_one_line_naming_file_and_line(tmp_path, capsys):
    data = tmp_path / "data"
    task_files(data, "quality")
    with open(data / "validation.jsonl", "a") as f:
        f.write(json.dumps(quality(9, "a purple hat")) + "\n")
    status = run_scrolls(
        "--task",
        "quality",
        "--data-dir",
        data,
        "--output-dir",
        tmp_path / "out",
        "--max-steps",
        1,
        *TINY,
    )
    error = capsys.readouterr().err.strip()
    assert status == 2 and len(error.splitlines()) == 1
    assert "validation.jsonl:6:" in error and "a purple hat" in error
