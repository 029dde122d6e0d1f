"""How many programs a run compiled: one per input shape a step was traced
for."""

import collections

import keras

STEPS = ("train", "test", "predict")


class TraceCounter:
    """Record every trace of a model's `train_step`, `test_step` and
    `predict_step`, with the shape of the `token_ids` it was traced for.

    Keras compiles each step with `jax.jit` (JAX) or `tf.function`
    (TensorFlow); the step's Python code runs once per trace, and each
    trace is one compiled program (an XLA executable on JAX, a graph on
    TensorFlow, where Keras lets one graph take every batch and sequence
    length). Create the counter after `compile()` and before the first
    `fit`/`evaluate`/`predict`. On PyTorch steps run eagerly and nothing
    is compiled: the counter stays empty.

    Args:
        model: a compiled Keras model whose inputs include `token_ids`.

    Example:
    ```python
    import numpy as np
    import keras_bigs
    from keras_bigs.training import small_backbone
    from keras_bigs.training.compilations import TraceCounter

    tiny = small_backbone(32, vocabulary_size=100, num_layers=1, hidden_dim=8)
    classifier = keras_bigs.BiGSClassifier(tiny, num_classes=2)
    classifier.compile()
    counter = TraceCounter(classifier)
    for length in (16, 32, 16):
        ones = np.ones((4, length), "int32")
        classifier.predict({"token_ids": ones, "segment_ids": 0 * ones,
                            "padding_mask": ones}, verbose=0)
    # JAX compiles one program per length ([16, 32]), TensorFlow relaxes
    # the second trace to any length ([16, None]), PyTorch runs eagerly.
    counter.count("predict") <= 2  # True
    ```
    """

    def __init__(self, model):
        self.traces = collections.defaultdict(list)
        if keras.backend.backend() == "torch":
            return
        for step in STEPS:
            setattr(model, f"{step}_step", self._counted(model, step))

    def _counted(self, model, step):
        original = getattr(model, f"{step}_step")

        def counted(*args):
            data = args[-1]
            x = data[0] if isinstance(data, (tuple, list)) else data
            shape = x["token_ids"].shape if isinstance(x, dict) else None
            self.traces[step].append(None if shape is None else tuple(shape))
            return original(*args)

        return counted

    def count(self, step="train"):
        """Programs compiled for `step` (`"train"`, `"test"` or
        `"predict"`)."""
        return len(self.traces[step])

    def lengths(self, step="train"):
        """The sequence lengths `step` was compiled for, in order (`None`
        for a program that takes any length)."""
        return [shape[-1] if shape else None for shape in self.traces[step]]

    def summary(self):
        """`{step: {"programs": n, "lengths": [...]}}` of the steps that
        ran."""
        return {
            step: {"programs": self.count(step), "lengths": self.lengths(step)}
            for step in STEPS
            if self.traces[step]
        }


def print_programs(programs):
    """Print the programs each step compiled (`TraceCounter.summary()`)."""
    compiled = "; ".join(
        f"{step} {value['programs']} (lengths "
        f"{', '.join(str(n) for n in value['lengths'])})"
        for step, value in programs.items()
    )
    print("Compiled programs: " + (compiled or "none (eager)"))
