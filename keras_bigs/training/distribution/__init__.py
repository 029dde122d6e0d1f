"""Setting up the hardware: distribution strategy, multi-host, precision.

`setup_distribution` picks the strategy for the Keras backend and returns a
`DistributionSetup` to build the model under (`.scope()`) and to feed it
data (`.distribute_dataset`); `initialize_multi_host` joins a multi-host
JAX job; `set_mixed_precision` sets the dtype policy; `bigs_layout_map`
shards BiGS for model parallelism. docs/distribution.md lists the
strategies per backend and how to launch multi-host jobs.

One file per job: `precision.py` (dtype policy), `layout_map.py` (model
parallel sharding), `distribution_setup.py` (what a set-up hands back),
`strategies.py` (the choice per backend), `tensorflow_strategies.py` and
`jax_distributions.py` (each backend's), `tpu_connection.py` (reaching a
Cloud TPU from TensorFlow), `multi_host.py` (joining a multi-host JAX job,
and predicting on this host in one).
"""

from keras_bigs.training.distribution.distribution_setup import (
    DistributionSetup,
)
from keras_bigs.training.distribution.layout_map import bigs_layout_map
from keras_bigs.training.distribution.multi_host import initialize_multi_host
from keras_bigs.training.distribution.precision import MIXED_PRECISION_POLICIES
from keras_bigs.training.distribution.precision import set_mixed_precision
from keras_bigs.training.distribution.strategies import setup_distribution
from keras_bigs.training.distribution.tpu_connection import TPUNotFoundError

__all__ = [
    "DistributionSetup",
    "MIXED_PRECISION_POLICIES",
    "TPUNotFoundError",
    "bigs_layout_map",
    "initialize_multi_host",
    "set_mixed_precision",
    "setup_distribution",
]
