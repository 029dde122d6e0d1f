"""The paper's Table 1 at small scale: GATED/SSM (BiGS), STACK/ATT (BERT),
GATED/ATT and STACK/SSM pretrained alike, then fine-tuned on GLUE.

Each architecture gets the intermediate width that matches its encoder's
parameters to GATED/SSM's (printed), and the same corpus, token budget,
recipe, sequence length and seed. Every --evaluate-every steps each is
scored on held-out documents (one in --heldout-every, never trained on):
masked-token loss and accuracy, beside a unigram baseline. Then each
pretrained model, and a GATED/SSM that was never pretrained, is fine-tuned
on each --glue-tasks task with one recipe and scored with the task's
official metric. Writes OUT/results.md (the table), OUT/results.json,
OUT/heldout_loss.png (held-out loss against tokens seen) and a folder per
stage; a rerun skips finished stages and resumes an interrupted
pretraining from its checkpoint.

    python tools/ablation_study.py --text "../shared/corpus/*.txt" \\
        --glue-dir ../shared/glue --output-dir runs/ablation
    python tools/ablation_study.py --tfds wikipedia/20230601.en \\
        --glue-dir glue --num-layers 12 --hidden-dim 768 \\
        --intermediate-dim 3072 --pretrain-steps 100000 --batch-size 256 \\
        --output-dir gs://bucket/ablation --strategy tpu --tpu my-tpu
"""

import dataclasses
import json
import sys

from keras_bigs.analysis import plot_heldout_curves
from keras_bigs.training.ablation_study import ARCHITECTURES
from keras_bigs.training.ablation_study import DEFAULT_GLUE_TASKS
from keras_bigs.training.ablation_study import AblationStudy
from keras_bigs.training.ablation_study import model_label
from keras_bigs.training.ablation_study import results_table
from keras_bigs.training.ablation_study import run_ablation_study
from keras_bigs.training.command_line import CORPUS_FLAGS
from keras_bigs.training.command_line import add_corpus_arguments
from keras_bigs.training.command_line import run_from_args
from keras_bigs.training.command_line import run_tool
from keras_bigs.training.command_line import tool_parser
from keras_bigs.training.recipe import add_recipe_arguments


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    defaults = AblationStudy(output_dir="")
    add_corpus_arguments(
        parser, glue_sentences=False, heldout_every=defaults.heldout_every
    )
    model = parser.add_argument_group("models")
    model.add_argument(
        "--architectures",
        nargs="+",
        default=list(defaults.architectures),
        choices=list(ARCHITECTURES),
    )
    for name in ("num_layers", "hidden_dim", "intermediate_dim", "state_dim"):
        model.add_argument(
            "--" + name.replace("_", "-"),
            type=int,
            default=getattr(defaults, name),
            help="GATED/SSM's; the others are matched"
            if name == "intermediate_dim"
            else None,
        )
    model.add_argument(
        "--sequence-length", type=int, default=defaults.sequence_length
    )
    pretraining = parser.add_argument_group("pretraining")
    pretraining.add_argument(
        "--pretrain-steps", type=int, default=defaults.pretrain_steps
    )
    pretraining.add_argument(
        "--evaluate-every",
        type=int,
        default=defaults.evaluate_every,
        help="held-out scoring and checkpoint interval, in steps",
    )
    glue = parser.add_argument_group("GLUE fine-tuning")
    glue.add_argument(
        "--glue-dir", help="GLUE folder; without it no fine-tuning"
    )
    glue.add_argument(
        "--glue-tasks", nargs="+", default=list(DEFAULT_GLUE_TASKS)
    )
    glue.add_argument(
        "--glue-learning-rate", type=float, default=defaults.glue_learning_rate
    )
    glue.add_argument("--glue-epochs", type=int, default=defaults.glue_epochs)
    glue.add_argument(
        "--glue-max-steps",
        type=int,
        default=defaults.glue_max_steps,
        help="cap per task (default %(default)s)",
    )
    glue.add_argument(
        "--glue-batch-size", type=int, default=defaults.glue_batch_size
    )
    # Pretraining's recipe; GLUE fine-tuning takes its optimizer constants,
    # hardware, seed and --freeze-ssm (`glue_recipe`).
    add_recipe_arguments(parser, **dataclasses.asdict(defaults.recipe))
    parser.add_argument("--output-dir", required=True)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    study = run_from_args(AblationStudy, args, **CORPUS_FLAGS)
    results = run_ablation_study(study)
    plot_heldout_curves(
        {
            model_label(name): model["heldout_curve"]
            for name, model in results["models"].items()
            if model["heldout_curve"]
        },
        study.path("heldout_loss.png"),
        baseline_loss=results["unigram_baseline"]["loss"],
        title="Held-out masked-LM loss",
    )
    print()
    print(results_table(results))
    print()
    print(results["paper"])
    if results["ordering"] is not None:
        print("This run: " + json.dumps(results["ordering"]))
    print(f"Wrote {study.path('results.md')}, results.json, heldout_loss.png")
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
