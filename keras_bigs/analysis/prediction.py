"""Run a task model on token dicts, bypassing its attached preprocessor."""

import contextlib


@contextlib.contextmanager
def preprocessor_detached(task):
    """Within the block, `task.predict` takes token dicts as they are.

    keras-hub tasks run their preprocessor inside `predict`; the analyses
    feed inputs they packed themselves (the masked-LM preprocessor would
    mask tokens at random). The preprocessor is restored afterwards.

    Example:
    ```python
    import numpy as np
    import keras_bigs
    from keras_bigs.analysis.prediction import preprocessor_detached

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=8)
    masked_lm = keras_bigs.BiGSMaskedLM(
        backbone, preprocessor=keras_bigs.BiGSMaskedLMPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=8))
    tokens = {  # [CLS] the [MASK] [SEP], padded
        "token_ids": np.array([[101, 1996, 103, 102, 0, 0, 0, 0]]),
        "segment_ids": np.zeros((1, 8), "int32"),
        "padding_mask": np.array([[1, 1, 1, 1, 0, 0, 0, 0]]),
        "mask_positions": np.array([[2]]),
    }
    with preprocessor_detached(masked_lm):
        logits = masked_lm.predict(tokens, verbose=0)
    logits.shape  # (1, 1, 30522)
    ```
    """
    saved = task.preprocessor
    task.preprocessor = None
    try:
        yield task
    finally:
        task.preprocessor = saved
