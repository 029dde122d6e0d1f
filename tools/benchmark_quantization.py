"""int8 (Keras `quantize("int8")`) against float32 BiGS on this CPU.

Builds one random BiGS classifier (default: BiGS-base's shape, 12 layers,
hidden 768, 512 tokens) and a copy quantized to int8, and prints the size
of the saved weights, predict speed (measured in turns, so background
load hits both alike) and how far the logits move. With --fixtures it
also quantizes every task on the original reference checkpoints and
prints how far each output moves (the bound tests/models/
test_quantization.py asserts). --json writes the results.

    KERAS_BACKEND=jax python tools/benchmark_quantization.py \\
        --fixtures ../shared/fixtures/bigs_reference_strong \\
        --json runs/quantization.json
"""

import argparse
import sys
import tempfile

import keras

from keras_bigs.performance import quantization
from keras_bigs.performance.benchmark import machine_description
from keras_bigs.performance.benchmark import write_results
from keras_bigs.training.command_line import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--sequence-length", type=int, default=512)
    parser.add_argument("--hidden-dim", type=int, default=768)
    parser.add_argument("--num-layers", type=int, default=12)
    parser.add_argument("--intermediate-dim", type=int, default=3072)
    parser.add_argument("--state-dim", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--fixtures", help="reference checkpoints to measure the error on"
    )
    parser.add_argument("--json", help="write the results here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    pair = quantization.classifier_pair(
        args.sequence_length,
        args.hidden_dim,
        args.num_layers,
        args.intermediate_dim,
        args.state_dim,
    )
    print(
        f"BiGS classifier: {args.num_layers} layers, hidden "
        f"{args.hidden_dim}, {pair['float32'].count_params():,} parameters; "
        f"batch {args.batch_size} x {args.sequence_length} tokens; "
        f"{keras.backend.backend()}"
    )
    with tempfile.TemporaryDirectory() as directory:
        rows = quantization.compare(
            pair,
            args.batch_size,
            args.sequence_length,
            directory,
            args.repeats,
        )
    results = {
        "settings": vars(args),
        "backend": keras.backend.backend(),
        "machine": machine_description(),
        "classifier": rows,
    }
    print(
        f"{'weights':>8}  {'MB on disk':>10}  {'examples/s':>10}  "
        f"{'logits error':>12}"
    )
    for variant, row in rows.items():
        print(
            f"{variant:>8}  {row['weights_bytes'] / 1e6:10.1f}  "
            f"{row['examples_per_s']:10.2f}  "
            f"{row['relative_logits_error']:12.1e}"
        )
    size = rows["float32"]["weights_bytes"] / rows["int8"]["weights_bytes"]
    speed = rows["int8"]["examples_per_s"] / rows["float32"]["examples_per_s"]
    results["size_ratio"], results["speed_ratio"] = size, speed
    print(
        f"float32 / int8 size: {size:.2f}x; int8 / float32 speed: {speed:.2f}x"
    )
    if args.fixtures:
        errors = quantization.fixture_errors(args.fixtures)
        results["fixture_errors"] = [
            dict(zip(("checkpoint", "task", "output", "error"), row))
            for row in errors
        ]
        print(f"\nint8 on {args.fixtures}: max|int8 - float32| / max|float32|")
        for checkpoint, task, output, error in errors:
            print(f"{checkpoint:>26}  {task:>20}  {output:>13}  {error:.1e}")
    write_results(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
