"""Command-line flags that several training tools share besides the
recipe's (`add_recipe_arguments`): padding-invariant training, the
architecture of a model from scratch and the pretraining corpus; the run
a tool's parsed flags describe; and how every tool reports a user's
mistake (`run_tool`)."""

import argparse
import dataclasses
import os
import sys

from keras_bigs.data.length_buckets import check_buckets
from keras_bigs.training.recipe import Recipe

# The pretraining corpus fields (`PretrainRun`, `AblationStudy`) and the
# flags that set them (`add_corpus_arguments`), where the names differ.
CORPUS_FLAGS = {"text_files": "text", "tfds_name": "tfds", "hdf5_files": "hdf5"}


def tool_parser(doc):
    """The parser of a tool whose module docstring is `doc`: its first
    paragraph describes the tool, the rest (examples) follows the flags
    in `--help`."""
    return argparse.ArgumentParser(
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1],
    )


def int_list(text):
    """`"128,1024"` -> `[128, 1024]`, for a flag that takes several ints."""
    try:
        return [int(value) for value in text.split(",") if value]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 128,1024; got {text!r}"
        ) from None


def bucket_list(text):
    """`"16,32,64"` -> `(16, 32, 64)`, for `--buckets` (increasing; the
    model's maximum length is checked when the model is built)."""
    try:
        lengths = tuple(int(length) for length in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated lengths such as 16,32,64; got {text!r}"
        ) from None
    try:
        return check_buckets(lengths, max(lengths))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_padding_arguments(group):
    """`--padding-invariant` / `--no-padding-invariant` and `--buckets`."""
    group.add_argument(
        "--padding-invariant",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep padding out of the SSMs and train on batches grouped by "
        "length, each padded to its bucket (default: the preset's "
        "setting; off from scratch)",
    )
    group.add_argument(
        "--buckets",
        type=bucket_list,
        metavar="16,32,...",
        help="lengths batches are padded to (padding-invariant models; "
        "default: powers of two from 16 up to the sequence length)",
    )


def positive_float(text):
    """`"0.001"` -> `0.001`, for a flag that takes a number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value > 0:
        raise argparse.ArgumentTypeError(
            f"expected a number above 0; got {text!r}"
        )
    return value


def add_scratch_model_arguments(model, hidden_dim, num_layers):
    """The flags of a small BiGS from scratch (`small_backbone`):
    `--hidden-dim` and `--num-layers` with the tool's defaults, and
    `--dt-min` / `--dt-max`, the range of the SSMs' initial step sizes
    (see `BiGSBackbone`)."""
    model.add_argument(
        "--hidden-dim", type=int, default=hidden_dim, help="from scratch"
    )
    model.add_argument(
        "--num-layers", type=int, default=num_layers, help="from scratch"
    )
    model.add_argument(
        "--dt-min",
        type=positive_float,
        default=0.01,
        help="from scratch: smallest initial SSM step; a kernel reaches "
        "about 14 / dt-min tokens",
    )
    model.add_argument(
        "--dt-max",
        type=positive_float,
        default=1.0,
        help="from scratch: largest initial SSM step",
    )


def check_scratch_model_arguments(parser, args):
    """Refuse what `add_scratch_model_arguments` parsed but cannot build,
    before any model is."""
    for flag in ("hidden_dim", "num_layers"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be positive")
    if args.dt_min > args.dt_max:
        parser.error(f"--dt-min {args.dt_min} is above --dt-max {args.dt_max}")


def add_corpus_arguments(parser, glue_sentences, heldout_every):
    """The pretraining corpus flags (`PretrainRun`'s corpus fields):
    exactly one of `--text`, `--tfds`, `--hdf5` (and `--glue-dir`, all GLUE
    training sentences, when `glue_sentences`), the TFDS and text options,
    and `--heldout-every` with the given default."""
    corpus = parser.add_argument_group("corpus (exactly one)")
    sources = corpus.add_mutually_exclusive_group(required=True)
    sources.add_argument(
        "--text", nargs="+", metavar="FILE", help="text files or glob patterns"
    )
    if glue_sentences:
        sources.add_argument("--glue-dir", help="all GLUE training sentences")
    sources.add_argument(
        "--tfds",
        metavar="NAME",
        help="TFDS text dataset, e.g. wikipedia/20230601.en",
    )
    sources.add_argument(
        "--hdf5",
        nargs="+",
        metavar="FILE",
        help="original BiGS pretraining shards (pre-masked)",
    )
    corpus.add_argument(
        "--document-separator", default="line", choices=("line", "blank_line")
    )
    corpus.add_argument(
        "--heldout-every",
        type=int,
        default=heldout_every,
        metavar="N",
        help="hold out one document in N from training and score the "
        "masked LM on them at every checkpoint (OUT/heldout_log.csv; "
        "default %(default)s)",
    )
    corpus.add_argument("--tfds-split", default="train")
    corpus.add_argument("--tfds-text-key", default="text")


def add_finetuning_arguments(parser, model):
    """`--dropout` (the head's) in the `model` group, and a "training"
    group with `--epochs` and `--max-steps`: the flags of the tools that
    fine-tune through `finetune`, which default epochs by where the model
    starts."""
    model.add_argument("--dropout", type=float, default=0.1)
    train = parser.add_argument_group("training")
    train.add_argument(
        "--epochs", type=int, help="default 3 from a preset, 1 from scratch"
    )
    train.add_argument(
        "--max-steps", type=int, help="stop after this many steps"
    )
    return train


def run_from_args(run_class, args, **flags):
    """The run (`GlueRun`, `PretrainRun`, ...) that parsed flags describe:
    its `recipe` from the recipe flags (`Recipe.from_args`), every other
    field from the flag of its name.

    Args:
        run_class: a dataclass with a `recipe` field.
        args: the parsed `argparse.Namespace`.
        **flags: flag names (as in `args`) of fields named otherwise, e.g.
            `export_dir="export"`; `None` for a field the tool has no flag
            for, which keeps its default.

    Returns:
        A `run_class`.

    Raises:
        ValueError: a field has no flag and is not named with `None`, so
            that a tool cannot drop a setting by a misspelled flag name.
    """
    values = {}
    for field in dataclasses.fields(run_class):
        flag = flags.get(field.name, field.name)
        if field.name == "recipe" or flag is None:
            continue
        if not hasattr(args, flag):
            raise ValueError(
                f"{run_class.__name__}.{field.name} has no flag: the parsed "
                f"flags have no {flag!r}. Add the flag, or pass "
                f"{field.name}=None to keep the field's default."
            )
        values[field.name] = getattr(args, flag)
    return run_class(recipe=Recipe.from_args(args), **values)


# What keras_bigs raises for a user's mistake: a bad value or a malformed
# or corrupt file (ValueError, CheckpointError, JSONDecodeError), a path
# that is missing, taken or not writable.
USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


def run_tool(main, argv=None):
    """Run a tool's `main(argv)` and return its exit status. A user's
    mistake (`USER_ERRORS`) is one line on stderr, `<tool>: error:
    <message>`, and status 2, as argparse reports a bad flag; any other
    exception is a bug and keeps its traceback. `BIGS_TRACEBACK=1` shows
    the traceback of every error."""
    try:
        return main(argv)
    except USER_ERRORS as error:
        if os.environ.get("BIGS_TRACEBACK"):
            raise
        tool = os.path.basename(main.__code__.co_filename)
        message = " ".join(str(error).split())
        print(f"{tool}: error: {message}", file=sys.stderr)
        return 2
