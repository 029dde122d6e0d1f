"""Initializers that layers hand on to their sublayers."""

import keras


def clone_initializer(initializer):
    """A new initializer with the config of `initializer`.

    A Keras random initializer draws its seed when it is created and gives
    the same values on every call: one object handed to several sublayers
    would give every kernel of the same shape the same values. Each sublayer
    gets its own copy instead, as in keras-hub's layers; an initializer
    given an explicit seed keeps it.

    Example:
    ```python
    import keras
    from keras_bigs.layers.initializers import clone_initializer

    shared = keras.initializers.TruncatedNormal(stddev=0.02)
    a = clone_initializer(shared)((4, 4))
    b = clone_initializer(shared)((4, 4))
    bool(keras.ops.all(a == b))  # False
    ```
    """
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())
