"""A held-out part of a corpus: every n-th element, the same on every run."""

import tensorflow as tf


def hold_out_every(dataset, every):
    """Split `dataset` into a training part and a held-out part that share
    no element: element `i` is held out when `i % every == 0`.

    The split depends only on the order of the elements, so it is the same
    on every run and every host (split before sharding or shuffling).
    Splitting documents, not packed examples, keeps every sentence of a
    held-out document out of training.

    Args:
        dataset: a `tf.data.Dataset` (documents, or examples).
        every: int, at least 2. One element in `every` is held out.

    Returns:
        `(training, held_out)`: two `tf.data.Dataset`s.

    Example:
    ```python
    import tensorflow as tf
    from keras_bigs.data import hold_out_every

    training, held_out = hold_out_every(tf.data.Dataset.range(10), 5)
    list(held_out.as_numpy_iterator())  # [0, 5]
    ```
    """
    if not isinstance(every, int) or every < 2:
        raise ValueError(
            f"every must be an int of at least 2 (one element in `every` is "
            f"held out), not {every!r}."
        )
    numbered = dataset.enumerate()

    def part(held_out):
        def keep(index, element):
            return tf.equal(index % every, 0) == held_out

        return numbered.filter(keep).map(lambda index, element: element)

    return part(False), part(True)
