"""The JAX distributions: default, data parallel, model parallel, TPU."""

import keras

from keras_bigs.training.distribution.distribution_setup import (
    DistributionSetup,
)
from keras_bigs.training.distribution.layout_map import bigs_layout_map
from keras_bigs.training.distribution.tpu_connection import TPUNotFoundError


def setup_jax(strategy, tpu, model_parallel, devices):
    """`setup_distribution` on the JAX backend: resolves `"auto"` and
    `"tpu"`, sets the global `keras.distribution` and returns its
    `DistributionSetup`."""
    distribution_lib = keras.distribution
    if strategy == "tpu":
        try:
            tpu_devices = distribution_lib.list_devices("tpu")
        except RuntimeError:
            tpu_devices = []
        if not tpu_devices:
            raise TPUNotFoundError(
                "No TPU found: JAX sees no TPU devices (on the jax backend "
                "TPUs are found by JAX itself, not by name; `tpu=` is "
                "ignored). Run on a TPU VM with jax[tpu] installed."
            )
        devices = devices or tpu_devices
        strategy = "auto"
    devices = list(devices or distribution_lib.list_devices())
    if strategy == "auto":
        if model_parallel > 1:
            strategy = "model_parallel"
        elif len(devices) > 1:
            strategy = "data_parallel"
        else:
            strategy = "default"
    if strategy == "default":
        distribution_lib.set_distribution(None)
        return DistributionSetup("default", 1)
    if strategy == "data_parallel":
        if model_parallel != 1:
            raise ValueError(
                "`data_parallel` replicates the model; received "
                f"model_parallel={model_parallel}. Use `model_parallel`."
            )
        # Inputs are sharded per process by `distribute_dataset`, so Keras
        # must not shard them again.
        distribution = distribution_lib.DataParallel(
            devices=devices, auto_shard_dataset=False
        )
        num_replicas = len(devices)
    else:
        if model_parallel < 1 or len(devices) % model_parallel:
            raise ValueError(
                f"model_parallel={model_parallel} must divide the number "
                f"of devices ({len(devices)})."
            )
        mesh = distribution_lib.DeviceMesh(
            shape=(len(devices) // model_parallel, model_parallel),
            axis_names=("batch", "model"),
            devices=devices,
        )
        distribution = distribution_lib.ModelParallel(
            layout_map=bigs_layout_map(mesh),
            batch_dim_name="batch",
            auto_shard_dataset=False,
        )
        num_replicas = mesh.shape[0]
    distribution_lib.set_distribution(distribution)
    return DistributionSetup(strategy, num_replicas, distribution=distribution)
