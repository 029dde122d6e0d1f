"""The one place that asks the Keras backend which device it computes on."""

import functools

import keras


@functools.lru_cache(maxsize=None)
def device_kind():
    """`"cpu"`, `"gpu"` or `"tpu"`: where this backend places computations.

    Used only to pick between mathematically equal code paths (see
    `S4DConv(conv_mode="auto")`), never to change results.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        platform = jax.default_backend()
        return "gpu" if platform in ("gpu", "cuda", "rocm") else platform
    if backend == "tensorflow":
        import tensorflow as tf

        for kind in ("tpu", "gpu"):
            if tf.config.list_logical_devices(kind.upper()):
                return kind
        return "cpu"
    if backend == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    return "cpu"
