"""Export a BiGS classifier, text embedder or masked LM as a SavedModel for
TF Serving.

SRC is a keras-hub preset folder (e.g. `runs/sst2/best_model`, written by
tools/run_glue.py), a `.keras` file, a registered name (`bigs_128_en`), an
`hf://` handle or an original checkpoint folder. The task is read from the
preset (`task.json`) or the checkpoint's architecture unless `--task` says
otherwise (`--task embedder` serves any preset's backbone as sentence
embeddings). DST gets a SavedModel whose `serving_default` signature takes raw
strings (`text`, or `text_a` and `text_b` with `--pairs`) and a
`serve_tokens` signature taking token ids (docs/export_and_serving.md).
Prints the signatures, the size and, with 16-bit weights, how far the
outputs move on a fixed batch. Exporting needs KERAS_BACKEND=jax or
tensorflow; the SavedModel itself needs neither Keras nor keras_bigs.

    KERAS_BACKEND=jax python tools/export_saved_model.py \
        runs/sst2/best_model exports/sst2/1
    KERAS_BACKEND=jax python tools/export_saved_model.py \
        runs/sst2/best_model exports/sst2_bf16/1 --weights-dtype bfloat16
"""

import argparse
import json
import os
import sys
import warnings

import keras

import keras_bigs
from keras_bigs.convert.original_checkpoint import original_checkpoint_loader
from keras_bigs.convert.original_checkpoint import task_class_name
from keras_bigs.convert.readers import CheckpointError
from keras_bigs.models import BIGS_PRESETS
from keras_bigs.presets.hub import resolve_registered_preset
from keras_bigs.serving import WEIGHTS_DTYPES
from keras_bigs.serving import check_destination
from keras_bigs.serving import export_for_serving
from keras_bigs.training.command_line import run_tool

TASKS = {
    "classifier": keras_bigs.BiGSClassifier,
    "embedder": keras_bigs.BiGSTextEmbedder,
    "masked_lm": keras_bigs.BiGSMaskedLM,
}


def task_class(src):
    """The task class a preset or checkpoint holds, or `None` if unknown."""
    task_json = os.path.join(src, "task.json")
    if os.path.isfile(task_json):
        with open(task_json) as f:
            name = json.load(f).get("class_name")
    else:
        folder = src
        if src in BIGS_PRESETS:
            folder = resolve_registered_preset(
                src, BIGS_PRESETS[src]["kaggle_handle"]
            )
        loader = original_checkpoint_loader(folder)
        if loader is None:
            return None
        try:
            name = task_class_name(loader.config)
        except CheckpointError:
            return None
    return {cls.__name__: cls for cls in TASKS.values()}.get(name)


def load_task(src, task):
    if src.endswith(".keras") and os.path.isfile(src):
        return keras.saving.load_model(src)
    cls = TASKS[task] if task else task_class(src)
    if cls is None:
        raise SystemExit(
            f"Cannot tell which task {src} holds (no task.json, not a "
            f"BiGSClassifier or BiGSMaskedLM checkpoint): pass --task "
            f"{', '.join(TASKS)}."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a checkpoint without pooler
        return cls.from_preset(src)


def print_report(report):
    print(
        f"Exported {report['task']} ({report['backend']} backend, "
        f"{report['weights_dtype']} weights, sequence length "
        f"{report['sequence_length']}) to {report['path']} in "
        f"{report['export_seconds']} s"
    )
    for name, signature in report["signatures"].items():
        print(f"  signature {name!r}")
        for kind in ("inputs", "outputs"):
            for tensor, spec in signature[kind].items():
                shape = ", ".join(
                    "batch" if d is None and i == 0 else str(d)
                    for i, d in enumerate(spec["shape"])
                )
                print(f"    {kind[:-1]:6} {tensor}: {spec['dtype']}[{shape}]")
    print(
        f"  size: {report['total_bytes'] / 1e6:.2f} MB, of which variables "
        f"{report['variables_bytes'] / 1e6:.2f} MB"
    )
    comparison = report.get("comparison")
    if comparison:
        details = ", ".join(
            f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
            for k, v in comparison.items()
        )
        print(f"  vs float32 on the fixed batch: {details}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument(
        "src",
        help="preset folder, .keras file, registered "
        "name, hf:// handle or original checkpoint folder",
    )
    parser.add_argument(
        "dst",
        help="SavedModel folder to write (for TF "
        "Serving: MODEL_BASE/NAME/VERSION)",
    )
    parser.add_argument(
        "--task",
        choices=sorted(TASKS),
        help="default: from the preset or checkpoint",
    )
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="serve sentence pairs (text_a, text_b)",
    )
    parser.add_argument(
        "--weights-dtype", default="float32", choices=WEIGHTS_DTYPES
    )
    parser.add_argument(
        "--top-k",
        type=int,
        default=5,
        help="fill-mask: tokens per mask (default 5)",
    )
    parser.add_argument(
        "--max-masks",
        type=int,
        default=5,
        help="fill-mask: masks per row (default 5)",
    )
    parser.add_argument(
        "--platforms",
        help="JAX only: comma-separated platforms to compile "
        "for, e.g. cpu,cuda (default: this machine's)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a non-empty DST"
    )
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args(argv)
    try:
        check_destination(args.dst, args.overwrite)
    except FileExistsError as error:
        parser.error(str(error))

    task = load_task(args.src, args.task)
    report = export_for_serving(
        task,
        args.dst,
        pairs=args.pairs,
        weights_dtype=args.weights_dtype,
        top_k=args.top_k,
        max_masks=args.max_masks,
        overwrite=args.overwrite,
        platforms=args.platforms.split(",") if args.platforms else None,
    )
    print_report(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
