"""One SGD step of a tiny BiGSClassifier on 1 device, DataParallel over 8
and ModelParallel on a (2, 4) mesh; prints the results as one JSON line.

Run by `test_distribution.py` in a fresh process, because the number of
(virtual CPU) devices is fixed when JAX starts:

    KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=8 \
        python tests/training/distributed_jax_step.py

(the test adds XLA flags that only make compiling faster).
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import socket  # noqa: E402

from keras_bigs.training import initialize_multi_host  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


# A one-process "cluster" on localhost: the real multi-host start-up
# (`jax.distributed.initialize` via Keras), which must come before JAX
# computes anything.
MULTI_HOST = initialize_multi_host(
    job_addresses=f"localhost:{free_port()}", num_processes=1, process_id=0
)

import jax  # noqa: E402
import numpy as np  # noqa: E402
from distributed_common import initial_weights  # noqa: E402
from distributed_common import tiny_batch  # noqa: E402
from distributed_common import tiny_classifier  # noqa: E402
from distributed_common import train_one_step  # noqa: E402

from keras_bigs.training import setup_distribution  # noqa: E402


def main():
    x, y = tiny_batch()
    results = {
        "devices": jax.device_count(),
        "multi_host": MULTI_HOST,
        "process_count": jax.process_count(),
    }
    weights = None
    for name, kwargs in (
        ("single", dict(strategy="default")),
        ("data_parallel", dict(strategy="data_parallel")),
        ("model_parallel", dict(strategy="model_parallel", model_parallel=4)),
    ):
        setup = setup_distribution(**kwargs)
        with setup.scope():
            classifier = tiny_classifier(weights)
        if weights is None:
            weights = initial_weights(classifier)
        loss, updated = train_one_step(classifier, x, y)
        kernel = classifier.backbone.bigs_layers[0].dv.kernel
        results[name] = {
            "kind": setup.kind,
            "num_replicas": setup.num_replicas,
            "loss": loss,
            # How the dense kernel of the gate is laid out on the devices.
            "dv_kernel_sharding": str(
                getattr(kernel.value.sharding, "spec", None)
            ),
            "dv_kernel_devices": len(kernel.value.sharding.device_set),
            "weights": [w.tolist() for w in updated],
        }
        # The per-process input context `distribute_dataset` hands out.
        context = {}

        def dataset_fn(input_context):
            import tensorflow as tf

            context["pipelines"] = input_context.num_input_pipelines
            context["batch"] = input_context.get_per_replica_batch_size(8)
            return tf.data.Dataset.from_tensor_slices((x, y)).batch(
                context["batch"]
            )

        dataset = setup.distribute_dataset(dataset_fn)
        results[name]["input_context"] = context
        results[name]["first_batch"] = int(
            next(iter(dataset))[0]["token_ids"].shape[0]
        )
    results["initial_weights"] = [np.asarray(w).tolist() for w in weights]
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
