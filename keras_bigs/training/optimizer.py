"""The optimizer of BiGS: AdamW with the SSM parameters at a lower rate."""

import keras
from keras import ops

from keras_bigs.keras_hub_internals import OptimizerVariableHooks
from keras_bigs.keras_hub_internals import optimizer_variable_key
from keras_bigs.training.schedules import DECAYS
from keras_bigs.training.schedules import WarmupDecay

# The parameters of the S4D dynamics (`S4DConv`): the diagonal of `A` and
# the step size. S4 and BiGS train these at a reduced learning rate and
# without weight decay, because large steps on them make the kernel
# unstable; `C` and `D` are ordinary weights.
SSM_VARIABLE_NAMES = ("A_re", "A_im", "log_step")
# Every variable of an `S4DConv`, the dynamics and `C` and `D`: what
# `freeze_ssm=True` leaves untouched, as the original's
# `run_glue_freeze.py` (which matches the same names).
FROZEN_SSM_VARIABLE_NAMES = SSM_VARIABLE_NAMES + ("C", "D")
# BERT's exclusions from weight decay: biases and LayerNorm scale/offset.
# Embeddings are decayed, as in BERT.
NO_WEIGHT_DECAY_NAMES = ("bias", "gamma", "beta")


def _matches(name, names):
    # Exact name, or a name ending in `_<name>` (`output_bias` is a bias).
    return any(name == n or name.endswith("_" + n) for n in names)


@keras.saving.register_keras_serializable(package="keras_bigs")
class BiGSAdamW(OptimizerVariableHooks, keras.optimizers.AdamW):
    """AdamW as BiGS is trained: SSM dynamics at a reduced learning rate.

    Differs from `keras.optimizers.AdamW` in three ways, and a fourth on
    request:

    - BERT's Adam constants: `beta_2=0.98`, `epsilon=1e-6`, and
      `weight_decay=0.01`.
    - No weight decay on biases and LayerNorm parameters (variables named
      in `no_weight_decay_names`, or ending in `_<name>`, like
      `output_bias`), nor on the SSM parameters.
    - The SSM parameters (`A_re`, `A_im`, `log_step` of every `S4DConv`,
      see `ssm_variable_names`) are updated with
      `ssm_learning_rate_multiplier` times the learning rate, as in the
      original S4/BiGS training.
    - `freeze_ssm=True` freezes every SSM: `A_re`, `A_im`, `C`, `D` and
      `log_step` of every `S4DConv` (`FROZEN_SSM_VARIABLE_NAMES`) get no
      update at all, as in the original's `run_glue_freeze.py` (optax's
      `set_to_zero`): no Adam step, no weight decay, and their Adam
      moments stay zero, so they are bit-identical after any number of
      steps. Their gradients are dropped before clipping, so
      `global_clipnorm` measures the norm of the trained variables only,
      as if the frozen ones were not trainable (the original's freeze
      mode does not clip). The moments are still allocated, so that a
      checkpoint of the optimizer restores with and without freezing.

    Variables are recognised by `variable.name` once, when the optimizer is
    built; the decisions are kept by variable identity, so they also hold
    on JAX's stateless path and for the per-replica copies of a
    `tf.distribute` variable. `exclude_from_weight_decay()` still works on
    top of these rules.

    On torch the multiplier needs Keras's per-variable update path, so this
    optimizer runs the generic (non-fused) Adam update there.

    Args:
        learning_rate: float or `LearningRateSchedule` (e.g. `WarmupDecay`).
        weight_decay: float. Decoupled weight decay (decayed variables lose
            `learning_rate * weight_decay` of their value per step).
        beta_1, beta_2, epsilon: Adam constants.
        ssm_learning_rate_multiplier: float. Factor on the learning rate of
            the SSM parameters.
        ssm_variable_names: names of the SSM parameters.
        no_weight_decay_names: names of variables not decayed.
        freeze_ssm: bool. Give the SSM parameters no update at all.
        **kwargs: other `keras.optimizers.AdamW` arguments (`clipnorm`,
            `global_clipnorm`, `gradient_accumulation_steps`, ...).

    Example:
    ```python
    import keras_bigs
    from keras_bigs.training import BiGSAdamW, WarmupDecay

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=100, num_layers=1, hidden_dim=8,
        intermediate_dim=16, state_dim=4, max_sequence_length=16)
    classifier = keras_bigs.BiGSClassifier(backbone, num_classes=2)
    classifier.compile(optimizer=BiGSAdamW(
        WarmupDecay(2e-5, warmup_steps=100, total_steps=1000)))
    ```
    """

    def __init__(
        self,
        learning_rate=1e-3,
        weight_decay=0.01,
        beta_1=0.9,
        beta_2=0.98,
        epsilon=1e-6,
        ssm_learning_rate_multiplier=0.1,
        ssm_variable_names=SSM_VARIABLE_NAMES,
        no_weight_decay_names=NO_WEIGHT_DECAY_NAMES,
        freeze_ssm=False,
        name="bigs_adamw",
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            name=name,
            **kwargs,
        )
        self.ssm_learning_rate_multiplier = float(ssm_learning_rate_multiplier)
        self.ssm_variable_names = tuple(ssm_variable_names)
        self.no_weight_decay_names = tuple(no_weight_decay_names)
        self.freeze_ssm = bool(freeze_ssm)
        # Filled by `build`: the optimizer's keys of the variables concerned.
        self._ssm_keys = frozenset()
        self._no_decay_keys = frozenset()
        self._frozen_keys = frozenset()

    def is_ssm_variable(self, variable):
        """Whether `variable` is trained at the reduced SSM learning rate."""
        return variable.name in self.ssm_variable_names

    def is_frozen(self, variable):
        """Whether `variable` gets no update (an SSM parameter under
        `freeze_ssm=True`)."""
        return self.freeze_ssm and variable.name in FROZEN_SSM_VARIABLE_NAMES

    def uses_weight_decay(self, variable):
        """Whether `variable` is decayed by the rules of this optimizer
        (before `exclude_from_weight_decay()`)."""
        return not (
            self.is_ssm_variable(variable)
            or self.is_frozen(variable)
            or _matches(variable.name, self.no_weight_decay_names)
        )

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)

        # Decided once here, by name: inside `update_step` the variable may
        # be a per-replica `tf.Variable` (tf.distribute) whose name differs,
        # but the optimizer's variable key maps it back to the same key.
        def keys(chosen):
            return frozenset(
                optimizer_variable_key(self, v) for v in var_list if chosen(v)
            )

        self._ssm_keys = keys(self.is_ssm_variable)
        self._no_decay_keys = keys(lambda v: not self.uses_weight_decay(v))
        self._frozen_keys = keys(self.is_frozen)

    def skips_update(self, variable):
        """Whether `variable` is frozen (`freeze_ssm`): left out of
        clipping, weight decay and the step."""
        return optimizer_variable_key(self, variable) in self._frozen_keys

    def vetoes_weight_decay(self, variable):
        """Whether `variable` is exempt from weight decay by the rules of
        this optimizer (`uses_weight_decay`, decided in `build`)."""
        return optimizer_variable_key(self, variable) in self._no_decay_keys

    def update_step(self, gradient, variable, learning_rate):
        if optimizer_variable_key(self, variable) in self._ssm_keys:
            learning_rate = ops.multiply(
                ops.cast(learning_rate, variable.dtype),
                ops.cast(self.ssm_learning_rate_multiplier, variable.dtype),
            )
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ssm_learning_rate_multiplier": (
                    self.ssm_learning_rate_multiplier
                ),
                "ssm_variable_names": list(self.ssm_variable_names),
                "no_weight_decay_names": list(self.no_weight_decay_names),
                "freeze_ssm": self.freeze_ssm,
            }
        )
        return config


def bigs_optimizer(
    learning_rate,
    total_steps,
    warmup_steps=None,
    schedule="cosine",
    end_learning_rate=0.0,
    weight_decay=0.01,
    ssm_learning_rate_multiplier=0.1,
    clipnorm=None,
    global_clipnorm=None,
    freeze_ssm=False,
    **kwargs,
):
    """A `BiGSAdamW` with a `WarmupDecay` schedule: the paper's recipe.

    Args:
        learning_rate: float. Peak learning rate.
        total_steps: int. Number of training steps (end of the decay).
        warmup_steps: int. Linear warmup steps; `None` is 10% of
            `total_steps` (BERT's `warmup_proportion=0.1`).
        schedule: `"cosine"` (pretraining), `"linear"` (fine-tuning) or
            `"constant"` (warmup, then the peak rate).
        end_learning_rate: float. Rate at the end of the decay.
        weight_decay: float. Decoupled weight decay.
        ssm_learning_rate_multiplier: float. Factor on the learning rate of
            the SSM parameters.
        clipnorm: float. Clip each gradient to this norm.
        global_clipnorm: float. Clip all gradients to this global norm (BERT
            uses 1.0).
        freeze_ssm: bool. Give every SSM parameter (`A_re`, `A_im`, `C`,
            `D`, `log_step`) no update at all: fine-tuning with frozen
            SSMs, as the original's `run_glue_freeze.py`.
        **kwargs: other `BiGSAdamW` arguments.

    Example:
    ```python
    from keras_bigs.training import bigs_optimizer

    optimizer = bigs_optimizer(2e-5, total_steps=1000, schedule="linear",
                               global_clipnorm=1.0)
    ```
    """
    if schedule not in DECAYS:
        raise ValueError(
            f"Unknown `schedule={schedule!r}`; expected one of {DECAYS}."
        )
    if warmup_steps is None:
        warmup_steps = int(round(0.1 * total_steps))
    return BiGSAdamW(
        learning_rate=WarmupDecay(
            learning_rate,
            warmup_steps=warmup_steps,
            total_steps=total_steps,
            decay=schedule,
            end_learning_rate=end_learning_rate,
        ),
        weight_decay=weight_decay,
        ssm_learning_rate_multiplier=ssm_learning_rate_multiplier,
        clipnorm=clipnorm,
        global_clipnorm=global_clipnorm,
        freeze_ssm=freeze_ssm,
        **kwargs,
    )
