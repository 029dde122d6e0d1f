import json

import pytest

from tests.conftest import shared_dir
from tests.tools.test_convert_checkpoint import load_tool


# The study end to end at a toy budget, on jax (its parts are tested on
# every backend in tests/training and tests/data): the plumbing, the files
# it writes and a rerun that finds every stage done.
@pytest.mark.backends("jax")
def test_ablation_study_writes_its_table_and_skips_finished_stages(
    tmp_path, capsys
):
    corpus = tmp_path / "corpus.txt"
    words = "the model reads every token of the text in both directions"
    corpus.write_text(
        "\n".join(f"{words} and line {i} says so." for i in range(60))
    )
    output = tmp_path / "study"
    args = [
        "--text",
        str(corpus),
        "--glue-dir",
        str(shared_dir() / "glue"),
        "--glue-tasks",
        "wnli",
        "--architectures",
        "gated_ssm",
        "stack_attention",
        "--num-layers",
        "1",
        "--hidden-dim",
        "16",
        "--intermediate-dim",
        "32",
        "--state-dim",
        "4",
        "--sequence-length",
        "16",  # one length bucket: one compiled shape per step
        "--batch-size",
        "4",
        "--pretrain-steps",
        "4",
        "--evaluate-every",
        "2",
        "--heldout-every",
        "5",
        "--glue-max-steps",
        "2",
        "--glue-epochs",
        "1",
        "--glue-batch-size",
        "8",
        "--verbose",
        "0",
        "--output-dir",
        str(output),
    ]
    tool = load_tool("ablation_study")
    assert tool.main(args) == 0
    printed = capsys.readouterr().out
    assert "encoder parameters" in printed and "Paper, Table 1" in printed

    for name in ("results.md", "results.json", "architectures.json"):
        assert (output / name).is_file()
    assert (output / "heldout_loss.png").stat().st_size > 1000
    results = json.loads((output / "results.json").read_text())
    assert list(results["models"]) == [
        "gated_ssm",
        "stack_attention",
        "gated_ssm_scratch",
    ]
    assert results["budget"]["tokens_per_model"] == 4 * 4 * 16
    for name in ("gated_ssm", "stack_attention"):
        model = results["models"][name]
        assert [row["step"] for row in model["heldout_curve"]] == [0, 2, 4]
        assert model["heldout"] == model["heldout_curve"][-1]
        assert (output / "pretrain" / name / "model").is_dir()
    for name in results["models"]:
        wnli = results["models"][name]["glue"]["wnli"]
        assert 0 <= wnli <= 100
        assert results["models"][name]["glue_average"] == wnli
        assert (output / "glue" / name / "wnli" / "eval_results.json").is_file()
    baseline = results["unigram_baseline"]
    assert baseline["token_text"] == "the" and 0 < baseline["accuracy"] < 1
    assert results["ordering"] is None  # STACK/SSM was not run

    table = (output / "results.md").read_text().splitlines()
    assert table[0].startswith("| model | encoder params | MLM loss |")
    assert [line.split(" | ")[0] for line in table[2:6]] == [
        "| GATED/SSM",
        "| STACK/ATT",
        "| GATED/SSM (no pretraining)",
        "| unigram baseline (always 'the')",
    ]
    # The paper's Table 1 (top) follows, attributed to the paper.
    assert table[7].startswith("Paper, Table 1 (top)")

    # A rerun finds every stage on disk and redoes none.
    assert tool.main(args) == 0
    printed = capsys.readouterr().out
    assert "pretraining\n" not in printed and "fine-tuning on" not in printed
    assert printed.count("pretrained: kept") == 2
    assert printed.count("wnli: kept") == 3
    again = json.loads((output / "results.json").read_text())
    assert again["models"] == results["models"]
