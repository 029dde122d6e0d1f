"""Command-line flags shared by the training tools (`tools/run_glue.py`,
`tools/pretrain.py`)."""

from keras_bigs.training.distribution import MIXED_PRECISION_POLICIES
from keras_bigs.training.schedules import DECAYS


def add_recipe_arguments(group, schedule, warmup_fraction):
    """Optimizer and schedule flags (`bigs_optimizer`'s arguments)."""
    group.add_argument("--schedule", default=schedule, choices=DECAYS)
    group.add_argument("--warmup-fraction", type=float, default=warmup_fraction)
    group.add_argument("--weight-decay", type=float, default=0.01)
    group.add_argument("--global-clipnorm", type=float, default=1.0)
    group.add_argument("--seed", type=int, default=0)


def add_hardware_arguments(parser):
    """`--strategy`, `--tpu`, `--mixed-precision` (`setup_distribution`,
    `set_mixed_precision`)."""
    hardware = parser.add_argument_group("hardware")
    hardware.add_argument(
        "--strategy",
        default="auto",
        help="auto, default; tensorflow: tpu, mirrored, "
        "multi_worker; jax: data_parallel, model_parallel",
    )
    hardware.add_argument("--tpu", help="TPU name or grpc:// address")
    hardware.add_argument("--mixed-precision", choices=MIXED_PRECISION_POLICIES)
