"""Joining a multi-host JAX job, and predicting on this host in one."""

import contextlib
import os

import keras
import tensorflow as tf


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
    tensorflow_seed = tf.compat.v1.get_seed(None)[0]
    keras.distribution.initialize(job_addresses, num_processes, process_id)
    # Keras seeds every generator with one random seed the processes agree
    # on, TensorFlow's global seed among them. tf.data ops seeded by their
    # own seed depend on the global one too: left unset, as on one
    # process, so that seeded pipelines (held-out masks) give the elements
    # one process gives.
    if tensorflow_seed is None:
        tf.random.set_seed(None)
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


def process_count():
    """The processes of this JAX job; 1 on one host and other backends."""
    if keras.backend.backend() != "jax":
        return 1
    import jax  # only the jax backend gets here

    return jax.process_count()


@contextlib.contextmanager
def outside_the_distribution():
    """Build and run models on this process alone: no Keras distribution
    while inside (the one set is restored after)."""
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)


class HostCopy:
    """A model whose outputs this process can read, for scoring.

    On one process that is the model itself. In a JAX job of several
    processes a distributed model's outputs span every process's devices
    and Keras' `predict` cannot gather them, but data parallelism keeps a
    whole replica of the weights on each process: `current()` copies them
    into a twin of the model built outside the distribution, on this
    process's devices, which predicts the whole input here (every process
    scores alike, and so keeps the same best epoch).

    Args:
        model: a Keras model (a keras-hub task) that round-trips through
            `get_config` / `from_config`, and of which every process
            holds every weight whole (data parallelism; weights sharded
            across processes cannot be copied out).

    Example:
    ```python
    import keras
    from keras_bigs.training.distribution.multi_host import HostCopy

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with HostCopy(model).current() as scorer:
        scorer.predict(keras.ops.ones((4, 3)), verbose=0).shape  # (4, 2)
    ```
    """

    def __init__(self, model):
        self.model = model
        self._twin = None

    @contextlib.contextmanager
    def current(self):
        """The model to predict with, holding the model's weights now;
        predict inside the `with`."""
        if process_count() == 1:
            yield self.model
            return
        weights = self.model.get_weights()
        with outside_the_distribution():
            if self._twin is None:
                self._twin = self.model.__class__.from_config(
                    self.model.get_config()
                )
            self._twin.set_weights(weights)
            yield self._twin
