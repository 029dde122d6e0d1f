"""tools/benchmark_long_inputs.py end to end on a tiny model: a row per
length with the seconds and memory of `predict` and of the served
SavedModel, which answer alike."""

import json
import subprocess
import sys

from keras_bigs.training.command_line import run_tool
from tests.conftest import REPO_ROOT
from tests.tools.test_convert_checkpoint import load_tool

PROSE = (
    "State space models read a sequence as a signal. Each layer convolves "
    "it with a kernel computed from a few parameters, so long inputs cost "
    "little more per token than short ones.\n"
)


def run_benchmark(*args):
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools/benchmark_long_inputs.py")]
        + [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )


def test_each_length_is_predicted_and_served_alike(tmp_path):
    text = tmp_path / "prose.txt"
    text.write_text(PROSE * 20)
    out = tmp_path / "long.json"
    result = run_benchmark(
        "--text", text, "--lengths", "16,96", "--hidden-dim", "16",
        "--num-layers", "1", "--state-dim", "4", "--repeats", "1",
        "--output-dir", tmp_path / "models", "--json", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "served tok/s" in result.stdout
    report = json.loads(out.read_text())
    assert sorted(report["lengths"]) == ["16", "96"]
    # Each document fills its own bucket, not the next one up.
    assert 8 < report["lengths"]["16"]["document_tokens"] <= 16
    assert 80 < report["lengths"]["96"]["document_tokens"] <= 96
    for length, row in report["lengths"].items():
        for kind in ("predict", "served"):
            assert row[f"{kind}_s"] > 0
            assert row[f"{kind}_tokens_per_s"] == int(length) / row[f"{kind}_s"]
            # A process with TensorFlow and a model: hundreds of MB.
            assert row[f"{kind}_memory_mb"] > 100
        assert row["max_logit_difference"] < 1e-4
    # The export holds every bucket; the preset keeps them.
    config = json.loads(
        (tmp_path / "models/preset/preprocessor.json").read_text()
    )
    assert config["config"]["buckets"] == [16, 96]
    assert report["export_seconds"] > 0


def test_too_little_text_is_a_one_line_error(tmp_path, capsys):
    text = tmp_path / "short.txt"
    text.write_text("only five words are here")
    tool = load_tool("benchmark_long_inputs")
    status = run_tool(tool.main, ["--text", str(text), "--lengths", "16"])
    assert status == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"benchmark_long_inputs.py: error: {text} has 5 words; a 16-token "
        "document needs more than 14."
    )
