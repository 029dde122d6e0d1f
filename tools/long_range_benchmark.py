"""Does a BiGS model use context far away? Accuracy by evidence distance
on a generated long-range task, at full length and truncated.

Generates the task of `keras_bigs.data.long_range` from real prose
(--corpus) in the SCROLLS ContractNLI layout, in OUT/data: a query that
claims a colour for one named box, then a document of --document-words
words with one evidence sentence for that box and --distractors
sentences that colour crates; `Entailment` when the evidence agrees with
the query, else `Contradiction` (balanced: chance is 0.5; with --label
evidence, `Entailment` when the evidence says red, a control). The evidence
is anywhere in train.jsonl, and after each of --distances words of prose
in validation.jsonl. The same small BiGS is trained from scratch twice
through the SCROLLS fine-tuning (`tools/run_scrolls.py`'s loop), reading
--sequence-length tokens and truncated to --truncated-length (the
document's end is cut), and the best model of each is scored by
distance. Writes OUT/full/ and OUT/truncated/ (each a run_scrolls
output) and OUT/long_range.json; prints the table.

    KERAS_BACKEND=jax python tools/long_range_benchmark.py \\
        --corpus ../shared/corpus/linux_docs.txt \\
        --output-dir runs/long_range
"""

import json
import os
import sys

from keras_bigs.analysis.long_range import accuracy_by_distance
from keras_bigs.data.long_range import LABEL_RULES
from keras_bigs.data.long_range import corpus_words
from keras_bigs.data.long_range import long_range_records
from keras_bigs.data.long_range import write_jsonl
from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.performance.benchmark import format_table
from keras_bigs.performance.benchmark import machine_description
from keras_bigs.performance.benchmark import write_results
from keras_bigs.training.command_line import add_finetuning_arguments
from keras_bigs.training.command_line import add_scratch_model_arguments
from keras_bigs.training.command_line import check_scratch_model_arguments
from keras_bigs.training.command_line import int_list
from keras_bigs.training.command_line import run_tool
from keras_bigs.training.command_line import tool_parser
from keras_bigs.training.recipe import Recipe
from keras_bigs.training.recipe import add_recipe_arguments
from keras_bigs.training.scrolls_finetuning import LEARNING_RATES
from keras_bigs.training.scrolls_finetuning import ScrollsRun
from keras_bigs.training.scrolls_finetuning import finetune_scrolls

MODELS = ("full", "truncated")


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    data = parser.add_argument_group("data")
    data.add_argument("--corpus", nargs="+", required=True)
    data.add_argument("--document-words", type=int, default=2048)
    data.add_argument(
        "--distances",
        type=int_list,
        default=[0, 250, 500, 1000, 1500, 2000],
        help="words of prose before the evidence in validation.jsonl",
    )
    data.add_argument("--distractors", type=int, default=4)
    data.add_argument(
        "--label",
        choices=LABEL_RULES,
        default="agreement",
        help="agreement: the evidence agrees with the query's claim "
        "(default); evidence: the evidence's colour alone, a control",
    )
    data.add_argument("--train-examples", type=int, default=1000)
    data.add_argument("--validation-examples", type=int, default=240)
    data.add_argument("--data-seed", type=int, default=0)
    model = parser.add_argument_group("model")
    model.add_argument("--sequence-length", type=int, default=4096)
    model.add_argument("--truncated-length", type=int, default=512)
    add_scratch_model_arguments(model, hidden_dim=64, num_layers=2)
    add_finetuning_arguments(parser, model)
    add_recipe_arguments(parser, LEARNING_RATES, batch_size=4)
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args(argv)
    check_scratch_model_arguments(parser, args)
    if max(args.distances, default=0) > args.document_words:
        parser.error(
            f"--distances go up to {max(args.distances)} words, beyond "
            f"--document-words {args.document_words}"
        )
    return args


def write_task(args, data_dir):
    """train.jsonl and validation.jsonl; returns the validation records."""
    words = corpus_words(args.corpus)
    common = dict(
        document_words=args.document_words,
        distractors=args.distractors,
        label=args.label,
    )
    train = long_range_records(
        words, args.train_examples, seed=args.data_seed, **common
    )
    validation = long_range_records(
        words,
        args.validation_examples,
        distances=args.distances,
        seed=args.data_seed + 1,
        **common,
    )
    write_jsonl(train, os.path.join(data_dir, "train.jsonl"))
    write_jsonl(validation, os.path.join(data_dir, "validation.jsonl"))
    return validation


def train_and_score(args, name, sequence_length, data_dir, validation):
    output_dir = os.path.join(args.output_dir, name)
    run = ScrollsRun(
        task="contract_nli",
        data_dir=data_dir,
        output_dir=output_dir,
        sequence_length=sequence_length,
        padding_invariant=True,
        hidden_dim=args.hidden_dim,
        num_layers=args.num_layers,
        dt_min=args.dt_min,
        dt_max=args.dt_max,
        epochs=args.epochs,
        max_steps=args.max_steps,
        dropout=args.dropout,
        recipe=Recipe.from_args(args),
    )
    results = finetune_scrolls(run)
    classifier = BiGSClassifier.from_preset(
        os.path.join(output_dir, "best_model")
    )
    return results, accuracy_by_distance(
        classifier, validation, args.batch_size
    )


def main(argv=None):
    args = parse_args(argv)
    data_dir = os.path.join(args.output_dir, "data")
    validation = write_task(args, data_dir)
    lengths = {"full": args.sequence_length, "truncated": args.truncated_length}
    report = {
        "machine": machine_description(),
        "settings": vars(args),
        "models": {},
    }
    rows = {}
    for name in MODELS:
        results, by_distance = train_and_score(
            args, name, lengths[name], data_dir, validation
        )
        report["models"][name] = {
            "sequence_length": lengths[name],
            "accuracy": results["accuracy"],
            "by_distance": by_distance,
        }
        for distance, score in by_distance.items():
            row = rows.setdefault(
                distance, {"distance": distance, "count": score["count"]}
            )
            row[name] = score["accuracy"]
    report["rows"] = list(rows.values())
    print(
        f"\naccuracy by evidence distance (words of prose before it), "
        f"{args.document_words}-word documents, chance 0.5; full: "
        f"{args.sequence_length} tokens, truncated: "
        f"{args.truncated_length}"
    )
    columns = [("distance", "distance", "d"), ("examples", "count", "d")]
    columns += [(f"{name} accuracy", name, ".3f") for name in MODELS]
    print(format_table(report["rows"], columns))
    write_results(os.path.join(args.output_dir, "long_range.json"), report)
    print(json.dumps({n: m["accuracy"] for n, m in report["models"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
