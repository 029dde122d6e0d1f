"""Fine-tune and evaluate BiGS on a GLUE task.

Trains from a preset (`--preset bigs_512_en`, a folder, an hf:// handle) or,
without one, a small BiGS from scratch (`small_backbone` in
keras_bigs/training/small_bigs.py: 2 layers, hidden 128, 64 tokens).
Evaluates with the task's official metrics on DIR/<Task>/dev.tsv when it
exists, otherwise on a validation part carved out of train (SST-2 in
../shared), and writes OUT/eval_results.json, OUT/best_model/ (a keras-hub
preset), OUT/training_log.csv and OUT/tensorboard/; with --export DIR, also
a SavedModel of the best model for TF Serving (docs/export_and_serving.md).

    python tools/run_glue.py --task sst2 --glue-dir ../shared/glue \\
        --output-dir runs/sst2
    python tools/run_glue.py --task sst2 --glue-dir ../shared/glue \\
        --output-dir runs/sst2_invariant --padding-invariant
    python tools/run_glue.py --task rte --glue-dir glue --output-dir runs/rte \\
        --preset bigs_512_en --from-mnli
"""

import json
import sys

import keras

from keras_bigs.data import DEFAULT_VALIDATION_FRACTION
from keras_bigs.data import GLUE_TASKS
from keras_bigs.serving import check_destination
from keras_bigs.training.command_line import add_finetuning_arguments
from keras_bigs.training.command_line import add_padding_arguments
from keras_bigs.training.command_line import run_from_args
from keras_bigs.training.command_line import run_tool
from keras_bigs.training.command_line import tool_parser
from keras_bigs.training.glue_finetuning import LEARNING_RATES
from keras_bigs.training.glue_finetuning import GlueRun
from keras_bigs.training.glue_finetuning import finetune_glue
from keras_bigs.training.glue_finetuning import mnli_counterpart
from keras_bigs.training.recipe import add_recipe_arguments


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    data = parser.add_argument_group("data")
    data.add_argument("--task", required=True, choices=sorted(GLUE_TASKS))
    data.add_argument("--glue-dir", help="GLUE folder (CoLA/, SST-2/, ...)")
    data.add_argument(
        "--tfds",
        action="store_true",
        help="read the task from tensorflow-datasets instead",
    )
    data.add_argument("--tfds-data-dir")
    data.add_argument(
        "--validation-fraction",
        type=float,
        default=DEFAULT_VALIDATION_FRACTION,
        help="share of train held out when there is no dev "
        "file (default %(default)s)",
    )
    data.add_argument(
        "--skip-malformed",
        action="store_true",
        help="skip malformed TSV rows (counted and reported) instead of "
        "stopping at the first",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--preset",
        help="registered name, preset folder, "
        "original checkpoint folder or hf:// handle; default: "
        "a small BiGS from scratch",
    )
    model.add_argument(
        "--from-mnli",
        nargs="?",
        const="",
        default=None,
        metavar="PRESET",
        help="start from an MNLI-fine-tuned checkpoint (the "
        "paper's convention for RTE, MRPC and STS-B): the "
        "one given, or the MNLI counterpart of --preset",
    )
    model.add_argument(
        "--sequence-length",
        type=int,
        help="default: the preset's (64 from scratch)",
    )
    model.add_argument(
        "--reinitialize-head",
        action="store_true",
        help="start a new classification head even when the preset has "
        "one of the task's size (always so with --from-mnli, except for "
        "MNLI itself); needed when its size differs",
    )
    add_padding_arguments(model)
    add_finetuning_arguments(parser, model)
    add_recipe_arguments(parser, LEARNING_RATES)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument(
        "--export",
        metavar="DIR",
        help="finally export the best model as a SavedModel "
        "for TF Serving to DIR (empty or absent; e.g. "
        "exports/sst2/1); needs KERAS_BACKEND jax or "
        "tensorflow",
    )
    args = parser.parse_args(argv)
    if not args.tfds and not args.glue_dir:
        parser.error("pass --glue-dir DIR, or --tfds")
    if args.export:
        try:
            check_destination(args.export)
        except FileExistsError as error:
            parser.error(str(error))
        backend = keras.backend.backend()
        if backend not in ("jax", "tensorflow"):
            parser.error(
                f"--export needs KERAS_BACKEND=jax or tensorflow "
                f"(this run uses {backend}); or export the saved "
                "best_model later with tools/export_saved_model.py"
            )
    if args.from_mnli == "":
        if args.preset is None:
            parser.error("--from-mnli without a preset needs --preset")
        args.from_mnli = mnli_counterpart(args.preset)
    return args


def main(argv=None):
    args = parse_args(argv)
    run = run_from_args(GlueRun, args, use_tfds="tfds", export_dir="export")
    results = finetune_glue(run)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
