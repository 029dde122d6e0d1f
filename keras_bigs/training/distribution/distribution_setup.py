"""What a distribution set-up hands back: the scope to build the model in
and the input pipelines to feed it."""

import contextlib

import keras
import tensorflow as tf


class DistributionSetup:
    """What `setup_distribution` set up.

    Attributes:
        kind: str. The strategy in effect (`"default"`, `"mirrored"`,
            `"multi_worker"`, `"tpu"`, `"data_parallel"`,
            `"model_parallel"`).
        num_replicas: int. Number of data-parallel model replicas (the
            global batch is split this many ways).
        strategy: the `tf.distribute.Strategy` (TensorFlow) or `None`.
        distribution: the `keras.distribution.Distribution` (JAX) or
            `None`.
    """

    def __init__(self, kind, num_replicas, strategy=None, distribution=None):
        self.kind = kind
        self.num_replicas = num_replicas
        self.strategy = strategy
        self.distribution = distribution

    def scope(self):
        """Context to build and compile the model in: the TF strategy's
        scope; on JAX and torch a null context (the Keras distribution is
        already set globally)."""
        if self.strategy is not None:
            return self.strategy.scope()
        return contextlib.nullcontext()

    def _input_context(self):
        if keras.backend.backend() == "jax":
            # Imported here: only the jax backend runs this, and other
            # backends need not load jax.
            import jax

            # Each process feeds its own share of the global batch, and
            # Keras assembles the global batch from the processes: one
            # input pipeline, and one "replica" to size batches for, per
            # process.
            processes = jax.process_count()
            return tf.distribute.InputContext(
                num_input_pipelines=processes,
                input_pipeline_id=jax.process_index(),
                num_replicas_in_sync=processes,
            )
        # One pipeline of global batches; Keras splits them over the
        # replicas of a one-host strategy.
        return tf.distribute.InputContext()

    def distribute_dataset(self, dataset_fn):
        """Build the input pipeline(s) the strategy wants.

        `dataset_fn(input_context)` returns a `tf.data.Dataset` batched at
        `input_context.get_per_replica_batch_size(global_batch_size)`,
        that input pipeline's share (`input_context.num_input_pipelines`,
        `input_context.input_pipeline_id`); `training_dataset_fn` makes
        one that keeps each pipeline's rows of the same global batches.
        Written so, it is right for every strategy: on one host it is
        called once with a one-pipeline context (global batches, which
        Keras splits over the replicas); on multi-host JAX once per process
        (that process's share); under `"multi_worker"` by
        `strategy.distribute_datasets_from_function`, once per worker with
        per-replica batches.

        Args:
            dataset_fn: callable `tf.distribute.InputContext` -> dataset.

        Returns:
            What to pass to `model.fit` / `evaluate`: a `tf.data.Dataset`,
            or under `"multi_worker"` a distributed dataset, which
            `keras.Model.fit` takes but keras-hub tasks' `fit` does not (it
            maps the preprocessor over a `tf.data.Dataset`): fit
            `keras.Model(task.input, task.output)`, built under the scope,
            instead.

        Example:
        ```python
        import numpy as np
        import tensorflow as tf
        from keras_bigs.training import setup_distribution

        setup = setup_distribution("default")

        def dataset_fn(input_context):
            batch = input_context.get_per_replica_batch_size(32)
            dataset = tf.data.Dataset.from_tensor_slices(np.arange(256))
            dataset = dataset.shard(input_context.num_input_pipelines,
                                    input_context.input_pipeline_id)
            return dataset.batch(batch, drop_remainder=True)

        train = setup.distribute_dataset(dataset_fn)  # batches of 32
        ```
        """
        if self.kind == "multi_worker":
            return self.strategy.distribute_datasets_from_function(dataset_fn)
        return dataset_fn(self._input_context())

    def __repr__(self):
        return (
            f"<DistributionSetup kind={self.kind!r} "
            f"num_replicas={self.num_replicas}>"
        )
