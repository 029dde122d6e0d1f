"""What a BiGS model learned: SSM kernels by relative position (the paper's
Figures 3 and 4), metrics by input length (Figures 6 and 7), masked-LM
syntactic probes (Goldberg, 2019), how much outputs move with the padded
length, and held-out masked-LM loss curves of pretraining runs. The
tools `plot_kernels.py`, `analyze_by_length.py`, `probe_agreement.py` and
`ablation_study.py` run them from the command line. What a model costs
(FLOPs, speed, memory) is `keras_bigs.performance`.
"""

from keras_bigs.analysis.agreement import AGREEMENT_PROBES_PATH
from keras_bigs.analysis.agreement import ProbeItem
from keras_bigs.analysis.agreement import generate_agreement_probes
from keras_bigs.analysis.agreement import read_probe_tsv
from keras_bigs.analysis.agreement import run_agreement_probes
from keras_bigs.analysis.agreement import write_probe_tsv
from keras_bigs.analysis.kernels import kernel_reach
from keras_bigs.analysis.kernels import layer_kernels
from keras_bigs.analysis.kernels import plot_kernel_comparison
from keras_bigs.analysis.kernels import plot_kernel_heatmap
from keras_bigs.analysis.kernels import relative_position_profile
from keras_bigs.analysis.length import classifier_predictions
from keras_bigs.analysis.length import metrics_by_length
from keras_bigs.analysis.length import plot_metric_by_length
from keras_bigs.analysis.long_range import accuracy_by_distance
from keras_bigs.analysis.padding import padded_inputs
from keras_bigs.analysis.padding import padding_change
from keras_bigs.analysis.pretraining_curves import plot_heldout_curves

__all__ = [
    "AGREEMENT_PROBES_PATH",
    "ProbeItem",
    "accuracy_by_distance",
    "classifier_predictions",
    "generate_agreement_probes",
    "kernel_reach",
    "layer_kernels",
    "metrics_by_length",
    "plot_kernel_comparison",
    "plot_kernel_heatmap",
    "padded_inputs",
    "padding_change",
    "plot_heldout_curves",
    "plot_metric_by_length",
    "read_probe_tsv",
    "relative_position_profile",
    "run_agreement_probes",
    "write_probe_tsv",
]
