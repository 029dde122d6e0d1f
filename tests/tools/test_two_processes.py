"""Two processes on one machine, as a stand-in for two hosts: a JAX job
of two processes (`jax.distributed`, CPU collectives, one device each,
`DataParallel` over both) pretrains to the weights one process reaches
with the same global batch; fine-tuning, whose per-epoch scoring needs
predictions Keras cannot gather across processes, refuses to run so."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

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


def run_job(command, output_dirs):
    """Run `command` as a JAX job of one process per output folder;
    returns each process's `(status, output)`."""
    job = ["--coordinator-address", f"localhost:{free_port()}"]
    job += ["--num-processes", str(len(output_dirs))]
    processes = [
        subprocess.Popen(
            [*command, "--output-dir", str(folder), *job]
            + ["--process-id", str(index)],
            env=ENVIRONMENT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index, folder in enumerate(output_dirs)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    return [(p.returncode, out) for p, out in zip(processes, outputs)]


@pytest.mark.backends("jax")
def test_two_processes_end_with_the_weights_of_one(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(
        "\n".join(f"the cat sat on mat number {i} today" for i in range(60))
    )
    command = tool_command("pretrain", "--text", str(corpus), "--steps", "4")
    command += ["--checkpoint-every", "2", "--batch-size", "4"]
    command += ["--sequence-length", "32", "--verbose", "0"]
    folders = [tmp_path / "process0", tmp_path / "process1"]
    results = run_job(command, folders)
    for status, output in results:
        assert status == 0, output[-3000:]
    assert "data_parallel, 2 replica(s)" in results[0][1]
    alone = subprocess.run(
        [*command, "--output-dir", str(tmp_path / "alone")],
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert alone.returncode == 0, alone.stderr[-3000:]

    name = "checkpoints/step-00000004.weights.h5"
    first, second, one = (
        checkpoint_arrays(folder / name)
        for folder in (*folders, tmp_path / "alone")
    )
    assert sorted(first) == sorted(one)
    for key, value in one.items():
        np.testing.assert_array_equal(first[key], second[key])
        if key.startswith("layers/"):
            difference = np.linalg.norm(first[key] - value.astype(np.float64))
            assert difference <= 1e-5 * np.linalg.norm(value), key


@pytest.mark.backends("jax")
def test_fine_tuning_refuses_to_run_as_two_processes(tmp_path):
    command = tool_command("run_glue", "--task", "wnli", "--glue-dir")
    command += [str(shared_dir() / "glue"), "--max-steps", "1"]
    results = run_job(command, [tmp_path / "p0", tmp_path / "p1"])
    for status, output in results:
        assert status == 2, output[-3000:]
        assert (
            "run_glue.py: error: Fine-tuning, which scores every epoch, "
            "needs the model's predictions on this host, which Keras' "
            "predict cannot gather across the 2 processes of this job"
        ) in output
