"""Load-test an exported SavedModel as TF Serving would run it.

One TensorFlow process loads the export (`tools/export_saved_model.py`,
`export_for_serving`) and calls its `serving_default` signature with
generated requests of mixed lengths (1-4 rows of 1-120 words): first each
request alone, then from --threads threads at once, --rounds times. Every
answer must equal the one the request got alone, no call may fail, and
resident memory after the last round must be within 10% of what it was
after the first. Prints a table, writes --json, and exits 1 when any of
that fails.

    python tools/serve_load_test.py exports/sst2 --json runs/load.json
"""

import argparse
import sys

from keras_bigs.performance.benchmark import write_results
from keras_bigs.performance.serving_load import MAX_MEMORY_GROWTH
from keras_bigs.performance.serving_load import serving_load_test
from keras_bigs.training.command_line import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("export_dir", help="a SavedModel folder")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--requests", type=int, default=200, help="per thread and round"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="the first is warm-up"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the results here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    results = serving_load_test(
        args.export_dir, args.threads, args.requests, args.rounds, args.seed
    )
    memory = ", ".join(f"{mb:.0f}" for mb in results["memory_mb"])
    print(
        f"{results['export_dir']} (inputs {', '.join(results['inputs'])})\n"
        f"{'threads':>8}  {'requests':>8}  {'requests/s':>10}  "
        f"{'rows/s':>8}  {'alone/s':>8}  {'errors':>6}  {'mismatches':>10}  "
        f"memory growth\n"
        f"{results['threads']:>8}  {results['requests']:>8}  "
        f"{results['requests_per_s']:10.1f}  {results['rows_per_s']:8.1f}  "
        f"{results['single_thread_requests_per_s']:8.1f}  "
        f"{results['num_errors']:>6}  {results['num_mismatches']:>10}  "
        f"{results['memory_growth']:+.1%}\n"
        f"resident memory (MB) after the alone pass, then each round: {memory}"
    )
    for problem in results["errors"] + results["mismatches"]:
        print(f"  {problem}")
    write_results(args.json, results)
    steady = results["memory_growth"] < MAX_MEMORY_GROWTH
    if not steady:
        print(f"Resident memory grew by more than {MAX_MEMORY_GROWTH:.0%}.")
    failed = results["num_errors"] or results["num_mismatches"] or not steady
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
