"""`tf.data` input pipelines: GLUE fine-tuning, CoNLL tagging, masked-LM
pretraining, and batches grouped by length."""

from keras_bigs.data.conll import ConllSentences
from keras_bigs.data.conll import conll_dataset
from keras_bigs.data.conll import read_conll
from keras_bigs.data.conll import tag_vocabulary
from keras_bigs.data.glue_dataset import glue_dataset
from keras_bigs.data.glue_splits import DEFAULT_VALIDATION_FRACTION
from keras_bigs.data.glue_splits import evaluation_split
from keras_bigs.data.glue_splits import train_validation_split
from keras_bigs.data.glue_tasks import CARVED_FROM_TRAIN
from keras_bigs.data.glue_tasks import GLUE_TASKS
from keras_bigs.data.glue_tasks import GlueTask
from keras_bigs.data.glue_tasks import get_glue_task
from keras_bigs.data.glue_training_data import GlueTrainingData
from keras_bigs.data.glue_training_data import glue_training_data
from keras_bigs.data.glue_tsv import GlueExamples
from keras_bigs.data.glue_tsv import read_glue_tsv
from keras_bigs.data.hdf5_shards import HDF5_SHARD_KEYS
from keras_bigs.data.hdf5_shards import hdf5_shard_dataset
from keras_bigs.data.holdout import hold_out_every
from keras_bigs.data.host_sharding import shard_for_host
from keras_bigs.data.length_buckets import bucket_batches
from keras_bigs.data.length_buckets import check_buckets
from keras_bigs.data.length_buckets import default_buckets
from keras_bigs.data.length_buckets import pad_to_bucket
from keras_bigs.data.long_range import long_range_records
from keras_bigs.data.masked_lm import masked_lm_dataset
from keras_bigs.data.masked_lm import pack_documents
from keras_bigs.data.scrolls import SCROLLS_TASKS
from keras_bigs.data.scrolls import read_scrolls_jsonl
from keras_bigs.data.text_corpus import text_corpus_dataset
from keras_bigs.data.text_corpus import tfds_text_dataset

__all__ = [
    "ConllSentences",
    "conll_dataset",
    "read_conll",
    "tag_vocabulary",
    "CARVED_FROM_TRAIN",
    "GLUE_TASKS",
    "GlueTask",
    "get_glue_task",
    "glue_dataset",
    "DEFAULT_VALIDATION_FRACTION",
    "evaluation_split",
    "train_validation_split",
    "GlueTrainingData",
    "glue_training_data",
    "GlueExamples",
    "read_glue_tsv",
    "long_range_records",
    "SCROLLS_TASKS",
    "read_scrolls_jsonl",
    "HDF5_SHARD_KEYS",
    "hdf5_shard_dataset",
    "hold_out_every",
    "shard_for_host",
    "bucket_batches",
    "check_buckets",
    "default_buckets",
    "pad_to_bucket",
    "masked_lm_dataset",
    "pack_documents",
    "text_corpus_dataset",
    "tfds_text_dataset",
]
