"""The published BiGS checkpoints, and `from_preset` for every BiGS class.

Each registered name points at the original authors' Hugging Face repo (the
original Flax/PyTorch layout), converted on load. The tokenizer and
preprocessors of a registered name need no download: the vocabulary ships
with keras_bigs and the sequence length is in the metadata.
"""

import os
import socket
import urllib.parse

from keras_hub.src.utils.preset_utils import register_presets

from keras_bigs.models.bigs_backbone import BiGSBackbone


def _preset(repo, sequence_length, training_tokens, description):
    return {
        "metadata": {
            "description": description,
            "params": "about 110M (BERT-base size)",
            "sequence_length": sequence_length,
            "training_tokens": training_tokens,
            "source": f"https://huggingface.co/{repo}",
            "path": "bigs",
        },
        "kaggle_handle": f"hf://{repo}",
    }


BIGS_PRESETS = {
    "bigs_128_en": _preset(
        "JunxiongWang/BiGS_128", 128, "~97B",
        "BiGS pretrained (masked LM) on English text at 128 tokens."),
    "bigs_512_en": _preset(
        "JunxiongWang/BiGS_512", 512, "~108B",
        "BiGS pretrained (masked LM) on English text at 512 tokens."),
    "bigs_1024_en": _preset(
        "JunxiongWang/BiGS_1024", 1024, "~110B",
        "BiGS pretrained (masked LM), continued at 1,024 tokens."),
    "bigs_4096_en": _preset(
        "JunxiongWang/BiGS_4096", 4096, "~110B",
        "BiGS pretrained (masked LM), continued at 4,096 tokens."),
    "bigs_128_en_mnli": _preset(
        "JunxiongWang/BiGS_128_MNLI", 128, "~97B",
        "bigs_128_en fine-tuned on MNLI (3-way classification)."),
    "bigs_512_en_mnli": _preset(
        "JunxiongWang/BiGS_512_MNLI", 512, "~108B",
        "bigs_512_en fine-tuned on MNLI (3-way classification)."),
}

# Lists the names in `BiGSBackbone.presets`, `BiGSClassifier.presets`, ...
register_presets(BIGS_PRESETS, BiGSBackbone)


def _hub_host():
    from huggingface_hub import constants

    return urllib.parse.urlparse(constants.ENDPOINT).hostname


def _hub_reachable(timeout=5.0):
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    try:
        socket.create_connection((_hub_host(), 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _cached_folder(repo):
    """The local snapshot of `repo` if its config and weights are cached."""
    from huggingface_hub import constants
    from huggingface_hub import try_to_load_from_cache

    from keras_bigs.convert.readers import WEIGHT_FILES

    config = try_to_load_from_cache(repo, "config.json",
                                    cache_dir=constants.HF_HUB_CACHE)
    if not isinstance(config, str):
        return None
    folder = os.path.dirname(config)
    if any(os.path.exists(os.path.join(folder, f)) for f in WEIGHT_FILES):
        return folder
    return None


def resolve_preset(name):
    """A registered name -> a local snapshot if cached, else its `hf://`
    handle; fails fast, naming the handle, when it is neither cached nor
    reachable."""
    handle = BIGS_PRESETS[name]["kaggle_handle"]
    repo = handle.removeprefix("hf://")
    folder = _cached_folder(repo)
    if folder is not None:
        return folder
    if not _hub_reachable():
        raise ConnectionError(
            f"Preset {name!r} is downloaded from {handle} "
            f"(https://huggingface.co/{repo}), which is not in the local "
            f"Hugging Face cache and cannot be reached from here. On a "
            f"machine with network, run `huggingface-cli download {repo} "
            f"--local-dir BiGS_folder`, copy the folder here, then load it "
            f"with `from_preset('BiGS_folder')`, or convert it once with "
            f"`python tools/convert_checkpoint.py BiGS_folder "
            f"{name}_keras` and load `{name}_keras`.")
    return handle


def _looks_like_a_name(preset):
    return (isinstance(preset, str) and "://" not in preset
            and "/" not in preset and os.sep not in preset
            and not os.path.exists(preset))


def load_from_preset(cls, preset, keras_hub_from_preset, **kwargs):
    """`cls.from_preset(preset)` for any BiGS class.

    A registered name or a folder / `hf://` handle in the original layout is
    converted; a keras-hub preset folder goes to keras-hub's loader; any
    other bare name is an error listing the registered names.
    """
    from keras_hub.models import Backbone
    from keras_hub.models import Task

    from keras_bigs.convert.original_checkpoint import (
        original_checkpoint_loader,
    )

    if isinstance(preset, os.PathLike):
        preset = os.fspath(preset)
    if preset in BIGS_PRESETS:
        if not issubclass(cls, (Backbone, Task)):
            # Tokenizers and preprocessors need no download.
            return _build_preprocessing(cls, BIGS_PRESETS[preset], **kwargs)
        preset = resolve_preset(preset)
    elif _looks_like_a_name(preset):
        raise ValueError(
            f"Unknown preset {preset!r} for {cls.__name__}. Available "
            f"presets: {', '.join(BIGS_PRESETS)}. A preset may also be a "
            "local folder (keras-hub preset or original BiGS checkpoint) or "
            "an hf:// handle.")
    loader = original_checkpoint_loader(preset)
    if loader is not None:
        return loader.load(cls, **kwargs)
    return keras_hub_from_preset(preset, **kwargs)


def with_trained_sequence_length(loader, kwargs):
    """Preprocessor kwargs from a keras-hub preset with no saved
    preprocessor of the asked-for class: pad to the backbone's
    `max_sequence_length`, the length it was trained at (keras-hub's default
    would be 512, and BiGS outputs depend on the padded length)."""
    length = loader.config.get("config", {}).get("max_sequence_length")
    if length is not None:
        kwargs.setdefault("sequence_length", length)
    return kwargs


class PresetLoadingPreprocessor:
    """Mixin for BiGS preprocessors: `from_preset` through
    `load_from_preset`, and keras-hub presets without a saved preprocessor
    of this class pad to the backbone's trained length."""

    @classmethod
    def _add_missing_kwargs(cls, loader, kwargs):
        kwargs = super()._add_missing_kwargs(loader, kwargs)
        return with_trained_sequence_length(loader, kwargs)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        return load_from_preset(cls, preset, super().from_preset, **kwargs)


def _build_preprocessing(cls, preset, **kwargs):
    from keras_hub.models import Preprocessor

    if issubclass(cls, Preprocessor):
        kwargs.setdefault("tokenizer", cls.tokenizer_cls())
        kwargs.setdefault("sequence_length",
                          preset["metadata"]["sequence_length"])
    return cls(**kwargs)
