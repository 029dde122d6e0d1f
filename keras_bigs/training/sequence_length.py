"""Continue training a BiGS model at a longer sequence length."""

import math

import numpy as np
from keras import ops
from keras_hub.models import Task

from keras_bigs.models.bigs_backbone import BiGSBackbone


def _tiled_positions(table, sequence_length):
    # Rows 0..old-1 stay; row i >= old is row i % old: the learned block
    # copied end to end (Longformer's initialisation, used by BiGS for its
    # 128 -> 512 -> 1024 -> 4096 continued pretraining).
    repeats = math.ceil(sequence_length / table.shape[0])
    return np.tile(table, (repeats, 1))[:sequence_length]


def _copy_weights(source, target, position_variable, sequence_length):
    source_weights = source.weights
    target_weights = target.weights
    if len(source_weights) != len(target_weights):
        raise ValueError(
            f"Internal error: {len(source_weights)} weights in the model but "
            f"{len(target_weights)} in its extended copy."
        )
    for old, new in zip(source_weights, target_weights):
        if old.name != new.name:
            raise ValueError(
                f"Internal error: weight {old.path} does not line up with "
                f"{new.path} in the extended copy."
            )
        value = ops.convert_to_numpy(old)
        if old is position_variable:
            value = _tiled_positions(value, sequence_length)
        new.assign(value)


def _extended_backbone(backbone, sequence_length):
    config = backbone.get_config()
    config["max_sequence_length"] = sequence_length
    return BiGSBackbone.from_config(config)


def _extended_preprocessor(preprocessor, sequence_length):
    config = preprocessor.get_config()
    old_length = config["sequence_length"]
    config["sequence_length"] = sequence_length
    # The masked-LM preprocessor sizes its mask budget from the length;
    # keep a derived default derived.
    if "mask_selection_length" in config and "mask_selection_rate" in config:
        default = math.ceil(config["mask_selection_rate"] * old_length)
        if config["mask_selection_length"] == default:
            config["mask_selection_length"] = None
    # The tokenizer object is shared: its vocabulary is not in its config.
    config["tokenizer"] = preprocessor.tokenizer
    return preprocessor.__class__.from_config(config)


def extend_sequence_length(model, sequence_length):
    """A copy of a BiGS model with a longer position table.

    For continuing pretraining at a longer length from a shorter checkpoint
    (BiGS went 128 -> 512 -> 1024 -> 4096). The new position embedding
    keeps the learned rows `0..old_length-1` and fills every later row `i`
    with learned row `i % old_length`, i.e. the learned block repeated, as
    Longformer does. Every other weight is copied unchanged: the S4D
    kernels are computed from length-independent parameters for each input
    length.

    The original model is left as it is. Given a task (a keras-hub `Task`
    on a `BiGSBackbone`, e.g. `BiGSClassifier` or `BiGSMaskedLM`), the task
    is rebuilt around the extended backbone with its head weights copied,
    and its preprocessor (if any) is re-created with the new
    `sequence_length`, sharing the tokenizer.

    Args:
        model: a `BiGSBackbone`, or a task whose `backbone` is one.
        sequence_length: int. New `max_sequence_length`; at least the
            current one (equal: a plain copy).

    Returns:
        A new model of the same class.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.training import extend_sequence_length

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=100, num_layers=1, hidden_dim=8,
        intermediate_dim=16, state_dim=4, max_sequence_length=16)
    longer = extend_sequence_length(backbone, 64)
    longer.max_sequence_length  # 64
    ```
    """
    if isinstance(model, BiGSBackbone):
        backbone = model
    elif isinstance(model, Task) and isinstance(
        getattr(model, "backbone", None), BiGSBackbone
    ):
        backbone = model.backbone
    else:
        raise ValueError(
            "`extend_sequence_length` needs a `BiGSBackbone` or a task built "
            f"on one; received {type(model).__name__}."
        )
    old_length = backbone.max_sequence_length
    if sequence_length < old_length:
        raise ValueError(
            f"Cannot shrink the position table from {old_length} to "
            f"{sequence_length} tokens: `extend_sequence_length` only "
            "lengthens it."
        )

    new_backbone = _extended_backbone(backbone, sequence_length)
    if model is backbone:
        new_model = new_backbone
    else:
        config = model.get_config()
        config["backbone"] = new_backbone
        preprocessor = getattr(model, "preprocessor", None)
        config["preprocessor"] = (
            None
            if preprocessor is None
            else _extended_preprocessor(preprocessor, sequence_length)
        )
        new_model = model.__class__.from_config(config)
    _copy_weights(
        model,
        new_model,
        backbone.position_embedding.position_embeddings,
        sequence_length,
    )
    return new_model


def fit_to_sequence_length(model, sequence_length, source):
    """`model`, or a copy extended to `sequence_length` tokens when that is
    longer than its position table (`extend_sequence_length`), saying so;
    what a training tool does with a `--sequence-length` beyond its
    preset's.

    Args:
        model: a `BiGSBackbone`, or a task built on one.
        sequence_length: int or `None` (keep the model).
        source: the preset's name, for the message.
    """
    backbone = getattr(model, "backbone", model)
    trained = backbone.max_sequence_length
    if not sequence_length or sequence_length <= trained:
        return model
    print(
        f"Extending the position table of {source} from {trained} to "
        f"{sequence_length} tokens (its learned rows repeated, as "
        "Longformer; the SSM kernels are computed for each input length)."
    )
    return extend_sequence_length(model, sequence_length)
