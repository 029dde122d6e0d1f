"""The private Keras and keras-hub names keras_bigs builds on, in one place.

keras-hub keeps its preset loaders and preprocessing helpers under
`keras_hub.src`, and Keras and keras-hub keep some methods and attributes
of their layers, models, optimizers and tokenizers private (a leading
underscore): neither is public API, and both move between releases. Every
such access goes through this module, as an import re-exported here or a
thin wrapper below (tests/test_architecture.py fails on one anywhere else).
pyproject.toml pins keras-hub to the minor release these names were tested
with (`TESTED_KERAS_HUB`) and Keras to the major release: a version that
moved one fails here, at import, with an error naming it.
"""

import keras
import keras_hub

TESTED_KERAS_HUB = "0.32"

try:
    # Assignments inside `untracked()` are not tracked (Keras wraps a list
    # or dict attribute of a layer and checks every element).
    from keras.src.utils.tracking import DotNotTrackScope as untracked
    from keras_hub.src.utils.preset_utils import KerasPresetLoader
    from keras_hub.src.utils.preset_utils import PresetLoader
    from keras_hub.src.utils.preset_utils import builtin_presets
    from keras_hub.src.utils.preset_utils import check_config_class
    from keras_hub.src.utils.preset_utils import check_file_exists
    from keras_hub.src.utils.preset_utils import get_file
    from keras_hub.src.utils.preset_utils import load_json
    from keras_hub.src.utils.preset_utils import register_presets
    from keras_hub.src.utils.tensor_utils import convert_preprocessing_inputs
    from keras_hub.src.utils.tensor_utils import convert_preprocessing_outputs
    from keras_hub.src.utils.tensor_utils import in_tf_function
except ImportError as error:
    raise ImportError(
        f"keras_bigs needs keras-hub {TESTED_KERAS_HUB}.x, whose internal "
        f"modules it builds on; this is keras-hub {keras_hub.__version__} "
        f"({error}). Install it with `pip install "
        f"'keras-hub=={TESTED_KERAS_HUB}.*'`."
    ) from error

# The private methods the wrappers below call, by the class that defines
# them. `_get_jax_state` belongs to the JAX backend's trainer and is checked
# where it is called.
PRIVATE_METHODS = {
    keras.layers.Layer: ("_flatten_layers",),
    keras.optimizers.Optimizer: (
        "_var_key",
        "_use_weight_decay",
        "_backend_apply_gradients",
    ),
    keras_hub.tokenizers.Tokenizer: (
        "_add_special_token",
        "_use_tf_workflow",
    ),
}
_missing = [
    f"{owner.__module__}.{owner.__qualname__}.{name}"
    for owner, names in PRIVATE_METHODS.items()
    for name in names
    if not hasattr(owner, name)
]
if _missing:
    raise ImportError(
        f"keras_bigs builds on private methods that this Keras "
        f"{keras.__version__} / keras-hub {keras_hub.__version__} lacks: "
        f"{_missing}. Install keras 3.x and "
        f"`'keras-hub=={TESTED_KERAS_HUB}.*'`."
    )


def flatten_layers(layer, include_self=True):
    """Every layer tracked under `layer`, recursively, each once.

    Args:
        layer: a `keras.layers.Layer` (a model included).
        include_self: bool. Whether `layer` itself comes first.

    Returns:
        A list of layers, in Keras's tracking order.

    Example:
    ```python
    import keras
    from keras_bigs.keras_hub_internals import flatten_layers

    model = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(1)])
    len(flatten_layers(model, include_self=False))  # 2
    ```
    """
    return list(layer._flatten_layers(include_self=include_self))


def jax_state(model, **which):
    """The variables a JAX `model.train_step` takes as its state, as
    `Model._get_jax_state` gathers them (JAX backend only).

    Args:
        model: a built `keras.Model` on the JAX backend.
        **which: the flags of `_get_jax_state` (`trainable_variables`,
            `non_trainable_variables`, `optimizer_variables`,
            `metrics_variables`, `purge_model_variables`).

    Returns:
        A tuple of lists of arrays, one per flag set.
    """
    if not hasattr(model, "_get_jax_state"):
        raise ValueError(
            "The model state of a JAX training step is read through "
            f"Keras's JAX trainer; this is the {keras.backend.backend()} "
            "backend."
        )
    return model._get_jax_state(**which)


def optimizer_variable_key(optimizer, variable):
    """The key by which `optimizer` identifies `variable` in its slots and
    weight-decay rules (stable across a `tf.distribute` replica's
    variable and its original).

    Args:
        optimizer: a `keras.optimizers.Optimizer`.
        variable: a variable it trains.

    Returns:
        A hashable key.
    """
    return optimizer._var_key(variable)


class OptimizerVariableHooks:
    """Optimizer mixin: public methods that decide, per variable, what two
    private Keras hooks do.

    `vetoes_weight_decay(variable)` exempts a variable from weight decay
    on top of Keras's own rules (`exclude_from_weight_decay`): Keras asks
    `_use_weight_decay` in the weight-decay step of every backend (the
    base optimizer, TensorFlow's distributed one, torch's fused one).
    `skips_update(variable)` leaves a variable out of the lists every
    backend clips, decays and steps in `_backend_apply_gradients`: it is
    neither counted in the global norm, nor decayed, nor stepped, and its
    moments are never read. Put the mixin before the Keras optimizer in
    the bases and override either method.

    Example:
    ```python
    import keras
    from keras_bigs.keras_hub_internals import OptimizerVariableHooks

    class FrozenBias(OptimizerVariableHooks, keras.optimizers.AdamW):
        def skips_update(self, variable):
            return variable.name == "bias"

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    bias = model.layers[0].bias.numpy()
    model.compile(FrozenBias(learning_rate=0.1), "mse")
    model.fit(keras.ops.ones((4, 3)), keras.ops.ones((4, 2)), verbose=0)
    bool((model.layers[0].bias.numpy() == bias).all())  # True
    ```
    """

    def vetoes_weight_decay(self, variable):
        """Whether `variable` is exempt from weight decay (default: no)."""
        return False

    def skips_update(self, variable):
        """Whether `variable` gets no update at all (default: no)."""
        return False

    def _use_weight_decay(self, variable):
        if self.vetoes_weight_decay(variable):
            return False
        return super()._use_weight_decay(variable)

    def _backend_apply_gradients(self, grads, trainable_variables):
        kept = [
            (g, v)
            for g, v in zip(grads, trainable_variables)
            if not self.skips_update(v)
        ]
        if len(kept) < len(grads):
            if not kept:
                return
            grads, trainable_variables = (list(t) for t in zip(*kept))
        super()._backend_apply_gradients(grads, trainable_variables)


def add_special_token(tokenizer, token, name):
    """Register `token` as a keras-hub special token of `tokenizer` under
    the attribute `name` (and `name + "_id"`): never split, never masked.
    Call it before the tokenizer's base `__init__`, as keras-hub's own
    tokenizers do.

    Args:
        tokenizer: a `keras_hub.tokenizers.Tokenizer` being constructed.
        token: str. The token, e.g. `"[CLS]"`.
        name: str. keras-hub's role for it, e.g. `"cls_token"`.
    """
    tokenizer._add_special_token(token, name)


def uses_tf_workflow(layer):
    """Whether keras-hub's preprocessing `layer` runs its TensorFlow path
    (inside `tf.function` or `tf.data`, or built to) rather than its
    Python path."""
    return layer._use_tf_workflow()


def masked_lm_head_parts(head):
    """The sublayers and output bias of a built keras-hub `MaskedLMHead`,
    which keras-hub keeps private.

    Args:
        head: a built `keras_hub.layers.MaskedLMHead`.

    Returns:
        `(intermediate_dense, layer_norm, bias)`: the `Dense` transform,
        its `LayerNormalization` and the bias variable added to the logits.
    """
    return head._intermediate_dense, head._intermediate_layer_norm, head._bias


__all__ = [
    "KerasPresetLoader",
    "OptimizerVariableHooks",
    "PresetLoader",
    "TESTED_KERAS_HUB",
    "add_special_token",
    "builtin_presets",
    "check_config_class",
    "check_file_exists",
    "convert_preprocessing_inputs",
    "convert_preprocessing_outputs",
    "flatten_layers",
    "get_file",
    "in_tf_function",
    "jax_state",
    "load_json",
    "masked_lm_head_parts",
    "optimizer_variable_key",
    "register_presets",
    "untracked",
    "uses_tf_workflow",
]
