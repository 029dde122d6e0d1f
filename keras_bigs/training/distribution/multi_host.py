"""Joining a multi-host JAX job."""

import os

import keras


def _multi_host_environment():
    env = os.environ
    if "KERAS_DISTRIBUTION_JOB_ADDRESSES" in env:
        return True
    if "JAX_COORDINATOR_ADDRESS" in env:
        return True
    # A multi-host TPU slice lists its hosts; SLURM counts its tasks.
    hosts = env.get("TPU_WORKER_HOSTNAMES", "")
    if len([h for h in hosts.split(",") if h]) > 1:
        return True
    return int(env.get("SLURM_NTASKS", "1") or 1) > 1


def initialize_multi_host(
    job_addresses=None, num_processes=None, process_id=None
):
    """Join this process to a multi-host JAX job, if it is one.

    On JAX, calls `keras.distribution.initialize()` (which calls
    `jax.distributed.initialize()`) when arguments are given or the
    environment describes a multi-process job (`KERAS_DISTRIBUTION_*` or
    `JAX_COORDINATOR_ADDRESS` variables, a TPU slice with several
    `TPU_WORKER_HOSTNAMES`, SLURM with several tasks); on one host it does
    nothing. Call it first, before JAX runs anything. On TensorFlow the
    cluster comes from `TF_CONFIG` or the TPU and this does nothing.

    Args:
        job_addresses: str. Coordinator address `host:port` (or all
            processes' addresses, comma-separated).
        num_processes: int. Number of processes.
        process_id: int. This process's index, 0 for the coordinator.

    Returns:
        bool. Whether a multi-host job was initialised.

    Example:
    ```python
    from keras_bigs.training import initialize_multi_host

    initialize_multi_host()  # False (on a single host)
    ```
    """
    explicit = any(
        arg is not None for arg in (job_addresses, num_processes, process_id)
    )
    if not (explicit or _multi_host_environment()):
        return False
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return False
    if backend != "jax":
        raise NotImplementedError(
            f"Multi-host training is not available on the {backend} "
            "backend; use KERAS_BACKEND=jax (or tensorflow with TF_CONFIG)."
        )
    keras.distribution.initialize(job_addresses, num_processes, process_id)
    return True
