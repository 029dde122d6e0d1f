"""Seconds and memory per long document, through `predict` and through
the served SavedModel, by length.

One padding-invariant BiGS classifier (random weights: the cost does not
depend on them) reads one document of real prose per length, as many of
the text's first words as fill that length's bucket (`--lengths` are the
buckets, the longest is the sequence length). It is saved as a preset
and exported with `export_for_serving` (strings in, tokenized in the
graph). Seconds: the median of `--repeats` calls after one that compiles
the bucket, predict and served in turns, in this process. Memory: the
peak resident memory of a fresh process that imports what it needs,
loads the model and answers one document (compilation included): what
a process serving that length needs. The table also gives the largest
difference between the served and the predicted logits.

    KERAS_BACKEND=jax python tools/benchmark_long_inputs.py \\
        --text ../shared/corpus/linux_docs.txt --json runs/long_inputs.json
"""

import argparse
import functools
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_tokenizer import BiGSTokenizer
from keras_bigs.performance import benchmark
from keras_bigs.performance import long_inputs
from keras_bigs.serving.export import export_for_serving
from keras_bigs.training.command_line import bucket_list
from keras_bigs.training.command_line import run_tool
from keras_bigs.training.command_line import tool_parser

COLUMNS = [
    ("length", "length", "d"),
    ("predict s", "predict_s", ".3f"),
    ("predict tok/s", "predict_tokens_per_s", ".0f"),
    ("predict MB", "predict_memory_mb", ".0f"),
    ("served s", "served_s", ".3f"),
    ("served tok/s", "served_tokens_per_s", ".0f"),
    ("served MB", "served_memory_mb", ".0f"),
    ("max |served - predict|", "max_logit_difference", ".1e"),
]
PROBES = ("predict", "served")


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument(
        "--text", required=True, help="plain text with enough words"
    )
    parser.add_argument(
        "--lengths",
        type=bucket_list,
        default=(1024, 4096, 16384, 65536),
        help="the buckets, increasing (default 1024,4096,16384,65536)",
    )
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--state-dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--output-dir", help="keep the preset and the export here"
    )
    parser.add_argument("--json", type=pathlib.Path, help="write results")
    parser.add_argument("--probe", choices=PROBES, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load(kind, model):
    """`document -> logits` of the preset or the export at `model`, and
    the tokenizer that cuts the documents."""
    if kind == "predict":
        classifier = BiGSClassifier.from_preset(model)
        logits_fn = long_inputs.predict_logits(classifier)
        return logits_fn, classifier.preprocessor.tokenizer
    return long_inputs.served_logits(model), BiGSTokenizer()


def probe(args):
    """Print the peak resident memory of this process, which loads the
    model and answers one document (the imports and the loading are part
    of it: a process that serves the model needs them too)."""
    logits_fn, tokenizer = load(args.probe, args.model)
    (document,) = long_inputs.prose_documents(
        args.text, args.lengths, tokenizer
    ).values()
    logits_fn(document)
    print(benchmark.peak_rss_mb())


def memory_mb(args, kind, model, length):
    """`probe`'s number, from a fresh process."""
    command = [sys.executable, __file__, "--probe", kind, "--model", model]
    command += ["--text", args.text, "--lengths", str(length)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def measure(args, directory):
    classifier = long_inputs.long_document_classifier(
        args.lengths, args.hidden_dim, args.num_layers, args.state_dim
    )
    documents = long_inputs.prose_documents(
        args.text, args.lengths, classifier.preprocessor.tokenizer
    )
    models = {"predict": str(directory / "preset")}
    classifier.save_to_preset(models["predict"])
    models["served"] = str(directory / "serving")
    export = export_for_serving(classifier, models["served"])
    logits_fns = {
        "predict": long_inputs.predict_logits(classifier),
        "served": long_inputs.served_logits(models["served"]),
    }
    rows = []
    for length, document in sorted(documents.items()):
        tokens = len(classifier.preprocessor.tokenizer(document)) + 2
        row = {"length": length, "document_tokens": tokens}
        # The first call of each compiles the bucket; it is not timed.
        logits = {k: np.asarray(f(document)) for k, f in logits_fns.items()}
        row["max_logit_difference"] = float(
            np.max(np.abs(logits["served"] - logits["predict"]))
        )
        timed = {
            kind: functools.partial(logits_fn, document)
            for kind, logits_fn in logits_fns.items()
        }
        all_seconds = benchmark.interleaved_seconds(
            timed, args.repeats, warmup=0, untimed_per_turn=0
        )
        for kind, seconds in all_seconds.items():
            row[f"{kind}_s"] = seconds
            row[f"{kind}_tokens_per_s"] = length / seconds
            row[f"{kind}_memory_mb"] = memory_mb(
                args, kind, models[kind], length
            )
        print(
            f"length {length}: predict {row['predict_s']:.3f} s, served "
            f"{row['served_s']:.3f} s",
            flush=True,
        )
        rows.append(row)
    return rows, export


def main(argv=None):
    args = parse_args(argv)
    if args.probe:
        probe(args)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        directory = pathlib.Path(args.output_dir or scratch)
        rows, export = measure(args, directory)
    report = {
        "machine": benchmark.machine_description(),
        "settings": {
            k: v
            for k, v in vars(args).items()
            if k not in ("json", "probe", "model")
        },
        "export_seconds": export["export_seconds"],
        "export_megabytes": export["total_bytes"] / 2**20,
        "lengths": {str(row["length"]): row for row in rows},
    }
    print(
        f"\n{report['machine']['backend']}, hidden {args.hidden_dim}, "
        f"{args.num_layers} layers, buckets {sorted(args.lengths)}; export "
        f"{report['export_seconds']:.0f} s, "
        f"{report['export_megabytes']:.0f} MB; one document per call"
    )
    print(benchmark.format_table(rows, COLUMNS))
    if args.json:
        benchmark.write_results(args.json, report)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
