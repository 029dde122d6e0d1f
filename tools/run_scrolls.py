"""Fine-tune and evaluate BiGS on a long-document SCROLLS task.

ContractNLI (`--task contract_nli`: hypothesis and contract, three classes,
accuracy) and QuALITY (`--task quality`: question, four options and an
article, exact match of the chosen option) in the tau/scrolls layout:
DIR/train.jsonl and DIR/validation.jsonl, one JSON object a line with
`id`, `pid`, `input` and `output`. Documents are truncated from their
end to fit; the query is kept whole. Trains from a preset (its position
table extended when --sequence-length is longer) or a small BiGS from
scratch (--hidden-dim, --num-layers, --dt-min, --dt-max; 4,096
tokens), evaluates on validation.jsonl, and writes
OUT/eval_results.json, OUT/best_model/ (a keras-hub preset),
OUT/training_log.csv and OUT/tensorboard/.
docs/long_documents.md says where to get the data and what the paper
reports.

    python tools/run_scrolls.py --task contract_nli \\
        --data-dir scrolls/contract_nli --output-dir runs/contract_nli \\
        --preset bigs_4096_en --remat
    python tools/run_scrolls.py --task quality --data-dir scrolls/quality \\
        --output-dir runs/quality --sequence-length 1024 --max-steps 200
"""

import json
import sys

from keras_bigs.data.scrolls import SCROLLS_TASKS
from keras_bigs.training.command_line import add_finetuning_arguments
from keras_bigs.training.command_line import add_padding_arguments
from keras_bigs.training.command_line import add_scratch_model_arguments
from keras_bigs.training.command_line import check_scratch_model_arguments
from keras_bigs.training.command_line import run_from_args
from keras_bigs.training.command_line import run_tool
from keras_bigs.training.command_line import tool_parser
from keras_bigs.training.recipe import add_recipe_arguments
from keras_bigs.training.scrolls_finetuning import LEARNING_RATES
from keras_bigs.training.scrolls_finetuning import ScrollsRun
from keras_bigs.training.scrolls_finetuning import finetune_scrolls


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    data = parser.add_argument_group("data")
    data.add_argument("--task", required=True, choices=sorted(SCROLLS_TASKS))
    data.add_argument(
        "--data-dir",
        required=True,
        help="folder with train.jsonl and validation.jsonl",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--preset",
        help="registered name, preset folder, original checkpoint folder "
        "or hf:// handle; default: a small BiGS from scratch",
    )
    model.add_argument(
        "--sequence-length",
        type=int,
        help="default: the preset's (4096 from scratch); longer than the "
        "preset's extends its position table",
    )
    add_scratch_model_arguments(model, hidden_dim=128, num_layers=2)
    add_padding_arguments(model)
    add_finetuning_arguments(parser, model)
    add_recipe_arguments(parser, LEARNING_RATES, batch_size=8)
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args(argv)
    if args.sequence_length is not None and args.sequence_length < 1:
        parser.error("--sequence-length must be positive")
    check_scratch_model_arguments(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    results = finetune_scrolls(run_from_args(ScrollsRun, args))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
