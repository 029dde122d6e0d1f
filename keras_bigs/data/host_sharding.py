"""Each host's part of the input of a multi-host job."""

import numpy as np
import tensorflow as tf

from keras_bigs.data.files import expand_paths


def shard_for_host(dataset_or_files, num_hosts, host_index, make_dataset=None):
    """This host's part of the input of a multi-host job.

    Each example goes to exactly one host. Given files, each host reads
    its own files (`files[host_index::num_hosts]`) when there are at least
    as many files as hosts; with fewer files every host reads them all and
    keeps every `num_hosts`-th example (`dataset.shard`), which needs
    `make_dataset` to give the same order on every host (seed any shuffle,
    or shuffle after sharding). Given a dataset, it is `dataset.shard`.

    Args:
        dataset_or_files: a `tf.data.Dataset`, or a file, glob pattern or
            list of them (glob matches are sorted, so every host sees the
            same list).
        num_hosts: int. The number of hosts (input pipelines).
        host_index: int. This host, in `[0, num_hosts)`.
        make_dataset: callable, files (a list of str) -> `tf.data.Dataset`.
            Required with files.

    Returns:
        A `tf.data.Dataset`.

    Example:
    ```python
    import jax
    from keras_bigs.data import hdf5_shard_dataset
    from keras_bigs.data import shard_for_host

    train = shard_for_host(
        "shards/train*.hdf5", jax.process_count(), jax.process_index(),
        lambda files: hdf5_shard_dataset(files, sequence_length=128))
    ```
    """
    if not (isinstance(num_hosts, (int, np.integer)) and num_hosts >= 1):
        raise ValueError(
            f"num_hosts must be a positive int, not {num_hosts!r}."
        )
    if not 0 <= host_index < num_hosts:
        raise ValueError(
            f"host_index must be in [0, {num_hosts}), not {host_index!r}."
        )
    if isinstance(dataset_or_files, tf.data.Dataset):
        return dataset_or_files.shard(num_hosts, host_index)
    if make_dataset is None:
        raise ValueError(
            "shard_for_host needs make_dataset (files -> tf.data.Dataset) "
            "when given files."
        )
    files = expand_paths(dataset_or_files)
    if len(files) >= num_hosts:
        return make_dataset(files[host_index::num_hosts])
    return make_dataset(files).shard(num_hosts, host_index)
