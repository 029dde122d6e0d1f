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
    with preprocessor_detached(masked_lm):
        logits = masked_lm.predict(token_dict, verbose=0)
    ```
    """
    saved = task.preprocessor
    task.preprocessor = None
    try:
        yield task
    finally:
        task.preprocessor = saved
