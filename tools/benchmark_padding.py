"""Full-length against bucketed padding on SST-2's real sentences.

Fine-tuning: training examples/s of one BiGS classifier padding every batch
to the full sequence length (the published models' behaviour) and of the
same model, padding-invariant, padding each batch to its length bucket
(batches grouped by length as `tools/run_glue.py --padding-invariant`
does). Serving: examples/s of the exported SavedModels (strings in) on
the held-out sentences, with keras-hub's BERT of the same size at the same
bucketing beside them. Both run in turns in one process; the table gives
the ratios; --json writes them with the settings.

    KERAS_BACKEND=jax python tools/benchmark_padding.py \\
        --glue-dir ../shared/glue --json runs/padding.json
    # bigger machines: --hidden-dim 768 --num-layers 12
"""

import argparse
import sys
import tempfile

import keras

from keras_bigs.data.length_buckets import default_buckets
from keras_bigs.performance import padding
from keras_bigs.performance.benchmark import machine_description
from keras_bigs.performance.benchmark import write_results
from keras_bigs.training.command_line import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--glue-dir", required=True)
    parser.add_argument("--sequence-length", type=int, default=512)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--state-dim", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--turns",
        type=int,
        default=6,
        help="fine-tuning turns (1 full-length + 10 bucketed batches each)",
    )
    parser.add_argument(
        "--serving-batches",
        type=int,
        default=20,
        help="batches each SavedModel serves, in turns",
    )
    parser.add_argument(
        "--skip-serving", action="store_true", help="fine-tuning only"
    )
    parser.add_argument("--json", help="write the results here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    buckets = default_buckets(args.sequence_length)
    classifiers = padding.bigs_classifiers(
        args.sequence_length,
        args.hidden_dim,
        args.num_layers,
        args.state_dim,
        buckets,
    )
    print(
        f"BiGS {args.num_layers} layers, hidden {args.hidden_dim}, "
        f"{args.sequence_length} tokens, "
        f"{classifiers['fixed'].count_params():,} parameters; buckets "
        f"{list(buckets)}; {keras.backend.backend()}"
    )
    results = {
        "settings": vars(args),
        "buckets": list(buckets),
        "backend": keras.backend.backend(),
        "machine": machine_description(),
    }
    training = padding.finetuning_throughput(
        args.glue_dir, classifiers, args.batch_size, args.turns
    )
    results["finetuning"] = training
    print_table(
        "Fine-tuning on SST-2 training sentences",
        f"{'padding':>10}  {'examples/s':>10}  {'mean length':>11}  programs",
        [
            f"{variant:>10}  {row['examples_per_s']:10.1f}  "
            f"{row['mean_padded_length']:11.1f}  {row['programs']}"
            for variant, row in training.items()
        ],
    )
    ratio = (
        training["bucketed"]["examples_per_s"]
        / training["fixed"]["examples_per_s"]
    )
    results["finetuning_speedup"] = ratio
    print(f"bucketed / fixed: {ratio:.1f}x")

    if not args.skip_serving:
        bert = padding.bert_classifier(
            args.sequence_length, args.hidden_dim, args.num_layers
        )
        with tempfile.TemporaryDirectory() as directory:
            serving = padding.serving_comparison(
                args.glue_dir,
                classifiers,
                bert,
                directory,
                args.batch_size,
                args.serving_batches,
            )
        results["serving"] = serving
        print_table(
            "Serving SST-2 held-out sentences (SavedModel, strings in)",
            f"{'model':>14}  {'examples/s':>10}  {'/ bigs_fixed':>12}",
            [
                f"{name:>14}  {rate:10.1f}  "
                f"{rate / serving['bigs_fixed']:11.1f}x"
                for name, rate in serving.items()
            ],
        )
        results["serving_speedup"] = (
            serving["bigs_bucketed"] / serving["bigs_fixed"]
        )
    write_results(args.json, results)
    return 0


def print_table(title, header, rows):
    print(f"\n{title}")
    print(header)
    for row in rows:
        print(row)


if __name__ == "__main__":
    sys.exit(run_tool(main))
