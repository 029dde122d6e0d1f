"""Convert an original BiGS checkpoint into a keras-hub preset folder.

SRC is a folder in the original layout (config.json + flax_model.msgpack |
model.safetensors | pytorch_model.bin), an `hf://` handle, or a registered
name (`bigs_512_en`). The task follows the checkpoint's architecture
(masked LM, classifier, question answering, multiple choice) unless
`--task` says otherwise. DST gets config, weights, task head, tokenizer with
its vocabulary and preprocessor. Both are then loaded and run on a fixed
batch (seeded token ids at the full sequence length), and their
preprocessors on fixed sentences; the largest output difference is printed,
and the exit status is 1 if it is over the tolerance or the preprocessing
differs.

    python tools/convert_checkpoint.py \
        ../shared/fixtures/bigs_reference/flax_masked_lm /tmp/bigs_preset
"""

import argparse
import json
import sys
import warnings

import numpy as np

import keras_bigs
from keras_bigs.convert.original_checkpoint import original_checkpoint_loader
from keras_bigs.convert.original_checkpoint import task_class_name
from keras_bigs.convert.readers import CheckpointError
from keras_bigs.models import BIGS_PRESETS
from keras_bigs.presets.hub import resolve_registered_preset
from keras_bigs.training.command_line import run_tool

TASKS = (
    "BiGSBackbone",
    "BiGSMaskedLM",
    "BiGSClassifier",
    "BiGSQuestionAnswerer",
    "BiGSMultipleChoice",
)
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "BiGS replaces attention with two gated state space models.",
]


def backbone_of(model):
    return (
        model if isinstance(model, keras_bigs.BiGSBackbone) else model.backbone
    )


def fixed_batch(model, seed=0):
    """Seeded token ids for `model` at its full length: one full row, one
    padded after half (ids drawn from the model's own vocabulary, so the
    check also works for checkpoints with a non-BERT vocabulary)."""
    backbone = backbone_of(model)
    length = backbone.max_sequence_length
    rng = np.random.default_rng(seed)
    shape = (2, 2) if isinstance(model, keras_bigs.BiGSMultipleChoice) else (2,)
    padding_mask = np.ones(shape + (length,), "int32")
    padding_mask[1, ..., length // 2 :] = 0
    x = {
        "token_ids": rng.integers(
            1, backbone.vocabulary_size, shape + (length,)
        ).astype("int32")
        * padding_mask,
        "segment_ids": np.zeros(shape + (length,), "int32"),
        "padding_mask": padding_mask,
    }
    x["segment_ids"][..., length // 4 :] = 1
    if isinstance(model, keras_bigs.BiGSMaskedLM):
        x["mask_positions"] = np.tile(
            np.arange(min(length, 32), dtype="int32"), (2, 1)
        )
    return x


def same_preprocessing(original, converted):
    """Whether both preprocessors give identical inputs for SENTENCES
    (`None` when neither model has one: a checkpoint whose vocabulary is
    not the bundled tokenizer's)."""
    a, b = (getattr(m, "preprocessor", None) for m in (original, converted))
    if a is None and b is None:
        return None
    if a is None or b is None:
        return False
    if isinstance(a, keras_bigs.BiGSMultipleChoicePreprocessor):
        x = (SENTENCES, [SENTENCES, SENTENCES])
    else:
        x = (SENTENCES, SENTENCES[::-1])
    ya, yb = a(x=x), b(x=x)
    ya, yb = (
        ya[0] if isinstance(ya, tuple) else ya,
        yb[0] if isinstance(yb, tuple) else yb,
    )
    return all(
        np.array_equal(np.asarray(ya[k]), np.asarray(yb[k]))
        for k in ("token_ids", "segment_ids", "padding_mask")
    )


def outputs(model, x):
    """Every output of `model` on `x`, by name, as numpy arrays."""
    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is not None:
        model.preprocessor = None  # x is already token ids
    try:
        y = model.predict(x, verbose=0)
    finally:
        if preprocessor is not None:
            model.preprocessor = preprocessor
    return y if isinstance(y, dict) else {"logits": y}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "src",
        help="original folder, hf:// handle, or one "
        f"of: {', '.join(BIGS_PRESETS)}",
    )
    parser.add_argument("dst", help="keras-hub preset folder to write")
    parser.add_argument(
        "--task",
        choices=TASKS,
        help="default: from the checkpoint's architecture",
    )
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)

    src = args.src
    if src in BIGS_PRESETS:
        src = resolve_registered_preset(src, BIGS_PRESETS[src]["kaggle_handle"])
    loader = original_checkpoint_loader(src)
    if loader is None:
        parser.error(
            f"{args.src} is not a checkpoint in the original BiGS "
            "layout (config.json with model_type 'BiGS')."
        )
    try:
        cls = getattr(keras_bigs, args.task or task_class_name(loader.config))
    except CheckpointError as error:
        parser.error(f"{error} Pass --task BiGSBackbone to convert it.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. Flax masked LM: no pooler
        original = cls.from_preset(src)
    original.save_to_preset(args.dst)
    converted = cls.from_preset(args.dst)

    x = fixed_batch(original)
    expected, got = outputs(original, x), outputs(converted, x)
    diffs = {
        name: float(np.abs(got[name] - expected[name]).max())
        for name in expected
    }
    worst = max(diffs.values())
    print(
        f"{args.src} -> {args.dst} ({cls.__name__}, "
        f"{original.count_params():,} parameters, "
        f"sequence length {x['token_ids'].shape[-1]})"
    )
    for name, diff in diffs.items():
        print(f"  max |converted - original| {name:<16} {diff:.3e}")
    preprocessing = same_preprocessing(original, converted)
    if isinstance(original, keras_bigs.BiGSBackbone):
        pass  # a backbone has no preprocessor
    elif preprocessing is None:
        print(
            "  no preprocessor: the checkpoint's vocabulary is not the "
            "bundled tokenizer's (feed token ids)"
        )
    else:
        print(
            f"  preprocessor (tokenizer, vocabulary, length) identical: "
            f"{preprocessing}"
        )
    ok = worst <= args.tolerance and preprocessing is not False
    print("OK" if ok else f"FAIL (tolerance {args.tolerance:g})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "src": args.src,
                    "dst": args.dst,
                    "task": cls.__name__,
                    "max_abs_diff": diffs,
                    "tolerance": args.tolerance,
                    "same_preprocessing": preprocessing,
                    "ok": ok,
                },
                f,
                indent=2,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run_tool(main))
