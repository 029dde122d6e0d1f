"""Command-line flags shared by the training tools (`tools/run_glue.py`,
`tools/pretrain.py`, `tools/ablation_study.py`)."""

import argparse

from keras_bigs.data.length_buckets import check_buckets
from keras_bigs.training.distribution import MIXED_PRECISION_POLICIES
from keras_bigs.training.schedules import DECAYS


def add_recipe_arguments(group, schedule, warmup_fraction):
    """Optimizer and schedule flags (`bigs_optimizer`'s arguments)."""
    group.add_argument("--schedule", default=schedule, choices=DECAYS)
    group.add_argument("--warmup-fraction", type=float, default=warmup_fraction)
    group.add_argument("--weight-decay", type=float, default=0.01)
    group.add_argument("--global-clipnorm", type=float, default=1.0)
    group.add_argument("--seed", type=int, default=0)


def add_hardware_arguments(parser):
    """`--strategy`, `--tpu`, `--mixed-precision` (`setup_distribution`,
    `set_mixed_precision`)."""
    hardware = parser.add_argument_group("hardware")
    hardware.add_argument(
        "--strategy",
        default="auto",
        help="auto, default; tensorflow: tpu, mirrored, "
        "multi_worker; jax: data_parallel, model_parallel",
    )
    hardware.add_argument("--tpu", help="TPU name or grpc:// address")
    hardware.add_argument("--mixed-precision", choices=MIXED_PRECISION_POLICIES)


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
