"""Load a checkpoint in the layout the original BiGS code publishes.

A folder (or `hf://` handle) with `config.json` (`model_type: "BiGS"`) and one
of `flax_model.msgpack`, `model.safetensors`, `pytorch_model.bin`. The
backbone config is read from `config.json`; the GELU follows the weights'
origin (Flax: tanh approximation, PyTorch port: exact), as the two original
implementations differ in nothing else.

The loader knows no model class: it builds the class it is given, and a
task class says where its head sits in the checkpoint through its
`original_head` attribute (an `OriginalHead`).
"""

import os
import warnings

from keras_bigs.convert.name_table import assign_weights
from keras_bigs.convert.name_table import backbone_prefix
from keras_bigs.convert.name_table import check_tied_decoder
from keras_bigs.convert.name_table import head_table
from keras_bigs.convert.name_table import load_backbone_weights
from keras_bigs.convert.readers import WEIGHT_FILES
from keras_bigs.convert.readers import CheckpointError
from keras_bigs.convert.readers import read_weights
from keras_bigs.keras_hub_internals import PresetLoader
from keras_bigs.keras_hub_internals import check_file_exists
from keras_bigs.keras_hub_internals import get_file
from keras_bigs.keras_hub_internals import load_json

ACTIVATION_BY_ORIGIN = {"flax": "gelu_approximate", "torch": "gelu"}
A_INITIALIZATION_BY_SCALING = {
    "hippo": "hippo",
    "linear": "lin",
    "lin": "lin",
    "inverse": "inv",
    "inv": "inv",
}


def is_original_config(config):
    return str(config.get("model_type", "")).lower() == "bigs"


def backbone_config_from_original(config, origin):
    """`BiGSBackbone` arguments from an original `config.json`."""
    unsupported = {
        "pre_norm": (config.get("pre_norm", True), True),
        "pooler_type": (
            config.get("pooler_type", "non_padding_mean"),
            "non_padding_mean",
        ),
        "position_embedding_type": (
            config.get("position_embedding_type", "absolute"),
            "absolute",
        ),
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
                config.get("scaling", "hippo"), "hippo"
            ),
        }
    except KeyError as e:
        raise CheckpointError(
            f"config.json of a BiGS checkpoint lacks the key {e}."
        ) from e


class OriginalCheckpointLoader(PresetLoader):
    """A keras-hub `PresetLoader` for the original BiGS checkpoint layout.

    Args:
        preset: str. The folder or `hf://` handle.
        config: dict. Its `config.json`.
        weights_file: str. The weights file in it (a `WEIGHT_FILES` key).
    """

    def __init__(self, preset, config, weights_file):
        super().__init__(preset, config)
        self.weights_file = weights_file
        self.reader, self.origin = WEIGHT_FILES[weights_file]
        self._weights = None

    @property
    def weights(self):
        """The checkpoint as `{original name: numpy array}` (read once)."""
        if self._weights is None:
            self._weights = read_weights(
                get_file(self.preset, self.weights_file), self.reader
            )
        return self._weights

    @property
    def what(self):
        return f"checkpoint {self.weights_file}"

    def backbone_config(self, **overrides):
        config = backbone_config_from_original(self.config, self.origin)
        config.update(overrides)
        return config

    def load_backbone(self, cls, load_weights, needs_pooler=True, **kwargs):
        backbone = cls(**self.backbone_config(**kwargs))
        if load_weights:
            load_backbone_weights(
                backbone,
                self.weights,
                self.origin,
                what=self.what,
                needs_pooler=needs_pooler,
            )
        return backbone

    def load_tokenizer(self, cls, **kwargs):
        """The bundled uncased vocabulary, or the folder's `vocab.txt`."""
        if "vocabulary" not in kwargs and check_file_exists(
            self.preset, "vocab.txt"
        ):
            kwargs["vocabulary"] = get_file(self.preset, "vocab.txt")
        return cls(**kwargs)

    def load_preprocessor(self, cls, **kwargs):
        """Padded to the checkpoint's `max_position_embeddings`: the length
        the published models were trained at."""
        if "tokenizer" not in kwargs:
            kwargs["tokenizer"] = self.load_tokenizer(cls.tokenizer_cls)
        kwargs.setdefault(
            "sequence_length", self.config["max_position_embeddings"]
        )
        return cls(**kwargs)

    def load_task(
        self,
        cls,
        load_weights,
        load_task_weights,
        backbone_kwargs=None,
        **kwargs,
    ):
        """A task with the checkpoint's backbone and, unless
        `load_task_weights` is false or the checkpoint lacks it, the head
        that `cls.original_head` names; otherwise the head starts afresh.

        `backbone_kwargs` override the backbone's config.
        """
        head = cls.original_head
        kwargs = self._sized_head(head, load_weights, load_task_weights, kwargs)
        if "backbone" not in kwargs:
            kwargs["backbone"] = self.load_backbone(
                cls.backbone_cls,
                load_weights,
                needs_pooler=head.reads == "pooled_output",
                **(backbone_kwargs or {}),
            )
        if "preprocessor" not in kwargs:
            kwargs["preprocessor"] = self._task_preprocessor(cls)
        task = cls(**kwargs)
        if load_weights and load_task_weights and head.layer is not None:
            self._load_head(task, head)
        return task

    def _load_head(self, task, head):
        table = head_table(task, head, self.origin)
        if head.bias_name(self.origin) in self.weights:
            if head.kind == "masked_lm":
                check_tied_decoder(
                    self.weights,
                    backbone_prefix(self.weights, self.origin),
                    self.origin,
                    self.what,
                )
            assign_weights(table, self.weights, prefix="", what=self.what)
        elif head.kind == "masked_lm":
            # Every pretraining checkpoint has this head, so its absence is
            # news; a missing task head is how fine-tuning usually starts.
            warnings.warn(
                f"{self.preset} has no masked-LM head (no "
                f"{head.bias_name(self.origin)!r}); the head is initialised "
                "randomly.",
                stacklevel=4,
            )

    def _task_preprocessor(self, cls):
        """The task's preprocessor, or `None` (with a warning) when the
        checkpoint's vocabulary is not the tokenizer's."""
        preprocessor = self.load_preprocessor(cls.preprocessor_cls)
        size = preprocessor.tokenizer.vocabulary_size()
        if size != self.config["vocab_size"]:
            warnings.warn(
                f"{self.preset} has vocab_size={self.config['vocab_size']}, "
                f"but the tokenizer has {size} tokens: the task is built "
                "with preprocessor=None (feed token ids, or pass a "
                "preprocessor with the checkpoint's vocabulary).",
                stacklevel=5,
            )
            return None
        return preprocessor

    def _sized_head(self, head, load_weights, load_task_weights, kwargs):
        """`kwargs` with the head's size argument (`num_classes`) checked
        against the checkpoint's head, or read from it when not given."""
        if head.size_argument is None:
            return kwargs
        bias_name = head.bias_name(self.origin)
        saved = None
        if bias_name in self.weights:
            saved = int(self.weights[bias_name].shape[0])
        size = head.checked_size(
            kwargs.get(head.size_argument),
            saved,
            f"{self.preset} ({head.name(self.origin)!r})",
            load_weights,
            load_task_weights,
        )
        return dict(kwargs, **{head.size_argument: size})


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


# The original model classes (Flax ones carry a `Flax` prefix) and the
# names of ours.
TASK_BY_ARCHITECTURE = {
    "BiGSModel": "BiGSBackbone",
    "BiGSForMaskedLM": "BiGSMaskedLM",
    "BiGSForPreTraining": "BiGSMaskedLM",
    "BiGSForSequenceClassification": "BiGSClassifier",
    "BiGSForQuestionAnswering": "BiGSQuestionAnswerer",
    "BiGSForMultipleChoice": "BiGSMultipleChoice",
    "BiGSForTokenClassification": "BiGSTokenClassifier",
}


def task_class_name(config):
    """Name of our class for an original `config.json`'s architecture
    (`BiGSMaskedLM` when the config names none, as pretraining does).

    An architecture keras_bigs has no class for is a `CheckpointError`
    naming it.
    """
    architectures = config.get("architectures") or []
    for architecture in architectures:
        name = TASK_BY_ARCHITECTURE.get(architecture.removeprefix("Flax"))
        if name is not None:
            return name
    if architectures:
        raise CheckpointError(
            f"keras_bigs has no class for the architecture "
            f"{', '.join(architectures)} of this checkpoint; it converts "
            f"{', '.join(sorted(TASK_BY_ARCHITECTURE))} (and their Flax "
            "versions). Its backbone loads with BiGSBackbone.from_preset."
        )
    return "BiGSMaskedLM"
