"""Plot the SSM kernels of every layer of a BiGS checkpoint (Figures 3, 4).

MODEL is anything `BiGSBackbone.from_preset` loads: a registered preset
name, a keras-hub preset folder (a fine-tuned model saved with
`save_to_preset`) or an original BiGS checkpoint folder. Writes Figure 3
(per layer, |forward kernel| at relative positions -P..-1 and |backward
kernel| at 1..P, min-max scaled per layer) to --output and prints each
layer's reach (`kernel_reach`: how many tokens its kernels carry a token
before the taps fall below --reach-threshold); with --compare,
also Figure 4 (each layer's unscaled profile over every relative position,
MODEL against OTHER) to --compare-output. --json writes the numbers.

    python tools/plot_kernels.py bigs_512_en --output kernels.png
    python tools/plot_kernels.py bigs_512_en --compare runs/sst2/best_model \
        --output kernels.png --json kernels.json
"""

import argparse
import json
import pathlib
import sys
import warnings

import keras_bigs
from keras_bigs.analysis import kernel_reach
from keras_bigs.analysis import layer_kernels
from keras_bigs.analysis import plot_kernel_comparison
from keras_bigs.analysis import plot_kernel_heatmap
from keras_bigs.analysis import relative_position_profile
from keras_bigs.training.command_line import run_tool


def load_backbone(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a masked-LM without pooler
        return keras_bigs.BiGSBackbone.from_preset(model)


def print_reach(backbone, forward, backward, args):
    """Print and return each layer's reach (`kernel_reach`)."""
    length = args.reach_length or backbone.max_sequence_length
    if length != forward.shape[-1]:
        forward, backward = layer_kernels(backbone, length)
    reach = kernel_reach(forward, backward, args.reach_threshold)
    print(
        f"reach (tokens at which a tap falls below {args.reach_threshold:g} "
        f"of the kernel's largest; searched to {length - 1}):"
    )
    for layer, (left, right) in enumerate(reach):
        print(f"  layer {layer}: forward {left}, backward {right}")
    return {
        "threshold": args.reach_threshold,
        "length": length,
        "forward": reach[:, 0].tolist(),
        "backward": reach[:, 1].tolist(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="preset name or folder")
    parser.add_argument(
        "--output",
        required=True,
        help="Figure 3 PNG (heat map, one row per layer)",
    )
    parser.add_argument(
        "--positions",
        default="10",
        help="largest relative position shown, or 'full' "
        "(max_sequence_length - 1); default 10",
    )
    parser.add_argument(
        "--compare", metavar="OTHER", help="a second checkpoint for Figure 4"
    )
    parser.add_argument(
        "--compare-output", help="Figure 4 PNG; default OUTPUT_compare.png"
    )
    parser.add_argument(
        "--layers",
        type=int,
        nargs="+",
        help="layers drawn in Figure 4; default all",
    )
    parser.add_argument(
        "--reach-length",
        type=int,
        help="taps searched for each layer's reach (how far its kernels "
        "carry a token); default max_sequence_length",
    )
    parser.add_argument(
        "--reach-threshold",
        type=float,
        default=1e-3,
        help="a tap within reach weighs at least this share of the "
        "kernel's largest; default 1e-3",
    )
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args(argv)

    backbone = load_backbone(args.model)
    full = backbone.max_sequence_length
    if args.positions == "full":
        positions = full - 1
    else:
        try:
            positions = int(args.positions)
        except ValueError:
            parser.error(
                f"--positions must be an int or 'full', not {args.positions!r}"
            )
        if not 0 <= positions < full:
            parser.error(
                f"--positions must be in 0..{full - 1} (the "
                f"model's max_sequence_length is {full})"
            )
    try:
        forward, backward = layer_kernels(backbone, full)
    except ValueError as error:
        parser.error(str(error))
    offsets, profile = relative_position_profile(forward, backward, positions)
    plot_kernel_heatmap(
        offsets, profile, args.output, title=pathlib.Path(args.model).name
    )
    report = {
        "model": args.model,
        "positions": offsets.tolist(),
        "figure3": {"path": args.output, "min_max_scaled": profile.tolist()},
    }
    print(
        f"wrote {args.output} ({profile.shape[0]} layers, positions "
        f"{-positions}..{positions})"
    )
    report["reach"] = print_reach(backbone, forward, backward, args)

    if args.compare:
        other = load_backbone(args.compare)
        length = min(full, other.max_sequence_length)
        compare_output = args.compare_output or str(
            pathlib.Path(args.output).with_name(
                pathlib.Path(args.output).stem + "_compare.png"
            )
        )
        all_offsets, ours = relative_position_profile(
            forward[..., :length],
            backward[..., :length],
            length - 1,
            scale=False,
        )
        try:
            _, theirs = relative_position_profile(
                *layer_kernels(other, length), length - 1, scale=False
            )
            plot_kernel_comparison(
                all_offsets,
                [ours, theirs],
                # As given: two folders' names alone may be the same
                # ("model").
                [args.model, args.compare],
                compare_output,
                layers=args.layers,
            )
        except ValueError as error:
            parser.error(str(error))
        report["figure4"] = {
            "path": compare_output,
            "other": args.compare,
            "positions": all_offsets.tolist(),
            "model": ours.tolist(),
            "other_model": theirs.tolist(),
        }
        print(f"wrote {compare_output}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
