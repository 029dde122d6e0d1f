"""Quantized task heads that survive saving and loading."""

import keras

from keras_bigs.keras_hub_internals import flatten_layers


class QuantizedHeads:
    """Task mixin: a quantized task's config records its heads' dtype
    policies, so that the saved task loads with quantized heads.

    `task.quantize("int8")` quantizes the backbone's layers and the head's.
    The backbone's config records its own quantized layers (keras-hub's
    `Backbone.get_config`, a `DTypePolicyMap` by layer path), but keras-hub's
    `Task` records nothing for the head: a reloaded task would build a
    float head and fail to read the saved int8 kernel. This mixin stores
    the head layers' policies as the task's `dtype` (a `DTypePolicyMap`
    whose default is the backbone's policy), and the task builds its head
    with `_head_dtype_policy`.
    """

    def _head_dtype_policy(self, backbone, kwargs):
        """The policy to build head layers with: the `dtype` in `kwargs`
        (popped: a restored config's map, or `from_preset(dtype=...)`),
        else the backbone's."""
        dtype = kwargs.pop("dtype", None)
        if dtype is None:
            return backbone.dtype_policy
        if isinstance(dtype, dict):
            return keras.dtype_policies.deserialize(dtype)
        return keras.dtype_policies.get(dtype)

    def get_config(self):
        config = super().get_config()
        backbone_layers = {id(x) for x in flatten_layers(self.backbone)}
        default = self.backbone.dtype_policy
        if isinstance(default, keras.dtype_policies.DTypePolicyMap):
            default = default.default_policy
        policies = keras.dtype_policies.DTypePolicyMap(default_policy=default)
        for layer in flatten_layers(self, include_self=False):
            if (
                id(layer) not in backbone_layers
                and layer.quantization_mode is not None
            ):
                policies[layer.path] = layer.dtype_policy
        if len(policies):
            config["dtype"] = keras.dtype_policies.serialize(policies)
        return config
