import json

import pytest

from tests.conftest import fixture_dir
from tests.tools.test_convert_checkpoint import load_tool


@pytest.mark.backends("jax")
def test_check_padding_reports_both_modes(tmp_path, capsys):
    report = tmp_path / "padding.json"
    status = load_tool("check_padding").main(
        [
            str(fixture_dir("flax_classifier", "bigs_reference_strong")),
            "--json",
            str(report),
        ]
    )
    assert status == 0
    results = json.loads(report.read_text())
    assert results["row_lengths"] == [64, 47, 9]
    assert set(results["faithful"]) == set(results["invariant"]) == {"16", "64"}
    assert max(results["invariant"].values()) <= 5e-5
    assert results["faithful"]["64"] > 0.05
    assert "invariant" in capsys.readouterr().out
    # Over a tolerance below what the invariant mode reaches: exit 1.
    assert (
        load_tool("check_padding").main(
            [
                str(fixture_dir("flax_classifier", "bigs_reference_strong")),
                "--tolerance",
                "1e-12",
            ]
        )
        == 1
    )
