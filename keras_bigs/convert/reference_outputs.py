"""The outputs the original code wrote beside its checkpoints
(`reference_outputs.npz`), and how far a port is from them."""

import numpy as np


def reference_batches(reference):
    """`(prefix, inputs)` for each input batch of a reference npz: `x`
    (full length) and, where present, `short`."""
    for prefix in ("x", "short"):
        if f"{prefix}_token_ids" in reference:
            yield (
                prefix,
                {
                    "token_ids": reference[f"{prefix}_token_ids"],
                    "segment_ids": reference[f"{prefix}_segment_ids"],
                    "padding_mask": reference[f"{prefix}_padding_mask"],
                },
            )


def relative_error(got, expected):
    """`max |got - expected| / max |expected|`: the parity measure.

    Example:
    ```python
    from keras_bigs.convert.reference_outputs import relative_error

    relative_error([1.0, 2.5], [1.0, 2.0])  # 0.25
    ```
    """
    got, expected = np.asarray(got), np.asarray(expected)
    return float(np.abs(got - expected).max() / np.abs(expected).max())
