"""Two processes on one machine, as a stand-in for two hosts: a JAX job
of two processes (`jax.distributed`, CPU collectives, one device each,
`DataParallel` over both) pretrains and fine-tunes to the weights one
process reaches with the same global batch, and scores alike."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from keras_bigs.training.masked_lm_evaluation import read_heldout_log
from tests.conftest import REPO_ROOT
from tests.conftest import cpu_devices_xla_flags
from tests.conftest import shared_dir
from tests.training.test_killed_runs import checkpoint_arrays


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


ENVIRONMENT = {
    **os.environ,
    "PYTHONPATH": str(REPO_ROOT),
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": cpu_devices_xla_flags(1),
}


def tool_command(tool, *args):
    return [sys.executable, str(REPO_ROOT / "tools" / f"{tool}.py"), *args]


def run_job(command, output_dirs, alone_dir):
    """Run `command` as a JAX job of one process per output folder and,
    beside it, as one process writing to `alone_dir`; returns each job
    process's output."""
    job = ["--coordinator-address", f"localhost:{free_port()}"]
    job += ["--num-processes", str(len(output_dirs))]
    commands = [
        [*command, "--output-dir", str(folder), *job, "--process-id", str(i)]
        for i, folder in enumerate(output_dirs)
    ]
    commands.append([*command, "--output-dir", str(alone_dir)])
    processes = [
        subprocess.Popen(
            command,
            env=ENVIRONMENT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for command in commands
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    return outputs[:-1]


def assert_the_weights_of_one(first, second, alone, keys="layers/"):
    """Both processes hold the same weights, those of the run alone."""
    first, second, one = map(checkpoint_arrays, (first, second, alone))
    assert sorted(first) == sorted(one)
    for key, value in one.items():
        np.testing.assert_array_equal(first[key], second[key])
        if key.startswith(keys):
            difference = np.linalg.norm(first[key] - value.astype(np.float64))
            assert difference <= 1e-5 * np.linalg.norm(value), key


@pytest.mark.backends("jax")
def test_two_processes_pretrain_to_the_weights_and_scores_of_one(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(
        "\n".join(f"the cat sat on mat number {i} today" for i in range(60))
    )
    command = tool_command("pretrain", "--text", str(corpus), "--steps", "4")
    command += ["--checkpoint-every", "2", "--batch-size", "4"]
    command += ["--sequence-length", "32", "--verbose", "0"]
    command += ["--heldout-every", "10"]
    folders = [tmp_path / "process0", tmp_path / "process1"]
    outputs = run_job(command, folders, tmp_path / "alone")
    assert "data_parallel, 2 replica(s)" in outputs[0]
    name = "checkpoints/step-00000004.weights.h5"
    assert_the_weights_of_one(
        *(folder / name for folder in (*folders, tmp_path / "alone"))
    )
    # Every process scores the held-out documents alike, at every
    # checkpoint.
    first, second, alone = (
        read_heldout_log(folder / "heldout_log.csv")
        for folder in (*folders, tmp_path / "alone")
    )
    assert [row["step"] for row in first] == [0, 2, 4]
    assert first == second
    for row, lone in zip(first, alone):
        assert row["loss"] == pytest.approx(lone["loss"], rel=1e-5)


@pytest.mark.backends("jax")
def test_two_processes_fine_tune_to_the_weights_and_scores_of_one(tmp_path):
    # Padding-invariant: batches grouped by length, each process's half
    # of a step in the same bucket.
    command = tool_command("run_glue", "--task", "wnli", "--glue-dir")
    command += [str(shared_dir() / "glue"), "--max-steps", "4"]
    command += ["--batch-size", "4", "--sequence-length", "32"]
    command += ["--padding-invariant", "--verbose", "0"]
    folders = [tmp_path / "process0", tmp_path / "process1"]
    outputs = run_job(command, folders, tmp_path / "alone")
    assert "data_parallel, 2 replica(s)" in outputs[0]
    assert_the_weights_of_one(
        *(
            folder / "best_model" / "model.weights.h5"
            for folder in (*folders, tmp_path / "alone")
        ),
        keys="",
    )
    scores = [
        json.loads((folder / "eval_results.json").read_text())
        for folder in (*folders, tmp_path / "alone")
    ]
    assert {s["num_eval_examples"] for s in scores} == {71}
    assert scores[0]["accuracy"] == scores[1]["accuracy"]
    assert scores[0]["accuracy"] == pytest.approx(scores[2]["accuracy"])
