"""`from_preset` for every BiGS class, in one place.

Backbone, tasks, preprocessors and the tokenizer inherit `PresetLoading`
before their keras-hub base class. It checks the keyword arguments of the
constructor and of `from_preset` against the class (so that a typo is an
error, not an ignored option: Keras' functional models drop unknown
keywords), picks the loader for the preset (`preset_loader`) and calls it
as keras-hub does.
"""

import contextvars
import difflib
import functools
import inspect
import json
import os

import keras
import keras_hub

from keras_bigs.keras_hub_internals import flatten_layers
from keras_bigs.presets.atomic_writes import write_folder_atomically
from keras_bigs.presets.loaders import preset_loader

# Keyword arguments of every Keras layer, and of the loading itself.
LAYER_KEYWORDS = ("name", "dtype", "trainable")
# keras-hub's tokenizers and preprocessors take it from `**kwargs`.
SAVED_CONFIG_KEYWORDS = ("config_file",)
MODEL_OPTIONS = ("load_weights",)
TASK_OPTIONS = ("load_weights", "reinitialize_head")


@functools.cache
def constructor_keywords(cls):
    """The keyword arguments `cls(...)` accepts: the named parameters of
    every `__init__` in its keras_bigs and keras-hub ancestry, plus the
    base layer's `name`, `dtype` and `trainable`."""
    names = set(LAYER_KEYWORDS)
    if issubclass(
        cls, (keras_hub.tokenizers.Tokenizer, keras_hub.models.Preprocessor)
    ):
        names.update(SAVED_CONFIG_KEYWORDS)
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or not klass.__module__.startswith(
            ("keras_bigs", "keras_hub")
        ):
            continue
        for parameter in list(inspect.signature(init).parameters.values())[1:]:
            if parameter.kind in (
                parameter.POSITIONAL_OR_KEYWORD,
                parameter.KEYWORD_ONLY,
            ):
                names.add(parameter.name)
    return names


def split_task_keywords(cls, kwargs):
    """`(task kwargs, backbone kwargs)`: a keyword the task's constructor
    takes goes to the task (`dropout` of a classifier is its head's);
    one only the backbone takes overrides the backbone's config; `dtype`
    goes to both, as in keras-hub."""
    task_keywords = constructor_keywords(cls)
    backbone_kwargs = {
        key: kwargs[key] for key in kwargs if key not in task_keywords
    }
    task_kwargs = {
        key: value for key, value in kwargs.items() if key in task_keywords
    }
    if "dtype" in kwargs:
        backbone_kwargs["dtype"] = kwargs["dtype"]
    return task_kwargs, backbone_kwargs


def check_keywords(cls, kwargs, accepted, function="from_preset"):
    """Raise a TypeError naming each keyword of `kwargs` not in `accepted`
    (with the closest accepted one, if any is close)."""
    unknown = sorted(set(kwargs) - set(accepted))
    if not unknown:
        return
    names = []
    for name in unknown:
        close = difflib.get_close_matches(name, accepted, n=1)
        names.append(
            f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        )
    called = f"{cls.__name__}.{function}()" if function else f"{cls.__name__}()"
    raise TypeError(
        f"{called} got unexpected keyword "
        f"argument{'s' if len(unknown) > 1 else ''} "
        f"{', '.join(names)}. It accepts: {', '.join(sorted(accepted))}."
    )


def unreadable_file(preset):
    """What is wrong with the first unreadable file of a local preset
    folder (a JSON config that does not parse, a weights file h5py cannot
    open), or None."""
    if not os.path.isdir(preset):
        return None
    for name in sorted(os.listdir(preset)):
        path = os.path.join(preset, name)
        if name.endswith(".json"):
            try:
                with open(path, encoding="utf-8") as file:
                    json.load(file)
            except (ValueError, OSError):
                return f"{name} is not valid JSON; it is truncated or corrupt"
        elif name.endswith(".h5"):
            import h5py

            try:
                h5py.File(path, "r").close()
            except OSError:
                return (
                    f"{name} is not a readable HDF5 file; it is truncated "
                    "or corrupt"
                )
    return None


# Whether a `save_to_preset` is writing its temporary folder.
_saving_preset = contextvars.ContextVar("saving_preset", default=False)


class PresetLoading:
    """Mixin giving a BiGS class its `from_preset`.

    Put it before the keras-hub base class:
    `class BiGSBackbone(PresetLoading, Backbone)`.
    """

    def save_to_preset(self, preset_dir, *args, **kwargs):
        """keras-hub's `save_to_preset`, written whole or not at all: into
        a hidden folder beside `preset_dir`, renamed onto it when complete
        (`write_folder_atomically`), so that a process killed while saving
        leaves no half-written preset. Remote handles are written as
        keras-hub writes them."""
        save = super().save_to_preset
        # keras-hub saves a task's backbone and preprocessor with their own
        # `save_to_preset` into the task's folder: those are written as
        # they come, inside the outermost save's temporary folder.
        if "://" in str(preset_dir) or _saving_preset.get():
            return save(preset_dir, *args, **kwargs)

        def save_whole(folder):
            token = _saving_preset.set(True)
            try:
                save(folder, *args, **kwargs)
            finally:
                _saving_preset.reset(token)

        write_folder_atomically(os.fspath(preset_dir), save_whole)

    def save_task_weights(self, filepath):
        """keras-hub's `Task.save_task_weights`, without the optimizer's
        state: a preset holds a model (training checkpoints, which resume,
        keep theirs)."""
        if not str(filepath).endswith(".weights.h5"):
            raise ValueError(
                "The filename must end in `.weights.h5`. "
                f"Received: filepath={filepath}"
            )
        keras.saving.save_weights(
            self, filepath=filepath, objects_to_skip=self._not_in_presets()
        )

    def load_task_weights(self, filepath):
        """keras-hub's `Task.load_task_weights`, leaving the optimizer
        alone (presets hold none; older ones held a state that does not
        fit a freshly compiled optimizer)."""
        keras.saving.load_weights(
            self, filepath, objects_to_skip=self._not_in_presets()
        )

    def _not_in_presets(self):
        skipped = list(flatten_layers(self.backbone))
        if self.optimizer is not None:
            skipped.append(self.optimizer)
        return skipped

    def __new__(cls, *args, **kwargs):
        check_keywords(cls, kwargs, constructor_keywords(cls), function=None)
        return super().__new__(cls, *args, **kwargs)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """Load from a registered name, a keras-hub preset, or a folder /
        `hf://` handle in the original BiGS layout.

        Args:
            preset: a name from `cls.presets` (e.g. `"bigs_512_en"`), a
                keras-hub preset folder or handle, or an original BiGS
                checkpoint (`config.json` with `model_type: "BiGS"`).
            **kwargs: arguments of the class's constructor, which override
                the preset's config; for a task also the backbone's (e.g.
                `conv_mode`, `dtype`). Models take `load_weights=False` to
                keep their initialisation; tasks take
                `reinitialize_head=True` to start the head afresh (needed
                when `num_classes` differs from the saved head's). Any
                other keyword is an error naming it.
        """
        preset = os.fspath(preset)
        try:
            return cls._load_preset(preset, **kwargs)
        except (json.JSONDecodeError, OSError) as error:
            broken = unreadable_file(preset)
            if broken is None:
                raise
            raise ValueError(
                f"Could not load preset {preset}: {broken} ({error})."
            ) from error

    @classmethod
    def _load_preset(cls, preset, **kwargs):
        if issubclass(cls, keras_hub.models.Backbone):
            check_keywords(
                cls, kwargs, constructor_keywords(cls) | set(MODEL_OPTIONS)
            )
            load_weights = kwargs.pop("load_weights", True)
            return preset_loader(cls, preset).load_backbone(
                cls, load_weights, **kwargs
            )
        if issubclass(cls, keras_hub.models.Task):
            check_keywords(
                cls,
                kwargs,
                constructor_keywords(cls)
                | constructor_keywords(cls.backbone_cls)
                | set(TASK_OPTIONS),
            )
            load_weights = kwargs.pop("load_weights", True)
            load_head = not kwargs.pop("reinitialize_head", False)
            kwargs, backbone_kwargs = split_task_keywords(cls, kwargs)
            if "backbone" in kwargs and set(backbone_kwargs) - {"dtype"}:
                raise ValueError(
                    f"Backbone config overrides "
                    f"{sorted(set(backbone_kwargs) - {'dtype'})} have no "
                    "effect when a `backbone` is given."
                )
            return preset_loader(cls, preset).load_task(
                cls,
                load_weights,
                load_head,
                backbone_kwargs=backbone_kwargs,
                **kwargs,
            )
        check_keywords(cls, kwargs, constructor_keywords(cls))
        loader = preset_loader(cls, preset)
        if issubclass(cls, keras_hub.models.Preprocessor):
            return loader.load_preprocessor(cls, **kwargs)
        return loader.load_tokenizer(cls, **kwargs)
