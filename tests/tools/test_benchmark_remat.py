"""tools/benchmark_remat.py end to end on a tiny configuration: a row
per depth, with and without remat, and the growth per layer
between the depths."""

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_benchmark_remat_writes_both_columns_and_the_growth_per_layer(
    tmp_path,
):
    out = tmp_path / "remat.json"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "tools" / "benchmark_remat.py"),
            "--lengths",
            "64",
            "--layers",
            "1,3",
            "--hidden",
            "16",
            "--intermediate",
            "32",
            "--state",
            "4",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MB/layer remat" in result.stdout
    report = json.loads(out.read_text())
    rows = report["rows"]
    assert [(r["length"], r["layers"]) for r in rows] == [(64, 1), (64, 3)]
    for row in rows:
        assert row["memory_mb"] > 0 and row["remat_memory_mb"] > 0
        assert row["memory_ratio"] == row["remat_memory_mb"] / row["memory_mb"]
    shallow, deep = rows
    for prefix in ("", "remat_"):
        grown = deep[f"{prefix}memory_mb"] - shallow[f"{prefix}memory_mb"]
        assert deep[f"{prefix}memory_per_layer_mb"] == grown / 2
        assert grown > 0
