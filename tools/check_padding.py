"""How far a checkpoint's outputs move with the padded length, in the
faithful mode and with `padding_invariant=True`.

Loads the backbone of FOLDER (any preset or original checkpoint) both
ways, takes the rows of its `reference_outputs.npz` (`x_*`) at their real
lengths, pads them together to each of --lengths and prints, per mode and
length, the largest relative change of `sequence_output` at real tokens
and of `pooled_output` from each row alone at its exact length
(`keras_bigs.analysis.padding_change`). Exits 1 when the invariant mode
moves by more than --tolerance.

    python tools/check_padding.py \\
        ../shared/fixtures/bigs_reference_strong/flax_classifier
"""

import argparse
import json
import pathlib
import sys

import keras
import numpy as np

import keras_bigs
from keras_bigs.analysis import padding_change
from keras_bigs.training.command_line import run_tool


def parse_lengths(text):
    return tuple(int(n) for n in text.split(","))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument(
        "--lengths",
        type=parse_lengths,
        help="padded lengths (default: 16, 64 and the model's maximum)",
    )
    parser.add_argument("--tolerance", type=float, default=5e-5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)

    reference = np.load(args.folder / "reference_outputs.npz")
    mask = reference["x_padding_mask"].astype(bool)
    real = mask.sum(axis=1)
    token_rows = [
        row[:n].tolist() for row, n in zip(reference["x_token_ids"], real)
    ]
    segment_rows = [
        row[:n].tolist() for row, n in zip(reference["x_segment_ids"], real)
    ]
    results = {"folder": str(args.folder), "row_lengths": real.tolist()}
    print(f"{args.folder}: rows of {real.tolist()} tokens")
    print(f"{'mode':<12} {'padded to':>9} {'relative change':>16}")
    for mode, invariant in (("faithful", False), ("invariant", True)):
        backbone = keras_bigs.BiGSBackbone.from_preset(
            str(args.folder), padding_invariant=invariant
        )
        lengths = args.lengths or tuple(
            sorted({16, 64, backbone.max_sequence_length})
        )
        changes = padding_change(backbone, token_rows, lengths, segment_rows)
        results[mode] = {str(n): change for n, change in changes.items()}
        for length, change in changes.items():
            print(f"{mode:<12} {length:>9} {change:>16.2e}")
    results["backend"] = keras.backend.backend()
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=2))
    worst = max(results["invariant"].values())
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(run_tool(main))
