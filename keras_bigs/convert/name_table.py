"""The table from original BiGS weight names to our variables, and the
conversion that applies it.

Flax and PyTorch checkpoints share one module tree and differ in leaf names
(`kernel`/`scale`/`embedding` vs `weight`), separators (`/` vs `.`), the SSM
parameters' place (`fs4/A_re` vs `fs4.kernel.A_re`) and dense layout
(PyTorch `Linear.weight` is `(out, in)`, so it is transposed).
"""

import dataclasses
import warnings

import numpy as np

from keras_bigs.convert.readers import CheckpointError
from keras_bigs.keras_hub_internals import masked_lm_head_parts

SEPARATOR = {"flax": "/", "torch": "."}
LEAF = {
    "flax": {
        "kernel": "kernel",
        "bias": "bias",
        "scale": "scale",
        "embedding": "embedding",
    },
    "torch": {
        "kernel": "weight",
        "bias": "bias",
        "scale": "weight",
        "embedding": "weight",
    },
}
SSM_PARAMETERS = ("A_re", "A_im", "C", "log_step")
# Buffers the PyTorch port saves that are not weights.
IGNORED = ("embeddings.position_ids", "embeddings.token_type_ids")


class Entry:
    """One weight: our variable, its original name, and whether to transpose."""

    def __init__(self, variable, name, transpose=False, optional=False):
        self.variable = variable
        self.name = name
        self.transpose = transpose
        self.optional = optional


def backbone_table(backbone, origin):
    """Entries for every variable of a gated/ssm `BiGSBackbone`.

    Original names are relative to the backbone's prefix in the checkpoint
    (`s4_bert/` in Flax task models, `bigs.` in PyTorch ones).
    """
    sep, leaf = SEPARATOR[origin], LEAF[origin]
    torch = origin == "torch"

    def name(*parts):
        return sep.join(parts)

    def dense(layer, path):
        return [
            Entry(layer.kernel, name(path, leaf["kernel"]), transpose=torch),
            Entry(layer.bias, name(path, leaf["bias"])),
        ]

    def layer_norm(layer, path):
        return [
            Entry(layer.gamma, name(path, leaf["scale"])),
            Entry(layer.beta, name(path, leaf["bias"])),
        ]

    def ssm(layer, path):
        params = name(path, "kernel") if torch else path
        return [
            Entry(getattr(layer, p), name(params, p)) for p in SSM_PARAMETERS
        ] + [Entry(layer.D, name(path, "D"))]

    def embedding(variable, path):
        return Entry(variable, name("embeddings", path, leaf["embedding"]))

    table = [
        embedding(backbone.token_embedding.embeddings, "word_embeddings"),
        embedding(
            backbone.position_embedding.position_embeddings,
            "position_embeddings",
        ),
        embedding(
            backbone.segment_embedding.embeddings, "token_type_embeddings"
        ),
        *layer_norm(
            backbone.embeddings_layer_norm, name("embeddings", "LayerNorm")
        ),
    ]
    for i, block in enumerate(backbone.bigs_layers):
        path = name("encoder", "layer", str(i))
        table += layer_norm(block.layer_norm, name(path, "LayerNorm"))
        for sub in (
            "dv",
            "du_forward",
            "du_backward",
            "duc_forward",
            "duc_backward",
            "dol",
            "do",
        ):
            table += dense(getattr(block, sub), name(path, sub))
        table += ssm(block.fs4, name(path, "fs4"))
        table += ssm(block.bs4, name(path, "bs4"))
    # Masked-LM checkpoints of the Flax model have no pooler.
    for entry in dense(backbone.pooled_dense, name("pooler", "dense")):
        entry.optional = True
        table.append(entry)
    return table


def dense_head_table(dense, name, origin):
    """Entries of a dense head stored as `name` (e.g. `classifier`)."""
    sep, leaf = SEPARATOR[origin], LEAF[origin]
    return [
        Entry(
            dense.kernel,
            f"{name}{sep}{leaf['kernel']}",
            transpose=origin == "torch",
        ),
        Entry(dense.bias, f"{name}{sep}{leaf['bias']}"),
    ]


def masked_lm_head_table(head, path, origin):
    """Entries of keras-hub's `MaskedLMHead` against `path`
    (`cls/predictions`).

    The decoder is tied to the word embeddings, so it has no entry of its
    own; `check_tied_decoder` verifies a PyTorch checkpoint agrees.
    """
    sep, leaf = SEPARATOR[origin], LEAF[origin]
    transform = sep.join((path, "transform"))
    dense, layer_norm, bias = masked_lm_head_parts(head)
    return [
        *dense_head_table(dense, sep.join((transform, "dense")), origin),
        Entry(
            layer_norm.gamma, sep.join((transform, "LayerNorm", leaf["scale"]))
        ),
        Entry(
            layer_norm.beta, sep.join((transform, "LayerNorm", leaf["bias"]))
        ),
        Entry(bias, sep.join((path, "bias"))),
    ]


@dataclasses.dataclass(frozen=True)
class OriginalHead:
    """Where a task's head sits in the original checkpoints.

    Each task class names its head in a class attribute, `original_head`,
    so that conversion reads the checkpoint without knowing the classes.

    Args:
        path: tuple of str. The head's name in the original model, in parts
            (`("classifier",)`, `("cls", "predictions")`).
        layer: str or `None`. The task's attribute that holds the head;
            `None` for a task without one (its checkpoint head, if any,
            is not read).
        kind: `"dense"` (kernel and bias) or `"masked_lm"` (keras-hub's
            `MaskedLMHead`, its decoder tied to the word embeddings).
        reads: `"pooled_output"` or `"sequence_output"`. A head on the
            sequence output neither needs nor uses the checkpoint's pooler.
        size_argument: str or `None`. The task's constructor argument that
            the head's width sets (`"num_classes"`); `None`: a fixed width.
    """

    path: tuple
    layer: str
    kind: str = "dense"
    reads: str = "pooled_output"
    size_argument: str = None

    def name(self, origin):
        """The head's name in a checkpoint of `origin`."""
        return SEPARATOR[origin].join(self.path)

    def checked_size(self, asked, saved, where, load_weights, load_head):
        """The value of `size_argument` for a task built over a saved head.

        Args:
            asked: int or `None`. The value the caller passed.
            saved: int or `None`. The saved head's width; `None`: no head.
            where: str. What holds the head, for messages.
            load_weights: bool. Whether any weight is read.
            load_head: bool. Whether the saved head would be loaded
                (`False` with `reinitialize_head=True`).

        Returns:
            `asked`, or `saved` when nothing was asked.

        Raises:
            ValueError: nothing asked and no saved head; or a size other
                than the saved head's, which would be loaded.
        """
        argument = self.size_argument
        if asked is None:
            if saved is None:
                raise ValueError(
                    f"{where} has no head to take its size from: pass "
                    f"`{argument}`."
                )
            return saved
        if saved is not None and asked != saved and load_weights:
            if load_head:
                raise ValueError(
                    f"{argument}={asked} does not match the head of {where}, "
                    f"which has {saved} outputs. Pass {argument}={saved}, or "
                    "reinitialize_head=True to train a new head."
                )
            warnings.warn(
                f"The {saved}-way head of {where} is dropped; a new "
                f"{asked}-way head is initialised randomly.",
                stacklevel=6,
            )
        return asked

    def bias_name(self, origin):
        """The head's last weight: its presence says a checkpoint has it."""
        sep, leaf = SEPARATOR[origin], LEAF[origin]
        return sep.join((self.name(origin), leaf["bias"]))


def head_table(task, head, origin):
    """Name-table entries of `task`'s head, described by `head` (an
    `OriginalHead`); the last entry is its bias."""
    layer = getattr(task, head.layer)
    if head.kind == "masked_lm":
        return masked_lm_head_table(layer, head.name(origin), origin)
    return dense_head_table(layer, head.name(origin), origin)


def check_tied_decoder(weights, prefix, origin, what="checkpoint"):
    """A PyTorch masked-LM checkpoint also saves the (tied) decoder: it must
    equal the word embeddings and the output bias, or our tied head would
    silently compute something else."""
    if origin != "torch":
        return
    pairs = [
        (
            "cls.predictions.decoder.weight",
            prefix + "embeddings.word_embeddings.weight",
        ),
        ("cls.predictions.decoder.bias", "cls.predictions.bias"),
    ]
    for saved, tied_to in pairs:
        if saved in weights and not np.array_equal(
            weights[saved], weights[tied_to]
        ):
            raise CheckpointError(
                f"The {what} has {saved!r} different from {tied_to!r}: its "
                "decoder is not tied, and BiGSMaskedLM ties it (as every "
                "published BiGS model does)."
            )


def backbone_prefix(weights, origin):
    """Where the backbone sits in the checkpoint, e.g. `s4_bert/`."""
    sep, leaf = SEPARATOR[origin], LEAF[origin]
    suffix = sep.join(("embeddings", "word_embeddings", leaf["embedding"]))
    for key in weights:
        if key == suffix or key.endswith(sep + suffix):
            return key[: -len(suffix)]
    raise CheckpointError(
        f"The checkpoint has no word embeddings (no weight named "
        f"'...{suffix}'): it is not a BiGS checkpoint."
    )


def assign_weights(table, weights, prefix, what="checkpoint"):
    """Check every entry against `weights`, then assign them all.

    Nothing is assigned unless everything fits: a mismatched checkpoint never
    leaves a half-loaded model behind. Returns the names used.
    """
    values, used, skipped = [], set(), []
    for entry in table:
        key = prefix + entry.name
        if key not in weights:
            if entry.optional:
                skipped.append(key)
                continue
            raise CheckpointError(
                f"The {what} has no weight {key!r}, needed for "
                f"{entry.variable.path}: it does not match the model config."
            )
        value = np.asarray(weights[key])
        expected = tuple(entry.variable.shape)
        if entry.transpose:
            expected = expected[::-1]  # as the checkpoint stores it
        if tuple(value.shape) != expected:
            raise CheckpointError(
                f"Weight {key!r} in the {what} has shape "
                f"{tuple(value.shape)}, but the model config expects "
                f"{expected} (for {entry.variable.path})."
            )
        if entry.transpose:
            value = value.T
        values.append((entry.variable, value))
        used.add(key)
    for variable, value in values:
        variable.assign(value.astype(variable.dtype))
    if skipped:
        warnings.warn(
            f"The {what} has no {', '.join(skipped)}; those weights keep "
            "their random initialisation (masked-LM checkpoints of the Flax "
            "model have no pooler).",
            stacklevel=3,
        )
    return used


def load_backbone_weights(
    backbone, weights, origin, what="checkpoint", needs_pooler=True
):
    """Convert an original checkpoint's backbone weights into `backbone`.

    Raises `CheckpointError` naming the first weight that is missing, has the
    wrong shape, or is left over (e.g. a layer beyond `num_layers`).
    """
    if backbone.block_type != "gated" or backbone.routing != "ssm":
        raise CheckpointError(
            "Original BiGS checkpoints hold gated SSM models; this backbone "
            f"has block_type={backbone.block_type!r}, "
            f"routing={backbone.routing!r}."
        )
    prefix = backbone_prefix(weights, origin)
    table = backbone_table(backbone, origin)
    pooler = [e for e in table if e.name.startswith("pooler")]
    ignored = {prefix + name for name in IGNORED}
    if not needs_pooler:
        # Tasks on the sequence output neither need nor use a saved pooler.
        table = [e for e in table if e not in pooler]
        ignored |= {prefix + e.name for e in pooler}
    used = assign_weights(table, weights, prefix, what)
    leftover = [
        key
        for key in weights
        if key.startswith(prefix) and key not in used and key not in ignored
    ]
    if leftover:
        raise CheckpointError(
            f"Weight {leftover[0]!r} in the {what} has no place in the model "
            f"(config: num_layers={backbone.num_layers}); the checkpoint does "
            "not match its config.json."
        )
    return prefix
