"""The two ends every training run's input shares: the `dataset_fn` that a
distribution strategy calls per input pipeline (each pipeline's rows of
the global batches), and evaluation batches cached with a known size."""

import tensorflow as tf


def training_dataset_fn(global_batches, batch_size):
    """The training input, for `DistributionSetup.distribute_dataset`.

    Every input pipeline (JAX process, TensorFlow worker) forms the same
    global batches and keeps its rows of them (`pipeline_rows`): a run
    takes the same steps whatever the number of processes, and every
    process's share of a step has the same shape (one length bucket).

    Args:
        global_batches: callable `global_batch_size` -> the endless
            training batches of that size, the same in every pipeline
            (seed every shuffle).
        batch_size: int. The global batch size.

    Returns:
        `dataset_fn(input_context)`: that pipeline's rows of each batch,
        prefetched.

    Example:
    ```python
    import tensorflow as tf
    from keras_bigs.data.training_input import training_dataset_fn

    def global_batches(size):
        return tf.data.Dataset.range(100).repeat().batch(size)

    dataset_fn = training_dataset_fn(global_batches, batch_size=8)
    second = tf.distribute.InputContext(2, 1, num_replicas_in_sync=2)
    next(iter(dataset_fn(second))).numpy().tolist()  # [4, 5, 6, 7]
    ```
    """

    def dataset_fn(input_context):
        per_replica = input_context.get_per_replica_batch_size(batch_size)
        global_size = per_replica * input_context.num_replicas_in_sync
        rows = pipeline_rows(
            global_batches(global_size), input_context, per_replica
        )
        return rows.prefetch(tf.data.AUTOTUNE)

    return dataset_fn


def pipeline_rows(global_batches, input_context, per_replica):
    """This input pipeline's rows of each global batch, in per-replica
    batches.

    Given the same global batches in every pipeline (the same data and
    seeds), pipeline `p` of `n` keeps rows `[p * k, (p + 1) * k)`, `k =`
    global size / `n`: the rows Keras places on its replicas (on JAX,
    process `p`'s devices), so the global step is the one a single
    process takes.

    Args:
        global_batches: a `tf.data.Dataset` of batches of `per_replica *
            input_context.num_replicas_in_sync` rows (tuples or dicts of
            tensors).
        input_context: the `tf.distribute.InputContext`.
        per_replica: int. Rows per replica.

    Returns:
        A `tf.data.Dataset` of batches of `per_replica` rows.

    Example:
    ```python
    import tensorflow as tf
    from keras_bigs.data.training_input import pipeline_rows

    batches = tf.data.Dataset.range(8).batch(4)
    second = tf.distribute.InputContext(2, 1, num_replicas_in_sync=2)
    rows = pipeline_rows(batches, second, per_replica=2)
    [batch.tolist() for batch in rows.as_numpy_iterator()]  # [[2, 3], [6, 7]]
    ```
    """
    pipelines = input_context.num_input_pipelines
    if pipelines == 1:
        return global_batches
    share = per_replica * input_context.num_replicas_in_sync // pipelines
    start = input_context.input_pipeline_id * share

    def rows(*element):
        kept = tf.nest.map_structure(
            lambda tensor: tensor[start : start + share], element
        )
        return kept if len(kept) > 1 else kept[0]

    kept = global_batches.map(rows)
    return kept if share == per_replica else kept.rebatch(per_replica)


def evaluation_dataset(batches, empty_message="No batches to evaluate on."):
    """Evaluation batches read once and cached: the same batches at every
    evaluation, with a known size (which grouped or filtered batches lack
    until counted).

    Args:
        batches: a finite `tf.data.Dataset` of batches.
        empty_message: str. The error when `batches` is empty.

    Returns:
        The cached `tf.data.Dataset`, of known cardinality.

    Raises:
        ValueError: `batches` holds no batch.

    Example:
    ```python
    import tensorflow as tf
    from keras_bigs.data.training_input import evaluation_dataset

    batches = tf.data.Dataset.range(10).filter(lambda x: x < 5).batch(2)
    int(evaluation_dataset(batches).cardinality())  # 3
    ```
    """
    batches = batches.cache()
    count = sum(1 for _ in batches)  # fills the cache
    if count == 0:
        raise ValueError(empty_message)
    return batches.apply(tf.data.experimental.assert_cardinality(count))
