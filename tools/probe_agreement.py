"""Masked-LM syntactic probes (Goldberg, 2019): accuracy per phenomenon.

MODEL is anything `BiGSMaskedLM.from_preset` loads. Each item of the TSV
(--items; default the subject-verb agreement items shipped in
keras_bigs/assets/agreement_probes.tsv) is a sentence with one [MASK] and a
correct and an incorrect word; the model is right when its logit for the
correct one is higher. Pass --vocabulary for a model whose vocabulary is not
its preset's tokenizer's (an original checkpoint folder has none).

    python tools/probe_agreement.py bigs_128_en --json agreement.json
"""

import argparse
import json
import pathlib
import sys
import warnings

import keras_bigs
from keras_bigs.analysis import read_probe_tsv
from keras_bigs.analysis import run_agreement_probes
from keras_bigs.training.command_line import run_tool


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="masked-LM preset name or folder")
    parser.add_argument(
        "--items",
        help="probe TSV (phenomenon, sentence, "
        "correct, incorrect); default the shipped items",
    )
    parser.add_argument(
        "--vocabulary",
        help="the model's WordPiece "
        "vocabulary file; default its preset's tokenizer",
    )
    parser.add_argument(
        "--sequence-length",
        type=int,
        help="pad length; default max_sequence_length",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)

    try:
        items = read_probe_tsv(args.items)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if args.vocabulary:
            masked_lm = keras_bigs.BiGSMaskedLM.from_preset(
                args.model, preprocessor=None
            )
            tokenizer = keras_bigs.BiGSTokenizer(vocabulary=args.vocabulary)
        else:
            masked_lm = keras_bigs.BiGSMaskedLM.from_preset(args.model)
            tokenizer = None
    try:
        results, scores = run_agreement_probes(
            masked_lm,
            items,
            tokenizer=tokenizer,
            sequence_length=args.sequence_length,
            batch_size=args.batch_size,
        )
    except ValueError as error:
        parser.error(str(error))
    print(f"{'phenomenon':<24} {'accuracy':>9} {'items':>6}")
    for name, row in results.items():
        print(f"{name:<24} {row['accuracy']:>9.3f} {row['count']:>6}")
    if args.json:
        pathlib.Path(args.json).write_text(
            json.dumps(
                {
                    "model": args.model,
                    "items": args.items or "shipped",
                    "results": results,
                    "scores": [
                        {
                            "line": item.line,
                            "phenomenon": item.phenomenon,
                            "sentence": item.sentence,
                            "correct": float(s[0]),
                            "incorrect": float(s[1]),
                        }
                        for item, s in zip(items, scores)
                    ],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
