"""tools/long_range_benchmark.py end to end on a tiny model: the task is
written in the SCROLLS layout, both models train and are scored by
distance, and the scores by distance add up to each run's accuracy."""

import json
import random

import pytest

from tests.tools.test_convert_checkpoint import load_tool


def run_benchmark(*args):
    return load_tool("long_range_benchmark").main([str(a) for a in args])


def test_both_lengths_are_scored_by_distance(tmp_path, capsys):
    rng = random.Random(0)
    words = "a signal read by a layer through a kernel of the past".split()
    corpus = tmp_path / "prose.txt"
    corpus.write_text(" ".join(rng.choice(words) for _ in range(600)))
    out = tmp_path / "out"
    result = run_benchmark(
        "--corpus", corpus, "--output-dir", out, "--document-words", 60,
        "--distances", "0,50", "--train-examples", 16,
        "--validation-examples", 8, "--sequence-length", 128,
        "--truncated-length", 32, "--hidden-dim", 8, "--num-layers", 1,
        "--dt-min", 0.001, "--dt-max", 0.002, "--max-steps", 2,
    )  # fmt: skip
    assert result == 0
    assert "truncated accuracy" in capsys.readouterr().out
    assert len((out / "data/train.jsonl").read_text().splitlines()) == 16
    report = json.loads((out / "long_range.json").read_text())
    assert [row["distance"] for row in report["rows"]] == [0, 50]
    for name, length in (("full", 128), ("truncated", 32)):
        model = report["models"][name]
        assert model["sequence_length"] == length
        by_distance = model["by_distance"]
        assert sum(s["count"] for s in by_distance.values()) == 8
        # The best model scored by distance is the one the run scored.
        mean = sum(s["accuracy"] * s["count"] for s in by_distance.values())
        assert mean / 8 == pytest.approx(model["accuracy"])
        written = json.loads((out / name / "eval_results.json").read_text())
        assert written["accuracy"] == pytest.approx(model["accuracy"])
        # Both models start from the step range asked for.
        assert written["architecture"]["dt_min"] == 0.001
        assert written["architecture"]["dt_max"] == 0.002
        assert (out / name / "best_model" / "config.json").exists()


def test_distances_beyond_the_document_are_a_flag_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        run_benchmark(
            "--corpus", tmp_path / "none.txt", "--output-dir", tmp_path,
            "--document-words", 100, "--distances", "0,150",
        )  # fmt: skip
    assert exit.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.endswith(
        "error: --distances go up to 150 words, beyond --document-words 100"
    )


def test_an_empty_step_range_is_a_flag_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        run_benchmark(
            "--corpus", tmp_path / "none.txt", "--output-dir", tmp_path,
            "--dt-min", 0.1, "--dt-max", 0.01,
        )  # fmt: skip
    assert exit.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.endswith("error: --dt-min 0.1 is above --dt-max 0.01")
    with pytest.raises(SystemExit):
        run_benchmark(
            "--corpus", tmp_path / "none.txt", "--output-dir", tmp_path,
            "--dt-min", 0,
        )  # fmt: skip
    assert "--dt-min: expected a number above 0; got '0'" in (
        capsys.readouterr().err
    )
