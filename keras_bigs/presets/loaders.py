"""Which loader reads a preset: a registered name, a checkpoint in the
original layout, or a keras-hub preset folder.

All three answer keras-hub's `PresetLoader` calls (`load_backbone`,
`load_task`, `load_preprocessor`, `load_tokenizer`), so `from_preset` is the
same for every BiGS class whatever the preset is.
"""

import os

import keras
import keras_hub

from keras_bigs.convert.original_checkpoint import original_checkpoint_loader
from keras_bigs.convert.readers import CheckpointError
from keras_bigs.convert.readers import non_finite_variable
from keras_bigs.keras_hub_internals import KerasPresetLoader
from keras_bigs.keras_hub_internals import builtin_presets
from keras_bigs.keras_hub_internals import check_config_class
from keras_bigs.keras_hub_internals import check_file_exists
from keras_bigs.keras_hub_internals import load_json
from keras_bigs.presets.hub import resolve_registered_preset

PREPROCESSOR_CONFIG_FILE = "preprocessor.json"
TASK_CONFIG_FILE = "task.json"


class RegisteredPresetLoader:
    """A registered name (`BIGS_PRESETS`): models download (or read from the
    Hugging Face cache) the original checkpoint; tokenizers and
    preprocessors need no download, since the vocabulary ships with
    keras_bigs and the sequence length is in the preset's metadata.

    Args:
        name: str. The registered name.
        preset: dict. Its entry (`kaggle_handle`, `metadata`).
    """

    def __init__(self, name, preset):
        self.name = name
        self.preset = preset
        self._checkpoint = None

    @property
    def checkpoint(self):
        """The loader of the original checkpoint (resolved once)."""
        if self._checkpoint is None:
            self._checkpoint = original_checkpoint_loader(
                resolve_registered_preset(
                    self.name, self.preset["kaggle_handle"]
                )
            )
        return self._checkpoint

    def load_backbone(self, cls, load_weights, **kwargs):
        return self.checkpoint.load_backbone(cls, load_weights, **kwargs)

    def load_task(self, cls, load_weights, load_task_weights, **kwargs):
        return self.checkpoint.load_task(
            cls, load_weights, load_task_weights, **kwargs
        )

    def load_tokenizer(self, cls, **kwargs):
        return cls(**kwargs)

    def load_preprocessor(self, cls, **kwargs):
        kwargs.setdefault("tokenizer", self.load_tokenizer(cls.tokenizer_cls))
        kwargs.setdefault(
            "sequence_length", self.preset["metadata"]["sequence_length"]
        )
        return cls(**kwargs)


class KerasHubPresetLoader(KerasPresetLoader):
    """keras-hub's loader of its own preset folders, with BiGS's rules:

    - a preprocessor the preset did not save pads to the backbone's
      `max_sequence_length`, the length it was trained at (keras-hub's
      default would be 512, and BiGS outputs depend on the padded length);
    - a task takes every backbone config override it is given, not only
      `dtype`;
    - a saved task head loads when its `num_classes` matches; a different
      `num_classes` is an error unless the head is reinitialised.
    """

    _backbone_overrides = {}

    def get_backbone_kwargs(self, **kwargs):
        backbone_kwargs, kwargs = super().get_backbone_kwargs(**kwargs)
        backbone_kwargs.update(self._backbone_overrides)
        return backbone_kwargs, kwargs

    def load_preprocessor(
        self, cls, config_file=PREPROCESSOR_CONFIG_FILE, **kwargs
    ):
        if not self._holds(cls, config_file):
            length = self.config.get("config", {}).get("max_sequence_length")
            if length is not None:
                kwargs.setdefault("sequence_length", length)
        return super().load_preprocessor(cls, config_file, **kwargs)

    def load_task(
        self,
        cls,
        load_weights,
        load_task_weights,
        backbone_kwargs=None,
        **kwargs,
    ):
        self._backbone_overrides = dict(backbone_kwargs or {})
        argument = cls.original_head.size_argument
        if argument is not None:
            saved = None
            if self._holds(cls, TASK_CONFIG_FILE):
                task_json = load_json(self.preset, TASK_CONFIG_FILE)
                saved = task_json["config"][argument]
            kwargs[argument] = cls.original_head.checked_size(
                kwargs.get(argument),
                saved,
                self.preset,
                load_weights,
                load_task_weights,
            )
        task = super().load_task(cls, load_weights, load_task_weights, **kwargs)
        if load_weights and load_task_weights:
            backbone_weights = {id(w) for w in task.backbone.weights}
            head_weights = [
                w for w in task.weights if id(w) not in backbone_weights
            ]
            check_finite_variables(head_weights, self.preset, "task")
        return task

    def _load_backbone_weights(self, backbone):
        super()._load_backbone_weights(backbone)
        check_finite_variables(backbone.weights, self.preset, "model")

    def _holds(self, cls, config_file):
        """Whether the preset saved an object of `cls` in `config_file`."""
        if not check_file_exists(self.preset, config_file):
            return False
        return issubclass(
            check_config_class(load_json(self.preset, config_file)), cls
        )


def check_finite_variables(variables, preset, kind):
    """Refuse loaded `variables` holding NaN or infinity, naming the
    preset's weights file (`kind`: "model" or "task") and the variable."""
    found = non_finite_variable(
        {
            variable.path: keras.ops.convert_to_numpy(variable)
            for variable in variables
        }
    )
    if found is not None:
        name, array = found
        raise CheckpointError(
            f"{preset}: {kind}.weights.h5 gives variable {name!r} "
            f"non-finite values (NaN or infinity); the file is corrupt."
        )


def looks_like_a_name(preset):
    """A bare word, not a path or handle: a registered name or a typo."""
    return (
        "://" not in preset
        and "/" not in preset
        and os.sep not in preset
        and not os.path.exists(preset)
    )


def expected_backbone(cls):
    """The backbone class that presets for `cls` must hold."""
    if issubclass(cls, keras_hub.models.Backbone):
        return cls
    return cls.backbone_cls


def preset_loader(cls, preset):
    """The loader of `preset` (a registered name, a folder or handle in the
    original layout, or a keras-hub preset) for class `cls`.

    Raises:
        ValueError: an unknown name (the message lists the registered
            ones), or a keras-hub preset of another architecture.
    """
    registered = builtin_presets(cls)
    if preset in registered:
        return RegisteredPresetLoader(preset, registered[preset])
    if looks_like_a_name(preset):
        raise ValueError(
            f"Unknown preset {preset!r} for {cls.__name__}. Available "
            f"presets: {', '.join(sorted(registered))}. A preset may also "
            "be a local folder (keras-hub preset or original BiGS "
            "checkpoint) or an hf:// handle."
        )
    if "://" not in preset and not os.path.exists(preset):
        raise ValueError(
            f"No preset folder {preset}: the path does not exist (and "
            f"registered names, {', '.join(sorted(registered))}, have no "
            "'/')."
        )
    loader = original_checkpoint_loader(preset)
    if loader is not None:
        return loader
    if not check_file_exists(preset, "config.json"):
        raise ValueError(
            f"Preset {preset} has no config.json: it is neither a keras-hub "
            "preset nor a BiGS checkpoint in the original layout."
        )
    loader = KerasHubPresetLoader(preset, load_json(preset, "config.json"))
    found, expected = loader.check_backbone_class(), expected_backbone(cls)
    if not issubclass(found, expected):
        raise ValueError(
            f"Preset {preset} holds a {found.__name__}, not a "
            f"{expected.__name__}: load it with keras-hub's classes for "
            "that architecture."
        )
    return loader
