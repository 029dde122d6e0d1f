"""Load a checkpoint in the layout the original BiGS code publishes.

A folder (or `hf://` handle) with `config.json` (`model_type: "BiGS"`) and one
of `flax_model.msgpack`, `model.safetensors`, `pytorch_model.bin`. The
backbone config is read from `config.json`; the GELU follows the weights'
origin (Flax: tanh approximation, PyTorch port: exact), as the two original
implementations differ in nothing else.
"""

import os

from keras_hub.src.utils.preset_utils import PresetLoader
from keras_hub.src.utils.preset_utils import check_file_exists
from keras_hub.src.utils.preset_utils import get_file
from keras_hub.src.utils.preset_utils import load_json

import warnings

from keras_bigs.convert.name_table import LEAF
from keras_bigs.convert.name_table import SEPARATOR
from keras_bigs.convert.name_table import Entry
from keras_bigs.convert.name_table import assign_weights
from keras_bigs.convert.name_table import load_backbone_weights
from keras_bigs.convert.readers import WEIGHT_FILES
from keras_bigs.convert.readers import CheckpointError

ACTIVATION_BY_ORIGIN = {"flax": "gelu_approximate", "torch": "gelu"}
A_INITIALIZATION_BY_SCALING = {"hippo": "hippo", "linear": "lin",
                               "lin": "lin", "inverse": "inv", "inv": "inv"}


def is_original_config(config):
    return str(config.get("model_type", "")).lower() == "bigs"


def backbone_config_from_original(config, origin):
    """`BiGSBackbone` arguments from an original `config.json`."""
    unsupported = {
        "pre_norm": (config.get("pre_norm", True), True),
        "pooler_type": (config.get("pooler_type", "non_padding_mean"),
                        "non_padding_mean"),
        "position_embedding_type": (
            config.get("position_embedding_type", "absolute"), "absolute"),
    }
    for key, (value, supported) in unsupported.items():
        if value != supported:
            raise CheckpointError(
                f"config.json has {key}={value!r}; keras_bigs supports "
                f"only {key}={supported!r} (what every published BiGS "
                "model uses)."
            )
    try:
        return {
            "vocabulary_size": config["vocab_size"],
            "num_layers": config["num_hidden_layers"],
            "hidden_dim": config["hidden_size"],
            "intermediate_dim": config["intermediate_size"],
            "state_dim": config["num_ssm"],
            "max_sequence_length": config["max_position_embeddings"],
            "num_segments": config.get("type_vocab_size", 2),
            "dropout": config.get("hidden_dropout_prob", 0.1),
            "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
            "activation": ACTIVATION_BY_ORIGIN[origin],
            "a_initialization": A_INITIALIZATION_BY_SCALING.get(
                config.get("scaling", "hippo"), "hippo"),
        }
    except KeyError as e:
        raise CheckpointError(
            f"config.json of a BiGS checkpoint lacks the key {e}."
        ) from e


class OriginalCheckpointLoader(PresetLoader):
    """A keras-hub `PresetLoader` for the original BiGS checkpoint layout."""

    def __init__(self, preset, config, weights_file):
        super().__init__(preset, config)
        self.weights_file = weights_file
        self.reader, self.origin = WEIGHT_FILES[weights_file]
        self._weights = None

    def check_backbone_class(self):
        from keras_bigs.models.bigs_backbone import BiGSBackbone

        return BiGSBackbone

    @property
    def weights(self):
        """The checkpoint as `{original name: numpy array}` (read once)."""
        if self._weights is None:
            self._weights = self.reader(get_file(self.preset,
                                                 self.weights_file))
        return self._weights

    def backbone_config(self, **overrides):
        config = backbone_config_from_original(self.config, self.origin)
        config.update(overrides)
        return config

    def load_backbone(self, cls, load_weights, **kwargs):
        backbone = cls(**self.backbone_config(**kwargs))
        if load_weights:
            load_backbone_weights(
                backbone, self.weights, self.origin,
                what=f"checkpoint {self.weights_file}",
            )
        return backbone


    def _head_entries(self, dense, name):
        """Entries of a dense head named `name` in the checkpoint."""
        sep, leaf = SEPARATOR[self.origin], LEAF[self.origin]
        return [
            Entry(dense.kernel, f"{name}{sep}{leaf['kernel']}",
                  transpose=self.origin == "torch"),
            Entry(dense.bias, f"{name}{sep}{leaf['bias']}"),
        ]

    def load_classifier(self, cls, load_weights, num_classes=None,
                        reinitialize_head=False, **kwargs):
        """A `BiGSClassifier` with the checkpoint's backbone and, when the
        checkpoint has one, its classification head.

        A `num_classes` different from the checkpoint's head is an error,
        unless `reinitialize_head=True` (then the head starts afresh).
        """
        sep, leaf = SEPARATOR[self.origin], LEAF[self.origin]
        bias_name = f"classifier{sep}{leaf['bias']}"
        head_classes = None
        if load_weights and bias_name in self.weights:
            head_classes = int(self.weights[bias_name].shape[0])
        if num_classes is None:
            if head_classes is None:
                raise ValueError(
                    f"{self.preset} has no classification head: pass "
                    "`num_classes`.")
            num_classes = head_classes
        if head_classes is not None and num_classes != head_classes:
            if not reinitialize_head:
                raise ValueError(
                    f"num_classes={num_classes} does not match the "
                    f"checkpoint's classification head, which has "
                    f"{head_classes} outputs. Pass num_classes="
                    f"{head_classes}, or reinitialize_head=True to train a "
                    "new head.")
            warnings.warn(
                f"The checkpoint's {head_classes}-way head is dropped; a new "
                f"{num_classes}-way head is initialised randomly.",
                stacklevel=3)
            head_classes = None
        backbone_kwargs = {}
        if "dtype" in kwargs:
            backbone_kwargs["dtype"] = kwargs.pop("dtype")
        backbone = self.load_backbone(cls.backbone_cls, load_weights,
                                      **backbone_kwargs)
        if "preprocessor" not in kwargs:
            kwargs["preprocessor"] = cls.preprocessor_cls(
                tokenizer=cls.preprocessor_cls.tokenizer_cls(),
                sequence_length=backbone.max_sequence_length)
        task = cls(backbone=backbone, num_classes=num_classes, **kwargs)
        if head_classes is not None:
            assign_weights(self._head_entries(task.output_dense, "classifier"),
                           self.weights, prefix="",
                           what=f"checkpoint {self.weights_file}")
        return task


def original_checkpoint_loader(preset):
    """An `OriginalCheckpointLoader` when `preset` is in the original layout
    (a local folder, or an `hf://` handle), else `None`."""
    if not isinstance(preset, (str, os.PathLike)):
        return None
    preset = os.fspath(preset)
    is_local = os.path.isdir(preset)
    if not (is_local or preset.startswith("hf://")):
        return None
    if not check_file_exists(preset, "config.json"):
        return None
    config = load_json(preset, "config.json")
    if not is_original_config(config):
        return None
    for weights_file in WEIGHT_FILES:
        if is_local and os.path.exists(os.path.join(preset, weights_file)):
            return OriginalCheckpointLoader(preset, config, weights_file)
        if not is_local and check_file_exists(preset, weights_file):
            return OriginalCheckpointLoader(preset, config, weights_file)
    raise CheckpointError(
        f"{preset} has a BiGS config.json but none of the weight files "
        f"{', '.join(WEIGHT_FILES)}."
    )
