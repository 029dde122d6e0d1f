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

import argparse
import json
import sys

from keras_bigs.training.command_line import add_corpus_arguments
from keras_bigs.training.command_line import add_hardware_arguments
from keras_bigs.training.command_line import add_padding_arguments
from keras_bigs.training.command_line import add_recipe_arguments
from keras_bigs.training.masked_lm_pretraining import PretrainRun
from keras_bigs.training.masked_lm_pretraining import pretrain


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    add_corpus_arguments(parser, glue_sentences=True, heldout_every=0)
    model = parser.add_argument_group("model")
    model.add_argument(
        "--preset",
        help="continue from this preset; default: a small BiGS from scratch",
    )
    model.add_argument("--sequence-length", type=int, default=128)
    add_padding_arguments(model)
    train = parser.add_argument_group("training")
    train.add_argument(
        "--batch-size", type=int, default=32, help="global batch size"
    )
    train.add_argument("--steps", type=int, default=1000)
    train.add_argument("--checkpoint-every", type=int, default=100)
    train.add_argument("--keep-checkpoints", type=int, default=3)
    train.add_argument(
        "--learning-rate",
        type=float,
        help="peak rate; default 1e-3 from scratch, 1e-4 from a preset",
    )
    add_recipe_arguments(train, schedule="cosine", warmup_fraction=0.06)
    add_hardware_arguments(parser)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument(
        "--verbose",
        type=int,
        default=1,
        help="Keras progress: 1 bar, 2 a line per period",
    )
    return parser.parse_args(argv)


def main(argv=None, callbacks=()):
    args = parse_args(argv)
    run = PretrainRun(
        output_dir=args.output_dir,
        text_files=args.text,
        document_separator=args.document_separator,
        glue_dir=args.glue_dir,
        tfds_name=args.tfds,
        tfds_split=args.tfds_split,
        tfds_text_key=args.tfds_text_key,
        hdf5_files=args.hdf5,
        preset=args.preset,
        sequence_length=args.sequence_length,
        padding_invariant=args.padding_invariant,
        buckets=args.buckets,
        batch_size=args.batch_size,
        steps=args.steps,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints,
        learning_rate=args.learning_rate,
        schedule=args.schedule,
        warmup_fraction=args.warmup_fraction,
        weight_decay=args.weight_decay,
        global_clipnorm=args.global_clipnorm,
        strategy=args.strategy,
        tpu=args.tpu,
        mixed_precision=args.mixed_precision,
        seed=args.seed,
        verbose=args.verbose,
        heldout_every=args.heldout_every,
    )
    results = pretrain(run, callbacks=callbacks)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
