"""Choosing how to spread training over the devices, per backend."""

import keras

from keras_bigs.training.distribution.distribution_setup import (
    DistributionSetup,
)
from keras_bigs.training.distribution.jax_distributions import setup_jax
from keras_bigs.training.distribution.tensorflow_strategies import (
    setup_tensorflow,
)

STRATEGIES = {
    "tensorflow": ("auto", "default", "mirrored", "multi_worker", "tpu"),
    "jax": ("auto", "default", "data_parallel", "model_parallel", "tpu"),
    "torch": ("auto", "default"),
}


def setup_distribution(
    strategy="auto", tpu=None, model_parallel=1, devices=None
):
    """Pick and set up how to spread training over the available devices.

    Call it before building the model, and build and compile under
    `.scope()`. `"auto"` picks, on TensorFlow, `"tpu"` when a TPU is
    named, `"multi_worker"` when `TF_CONFIG` lists several workers,
    `"mirrored"` with several GPUs (or given `devices`), else
    `"default"`; on JAX
    `"model_parallel"` when `model_parallel > 1`, `"data_parallel"` with
    several devices, else `"default"`. On torch only `"auto"` and
    `"default"` (one device) exist.

    Args:
        strategy: `"auto"`, `"default"`, or a backend's strategy
            (TensorFlow: `"tpu"`, `"mirrored"`, `"multi_worker"`; JAX:
            `"data_parallel"`, `"model_parallel"`, `"tpu"`).
        tpu: str. TensorFlow: the Cloud TPU name, a `grpc://host:port`
            address or `"local"` (TPU VM); default `$TPU_NAME`. Ignored on
            JAX.
        model_parallel: int. JAX: size of the `"model"` mesh axis; the rest
            of the devices form the `"batch"` axis. More than 1 selects
            `"model_parallel"` under `"auto"`.
        devices: optional list of devices (TensorFlow device names for
            `"mirrored"`, or Keras device strings like `"cpu:0"` on JAX).

    Returns:
        A `DistributionSetup` with `.scope()`, `.num_replicas`, `.kind` and
        `.distribute_dataset(dataset_fn)`.

    Raises:
        TPUNotFoundError: `"tpu"` was asked for and none could be reached.
        NotImplementedError: a multi-device strategy on torch.

    Example:
    ```python
    from keras_bigs.training import setup_distribution

    setup = setup_distribution("auto")
    setup.kind, setup.num_replicas  # e.g. ("default", 1) on one CPU
    ```
    """
    backend = keras.backend.backend()
    allowed = STRATEGIES.get(backend, ("auto", "default"))
    if strategy not in allowed:
        if backend not in ("tensorflow", "jax"):
            raise NotImplementedError(
                f"Strategy {strategy!r} is not available on the {backend} "
                "backend: keras_bigs distributes training on the jax and "
                "tensorflow backends only; on torch use 'auto' or "
                "'default' (one device)."
            )
        elsewhere = [b for b, names in STRATEGIES.items() if strategy in names]
        hint = (
            f" ({strategy!r} is a {' / '.join(elsewhere)} strategy)"
            if elsewhere
            else ""
        )
        raise ValueError(
            f"Unknown strategy {strategy!r} for the {backend} backend"
            f"{hint}; expected one of {allowed}."
        )
    if backend == "tensorflow":
        return setup_tensorflow(strategy, tpu, model_parallel, devices)
    if backend == "jax":
        return setup_jax(strategy, tpu, model_parallel, devices)
    if model_parallel != 1:
        raise NotImplementedError(
            f"Model parallelism is not available on the {backend} backend; "
            "use KERAS_BACKEND=jax."
        )
    return DistributionSetup("default", 1)
