"""What a BiGS model costs: FLOPs of BiGS and BERT by sequence length (the
paper's Table 6) in `flops`, checked against XLA's count of the compiled
step in `xla_cost` (JAX only), and their measured speed and memory side by
side in `benchmark`. The tools `flops.py` and `benchmark.py` run them from
the command line."""

from keras_bigs.performance.benchmark import benchmark_convolution
from keras_bigs.performance.benchmark import benchmark_length
from keras_bigs.performance.benchmark import matched_backbones
from keras_bigs.performance.flops import PAPER_TABLE_6
from keras_bigs.performance.flops import TABLE_6_CONFIGS
from keras_bigs.performance.flops import BertFlopsConfig
from keras_bigs.performance.flops import BiGSFlopsConfig
from keras_bigs.performance.flops import FlopCount
from keras_bigs.performance.flops import flops_backbone
from keras_bigs.performance.flops import flops_config
from keras_bigs.performance.flops import model_flops
from keras_bigs.performance.flops import reproduce_table_6
from keras_bigs.performance.flops import table6_flops
from keras_bigs.performance.xla_cost import compare_with_xla
from keras_bigs.performance.xla_cost import xla_flops

__all__ = [
    "PAPER_TABLE_6",
    "TABLE_6_CONFIGS",
    "BertFlopsConfig",
    "BiGSFlopsConfig",
    "FlopCount",
    "benchmark_convolution",
    "benchmark_length",
    "compare_with_xla",
    "flops_backbone",
    "flops_config",
    "matched_backbones",
    "model_flops",
    "reproduce_table_6",
    "table6_flops",
    "xla_flops",
]
