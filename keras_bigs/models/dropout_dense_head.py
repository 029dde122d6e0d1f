"""The dropout -> dense head of the original BiGS classification tasks."""

import keras

from keras_bigs.models.bigs_backbone import bigs_kernel_initializer


def dropout_dense_head(units, dropout, dtype, name, activation=None):
    """The layers of an original BiGS head: `Dropout` then `Dense`.

    As `BiGSForSequenceClassification`, `BiGSForTokenClassification` and
    `BiGSForMultipleChoice`: dropout at rate `dropout`, then a dense layer
    initialised as the original (`bigs_kernel_initializer`). The dropout
    layer is named `classifier_dropout`; the dense layer `name`, which the
    task's saved weights are stored under.

    Args:
        units: int. Outputs of the dense layer.
        dropout: float. Dropout rate before it.
        dtype: the head's dtype policy (`QuantizedHeads._head_dtype_policy`).
        name: str. The dense layer's name.
        activation: activation of the dense layer (`None`: logits).

    Returns:
        `(dropout_layer, dense_layer)`.

    Example:
    ```python
    import numpy as np
    from keras_bigs.models.dropout_dense_head import dropout_dense_head

    dropout, dense = dropout_dense_head(3, 0.1, "float32", name="logits")
    dense(dropout(np.ones((2, 16)))).shape  # (2, 3)
    dropout.name, dense.name  # ('classifier_dropout', 'logits')
    ```
    """
    return (
        keras.layers.Dropout(dropout, dtype=dtype, name="classifier_dropout"),
        keras.layers.Dense(
            units,
            kernel_initializer=bigs_kernel_initializer(),
            activation=activation,
            dtype=dtype,
            name=name,
        ),
    )
