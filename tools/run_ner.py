"""Fine-tune and evaluate BiGS on a token-tagging task in CoNLL format
(named entities, part of speech, chunks).

Reads CoNLL-2003-format files (a token per line, whitespace-separated
columns, blank lines between sentences, -DOCSTART- lines between
documents; --tag-column picks the tag, default the last), trains
`BiGSTokenClassifier` from a preset or, without one, a small BiGS from
scratch, and scores entity precision, recall and F1 on the validation file
after each epoch, as CoNLL's conlleval does (--scheme BIO or IOB1). Writes
OUT/eval_results.json, OUT/best_model/ (a keras-hub preset, with
tags.json), OUT/training_log.csv and OUT/tensorboard/.

    python tools/run_ner.py --train conll2003/train.txt \\
        --validation conll2003/valid.txt --output-dir runs/ner
    python tools/run_ner.py --train ... --validation ... \\
        --preset bigs_512_en --output-dir runs/ner_512
"""

import json
import sys

from keras_bigs.training.command_line import run_from_args
from keras_bigs.training.command_line import run_tool
from keras_bigs.training.command_line import tool_parser
from keras_bigs.training.entity_metrics import SCHEMES
from keras_bigs.training.recipe import add_recipe_arguments
from keras_bigs.training.token_classification import LEARNING_RATES
from keras_bigs.training.token_classification import TaggingRun
from keras_bigs.training.token_classification import finetune_tagger


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    data = parser.add_argument_group("data")
    data.add_argument("--train", required=True, help="CoNLL training file")
    data.add_argument(
        "--validation", required=True, help="CoNLL file evaluated on"
    )
    data.add_argument(
        "--tag-column",
        type=int,
        default=-1,
        help="column of the tag (CoNLL-2003: 1 POS, 2 chunk, 3 NER; "
        "default the last)",
    )
    data.add_argument("--scheme", choices=SCHEMES, default="BIO")
    model = parser.add_argument_group("model")
    model.add_argument("--preset", help="default: a small BiGS from scratch")
    model.add_argument(
        "--sequence-length",
        type=int,
        help="default: the preset's (128 from scratch)",
    )
    model.add_argument("--dropout", type=float, default=0.1)
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=3)
    add_recipe_arguments(parser, LEARNING_RATES)
    parser.add_argument("--output-dir", required=True)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    run = run_from_args(
        TaggingRun, args, train_file="train", validation_file="validation"
    )
    results = finetune_tagger(run)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
