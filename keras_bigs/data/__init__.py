"""`tf.data` input pipelines: GLUE fine-tuning and masked-LM pretraining."""

from keras_bigs.data.glue import CARVED_FROM_TRAIN
from keras_bigs.data.glue import DEFAULT_VALIDATION_FRACTION
from keras_bigs.data.glue import GLUE_TASKS
from keras_bigs.data.glue import GlueExamples
from keras_bigs.data.glue import GlueTask
from keras_bigs.data.glue import evaluation_split
from keras_bigs.data.glue import get_glue_task
from keras_bigs.data.glue import glue_dataset
from keras_bigs.data.glue import read_glue_tsv
from keras_bigs.data.glue import train_validation_split
from keras_bigs.data.pretraining import HDF5_SHARD_KEYS
from keras_bigs.data.pretraining import dataset_fn_for_input_context
from keras_bigs.data.pretraining import hdf5_shard_dataset
from keras_bigs.data.pretraining import masked_lm_dataset
from keras_bigs.data.pretraining import pack_documents
from keras_bigs.data.pretraining import shard_for_host
from keras_bigs.data.pretraining import text_corpus_dataset
from keras_bigs.data.pretraining import tfds_text_dataset
