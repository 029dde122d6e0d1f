"""Masked-LM pretraining of BiGS from a corpus, with resumable checkpoints.

The corpus is plain text files (--text), the sentences of a GLUE folder
(--glue-dir), a TFDS text dataset (--tfds) or the original pre-masked HDF5
shards (--hdf5). The model is a preset to continue from (--preset, extended
to --sequence-length if shorter) or a small BiGS from scratch. Every
--checkpoint-every steps the whole training state is saved to
OUT/checkpoints/; running the same command again resumes from the newest
checkpoint. At the end OUT/model/ is a keras-hub preset that every task
class loads (e.g. BiGSClassifier.from_preset("OUT/model", num_classes=2)),
and OUT/pretrain_results.json holds the loss on a fixed masked batch before
and after training; with --heldout-every N, OUT/heldout_log.csv holds the
masked-token loss and accuracy on held-out documents at every checkpoint.

    python tools/pretrain.py --glue-dir ../shared/glue --output-dir runs/mlm \\
        --steps 600
    python tools/pretrain.py --text "corpus/*.txt" --preset bigs_128_en \\
        --sequence-length 512 --output-dir runs/mlm512 --strategy tpu \\
        --tpu my-tpu
"""

import json
import sys

from keras_bigs.training.command_line import CORPUS_FLAGS
from keras_bigs.training.command_line import add_corpus_arguments
from keras_bigs.training.command_line import add_padding_arguments
from keras_bigs.training.command_line import run_from_args
from keras_bigs.training.command_line import run_tool
from keras_bigs.training.command_line import tool_parser
from keras_bigs.training.masked_lm_pretraining import LEARNING_RATES
from keras_bigs.training.masked_lm_pretraining import PretrainRun
from keras_bigs.training.masked_lm_pretraining import pretrain
from keras_bigs.training.recipe import PRETRAINING_DEFAULTS
from keras_bigs.training.recipe import add_recipe_arguments


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    add_corpus_arguments(parser, glue_sentences=True, heldout_every=0)
    model = parser.add_argument_group("model")
    model.add_argument(
        "--preset",
        help="continue from this preset; default: a small BiGS from scratch",
    )
    model.add_argument("--sequence-length", type=int, default=128)
    add_padding_arguments(model)
    train = parser.add_argument_group("training")
    train.add_argument("--steps", type=int, default=1000)
    train.add_argument("--checkpoint-every", type=int, default=100)
    train.add_argument("--keep-checkpoints", type=int, default=3)
    add_recipe_arguments(parser, LEARNING_RATES, **PRETRAINING_DEFAULTS)
    parser.add_argument("--output-dir", required=True)
    return parser.parse_args(argv)


def main(argv=None, callbacks=()):
    args = parse_args(argv)
    run = run_from_args(PretrainRun, args, architecture=None, **CORPUS_FLAGS)
    results = pretrain(run, callbacks=callbacks)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main))
