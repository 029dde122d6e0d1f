"""Length buckets: a batch is padded to the smallest of a few fixed lengths
that holds its longest row, not to the model's maximum.

A padding-invariant BiGS gives the same outputs at real tokens for any
padded length, so a batch of short texts can run at a short length. Padding
to a small fixed set of lengths (rather than to each batch's own longest
row) keeps the number of distinct input shapes, and so of compiled
programs, to the number of buckets.
"""

import tensorflow as tf

# The inputs whose last axis is the sequence; other inputs (a masked LM's
# `mask_positions`) keep their shape.
SEQUENCE_INPUTS = ("token_ids", "segment_ids", "padding_mask")
SMALLEST_BUCKET = 16


def default_buckets(max_length, smallest=SMALLEST_BUCKET):
    """Powers of two from `smallest` up to `max_length`, and `max_length`.

    Example:
    ```python
    from keras_bigs.data import default_buckets

    default_buckets(512)  # (16, 32, 64, 128, 256, 512)
    default_buckets(100)  # (16, 32, 64, 100)
    ```
    """
    buckets = []
    length = smallest
    while length < max_length:
        buckets.append(length)
        length *= 2
    return tuple(buckets) + (max_length,)


def check_buckets(buckets, max_length):
    """`buckets` as a tuple of increasing ints ending at `max_length`.

    The maximum is appended when the list stops short of it (a longer row
    needs somewhere to go). Lengths that are not positive integers, are
    not increasing or exceed `max_length` are a `ValueError` naming them.

    Example:
    ```python
    from keras_bigs.data import check_buckets

    check_buckets([16, 64], 128)  # (16, 64, 128)
    ```
    """
    buckets = tuple(buckets)
    if not buckets:
        raise ValueError("The bucket list is empty; pass at least one length.")
    for length in buckets:
        if isinstance(length, bool) or not hasattr(length, "__index__"):
            raise ValueError(
                f"Bucket lengths must be integers; got {length!r} in "
                f"{list(buckets)}."
            )
        if length < 1:
            raise ValueError(
                f"Bucket lengths must be positive; got {length} in "
                f"{list(buckets)}."
            )
    buckets = tuple(int(length) for length in buckets)
    for shorter, longer in zip(buckets, buckets[1:]):
        if longer <= shorter:
            raise ValueError(
                f"Bucket lengths must be strictly increasing; {longer} "
                f"follows {shorter} in {list(buckets)}."
            )
    if buckets[-1] > max_length:
        raise ValueError(
            f"Bucket length {buckets[-1]} exceeds the maximum sequence "
            f"length {max_length} (buckets {list(buckets)})."
        )
    if buckets[-1] < max_length:
        buckets += (max_length,)
    return buckets


def real_lengths(padding_mask):
    """`(...)` lengths of `(..., L)` rows: one past the last real token,
    so that trimming to it never cuts a real token, whatever the mask."""
    mask = tf.cast(tf.cast(padding_mask, tf.bool), tf.int32)
    positions = tf.range(1, tf.shape(mask)[-1] + 1, dtype=tf.int32)
    return tf.reduce_max(mask * positions, axis=-1)


def bucket_index(length, buckets):
    """Index of the smallest bucket `>= length` (the last for longer)."""
    index = tf.searchsorted(
        tf.constant(buckets, tf.int32),
        tf.reshape(tf.cast(length, tf.int32), [-1]),
        side="left",
    )
    index = tf.minimum(index, len(buckets) - 1)
    return tf.reshape(index, tf.shape(length))


def batch_bucket_index(padding_mask, buckets):
    """Index of the bucket of a batch's longest row (0 for an empty batch,
    which has none)."""
    longest = tf.reduce_max(real_lengths(padding_mask))
    return bucket_index(tf.maximum(longest, 0), buckets)


def fit_to_length(values, length):
    """`(..., L)` values zero-padded or cut to `(..., length)`."""
    missing = tf.maximum(length - tf.shape(values)[-1], 0)
    paddings = tf.concat(
        [tf.zeros([tf.rank(values) - 1, 2], tf.int32), [[0, missing]]], axis=0
    )
    return tf.pad(values, paddings)[..., :length]


def pad_to_bucket(inputs, buckets):
    """A batch of model inputs padded (or cut) to the bucket of its longest
    row: the `SEQUENCE_INPUTS` of `inputs` change length, other keys stay.

    Only padding columns are cut (see `real_lengths`). Works on one example
    or a batch, with static or dynamic shapes; the result's length is
    dynamic.

    Example:
    ```python
    import tensorflow as tf
    from keras_bigs.data import pad_to_bucket

    mask = tf.constant([[1, 1, 1, 0, 0, 0, 0, 0], [1] * 5 + [0] * 3])
    inputs = {"token_ids": mask * 7, "segment_ids": 0 * mask,
              "padding_mask": mask}
    pad_to_bucket(inputs, (2, 6, 8))["token_ids"].shape  # (2, 6)
    ```
    """
    index = batch_bucket_index(inputs["padding_mask"], buckets)
    length = tf.gather(tf.constant(buckets, tf.int32), index)
    return {
        key: fit_to_length(value, length) if key in SEQUENCE_INPUTS else value
        for key, value in inputs.items()
    }


def bucket_batches(dataset, batch_size, buckets, drop_remainder=False):
    """Batch preprocessed examples so that each batch holds rows of one
    bucket, padded to that bucket's length.

    Rows are grouped by the bucket of their real length
    (`tf.data.Dataset.group_by_window`): a batch is emitted when a bucket
    has `batch_size` rows, and the partial batches are emitted at the end.
    The result is deterministic for a given input order (shuffle before,
    with a seed, for training); every example appears exactly once.

    Args:
        dataset: unbatched `(x, ...)` or `x` elements, `x` a dict with the
            `SEQUENCE_INPUTS` (of any length; rows are padded or cut), of
            one row or several (`(choices, length)`, bucketed by the
            longest).
        batch_size: int.
        buckets: increasing lengths (see `check_buckets`).
        drop_remainder: bool. Drop each bucket's last partial batch, so
            that every batch has `batch_size` rows.

    Returns:
        A `tf.data.Dataset` of batches whose sequence inputs have shape
        `(batch, bucket)` for one of `buckets`.

    Example:
    ```python
    import tensorflow as tf
    from keras_bigs.data import bucket_batches

    rows = tf.data.Dataset.range(1, 41).map(
        lambda n: {"token_ids": tf.ones([n], tf.int32),
                   "segment_ids": tf.zeros([n], tf.int32),
                   "padding_mask": tf.ones([n], tf.bool)})
    batches = bucket_batches(rows, 8, (16, 32, 40))
    [b["token_ids"].shape[1] for b in batches]  # [16, 16, 32, 32, 40]
    ```
    """
    buckets = tuple(buckets)

    def inputs_of(element):
        return element[0] if isinstance(element, tuple) else element

    def key(*element):
        # An example with several rows (a multiple-choice example's
        # choices) goes by its longest.
        mask = inputs_of(element)["padding_mask"]
        return tf.cast(batch_bucket_index(mask, buckets), tf.int64)

    def batch(_, window):
        return window.padded_batch(batch_size, drop_remainder=drop_remainder)

    def pad(*element):
        x = pad_to_bucket(inputs_of(element), buckets)
        return (x,) + element[1:] if len(element) > 1 else x

    return dataset.group_by_window(
        key_func=key, reduce_func=batch, window_size=batch_size
    ).map(pad, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
