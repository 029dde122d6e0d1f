"""What a BiGS model learned: SSM kernels by relative position (the paper's
Figures 3 and 4), metrics by input length (Figures 6 and 7) and masked-LM
syntactic probes (Goldberg, 2019). The tools `plot_kernels.py`,
`analyze_by_length.py` and `probe_agreement.py` run them from the command
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
