"""FLOPs of BiGS and BERT by sequence length: the paper's Table 6, a training
step's count, and (--xla) XLA's own count of the compiled step.

By default it reproduces Table 6 of "Pretraining Without Attention" (BiGS:
23 layers, hidden 1024, intermediate 3072, state 64; BERT-large: 24 layers,
hidden 1024, intermediate 4096, 16 heads) side by side with the paper's
numbers, in the paper's convention (one sequence, forward pass, matmuls and
FFT convolution only; see `keras_bigs.performance.table6_flops`). The "train"
columns count a whole training step: forward + backward (2x forward for
matmuls), every op, embeddings included, times --batch-size.

Any of --layers/--hidden/--intermediate/--state/--heads/--vocab switches to
a custom configuration: unset sizes follow the paper's (BiGS intermediate
3 x hidden, BERT intermediate 4 x hidden, heads hidden / 64). --xla (needs
KERAS_BACKEND=jax) builds both backbones at that size, compiles their
training step for each length and adds XLA's count and its ratio to the
analytic one (the same step, counted with XLA's FFT convention and the
convolution path the model takes at that length). It compiles, but does
not run, the step: the paper's sizes take minutes and several GB of memory.

    python tools/flops.py
    python tools/flops.py --lengths 128,512,2048 --hidden 256 --layers 4 \
        --xla --json flops.json
"""

import argparse
import dataclasses
import sys

import keras

from keras_bigs.performance import PAPER_TABLE_6
from keras_bigs.performance import TABLE_6_CONFIGS
from keras_bigs.performance import compare_with_xla
from keras_bigs.performance import flops_backbone
from keras_bigs.performance import model_flops
from keras_bigs.performance import reproduce_table_6
from keras_bigs.performance.benchmark import write_results
from keras_bigs.training.command_line import run_tool

CUSTOM_FLAGS = (
    "layers",
    "hidden",
    "intermediate",
    "state",
    "heads",
    "vocab",
    "bert_layers",
    "bert_intermediate",
)


def parse_lengths(text):
    try:
        lengths = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--lengths takes comma-separated ints, not {text!r}"
        )
    if not lengths or min(lengths) < 2:
        raise argparse.ArgumentTypeError(
            f"--lengths must be ints of at least 2, not {text!r}"
        )
    return lengths


def configs(args):
    """BiGS and BERT configs: the paper's, or overridden by the flags."""
    bigs = TABLE_6_CONFIGS["bigs_paper"]
    bert = TABLE_6_CONFIGS["bert_large"]
    if args.config == "paper":
        return bigs, bert
    hidden = args.hidden or bigs.hidden_dim
    vocab = args.vocab or bigs.vocabulary_size
    bigs = dataclasses.replace(
        bigs,
        num_layers=args.layers or bigs.num_layers,
        hidden_dim=hidden,
        intermediate_dim=args.intermediate or 3 * hidden,
        state_dim=args.state or bigs.state_dim,
        vocabulary_size=vocab,
    )
    bert = dataclasses.replace(
        bert,
        num_layers=args.bert_layers or args.layers or bert.num_layers,
        hidden_dim=hidden,
        intermediate_dim=args.bert_intermediate or 4 * hidden,
        num_heads=args.heads or max(1, hidden // 64),
        vocabulary_size=vocab,
    )
    return bigs, bert


def describe(bigs, bert):
    return (
        f"BiGS: {bigs.num_layers} layers, hidden {bigs.hidden_dim}, "
        f"intermediate {bigs.intermediate_dim}, state {bigs.state_dim}"
        f"\nBERT: {bert.num_layers} layers, hidden {bert.hidden_dim}, "
        f"intermediate {bert.intermediate_dim}, {bert.num_heads} heads"
    )


def number(value, width=9, fmt=".2e"):
    return f"{'-':>{width}}" if value is None else f"{value:>{width}{fmt}}"


def print_table(rows, bigs, bert, batch_size, paper):
    print(
        "FLOPs by sequence length. Table 6 convention: one sequence, "
        "forward,\nmatmuls + attention products + FFT convolution "
        f"(2.5 n log2 n per real FFT).\n{describe(bigs, bert)}"
    )
    if paper:
        print("paper: Table 6 of Wang et al., arXiv:2212.10544")
    train = f"train step x{batch_size} (fwd+bwd, all ops)"
    header = (
        f"{'length':>6} | {'ours':>9} {'paper':>9} {'ratio':>6} | "
        f"{'ours':>9} {'paper':>9} {'ratio':>6} | {'BERT/BiGS':>9} | "
        f"{'BiGS':>9} {'BERT':>9}"
    )
    xla = any("xla_bigs" in row for row in rows)
    if xla:
        header += (
            f" | {'XLA BiGS':>9} {'/ours':>6} {'XLA BERT':>9} {'/ours':>6}"
        )
    print(
        f"{'':>6} | {'BiGS, Table 6 convention':^26} | "
        f"{'BERT, Table 6 convention':^26} | {'':>9} | {train}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        line = (
            f"{row['length']:>6} | {number(row['bigs'])} "
            f"{number(row['paper_bigs'])} "
            f"{number(row['bigs_ratio'], 6, '.3f')} | "
            f"{number(row['bert'])} {number(row['paper_bert'])} "
            f"{number(row['bert_ratio'], 6, '.3f')} | "
            f"{number(row['bert_over_bigs'], 9, '.3f')} | "
            f"{number(row['bigs_train'])} {number(row['bert_train'])}"
        )
        if xla:
            line += " |"
            for name in ("bigs", "bert"):
                check = row[f"xla_{name}"]
                line += (
                    f" {number(check['xla']['total'])} "
                    f"{number(check['xla_over_analytic'], 6, '.3f')}"
                )
        print(line)
    if xla:
        print(
            "XLA: its cost analysis of the compiled training step (jax, "
            "this machine's device).\n/ours divides it by the analytic "
            "count of the same step: the convolution path\nthe model "
            "takes at that length, FFTs counted as XLA does. XLA / ours "
            "by part:"
        )
        for row in rows:
            for name in ("bigs", "bert"):
                check = row[f"xla_{name}"]
                fft = (
                    ""
                    if check["fft_ratio"] is None
                    else f", FFTs {check['fft_ratio']:.4f}"
                )
                conv = (
                    ""
                    if check["conv_mode"] is None
                    else f" [{check['conv_mode']} convolution]"
                )
                print(
                    f"  {row['length']:>6} {name.upper():<4} "
                    f"{check['xla']['total']:.4e} / "
                    f"{check['analytic']['total']:.4e}: matmuls "
                    f"{check['dot_ratio']:.4f}{fft}, the rest "
                    f"{check['other_ratio']:.3f}{conv}"
                )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lengths",
        type=parse_lengths,
        default=sorted(PAPER_TABLE_6),
        help="comma-separated sequence lengths; default "
        "the paper's 128,512,1024,4096",
    )
    parser.add_argument(
        "--config",
        choices=("paper", "custom"),
        default=None,
        help="'paper' (default): Table 6's "
        "models; 'custom': the size flags (implied by any)",
    )
    parser.add_argument("--layers", type=int, help="BiGS (and BERT) layers")
    parser.add_argument("--hidden", type=int, help="hidden size")
    parser.add_argument(
        "--intermediate",
        type=int,
        help="BiGS intermediate size; default 3 x hidden",
    )
    parser.add_argument("--state", type=int, help="SSM state size")
    parser.add_argument(
        "--heads", type=int, help="BERT heads; default hidden / 64"
    )
    parser.add_argument("--vocab", type=int, help="vocabulary size")
    parser.add_argument(
        "--bert-layers", type=int, help="BERT layers; default --layers"
    )
    parser.add_argument(
        "--bert-intermediate",
        type=int,
        help="BERT intermediate size; default 4 x hidden",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help="sequences per training step (train and XLA columns); default 1",
    )
    parser.add_argument(
        "--xla",
        action="store_true",
        help="add XLA's count of the compiled step (needs KERAS_BACKEND=jax)",
    )
    parser.add_argument("--json", help="write all numbers here")
    args = parser.parse_args(argv)

    custom = any(getattr(args, flag) is not None for flag in CUSTOM_FLAGS)
    if args.config == "paper" and custom:
        parser.error("--config paper takes no size flags")
    args.config = args.config or ("custom" if custom else "paper")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.xla and keras.backend.backend() != "jax":
        parser.error(
            "--xla compiles the step with JAX: run with "
            "KERAS_BACKEND=jax (this run uses "
            f"{keras.backend.backend()})"
        )
    bigs, bert = configs(args)
    paper = args.config == "paper"

    rows = reproduce_table_6(args.lengths, bigs, bert, args.batch_size)
    for row in rows:
        length = row["length"]
        if not paper:  # Table 6's numbers are for its models only
            for key in ("paper_bigs", "paper_bert", "bigs_ratio", "bert_ratio"):
                row[key] = None
        row["bigs_count"] = model_flops(bigs, length, args.batch_size).as_dict()
        row["bert_count"] = model_flops(bert, length, args.batch_size).as_dict()
    if args.xla:
        bigs_model = flops_backbone(bigs, max(args.lengths))
        bert_model = flops_backbone(bert, max(args.lengths))
        for row in rows:
            row["xla_bigs"] = compare_with_xla(
                bigs_model, args.batch_size, row["length"]
            )
            row["xla_bert"] = compare_with_xla(
                bert_model, args.batch_size, row["length"]
            )

    print_table(rows, bigs, bert, args.batch_size, paper)
    if args.json:
        report = {
            "config": args.config,
            "bigs": dataclasses.asdict(bigs),
            "bert": dataclasses.asdict(bert),
            "batch_size": args.batch_size,
            "table6_convention": "one sequence, forward; dense + attention "
            "+ FFT convolution (2.5 n log2 n per real FFT)",
            "train_convention": "forward + backward (backward = 2 x forward "
            "for matmuls), all ops, embeddings included, no head",
            "rows": rows,
        }
        write_results(args.json, report)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
