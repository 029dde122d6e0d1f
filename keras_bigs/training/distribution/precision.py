"""Mixed precision: the global Keras dtype policy BiGS is built under."""

import keras

MIXED_PRECISION_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


def set_mixed_precision(policy):
    """Set the global Keras dtype policy for models built afterwards.

    Under `"mixed_bfloat16"` (TPUs, recent GPUs) or `"mixed_float16"`
    (GPUs; `compile()` then adds loss scaling) the dense layers and
    embeddings compute in 16 bits with float32 weights, while the S4D
    kernel and FFT convolution of BiGS stay float32 (`S4DConv`).

    Args:
        policy: `None` or `"float32"` (full precision), `"mixed_bfloat16"`
            or `"mixed_float16"`.

    Returns:
        The `keras.DTypePolicy` now in effect.

    Example:
    ```python
    from keras_bigs.training import set_mixed_precision

    set_mixed_precision("mixed_bfloat16")
    # ... build and train ...
    set_mixed_precision(None)  # back to float32
    ```
    """
    name = "float32" if policy is None else policy
    if name not in MIXED_PRECISION_POLICIES:
        raise ValueError(
            f"Unknown precision policy {policy!r}; expected None or one of "
            f"{MIXED_PRECISION_POLICIES}."
        )
    keras.config.set_dtype_policy(name)
    return keras.config.dtype_policy()
