import json

import numpy as np
import pytest

from keras_bigs.performance.serving_load import generated_requests
from keras_bigs.performance.serving_load import load_test
from tests.serving.serving_common import Exports
from tests.serving.serving_common import tiny_models
from tests.tools.test_convert_checkpoint import load_tool


@pytest.mark.backends("jax")
@pytest.mark.parametrize("export", ["invariant", "regressor"])
def test_many_threads_get_the_answers_one_thread_gets(export, tmp_path):
    # A bucketed classifier (one program per padded length) and one taking
    # sentence pairs.
    folder, _ = Exports(tiny_models(), tmp_path)[export]
    tool = load_tool("serve_load_test")
    results_path = tmp_path / "load.json"
    args = [folder, "--threads", "8", "--requests", "10", "--rounds", "3"]
    assert tool.main([*args, "--json", str(results_path)]) == 0
    results = json.loads(results_path.read_text())
    assert results["threads"] == 8 and results["requests"] == 3 * 8 * 10
    assert results["num_errors"] == results["num_mismatches"] == 0
    assert results["requests_per_s"] > 0 and len(results["memory_mb"]) == 4
    assert results["memory_growth"] < 0.10
    inputs = ["text_a", "text_b"] if export == "regressor" else ["text"]
    assert results["inputs"] == inputs


def test_wrong_answers_and_failed_calls_are_reported():
    calls = []

    def flaky_serve(text):
        calls.append(1)
        concurrent = len(calls) > 12  # after the alone pass
        if concurrent and len(calls) % 7 == 0:
            raise RuntimeError("the server fell over")
        return {"rows": np.full(len(text), 1.0 + concurrent)}

    requests = generated_requests(["text"], 12)
    results = load_test(flaky_serve, requests, threads=3, rounds=2)
    assert results["num_errors"] + results["num_mismatches"] == 24
    assert results["num_errors"] > 0
    assert "the server fell over" in results["errors"][0]
    assert "rows differs by up to 1" in results["mismatches"][0]
    with pytest.raises(ValueError, match="rounds must be at least 2"):
        load_test(flaky_serve, requests, threads=3, rounds=1)


def test_a_folder_without_a_saved_model_is_one_line(tmp_path, capsys):
    tool = load_tool("serve_load_test")
    assert tool.run_tool(tool.main, [str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        f"serve_load_test.py: error: {tmp_path} holds no SavedModel (no "
        "saved_model.pb): pass the folder export_for_serving wrote."
    )
