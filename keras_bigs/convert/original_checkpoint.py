"""Load a checkpoint in the layout the original BiGS code publishes.

A folder (or `hf://` handle) with `config.json` (`model_type: "BiGS"`) and one
of `flax_model.msgpack`, `model.safetensors`, `pytorch_model.bin`. The
backbone config is read from `config.json`; the GELU follows the weights'
origin (Flax: tanh approximation, PyTorch port: exact), as the two original
implementations differ in nothing else.
"""

import os
import warnings

from keras_hub.src.utils.preset_utils import PresetLoader
from keras_hub.src.utils.preset_utils import check_file_exists
from keras_hub.src.utils.preset_utils import get_file
from keras_hub.src.utils.preset_utils import load_json

from keras_bigs.convert.name_table import LEAF
from keras_bigs.convert.name_table import SEPARATOR
from keras_bigs.convert.name_table import assign_weights
from keras_bigs.convert.name_table import backbone_prefix
from keras_bigs.convert.name_table import check_tied_decoder
from keras_bigs.convert.name_table import dense_head_table
from keras_bigs.convert.name_table import load_backbone_weights
from keras_bigs.convert.name_table import masked_lm_head_table
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

    def load_backbone(self, cls, load_weights, needs_pooler=True, **kwargs):
        backbone = cls(**self.backbone_config(**kwargs))
        if load_weights:
            load_backbone_weights(
                backbone, self.weights, self.origin,
                what=f"checkpoint {self.weights_file}",
                needs_pooler=needs_pooler,
            )
        return backbone

    def load_tokenizer(self, cls, **kwargs):
        """The bundled uncased vocabulary, or the folder's `vocab.txt`."""
        if "vocabulary" not in kwargs and check_file_exists(self.preset,
                                                            "vocab.txt"):
            kwargs["vocabulary"] = get_file(self.preset, "vocab.txt")
        return cls(**kwargs)

    def load_preprocessor(self, cls, **kwargs):
        """Padded to the checkpoint's `max_position_embeddings`: the length
        the published models were trained at."""
        if "tokenizer" not in kwargs:
            kwargs["tokenizer"] = self.load_tokenizer(cls.tokenizer_cls)
        kwargs.setdefault("sequence_length",
                          self.config["max_position_embeddings"])
        return cls(**kwargs)

    def load_task(self, cls, load_weights, **kwargs):
        """A task with the checkpoint's backbone and, when the checkpoint
        has it, the task's head (`classifier`, `qa_outputs`,
        `cls/predictions`); otherwise the head starts afresh."""
        from keras_bigs.models.bigs_classifier import BiGSClassifier
        from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM

        if issubclass(cls, BiGSClassifier):
            kwargs = self._classifier_kwargs(load_weights, **kwargs)
        reinitialize_head = kwargs.pop("reinitialize_head", False)
        backbone_kwargs = {}
        if "dtype" in kwargs:
            backbone_kwargs["dtype"] = kwargs.pop("dtype")
        if "backbone" not in kwargs:
            kwargs["backbone"] = self.load_backbone(
                cls.backbone_cls, load_weights,
                needs_pooler=not _uses_sequence_output(cls),
                **backbone_kwargs)
        if "preprocessor" not in kwargs:
            kwargs["preprocessor"] = self._task_preprocessor(cls)
        task = cls(**kwargs)
        if not load_weights or reinitialize_head:
            return task
        table = head_table(task, self.origin)
        if table[-1].name in self.weights:
            what = f"checkpoint {self.weights_file}"
            if isinstance(task, BiGSMaskedLM):
                check_tied_decoder(self.weights,
                                   backbone_prefix(self.weights, self.origin),
                                   self.origin, what)
            assign_weights(table, self.weights, prefix="", what=what)
        elif isinstance(task, BiGSMaskedLM):
            warnings.warn(
                f"{self.preset} has no masked-LM head (no "
                f"{table[-1].name!r}); the head is initialised randomly.",
                stacklevel=3)
        return task

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
                stacklevel=4)
            return None
        return preprocessor

    def _classifier_kwargs(self, load_weights, num_classes=None,
                           reinitialize_head=False, **kwargs):
        """`num_classes` checked against the checkpoint's head.

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
                stacklevel=4)
        return dict(kwargs, num_classes=num_classes,
                    reinitialize_head=reinitialize_head)

    def load(self, cls, load_weights=True, **kwargs):
        """Whatever `cls` is: backbone, task, preprocessor or tokenizer."""
        from keras_hub.models import Backbone
        from keras_hub.models import Preprocessor
        from keras_hub.models import Task

        if issubclass(cls, Backbone):
            return self.load_backbone(cls, load_weights, **kwargs)
        if issubclass(cls, Task):
            return self.load_task(cls, load_weights, **kwargs)
        if issubclass(cls, Preprocessor):
            return self.load_preprocessor(cls, **kwargs)
        return self.load_tokenizer(cls, **kwargs)


def _uses_sequence_output(cls):
    from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
    from keras_bigs.models.bigs_question_answerer import BiGSQuestionAnswerer

    return issubclass(cls, (BiGSMaskedLM, BiGSQuestionAnswerer))


def head_table(task, origin):
    """Name-table entries of a task's head; the last one is its bias (or
    output bias), whose presence says the checkpoint has this head."""
    from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
    from keras_bigs.models.bigs_question_answerer import BiGSQuestionAnswerer

    if isinstance(task, BiGSMaskedLM):
        return masked_lm_head_table(task.masked_lm_head, origin)
    if isinstance(task, BiGSQuestionAnswerer):
        return dense_head_table(task.span_dense, "qa_outputs", origin)
    # BiGSClassifier and BiGSMultipleChoice.
    return dense_head_table(task.output_dense, "classifier", origin)


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


# The original model classes (Flax ones carry a `Flax` prefix) and ours.
TASK_BY_ARCHITECTURE = {
    "BiGSModel": "BiGSBackbone",
    "BiGSForMaskedLM": "BiGSMaskedLM",
    "BiGSForPreTraining": "BiGSMaskedLM",
    "BiGSForSequenceClassification": "BiGSClassifier",
    "BiGSForQuestionAnswering": "BiGSQuestionAnswerer",
    "BiGSForMultipleChoice": "BiGSMultipleChoice",
}


def task_class_name(config):
    """Name of our class for an original `config.json`'s architecture
    (`BiGSMaskedLM` when the config names none, as pretraining does)."""
    for architecture in config.get("architectures") or []:
        name = TASK_BY_ARCHITECTURE.get(architecture.removeprefix("Flax"))
        if name is not None:
            return name
    return "BiGSMaskedLM"
