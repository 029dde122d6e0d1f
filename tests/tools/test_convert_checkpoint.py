import importlib.util
import json

import numpy as np
import pytest

import keras_bigs
from tests.conftest import REPO_ROOT
from tests.conftest import fixture_dir


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, REPO_ROOT / "tools" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_convert_writes_a_preset_that_loads_to_the_same_outputs(tmp_path):
    convert = load_tool("convert_checkpoint")
    source = fixture_dir("torch_question_answering")
    report = tmp_path / "report.json"
    status = convert.main(
        [str(source), str(tmp_path / "qa"), "--json", str(report)]
    )
    result = json.loads(report.read_text())
    assert status == 0 and result["ok"]
    assert result["task"] == "BiGSQuestionAnswerer"
    assert max(result["max_abs_diff"].values()) <= 1e-6

    # The converted preset gives the original's reference outputs.
    reference = np.load(source / "reference_outputs.npz")
    qa = keras_bigs.BiGSQuestionAnswerer.from_preset(str(tmp_path / "qa"))
    outputs = qa.predict(
        {
            name: reference[f"x_{name}"]
            for name in ("token_ids", "segment_ids", "padding_mask")
        },
        verbose=0,
    )
    np.testing.assert_allclose(
        outputs["start_logits"],
        reference["start_logits"],
        rtol=1e-5,
        atol=1e-5 * np.abs(reference["start_logits"]).max(),
    )


def test_convert_fails_over_the_tolerance(tmp_path):
    convert = load_tool("convert_checkpoint")
    # Nothing is closer than -1: the comparison must be able to fail.
    status = convert.main(
        [
            str(fixture_dir("flax_regressor")),
            str(tmp_path / "regressor"),
            "--tolerance",
            "-1",
        ]
    )
    assert status == 1


def test_convert_refuses_a_folder_that_is_not_a_checkpoint(tmp_path, capsys):
    convert = load_tool("convert_checkpoint")
    with pytest.raises(SystemExit):
        convert.main([str(tmp_path), str(tmp_path / "out")])
    assert "not a checkpoint in the original BiGS layout" in (
        capsys.readouterr().err
    )


def test_check_parity_reports_every_output(tmp_path):
    check_parity = load_tool("check_parity")
    report = tmp_path / "parity.json"
    status = check_parity.main(
        [str(fixture_dir("torch_masked_lm")), "--json", str(report)]
    )
    rows = json.loads(report.read_text())["rows"]
    assert status == 0
    assert {(row["model"], row["output"]) for row in rows} == {
        ("BiGSBackbone", "sequence_output"),
        ("BiGSBackbone", "short_sequence_output"),
        ("BiGSMaskedLM", "logits"),
        ("BiGSMaskedLM", "short_logits"),
    }
    assert all(row["relative_error"] < 1e-5 for row in rows)
