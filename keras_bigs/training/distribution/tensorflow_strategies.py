"""The TensorFlow strategies: default, mirrored, multi-worker, TPU."""

import json
import os

import tensorflow as tf

from keras_bigs.training.distribution.distribution_setup import (
    DistributionSetup,
)
from keras_bigs.training.distribution.tpu_connection import connect_tpu


def _tf_config_num_workers():
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get(
            "cluster", {}
        )
    except ValueError:
        return 0
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def _check_one_worker():
    """Refuse a cluster of several workers, which Keras 3's `fit` cannot
    train: its TensorFlow trainer reduces the first per-replica batch with
    `strategy.reduce`, which `MultiWorkerMirroredStrategy` over several
    workers cannot convert (keras-team/keras#20585, #20329)."""
    workers = _tf_config_num_workers()
    if workers > 1:
        raise ValueError(
            f"TF_CONFIG names {workers} workers, and Keras 3's fit cannot "
            "train under MultiWorkerMirroredStrategy with several workers "
            "(its TensorFlow trainer fails to reduce the first per-replica "
            "batch: keras-team/keras#20585). Train on several hosts with "
            "KERAS_BACKEND=jax and --coordinator-address, --num-processes, "
            "--process-id (docs/distribution.md); on tensorflow, one "
            "host's devices (--strategy mirrored) or a TPU (--strategy tpu)."
        )


def setup_tensorflow(strategy, tpu, model_parallel, devices):
    """`setup_distribution` on the TensorFlow backend: resolves `"auto"`
    and returns the `tf.distribute` strategy's `DistributionSetup`."""
    if model_parallel != 1:
        raise ValueError(
            "Model parallelism is available on the jax backend only "
            f"(received model_parallel={model_parallel}); use "
            "KERAS_BACKEND=jax."
        )
    if strategy == "auto":
        if tpu or os.environ.get("TPU_NAME"):
            strategy = "tpu"
        elif _tf_config_num_workers() > 1:
            strategy = "multi_worker"
        elif devices or len(tf.config.list_logical_devices("GPU")) > 1:
            strategy = "mirrored"
        else:
            strategy = "default"
    if strategy == "tpu":
        tf_strategy = connect_tpu(tpu)
    elif strategy == "multi_worker":
        _check_one_worker()
        tf_strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif strategy == "mirrored":
        if devices is None and not tf.config.list_logical_devices("GPU"):
            # MirroredStrategy() alone takes one CPU even when the CPU is
            # split into several logical devices.
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        tf_strategy = tf.distribute.MirroredStrategy(devices=devices)
    else:
        tf_strategy = tf.distribute.get_strategy()
    return DistributionSetup(
        strategy, tf_strategy.num_replicas_in_sync, strategy=tf_strategy
    )
