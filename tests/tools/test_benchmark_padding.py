import json

import pytest

from tests.conftest import shared_dir
from tests.tools.test_convert_checkpoint import load_tool


@pytest.mark.backends("jax")
def test_benchmark_padding_writes_its_table_and_json(tmp_path, capsys):
    path = tmp_path / "padding.json"
    status = load_tool("benchmark_padding").main(
        [
            "--glue-dir",
            str(shared_dir() / "glue"),
            "--sequence-length",
            "64",
            "--hidden-dim",
            "16",
            "--num-layers",
            "1",
            "--state-dim",
            "4",
            "--batch-size",
            "8",
            "--turns",
            "1",
            "--serving-batches",
            "2",
            "--json",
            str(path),
        ]
    )
    assert status == 0
    results = json.loads(path.read_text())
    assert results["buckets"] == [16, 32, 64]
    fixed, bucketed = (
        results["finetuning"][name] for name in ("fixed", "bucketed")
    )
    assert fixed["programs"] == [64] and fixed["mean_padded_length"] == 64
    assert set(bucketed["programs"]) <= {16, 32, 64}
    assert bucketed["mean_padded_length"] < 40  # SST-2 sentences are short
    assert bucketed["batches"] == 10 and fixed["batches"] == 1
    assert set(results["serving"]) == {
        "bigs_fixed",
        "bigs_bucketed",
        "bert_bucketed",
    }
    assert results["serving_speedup"] == pytest.approx(
        results["serving"]["bigs_bucketed"] / results["serving"]["bigs_fixed"]
    )
    out = capsys.readouterr().out
    assert "bucketed / fixed" in out and "bert_bucketed" in out
