"""tools/benchmark.py end to end on a tiny configuration (the numbers it
prints are measured by running it; here: that it runs, writes every field,
and that what it reports is self-consistent)."""

import inspect
import json
import subprocess
import sys

import pytest

from keras_bigs.performance import benchmark
from keras_bigs.performance import benchmark_length
from keras_bigs.performance import matched_backbones
from tests.conftest import REPO_ROOT

TOOL = REPO_ROOT / "tools" / "benchmark.py"
TINY = [
    "--hidden",
    "32",
    "--layers",
    "1",
    "--state",
    "8",
    "--repeats",
    "1",
    "--warmup",
    "1",
    "--tokens-per-batch",
    "64",
]


def run_tool(*args):
    result = subprocess.run(
        [sys.executable, str(TOOL), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.backends("jax")
def test_benchmark_writes_side_by_side_numbers(tmp_path):
    out = tmp_path / "bench.json"
    stdout = run_tool(
        "--lengths", "32,128", "--bert-max-length", "32", "--json", str(out),
        *TINY,
    )  # fmt: skip
    assert "train ratio" in stdout and "BERT train tok/s" in stdout
    report = json.loads(out.read_text())
    assert report["machine"]["backend"] == "jax"
    assert report["machine"]["cpu_count"] >= 1
    # Longer than the 64 tokens a step: one sequence a step, BiGS alone.
    longer = report["lengths"]["128"]
    assert (longer["batch_size"], longer["tokens_per_step"]) == (1, 128)
    assert longer["bigs_train_tokens_per_s"] > 0
    assert not [key for key in longer if "bert" in key or "ratio" in key]
    for length, batch in (("32", 2),):
        row = report["lengths"][length]
        assert (row["batch_size"], row["tokens_per_step"]) == (batch, 64)
        for key in (
            "bigs_train_tokens_per_s",
            "bert_train_tokens_per_s",
            "bigs_inference_tokens_per_s",
            "bert_inference_tokens_per_s",
            "bigs_peak_memory_mb",
            "bert_peak_memory_mb",
        ):
            assert row[key] > 0, key
        assert row["train_ratio"] == pytest.approx(
            row["bigs_train_tokens_per_s"] / row["bert_train_tokens_per_s"]
        )
        # Same width and depth: parameter counts within 10%.
        assert abs(row["bigs_parameters"] / row["bert_parameters"] - 1) < 0.1


@pytest.mark.backends("jax")
def test_convolution_paths_are_timed(tmp_path):
    out = tmp_path / "conv.json"
    stdout = run_tool(
        "--conv-only", "--lengths", "8,300", "--json", str(out), *TINY
    )
    assert "Toeplitz ms" in stdout
    rows = json.loads(out.read_text())["convolution"]
    assert [r["auto"] for r in rows] == ["toeplitz", "fft"]
    assert all(r["fft_ms"] > 0 and r["toeplitz_ms"] > 0 for r in rows)


def test_tokens_per_batch_must_divide_into_sequences():
    with pytest.raises(ValueError, match="not a multiple of the sequence"):
        benchmark_length(100, tokens_per_batch=8192)


def test_both_models_train_with_the_requested_dropout():
    tiny = dict(hidden_dim=16, num_layers=1, state_dim=4, vocabulary_size=50)
    for rate in (0.1, 0.0):
        models = matched_backbones(8, dropout=rate, **tiny)
        assert [
            models[n].get_config()["dropout"] for n in ("bigs", "bert")
        ] == [rate, rate]
    # The default is the rate both models are trained with.
    models = matched_backbones(8, **tiny)
    assert models["bert"].get_config()["dropout"] == 0.1
    assert models["bigs"].get_config()["dropout"] == 0.1


def test_a_fresh_process_measures_its_own_peak_memory():
    # Probes run in subprocesses of a benchmark that may hold gigabytes;
    # getrusage's ru_maxrss would hand them the parent's size.
    code = inspect.getsource(benchmark.peak_rss_mb) + "print(peak_rss_mb())"
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert child.returncode == 0, child.stderr
    parent = benchmark.peak_rss_mb()
    assert parent > 200  # this test process, with Keras loaded
    assert 0 < float(child.stdout) < 50  # a bare Python interpreter
