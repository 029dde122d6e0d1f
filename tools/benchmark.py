"""BiGS against keras-hub's BERT, side by side: training and inference
throughput (tokens/s) and peak memory by sequence length.

Both models have the same depth and width (BiGS intermediate 3H, BERT 4H:
parameter counts within a few percent, printed), train with their usual
dropout (0.1; --dropout 0 for the bare math) and see the same number of
tokens per batch at every length. Steps are compiled (XLA) Keras steps,
timed in turns after a warm-up (each turn: one untimed step, then a
timed one); the medians and the ratios BiGS / BERT go
to a table and, with --json, to a file with the machine description.
Peak memory: on JAX, XLA's buffer plan of the compiled training step; on
other backends, the peak resident memory of a fresh process per model and
length (--rss-memory; slower).

    KERAS_BACKEND=jax python tools/benchmark.py --lengths 128,1024,4096 \\
        --json runs/benchmark.json
    KERAS_BACKEND=jax python tools/benchmark.py --conv-only \\
        --lengths 128,256,512,1024
    KERAS_BACKEND=jax python tools/benchmark.py --lengths 128,1024 \\
        --dtypes float32,mixed_bfloat16
    # longer than a step's tokens: one sequence a step; BERT up to 4,096
    KERAS_BACKEND=jax python tools/benchmark.py \\
        --lengths 1024,4096,16384,65536 --bert-max-length 4096
"""

import argparse
import pathlib
import subprocess
import sys

import keras

from keras_bigs.layers.s4d import CONV_MODES
from keras_bigs.performance import benchmark
from keras_bigs.training.command_line import int_list
from keras_bigs.training.command_line import run_tool

MODEL_LABELS = {"bigs": "BiGS", "bert": "BERT"}

MODEL_COLUMNS = [
    ("length", "length", "d"),
    ("batch", "batch_size", "d"),
    ("tokens/step", "tokens_per_step", "d"),
    ("conv", "conv_mode", "s"),
    ("BiGS train tok/s", "bigs_train_tokens_per_s", ".0f"),
    ("BERT train tok/s", "bert_train_tokens_per_s", ".0f"),
    ("train ratio", "train_ratio", ".2f"),
    ("BiGS infer tok/s", "bigs_inference_tokens_per_s", ".0f"),
    ("BERT infer tok/s", "bert_inference_tokens_per_s", ".0f"),
    ("infer ratio", "inference_ratio", ".2f"),
    ("BiGS MB", "bigs_peak_memory_mb", ".0f"),
    ("BERT MB", "bert_peak_memory_mb", ".0f"),
]


def model_kwargs(args, dtype):
    return dict(
        hidden_dim=args.hidden,
        num_layers=args.layers,
        bigs_intermediate_dim=args.bigs_intermediate,
        bert_intermediate_dim=args.bert_intermediate,
        num_heads=args.heads,
        state_dim=args.state,
        conv_mode=args.conv_mode,
        dropout=args.dropout,
        dtype=None if dtype == "float32" else dtype,
    )


def rss_probe(args, name, length, dtype):
    """Peak memory of one model at one length, in a fresh process."""
    command = [
        sys.executable,
        __file__,
        "--rss-probe",
        name,
        "--lengths",
        str(length),
        "--dtypes",
        dtype,
        "--tokens-per-batch",
        str(args.tokens_per_batch),
        "--hidden",
        str(args.hidden),
        "--layers",
        str(args.layers),
        "--state",
        str(args.state),
        "--conv-mode",
        args.conv_mode,
        "--dropout",
        str(args.dropout),
    ]
    for flag, value in (
        ("--bigs-intermediate", args.bigs_intermediate),
        ("--bert-intermediate", args.bert_intermediate),
        ("--heads", args.heads),
    ):
        if value:
            command += [flag, str(value)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lengths", type=int_list, default=[128, 512, 1024, 2048, 4096]
    )
    parser.add_argument(
        "--tokens-per-batch",
        type=int,
        default=8192,
        help="tokens in a training step (one sequence at longer lengths)",
    )
    parser.add_argument(
        "--bert-max-length",
        type=int,
        help="run BERT only up to this length (BiGS alone above it)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed steps per model (median reported)",
    )
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--untimed-per-turn",
        type=int,
        default=1,
        help="steps each model runs untimed before its timed "
        "step in every turn (absorbs the other model's "
        "memory churn)",
    )
    parser.add_argument("--json", type=pathlib.Path, help="write results")
    model = parser.add_argument_group("models (BiGS and BERT alike)")
    model.add_argument("--hidden", type=int, default=256)
    model.add_argument("--layers", type=int, default=4)
    model.add_argument(
        "--bigs-intermediate",
        type=int,
        help="default 3 x hidden (the paper's BiGS)",
    )
    model.add_argument(
        "--bert-intermediate", type=int, help="default 4 x hidden (BERT)"
    )
    model.add_argument("--heads", type=int, help="default hidden / 64")
    model.add_argument("--state", type=int, default=64)
    model.add_argument("--conv-mode", default="auto", choices=CONV_MODES)
    model.add_argument(
        "--dropout",
        type=float,
        default=0.1,
        help="training dropout of both models (default 0.1, "
        "as both are trained; 0 times the bare math)",
    )
    parser.add_argument(
        "--dtypes",
        default="float32",
        help="comma-separated: float32, mixed_bfloat16, "
        "mixed_float16; each is benchmarked in turn",
    )
    parser.add_argument("--no-inference", action="store_true")
    parser.add_argument(
        "--rss-memory",
        action="store_true",
        help="peak RSS per model in fresh processes (any "
        "backend; default on non-JAX backends)",
    )
    parser.add_argument(
        "--conv-only",
        action="store_true",
        help="time S4DConv's FFT and Toeplitz paths only",
    )
    parser.add_argument(
        "--rss-probe", choices=benchmark.MODEL_NAMES, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    dtypes = [d for d in args.dtypes.split(",") if d]

    if args.rss_probe:
        megabytes, _ = benchmark.rss_step_memory_mb(
            args.rss_probe,
            args.lengths[0],
            args.tokens_per_batch,
            **model_kwargs(args, dtypes[0]),
        )
        print(megabytes)
        return 0

    report = {
        "machine": benchmark.machine_description(),
        "settings": {
            k: v
            for k, v in vars(args).items()
            if k not in ("json", "rss_probe")
        },
    }
    if args.conv_only:
        rows = benchmark.benchmark_convolution(
            args.lengths,
            args.tokens_per_batch,
            channels=args.hidden,
            repeats=args.repeats,
            warmup=args.warmup,
        )
        print(
            benchmark.format_table(
                rows,
                [
                    ("length", "length", "d"),
                    ("batch", "batch_size", "d"),
                    ("FFT ms", "fft_ms", ".1f"),
                    ("Toeplitz ms", "toeplitz_ms", ".1f"),
                    ("auto picks", "auto", "s"),
                ],
            )
        )
        report["convolution"] = rows
    else:
        rss = args.rss_memory or keras.backend.backend() != "jax"
        for dtype in dtypes:
            rows = []
            for length in args.lengths:
                row = benchmark.benchmark_length(
                    length,
                    args.tokens_per_batch,
                    args.repeats,
                    args.warmup,
                    memory=not rss,
                    inference=not args.no_inference,
                    untimed_per_turn=args.untimed_per_turn,
                    bert_max_length=args.bert_max_length,
                    **model_kwargs(args, dtype),
                )
                if rss:
                    for name in benchmark.MODEL_NAMES:
                        if f"{name}_train_tokens_per_s" in row:
                            row[f"{name}_peak_memory_mb"] = rss_probe(
                                args, name, length, dtype
                            )
                    # A tiny model may not raise the peak set by imports.
                    if row.get("bert_peak_memory_mb") and (
                        row["bigs_peak_memory_mb"] > 0
                    ):
                        row["memory_ratio"] = (
                            row["bert_peak_memory_mb"]
                            / row["bigs_peak_memory_mb"]
                        )
                    row["memory_measure"] = "peak RSS growth, own process"
                else:
                    row["memory_measure"] = "XLA buffer plan of the step"
                rows.append(row)
                print(
                    f"[{dtype}] length {length}: BiGS "
                    f"{row['bigs_train_tokens_per_s']:.0f} training "
                    "tokens/s",
                    flush=True,
                )
            print(
                f"\n{dtype}, {report['machine']['backend']}, "
                f"{args.tokens_per_batch} tokens per step (one sequence "
                "at longer lengths), dropout "
                f"{args.dropout}, "
                + " / ".join(
                    f"{label} {rows[0][f'{name}_parameters']:,}"
                    for name, label in MODEL_LABELS.items()
                    if f"{name}_parameters" in rows[0]
                )
                + " parameters (ratios are BiGS / BERT throughput)"
            )
            print(benchmark.format_table(rows, MODEL_COLUMNS))
            report.setdefault("runs", {})[dtype] = {
                str(row["length"]): row for row in rows
            }
        # The first dtype's rows at the top level: {length: {...}}.
        report["lengths"] = report["runs"][dtypes[0]]
        if len(dtypes) > 1:
            report["speedup_over_" + dtypes[0]] = speedups = {}
            print(f"\ntraining speed-up over {dtypes[0]}")
            for dtype in dtypes[1:]:
                for length, row in report["runs"][dtype].items():
                    base = report["lengths"][length]
                    speedups.setdefault(dtype, {})[length] = ratios = {
                        name: row[f"{name}_train_tokens_per_s"]
                        / base[f"{name}_train_tokens_per_s"]
                        for name in benchmark.MODEL_NAMES
                        if f"{name}_train_tokens_per_s" in row
                    }
                    print(
                        f"  {dtype} at {length}: "
                        + ", ".join(
                            f"{MODEL_LABELS[name]} {ratio:.2f}x"
                            for name, ratio in ratios.items()
                        )
                    )
    if args.json:
        benchmark.write_results(args.json, report)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
