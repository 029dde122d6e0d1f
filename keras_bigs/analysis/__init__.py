"""What a BiGS model learned: SSM kernels by relative position (the paper's
Figures 3 and 4), metrics by input length (Figures 6 and 7) and masked-LM
syntactic probes (Goldberg, 2019); and what it costs: FLOPs of BiGS and BERT
by sequence length (Table 6), checked against XLA, and their measured speed
and memory side by side. The tools `plot_kernels.py`, `analyze_by_length.py`,
`probe_agreement.py`, `flops.py` and `benchmark.py` run them from the command
line."""

from keras_bigs.analysis.agreement import AGREEMENT_PROBES_PATH
from keras_bigs.analysis.agreement import ProbeItem
from keras_bigs.analysis.agreement import candidate_token_ids
from keras_bigs.analysis.agreement import format_probe_tsv
from keras_bigs.analysis.agreement import generate_agreement_probes
from keras_bigs.analysis.agreement import probe_accuracy
from keras_bigs.analysis.agreement import probe_inputs
from keras_bigs.analysis.agreement import read_probe_tsv
from keras_bigs.analysis.agreement import run_agreement_probes
from keras_bigs.analysis.agreement import score_candidates
from keras_bigs.analysis.agreement import write_probe_tsv
from keras_bigs.analysis.benchmark import benchmark_convolution
from keras_bigs.analysis.benchmark import benchmark_length
from keras_bigs.analysis.benchmark import interleaved_seconds
from keras_bigs.analysis.benchmark import machine_description
from keras_bigs.analysis.benchmark import matched_backbones
from keras_bigs.analysis.flops import BertFlopsConfig
from keras_bigs.analysis.flops import BiGSFlopsConfig
from keras_bigs.analysis.flops import FlopCount
from keras_bigs.analysis.flops import PAPER_TABLE_6
from keras_bigs.analysis.flops import PRESETS
from keras_bigs.analysis.flops import attention_flops
from keras_bigs.analysis.flops import bert_layer_flops
from keras_bigs.analysis.flops import bigs_layer_flops
from keras_bigs.analysis.flops import compare_with_xla
from keras_bigs.analysis.flops import dense_flops
from keras_bigs.analysis.flops import embedding_flops
from keras_bigs.analysis.flops import fft_conv_flops
from keras_bigs.analysis.flops import flops_config
from keras_bigs.analysis.flops import hlo_dot_flops
from keras_bigs.analysis.flops import hlo_fft_flops
from keras_bigs.analysis.flops import irfft_flops
from keras_bigs.analysis.flops import matmul_flops
from keras_bigs.analysis.flops import model_flops
from keras_bigs.analysis.flops import reproduce_table_6
from keras_bigs.analysis.flops import rfft_flops
from keras_bigs.analysis.flops import round_significant
from keras_bigs.analysis.flops import ssm_kernel_flops
from keras_bigs.analysis.flops import table6_flops
from keras_bigs.analysis.flops import toeplitz_conv_flops
from keras_bigs.analysis.flops import xla_flops
from keras_bigs.analysis.kernels import layer_kernels
from keras_bigs.analysis.kernels import min_max_scale
from keras_bigs.analysis.kernels import plot_kernel_comparison
from keras_bigs.analysis.kernels import plot_kernel_heatmap
from keras_bigs.analysis.kernels import relative_position_profile
from keras_bigs.analysis.length import assign_bins
from keras_bigs.analysis.length import bin_edges
from keras_bigs.analysis.length import classifier_predictions
from keras_bigs.analysis.length import metrics_by_length
from keras_bigs.analysis.length import plot_metric_by_length
from keras_bigs.analysis.prediction import preprocessor_detached
