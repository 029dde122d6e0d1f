"""Training BiGS: optimizer, schedule, distribution, longer sequences,
GLUE metrics, entity metrics, the recipe every run shares, the fine-tuning
loop and the runs behind the tools."""

from keras_bigs.training.callbacks import StepCheckpoint
from keras_bigs.training.callbacks import TaskMetricsEvaluation
from keras_bigs.training.callbacks import Throughput
from keras_bigs.training.callbacks import restore_training_state
from keras_bigs.training.distribution import MIXED_PRECISION_POLICIES
from keras_bigs.training.distribution import DistributionSetup
from keras_bigs.training.distribution import TPUNotFoundError
from keras_bigs.training.distribution import bigs_layout_map
from keras_bigs.training.distribution import initialize_multi_host
from keras_bigs.training.distribution import set_mixed_precision
from keras_bigs.training.distribution import setup_distribution
from keras_bigs.training.entity_metrics import entity_scores
from keras_bigs.training.finetuning import FineTuningTask
from keras_bigs.training.finetuning import finetune
from keras_bigs.training.glue_finetuning import GlueRun
from keras_bigs.training.glue_finetuning import finetune_glue
from keras_bigs.training.masked_lm_pretraining import PretrainRun
from keras_bigs.training.masked_lm_pretraining import pretrain
from keras_bigs.training.metrics import accuracy
from keras_bigs.training.metrics import compute_metrics
from keras_bigs.training.metrics import f1
from keras_bigs.training.metrics import matthews_corrcoef
from keras_bigs.training.metrics import pearson
from keras_bigs.training.metrics import spearman
from keras_bigs.training.optimizer import BiGSAdamW
from keras_bigs.training.optimizer import bigs_optimizer
from keras_bigs.training.recipe import PRETRAINING_DEFAULTS
from keras_bigs.training.recipe import Recipe
from keras_bigs.training.recipe import add_recipe_arguments
from keras_bigs.training.schedules import WarmupDecay
from keras_bigs.training.scrolls_finetuning import ScrollsRun
from keras_bigs.training.scrolls_finetuning import finetune_scrolls
from keras_bigs.training.sequence_length import extend_sequence_length
from keras_bigs.training.sequence_length import fit_to_sequence_length
from keras_bigs.training.small_bigs import small_backbone
from keras_bigs.training.token_classification import TaggingRun
from keras_bigs.training.token_classification import finetune_tagger

__all__ = [
    "StepCheckpoint",
    "TaskMetricsEvaluation",
    "Throughput",
    "restore_training_state",
    "MIXED_PRECISION_POLICIES",
    "DistributionSetup",
    "TPUNotFoundError",
    "bigs_layout_map",
    "initialize_multi_host",
    "set_mixed_precision",
    "setup_distribution",
    "FineTuningTask",
    "finetune",
    "GlueRun",
    "finetune_glue",
    "ScrollsRun",
    "finetune_scrolls",
    "PretrainRun",
    "pretrain",
    "accuracy",
    "compute_metrics",
    "entity_scores",
    "TaggingRun",
    "finetune_tagger",
    "f1",
    "matthews_corrcoef",
    "pearson",
    "spearman",
    "BiGSAdamW",
    "bigs_optimizer",
    "PRETRAINING_DEFAULTS",
    "Recipe",
    "add_recipe_arguments",
    "WarmupDecay",
    "extend_sequence_length",
    "fit_to_sequence_length",
    "small_backbone",
]
