"""One SGD step of a tiny BiGSClassifier on one CPU and under
MirroredStrategy over the CPU split into 2 logical devices (the task's own
`fit` on `distribute_dataset`), then one `fit` step with `BiGSAdamW` fed
through the multi-worker input path (`distribute_datasets_from_function`);
prints the results as one JSON line.

Run by `test_distribution.py` in a fresh process, because logical devices
must be configured before TensorFlow starts:

    KERAS_BACKEND=tensorflow python tests/training/distributed_tf_step.py
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from distributed_common import BATCH  # noqa: E402
from distributed_common import compile_for_step  # noqa: E402
from distributed_common import initial_weights  # noqa: E402
from distributed_common import tiny_batch  # noqa: E402
from distributed_common import tiny_classifier  # noqa: E402
from distributed_common import train_one_step  # noqa: E402

from keras_bigs.training import BiGSAdamW  # noqa: E402
from keras_bigs.training import DistributionSetup  # noqa: E402
from keras_bigs.training import setup_distribution  # noqa: E402


def batched(x, y, contexts):
    def dataset_fn(input_context):
        contexts.append(input_context)
        batch = input_context.get_per_replica_batch_size(BATCH)
        dataset = tf.data.Dataset.from_tensor_slices((x, y))
        dataset = dataset.shard(
            input_context.num_input_pipelines, input_context.input_pipeline_id
        )
        return dataset.batch(batch)

    return dataset_fn


def moves_of(model, weights, variables):
    paths = [v.path for v in model.weights]
    return {
        v.path: float(
            np.abs(
                keras.ops.convert_to_numpy(v) - weights[paths.index(v.path)]
            ).max()
        )
        for v in variables
    }


def main():
    x, y = tiny_batch()
    results = {}

    # One device: `train_on_batch` on the whole batch.
    setup = setup_distribution("default")
    with setup.scope():
        classifier = tiny_classifier()
        weights = initial_weights(classifier)
        loss, updated = train_one_step(classifier, x, y)
    results["default"] = {
        "kind": setup.kind,
        "num_replicas": setup.num_replicas,
        "loss": loss,
        "weights": [w.tolist() for w in updated],
    }

    # Two replicas: the task's own `fit` on `distribute_dataset` (global
    # batches, split by Keras).
    setup = setup_distribution("mirrored")
    contexts = []
    with setup.scope():
        classifier = tiny_classifier(weights)
        compile_for_step(classifier, keras.optimizers.SGD(learning_rate=0.5))
    history = classifier.fit(
        setup.distribute_dataset(batched(x, y, contexts)),
        epochs=1,
        steps_per_epoch=1,
        verbose=0,
    )
    results["mirrored"] = {
        "kind": setup.kind,
        "num_replicas": setup.num_replicas,
        "loss": float(history.history["loss"][0]),
        "input_batch": contexts[0].get_per_replica_batch_size(BATCH),
        "weights": [np.asarray(w).tolist() for w in classifier.get_weights()],
    }

    # The "multi_worker" input path, `distribute_datasets_from_function`,
    # on the local mirrored strategy (a real multi-worker cluster needs
    # several processes), with BiGSAdamW: its per-variable rules must hold
    # for the per-replica tf.Variables `update_step` gets there.
    worker_setup = DistributionSetup(
        "multi_worker", setup.num_replicas, strategy=setup.strategy
    )
    contexts = []
    with worker_setup.scope():
        classifier = tiny_classifier(weights)
        # A functional model over the task's layers: keras-hub tasks' own
        # `fit` takes `tf.data.Dataset`s only.
        model = keras.Model(classifier.input, classifier.output)
        compile_for_step(model, BiGSAdamW(learning_rate=0.01, weight_decay=0.0))
    dataset = worker_setup.distribute_dataset(batched(x, y, contexts))
    history = model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    block = classifier.backbone.bigs_layers[0]
    results["multi_worker_input"] = {
        "loss": float(history.history["loss"][0]),
        "distributed": isinstance(dataset, tf.distribute.DistributedDataset),
        "per_replica_batch": contexts[0].get_per_replica_batch_size(BATCH),
        "max_moves": moves_of(
            model,
            weights,
            (block.fs4.A_re, block.fs4.log_step, block.dv.kernel),
        ),
    }
    results["initial_weights"] = [w.tolist() for w in weights]
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
