"""How much a model's outputs move with the padded length: none for a
`padding_invariant` BiGS, much for the faithful one on weights where the
backward SSM matters."""

import keras
import numpy as np

from keras_bigs.convert.reference_outputs import relative_error


def padded_inputs(token_rows, length, segment_rows=None):
    """Token inputs of `token_rows` (lists of ids) right-padded to `length`,
    with `segment_rows` (default all 0)."""
    token_ids = np.zeros((len(token_rows), length), "int32")
    segment_ids = np.zeros_like(token_ids)
    padding_mask = np.zeros_like(token_ids)
    for i, row in enumerate(token_rows):
        token_ids[i, : len(row)] = row
        padding_mask[i, : len(row)] = 1
        if segment_rows is not None:
            segment_ids[i, : len(row)] = segment_rows[i]
    return {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
    }


def _outputs(backbone, inputs):
    return {
        name: keras.ops.convert_to_numpy(value)
        for name, value in backbone(inputs).items()
    }


def padding_change(backbone, token_rows, lengths, segment_rows=None):
    """`{length: change}`: the largest relative change (`relative_error`)
    of the `sequence_output` at real tokens and of the `pooled_output`
    when the rows, batched together, are padded to `length`, against each
    row alone at its exact length. Rows longer than a length are left out
    there.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.analysis import padding_change

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=100, num_layers=1, hidden_dim=8,
        intermediate_dim=16, state_dim=4, max_sequence_length=64,
        padding_invariant=True)
    changes = padding_change(backbone, [[5, 6, 7], [8, 9]], (16, 64))
    max(changes.values()) < 1e-5  # True
    ```
    """
    segments = segment_rows or [[0] * len(row) for row in token_rows]
    exact = [
        _outputs(backbone, padded_inputs([row], len(row), [segment]))
        for row, segment in zip(token_rows, segments)
    ]
    changes = {}
    for length in lengths:
        kept = [i for i, row in enumerate(token_rows) if len(row) <= length]
        got = _outputs(
            backbone,
            padded_inputs(
                [token_rows[i] for i in kept],
                length,
                [segments[i] for i in kept],
            ),
        )
        changes[length] = max(
            max(
                relative_error(
                    got["sequence_output"][j, : len(token_rows[i])],
                    exact[i]["sequence_output"][0],
                ),
                relative_error(
                    got["pooled_output"][j], exact[i]["pooled_output"][0]
                ),
            )
            for j, i in enumerate(kept)
        )
    return changes
