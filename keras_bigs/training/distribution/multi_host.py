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
    cluster comes from `TF_CONFIG` or the TPU and this does nothing; given
    arguments there, it refuses.

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
    if explicit:
        _check_job(job_addresses, num_processes, process_id)
    elif not _multi_host_environment():
        return False
    backend = keras.backend.backend()
    if backend != "jax":
        if explicit:
            raise ValueError(
                "A coordinator address, number of processes and process id "
                f"start a JAX multi-process job; the {backend} backend "
                "cannot join one. Use KERAS_BACKEND=jax, or on tensorflow "
                "set TF_CONFIG on every worker and use the multi_worker "
                "strategy."
            )
        if backend == "tensorflow":
            return False  # the cluster comes from TF_CONFIG or the TPU
        raise NotImplementedError(
            f"Multi-host training is not available on the {backend} "
            "backend; use KERAS_BACKEND=jax (or tensorflow with TF_CONFIG)."
        )
    keras.distribution.initialize(job_addresses, num_processes, process_id)
    return True


def _check_job(job_addresses, num_processes, process_id):
    if job_addresses is None or num_processes is None or process_id is None:
        raise ValueError(
            "A multi-process job needs all three of the coordinator address "
            f"(got {job_addresses!r}), the number of processes (got "
            f"{num_processes!r}) and this process's id (got {process_id!r})."
        )
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise ValueError(
            f"The process id must be in [0, {num_processes}) for "
            f"{num_processes} processes, not {process_id}."
        )


def check_one_process(what):
    """Refuse `what` in a JAX job of several processes: it needs a model's
    predictions on the host, and Keras' `predict` cannot gather outputs
    that span other processes' devices.

    Args:
        what: str. What the run would do, for the message.

    Raises:
        ValueError: this process is one of several.
    """
    if keras.backend.backend() != "jax":
        return
    import jax  # only the jax backend gets here

    if jax.process_count() > 1:
        raise ValueError(
            f"{what} needs the model's predictions on this host, which "
            "Keras' predict cannot gather across the "
            f"{jax.process_count()} processes of this job; run it as one "
            "process. (Masked-LM pretraining without held-out scoring runs "
            "as several.)"
        )
