"""Memory and time of one BiGS fine-tuning step (batch 1, AdamW,
classification head) with and without `remat`, by sequence length and
depth, side by side in one run.

Memory: on JAX, XLA's buffer plan of the compiled step (compiled, not
run, so any size can be planned); on TensorFlow and PyTorch, the growth
of the peak resident memory of a fresh process per row that builds the
model and runs two steps (the second is timed). The default sizes are the
published 4,096-token model's (12 layers, hidden 768, intermediate 2304,
state 64); `--layers 2,6` gives two depths, and the growth per layer
between them (`MB/layer`), which is what remat changes. Steps on
TensorFlow and PyTorch run without XLA (`--jit-compile` to use it).

    KERAS_BACKEND=tensorflow python tools/benchmark_remat.py \\
        --lengths 16384 --hidden 256 --layers 2,6 --json runs/remat.json
    KERAS_BACKEND=jax python tools/benchmark_remat.py \\
        --lengths 4096,16384,65536
"""

import argparse
import json
import pathlib
import subprocess
import sys

import keras

from keras_bigs.performance import benchmark
from keras_bigs.training.command_line import int_list
from keras_bigs.training.command_line import run_tool

COLUMNS = [
    ("length", "length", "d"),
    ("layers", "layers", "d"),
    ("dtype", "dtype", "s"),
    ("MB", "memory_mb", ".0f"),
    ("MB remat", "remat_memory_mb", ".0f"),
    ("memory ratio", "memory_ratio", ".2f"),
    ("MB/layer", "memory_per_layer_mb", ".0f"),
    ("MB/layer remat", "remat_memory_per_layer_mb", ".0f"),
    ("step s", "step_s", ".2f"),
    ("step s remat", "remat_step_s", ".2f"),
    ("time ratio", "time_ratio", ".2f"),
]


def model_kwargs(args, layers, dtype, remat):
    return dict(
        hidden_dim=args.hidden,
        num_layers=layers,
        bigs_intermediate_dim=args.intermediate,
        state_dim=args.state,
        dropout=0.1,
        dtype=None if dtype == "float32" else dtype,
        remat=remat,
    )


def measure(args, length, layers, dtype, remat):
    """`(megabytes, step seconds or None)` of one configuration."""
    if keras.backend.backend() == "jax":
        backbone = benchmark.matched_backbones(
            length, **model_kwargs(args, layers, dtype, remat)
        )["bigs"]
        model = benchmark.classification_model(backbone)
        x, y = benchmark.random_batch(1, length)
        return benchmark.xla_step_memory_mb(model, x, y), None
    command = [
        sys.executable,
        __file__,
        "--probe",
        "--lengths",
        str(length),
        "--layers",
        str(layers),
        "--dtypes",
        dtype,
        "--hidden",
        str(args.hidden),
        "--intermediate",
        str(args.intermediate),
        "--state",
        str(args.state),
    ]
    command += ["--remat"] if remat else []
    command += ["--jit-compile"] if args.jit_compile else []
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    megabytes, seconds = result.stdout.strip().splitlines()[-1].split()
    return float(megabytes), float(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lengths", type=int_list, default=[4096, 16384, 65536]
    )
    parser.add_argument(
        "--layers",
        type=int_list,
        default=[12],
        help="depths; two or more also give the growth per layer",
    )
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--intermediate", type=int, default=2304)
    parser.add_argument("--state", type=int, default=64)
    parser.add_argument(
        "--dtypes",
        default="float32",
        help="comma-separated: float32, mixed_bfloat16",
    )
    parser.add_argument(
        "--jit-compile",
        action="store_true",
        help="TensorFlow and PyTorch steps compiled (XLA / torch.compile)",
    )
    parser.add_argument("--json", type=pathlib.Path, help="write results")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--remat", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    dtypes = [d for d in args.dtypes.split(",") if d]

    if args.probe:
        megabytes, seconds = benchmark.rss_step_memory_mb(
            "bigs",
            args.lengths[0],
            tokens_per_batch=args.lengths[0],
            jit_compile=args.jit_compile,
            **model_kwargs(args, args.layers[0], dtypes[0], args.remat),
        )
        print(megabytes, seconds)
        return 0

    rows = []
    for dtype in dtypes:
        for length in args.lengths:
            group = []
            for layers in args.layers:
                row = {"length": length, "layers": layers, "dtype": dtype}
                for remat, prefix in ((False, ""), (True, "remat_")):
                    megabytes, seconds = measure(
                        args, length, layers, dtype, remat
                    )
                    row[f"{prefix}memory_mb"] = megabytes
                    row[f"{prefix}step_s"] = seconds
                row["memory_ratio"] = row["remat_memory_mb"] / row["memory_mb"]
                if row["step_s"]:
                    row["time_ratio"] = row["remat_step_s"] / row["step_s"]
                group.append(row)
            for shallow, deep in zip(group, group[1:]):
                added = deep["layers"] - shallow["layers"]
                for prefix in ("", "remat_"):
                    deep[f"{prefix}memory_per_layer_mb"] = (
                        deep[f"{prefix}memory_mb"]
                        - shallow[f"{prefix}memory_mb"]
                    ) / added
            rows.extend(group)
    measure_name = (
        "XLA buffer plan of the compiled step"
        if keras.backend.backend() == "jax"
        else "peak RSS growth of a fresh process, two steps"
    )
    print(f"backend {keras.backend.backend()}; memory: {measure_name}")
    print(benchmark.format_table(rows, COLUMNS))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "machine": benchmark.machine_description(),
            "backend": keras.backend.backend(),
            "memory_measure": measure_name,
            "settings": {
                k: str(v) if isinstance(v, pathlib.Path) else v
                for k, v in vars(args).items()
                if k not in ("probe", "remat")
            },
            "rows": rows,
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
