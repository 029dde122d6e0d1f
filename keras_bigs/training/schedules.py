"""Learning-rate schedule of BiGS pretraining and fine-tuning: warmup, decay."""

import keras
from keras import ops

DECAYS = ("cosine", "linear", "constant")


@keras.saving.register_keras_serializable(package="keras_bigs")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to a peak, then cosine or linear decay.

    For `step < warmup_steps` the rate is `peak_learning_rate * step /
    warmup_steps`; from `warmup_steps` to `total_steps` it decays to
    `end_learning_rate` along a half cosine (`"cosine"`, the BiGS
    pretraining schedule) or a straight line (`"linear"`, BERT's
    fine-tuning schedule), or stays at the peak (`"constant"`). After
    `total_steps` it stays at `end_learning_rate` (at the peak for
    `"constant"`).

    The rate at step 0 is 0 (as in BERT and optax's warmup schedules): the
    optimizer's first update is zero-sized unless `warmup_steps=0`. The
    decay phase is Keras's own `CosineDecay` / `PolynomialDecay(power=1)`,
    evaluated at `step - warmup_steps`.

    Args:
        peak_learning_rate: float. Rate reached at the end of the warmup.
        warmup_steps: int. Number of warmup steps (0: no warmup).
        total_steps: int. Step at which the decay ends; must exceed
            `warmup_steps` for a decaying schedule. Unused by `"constant"`.
        decay: `"cosine"`, `"linear"` or `"constant"`.
        end_learning_rate: float. Rate at and after `total_steps`.
        name: str. Name of the schedule.

    Example:
    ```python
    import keras
    from keras_bigs.training import WarmupDecay

    schedule = WarmupDecay(1e-4, warmup_steps=10, total_steps=110)
    float(schedule(5)), float(schedule(10)), float(schedule(60))
    # ≈ (5e-05, 1e-04, 5e-05)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule)
    ```
    """

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps,
        total_steps=None,
        decay="cosine",
        end_learning_rate=0.0,
        name="WarmupDecay",
    ):
        super().__init__()
        if decay not in DECAYS:
            raise ValueError(
                f"Unknown `decay={decay!r}`; expected one of {DECAYS}."
            )
        if warmup_steps < 0:
            raise ValueError(
                f"`warmup_steps` must be >= 0; received {warmup_steps}."
            )
        if decay != "constant" and (
            total_steps is None or total_steps <= warmup_steps
        ):
            raise ValueError(
                f"A {decay!r} decay needs `total_steps` > `warmup_steps`; "
                f"received total_steps={total_steps}, "
                f"warmup_steps={warmup_steps}."
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = None if total_steps is None else int(total_steps)
        self.decay = decay
        self.end_learning_rate = float(end_learning_rate)
        self.name = name

        decay_steps = (
            None
            if self.total_steps is None
            else self.total_steps - self.warmup_steps
        )
        if decay == "cosine":
            # CosineDecay ends at `alpha * initial`; alpha is a fraction.
            alpha = (
                self.end_learning_rate / self.peak_learning_rate
                if self.peak_learning_rate
                else 0.0
            )
            self._decay_schedule = keras.optimizers.schedules.CosineDecay(
                self.peak_learning_rate, decay_steps, alpha=alpha
            )
        elif decay == "linear":
            self._decay_schedule = keras.optimizers.schedules.PolynomialDecay(
                self.peak_learning_rate,
                decay_steps,
                end_learning_rate=self.end_learning_rate,
                power=1.0,
            )
        else:
            self._decay_schedule = None

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak = ops.cast(self.peak_learning_rate, "float32")
        if self.warmup_steps > 0:
            warmup = peak * step / float(self.warmup_steps)
        else:
            warmup = peak
        if self._decay_schedule is None:
            decayed = peak
        else:
            # Both Keras schedules clip the step at `decay_steps`, which
            # holds the end rate after `total_steps`.
            decayed = self._decay_schedule(
                ops.maximum(step - float(self.warmup_steps), 0.0)
            )
        return ops.where(step < float(self.warmup_steps), warmup, decayed)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "decay": self.decay,
            "end_learning_rate": self.end_learning_rate,
            "name": self.name,
        }
