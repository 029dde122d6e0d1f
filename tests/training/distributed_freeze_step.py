"""Two `fit` steps of a tiny BiGSClassifier compiled with
`bigs_optimizer(..., freeze_ssm=True)` under a strategy over 2 CPU devices:
`MirroredStrategy` over 2 logical CPUs on TensorFlow, `DataParallel` over 2
virtual CPUs on JAX (as `KERAS_BACKEND` says). Prints, for every trainable
variable, whether it is bit-identical to its initial value and how far it
moved, as one JSON line.

Run by `test_freeze_ssm.py` in a fresh process, because the device count is
fixed when the backend starts:

    KERAS_BACKEND=tensorflow python tests/training/distributed_freeze_step.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BACKEND = os.environ.setdefault("KERAS_BACKEND", "jax")
if BACKEND == "tensorflow":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
else:
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_force_host_platform_device_count=2"
    )

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from distributed_common import BATCH  # noqa: E402
from distributed_common import compile_for_step  # noqa: E402
from distributed_common import initial_weights  # noqa: E402
from distributed_common import tiny_batch  # noqa: E402
from distributed_common import tiny_classifier  # noqa: E402

from keras_bigs.training import bigs_optimizer  # noqa: E402
from keras_bigs.training import setup_distribution  # noqa: E402

STEPS = 2


def main():
    x, y = tiny_batch()
    strategy = "mirrored" if BACKEND == "tensorflow" else "data_parallel"
    setup = setup_distribution(strategy)
    with setup.scope():
        classifier = tiny_classifier()
        initial_weights(classifier)
        compile_for_step(
            classifier,
            bigs_optimizer(
                0.01,
                total_steps=10,
                warmup_steps=0,
                schedule="constant",
                global_clipnorm=1.0,
                freeze_ssm=True,
            ),
        )
    before = [
        keras.ops.convert_to_numpy(v) for v in classifier.trainable_variables
    ]

    def dataset_fn(input_context):
        batch = input_context.get_per_replica_batch_size(BATCH)
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).repeat()
        dataset = dataset.shard(
            input_context.num_input_pipelines, input_context.input_pipeline_id
        )
        return dataset.batch(batch)

    classifier.fit(
        setup.distribute_dataset(dataset_fn),
        epochs=1,
        steps_per_epoch=STEPS,
        verbose=0,
    )
    after = [
        keras.ops.convert_to_numpy(v) for v in classifier.trainable_variables
    ]
    variables = {
        v.path: {
            "identical": bool(np.array_equal(a, b)),
            "move": float(np.abs(a - b).max()),
        }
        for v, a, b in zip(classifier.trainable_variables, after, before)
    }
    results = {
        "kind": setup.kind,
        "num_replicas": setup.num_replicas,
        "iterations": int(
            keras.ops.convert_to_numpy(classifier.optimizer.iterations)
        ),
        "variables": variables,
    }
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
