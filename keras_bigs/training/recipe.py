"""How every run trains: the recipe that GLUE fine-tuning, token
classification, pretraining and the ablation study share, the flags that
set it, and the setup it makes before a model is built."""

import dataclasses

import keras

from keras_bigs.training.distribution import MIXED_PRECISION_POLICIES
from keras_bigs.training.distribution import initialize_multi_host
from keras_bigs.training.distribution import set_mixed_precision
from keras_bigs.training.distribution import setup_distribution
from keras_bigs.training.optimizer import bigs_optimizer
from keras_bigs.training.schedules import DECAYS

# Pretraining's recipe, where it differs from fine-tuning's (the field
# defaults): BERT's and BiGS's pretraining schedule.
PRETRAINING_DEFAULTS = {"schedule": "cosine", "warmup_fraction": 0.06}


@dataclasses.dataclass
class Recipe:
    """What every run shares: optimizer, schedule, precision, hardware,
    seed and progress output. The run adds its data, model and length.

    The defaults are fine-tuning's; `Recipe(**PRETRAINING_DEFAULTS)` is
    pretraining's. Each field has a command-line flag of its name
    (`--warmup-fraction`; `add_recipe_arguments`).

    Args:
        learning_rate: float. Peak learning rate; `None`: the run's
            default, which depends on whether it starts from scratch or a
            preset (`with_learning_rate`).
        schedule: `"linear"`, `"cosine"` or `"constant"` decay after the
            warm-up (`WarmupDecay`).
        warmup_fraction: float. Share of the steps spent warming up.
        weight_decay: float. Decoupled weight decay (`BiGSAdamW`).
        global_clipnorm: float. Clip all gradients to this global norm.
        batch_size: int. The global batch size (over every replica).
        seed: int. Seeds initialisation, dropout and data order.
        strategy: str. `setup_distribution`'s strategy (`"auto"`, ...).
        tpu: str. TPU name or `grpc://` address.
        coordinator_address: str. JAX: `host:port` of process 0 of a job
            of `num_processes` processes, this one `process_id`
            (`initialize_multi_host`); every process runs the same
            command with its own `process_id`.
        num_processes: int. Processes of the job.
        process_id: int. This process, in `[0, num_processes)`.
        mixed_precision: `None`, `"mixed_bfloat16"` or `"mixed_float16"`
            (`set_mixed_precision`).
        freeze_ssm: bool. Give the SSM parameters (`A_re`, `A_im`, `C`,
            `D`, `log_step`) no update, as the original's
            `run_glue_freeze.py`.
        remat: bool. Build the backbone with `remat=True`: each BiGS
            layer's activations are recomputed in the backward pass instead
            of stored (`BiGSBackbone`), for long inputs.
        verbose: int. Keras progress output: 0 none, 1 a bar, 2 a line
            per epoch.

    Example:
    ```python
    from keras_bigs.training import Recipe

    recipe = Recipe(batch_size=16).with_learning_rate(2e-5)
    optimizer = recipe.optimizer(total_steps=1000)
    recipe.learning_rate, optimizer.global_clipnorm  # 2e-05, 1.0
    ```
    """

    learning_rate: float = None
    schedule: str = "linear"
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    global_clipnorm: float = 1.0
    batch_size: int = 32
    seed: int = 0
    strategy: str = "auto"
    tpu: str = None
    coordinator_address: str = None
    num_processes: int = None
    process_id: int = None
    mixed_precision: str = None
    freeze_ssm: bool = False
    remat: bool = False
    verbose: int = 1

    def with_learning_rate(self, default):
        """This recipe, with `default` as its learning rate unless it
        names one."""
        if self.learning_rate is not None:
            return self
        return dataclasses.replace(self, learning_rate=default)

    def backbone_options(self):
        """The backbone arguments the recipe sets, for `small_backbone`
        and `from_preset`: `remat` when on (off keeps a preset's)."""
        return {"remat": True} if self.remat else {}

    def optimizer(self, total_steps):
        """The `BiGSAdamW` of the recipe for a run of `total_steps`."""
        if self.learning_rate is None:
            raise ValueError(
                "The recipe has no learning rate: give one, or the run's "
                "default with `recipe.with_learning_rate(default)`."
            )
        return bigs_optimizer(
            self.learning_rate,
            total_steps=total_steps,
            warmup_steps=int(self.warmup_fraction * total_steps),
            schedule=self.schedule,
            weight_decay=self.weight_decay,
            global_clipnorm=self.global_clipnorm,
            freeze_ssm=self.freeze_ssm,
        )

    def prepare(self, seed_generators=True):
        """Join the multi-process job the recipe names, set the precision
        policy and the distribution, before the model is built; with
        `seed_generators`, also seed Python, NumPy, Keras and TensorFlow
        with `seed`.

        Returns:
            The `DistributionSetup`; build and compile under its
            `scope()`.
        """
        initialize_multi_host(
            self.coordinator_address, self.num_processes, self.process_id
        )
        set_mixed_precision(self.mixed_precision)
        setup = setup_distribution(self.strategy, tpu=self.tpu)
        if seed_generators:
            keras.utils.set_random_seed(self.seed)
        return setup

    @classmethod
    def from_args(cls, args):
        """The recipe of parsed flags (`add_recipe_arguments`)."""
        return cls(
            **{
                field.name: getattr(args, field.name)
                for field in dataclasses.fields(cls)
            }
        )


# `add_argument` options of each recipe field's flag (the default comes
# from the field, or the tool).
FLAGS = {
    "learning_rate": {"type": float, "help": "peak rate"},
    "schedule": {"choices": DECAYS, "help": "decay after the warm-up"},
    "warmup_fraction": {"type": float, "help": "share of steps warming up"},
    "weight_decay": {"type": float},
    "global_clipnorm": {"type": float},
    "batch_size": {"type": int, "help": "global batch size"},
    "seed": {"type": int},
    "strategy": {
        "help": "auto, default; tensorflow: tpu, mirrored, multi_worker; "
        "jax: data_parallel, model_parallel"
    },
    "tpu": {"help": "TPU name or grpc:// address"},
    "coordinator_address": {
        "metavar": "HOST:PORT",
        "help": "jax: process 0 of a multi-process job (every process "
        "runs the same command with its own --process-id)",
    },
    "num_processes": {"type": int, "help": "processes of the job"},
    "process_id": {"type": int, "help": "this process, from 0"},
    "mixed_precision": {"choices": MIXED_PRECISION_POLICIES},
    "freeze_ssm": {
        "action": "store_true",
        "help": "fine-tune with the SSM parameters (A_re, A_im, C, D, "
        "log_step) frozen, as the original's run_glue_freeze.py",
    },
    "remat": {
        "action": "store_true",
        "help": "recompute each BiGS layer's activations in the backward "
        "pass instead of storing them (training memory for long inputs)",
    },
    "verbose": {
        "type": int,
        "help": "Keras progress: 0 none, 1 a bar, 2 a line per epoch",
    },
}


def add_recipe_arguments(parser, learning_rates=None, **defaults):
    """Add a flag for every `Recipe` field (`--batch-size`, `--schedule`,
    ...) to `parser`, in a "recipe" group; `Recipe.from_args` reads them.

    Args:
        parser: an `argparse.ArgumentParser`.
        learning_rates: `{"scratch": rate, "preset": rate}`, the run's
            default peak rates, for `--learning-rate`'s help.
        **defaults: the tool's defaults, by field name, in place of the
            field defaults (e.g. `**PRETRAINING_DEFAULTS`).

    Example:
    ```python
    import argparse
    from keras_bigs.training import Recipe, add_recipe_arguments

    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser, batch_size=16)
    recipe = Recipe.from_args(parser.parse_args(["--freeze-ssm"]))
    recipe.batch_size, recipe.freeze_ssm  # 16, True
    ```
    """
    fields = dataclasses.fields(Recipe)
    unknown = sorted(set(defaults) - {field.name for field in fields})
    if unknown:
        raise TypeError(f"{unknown} are no Recipe fields.")
    group = parser.add_argument_group("recipe")
    for field in fields:
        options = dict(FLAGS[field.name])
        if field.name == "learning_rate" and learning_rates:
            options["help"] = (
                f"peak rate; default {learning_rates['preset']:g} from a "
                f"preset, {learning_rates['scratch']:g} from scratch"
            )
        group.add_argument(
            "--" + field.name.replace("_", "-"),
            default=defaults.get(field.name, field.default),
            **options,
        )
    return group
