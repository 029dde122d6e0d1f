"""Analytic FLOP counts for BiGS and BERT by sequence length (the paper's
Table 6). `keras_bigs.performance.xla_cost` checks them against XLA's own
count of the compiled step.

The promise of SSM routing is cost: a BiGS layer routes a sequence with
FFT convolutions, O(L log L), where a BERT layer pays O(L²) for attention.
Every count below is a small pure function with its equation beside it.

Conventions (all counts are FLOPs, i.e. a multiply-add is 2):

* A matrix product `(m, k) @ (k, n)` costs `2 m k n`.
* Backward = 2 x forward for every matmul (one product for the input's
  gradient, one for the weight's). The FFT convolution's backward is
  counted op by op (`fft_conv_flops`): two FFTs and two spectral products
  per channel, so 1.03-1.1x its forward, not 2x. Elementwise ops are
  counted at 2x forward too, a rough rule: XLA counts their backward at
  about 2.4x (bias gradients, gradient sums where a tensor has several
  consumers, ...), which leaves the total 0.2-0.7% above ours at hidden
  256 (`xla_cost.compare_with_xla`). A training step is forward + backward.
* A real FFT of `n` points costs `2.5 n log2 n` (`"radix2"`: half the
  classic `5 n log2 n` of a complex radix-2 FFT). XLA counts FFTs its own
  way (`"xla"`, see `rfft_flops`), about 3x more.
* Elementwise ops use the per-element constants below, which are what
  XLA's cost analysis counts for them on CPU (`exp`, `tanh`, `rsqrt` are
  "transcendentals" there, outside its FLOP count, and so here).

The paper's Table 6 (`PAPER_TABLE_6`) is reproduced by `table6_flops`: its
numbers are the forward pass of one sequence counting matmuls, attention
products and the FFT convolution only; no embeddings, output head,
softmax, LayerNorm or activations (see `table6_flops` for the evidence).
"""

import dataclasses
import math

import keras_hub

from keras_bigs.layers.s4d import CONV_PATHS
from keras_bigs.layers.s4d import power_table_sizes
from keras_bigs.layers.s4d import resolve_conv_mode
from keras_bigs.models import BiGSBackbone

# === Per-element costs of elementwise ops (XLA CPU cost analysis) ===

# tanh-approximate GELU: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
GELU_FLOPS = 8
# mean, x - mean, square, mean, (+ eps, rsqrt: transcendental), scale,
# shift, ...: keras' LayerNormalization measures 9 per element under XLA.
LAYER_NORM_FLOPS = 9
# max, x - max, (exp), sum, divide; plus adding the padding mask.
SOFTMAX_FLOPS = 5
# One complex multiply: 4 multiplies and 2 adds.
COMPLEX_MULTIPLY_FLOPS = 6
# One entry of an SSM power table W Ā^r or Ā^(qs): Δa·l, Δb·l, (exp, cos,
# sin), the magnitude times cos and sin (2), W times it (6 for P; Q skips it
# but is the smaller table).
KERNEL_POWER_FLOPS = 7

FFT_CONVENTIONS = ("radix2", "xla")
# The categories Table 6 counts (see `table6_flops`).
TABLE6_CATEGORIES = ("dense", "attention", "ssm_conv")

# Table 6 of Wang, Yan, Gu & Rush, "Pretraining Without Attention"
# (arXiv:2212.10544; Findings of EMNLP 2023): FLOPs of BiGS and BERT by
# input length, as printed (two significant figures), from two
# independent transcriptions of the table that agree. `table6_flops`
# reproduces all eight to the printed digits, which corroborates them.
PAPER_TABLE_6 = {
    128: {"bigs": 8.1e10, "bert": 7.9e10},
    512: {"bigs": 3.2e11, "bert": 3.4e11},
    1024: {"bigs": 6.5e11, "bert": 7.2e11},
    4096: {"bigs": 2.6e12, "bert": 4.1e12},
}


# === Model shapes ===


@dataclasses.dataclass(frozen=True)
class BiGSFlopsConfig:
    """The sizes of a BiGS model that its FLOPs depend on.

    Args:
        num_layers: int. Number of BiGS layers.
        hidden_dim: int. Model width `H`.
        intermediate_dim: int. Width `I` of the gate `v` and of `dol`.
        state_dim: int. SSM state size `N`.
        vocabulary_size: int. Embedding rows (they cost no forward FLOPs;
            kept so a config describes the whole model).
        kernel_per_channel: bool. One SSM kernel per channel instead of one
            per direction (changes the kernel and its FFT only).
    """

    num_layers: int
    hidden_dim: int
    intermediate_dim: int
    state_dim: int = 64
    vocabulary_size: int = 30522
    kernel_per_channel: bool = False


@dataclasses.dataclass(frozen=True)
class BertFlopsConfig:
    """The sizes of a BERT model that its FLOPs depend on.

    Args:
        num_layers: int. Number of transformer layers.
        hidden_dim: int. Model width `H`.
        intermediate_dim: int. Width `I` of the feed-forward layer.
        num_heads: int. Attention heads (the products do not depend on
            it; the softmax runs over `heads x L x L` scores).
        vocabulary_size: int. Embedding rows.
    """

    num_layers: int
    hidden_dim: int
    intermediate_dim: int
    num_heads: int = 16
    vocabulary_size: int = 30522


# The configurations of Table 6: BiGS-large (23 layers, whose weights, 313M,
# come close to BERT-large's 24 layers, 302M) and BERT-large. With these
# sizes `table6_flops` prints all eight entries; BERT-base sizes would give
# a quarter of them.
TABLE_6_CONFIGS = {
    "bigs_paper": BiGSFlopsConfig(
        num_layers=23, hidden_dim=1024, intermediate_dim=3072, state_dim=64
    ),
    "bert_large": BertFlopsConfig(
        num_layers=24, hidden_dim=1024, intermediate_dim=4096, num_heads=16
    ),
}


# === Counts ===


@dataclasses.dataclass(frozen=True)
class FlopCount:
    """FLOPs by category for the forward and the backward pass.

    Add two counts with `+`, repeat one with `*` (e.g. `layer * 24`).

    Args:
        forward: dict, category -> forward FLOPs.
        backward: dict, category -> backward FLOPs.
    """

    forward: dict
    backward: dict

    def __add__(self, other):
        def add(a, b):
            return {k: a.get(k, 0) + b.get(k, 0) for k in {**a, **b}}

        return FlopCount(
            add(self.forward, other.forward), add(self.backward, other.backward)
        )

    def __mul__(self, times):
        return FlopCount(
            {k: v * times for k, v in self.forward.items()},
            {k: v * times for k, v in self.backward.items()},
        )

    __rmul__ = __mul__

    @property
    def forward_total(self):
        return sum(self.forward.values())

    @property
    def backward_total(self):
        return sum(self.backward.values())

    @property
    def total(self):
        """A training step: forward + backward."""
        return self.forward_total + self.backward_total

    def as_dict(self):
        """Plain numbers, for JSON."""
        return {
            "forward": {k: float(v) for k, v in sorted(self.forward.items())},
            "backward": {k: float(v) for k, v in sorted(self.backward.items())},
            "forward_total": float(self.forward_total),
            "backward_total": float(self.backward_total),
            "total": float(self.total),
        }


def twice_forward(forward):
    """`FlopCount` whose backward is 2 x `forward` (the matmul rule)."""
    return FlopCount(dict(forward), {k: 2 * v for k, v in forward.items()})


def matmul_flops(m, k, n):
    """`(m, k) @ (k, n)`: `m n` outputs of `k` multiply-adds, `2 m k n`.

    Example:
    ```python
    from keras_bigs.performance.flops import matmul_flops

    matmul_flops(128, 1024, 4096)  # 1.07e9 (2 · 128 · 1024 · 4096)
    ```
    """
    return 2 * m * k * n


def dense_flops(tokens, in_dim, out_dim):
    """A dense layer on `tokens` vectors: `2 · tokens · in · out` (the bias
    add is elementwise and counted with the elementwise ops)."""
    return matmul_flops(tokens, in_dim, out_dim)


def rfft_flops(n, convention="radix2"):
    """Real FFT of `n` points (`n/2 + 1` complex outputs).

        radix2:  2.5 n log2 n   (half of a complex FFT's 5 n log2 n)
        xla:     8 n ⌊log2 n⌋   (XLA's HloCostAnalysis::HandleFft: 2 FLOPs
                                 per FMA x 4 FMAs per complex multiply x
                                 ⌊log2 n⌋, per element of the operand,
                                 here `n` reals)

    Args:
        n: int. FFT length.
        convention: `"radix2"` or `"xla"`.
    """
    _check_convention(convention)
    if convention == "xla":
        return 8 * n * log2_floor(n)
    return 2.5 * n * math.log2(n)


def irfft_flops(n, convention="radix2"):
    """Inverse real FFT to `n` points (from `n/2 + 1` complex inputs).

    radix2:  2.5 n log2 n
    xla:     8 (n/2 + 1) ⌊log2 n⌋   (XLA counts the complex operand)
    """
    _check_convention(convention)
    if convention == "xla":
        return 8 * (n // 2 + 1) * log2_floor(n)
    return 2.5 * n * math.log2(n)


def fft_conv_flops(
    length, channels, batch_size=1, kernels=1, convention="radix2"
):
    """The S4D convolution of `channels` sequences by FFT of size `2L`
    (`keras_bigs.layers.s4d.fft_convolution`), as a `FlopCount`.

    Forward, per channel and batch row: `rfft(u)`, the spectral product,
    `irfft`; per kernel (once per call): `rfft(K)`:

        B C (rfft(2L) + 6 (L+1) + irfft(2L)) + kernels · rfft(2L)

    Backward (JAX transposes rfft to irfft and irfft to rfft): per channel
    and row the cotangent's rfft, two spectral products (`dU = dY K̄`, and
    `dY Ū` summed over rows and channels into `dK`), and an irfft; per
    kernel an irfft back to the taps:

        B C (rfft(2L) + 2 · 6 (L+1) + 2 (L+1) + irfft(2L))
            + kernels · irfft(2L)

    Args:
        length: int. Sequence length `L`.
        channels: int. Number of convolved channels `C`.
        batch_size: int. `B`.
        kernels: int. Distinct kernels (1 shared, or `C`).
        convention: FFT count, `"radix2"` or `"xla"` (see `rfft_flops`).
    """
    n = 2 * length  # zero-padded so the circular convolution is linear
    bins = length + 1  # n/2 + 1 frequencies
    rows = batch_size * channels
    product = COMPLEX_MULTIPLY_FLOPS * bins
    forward = rows * (
        rfft_flops(n, convention) + product + irfft_flops(n, convention)
    ) + kernels * rfft_flops(n, convention)
    # The `dK` spectrum is a sum over rows: 2 adds per complex bin.
    backward = rows * (
        rfft_flops(n, convention)
        + 2 * product
        + 2 * bins
        + irfft_flops(n, convention)
    ) + kernels * irfft_flops(n, convention)
    return FlopCount({"ssm_conv": forward}, {"ssm_conv": backward})


def toeplitz_conv_flops(length, channels, batch_size=1, kernels=1):
    """The S4D convolution as one product with the `L x L` Toeplitz matrix
    (`keras_bigs.layers.s4d.toeplitz_convolution`), as a `FlopCount`.

    Forward: `y = M^T u`, `2 L² · B C` (the zeros above the diagonal are
    multiplied too). Backward: `du = M dy` and `dM = Σ u dy^T`, twice the
    forward, plus folding `dM`'s `L x (2L - 1)` entries back onto the `L`
    taps (one add each, per kernel).
    """
    forward = matmul_flops(length, length, batch_size * channels)
    backward = 2 * forward + kernels * length * (2 * length - 1)
    return FlopCount({"ssm_conv": forward}, {"ssm_conv": backward})


def ssm_kernel_flops(length, state_dim, kernels=1):
    """Generating `kernels` S4D kernels of `L` taps from `N` states
    (`zoh_kernel`): `K[qs + r] = Re(Σ_n (W_n Ā_n^r)(Ā_n^(qs)))` with
    `s = ⌈√L⌉`, i.e. two power tables of `N s` and `N ⌈L/s⌉` entries and
    one `(⌈L/s⌉, 2N) x (2N, s)` matmul, about `4 N L` per kernel (the `O(N)`
    discretisation is left out)."""
    step, blocks = power_table_sizes(length)
    return twice_forward(
        {
            "ssm_kernel_matmul": kernels
            * matmul_flops(blocks, 2 * state_dim, step),
            "ssm_kernel": kernels
            * KERNEL_POWER_FLOPS
            * state_dim
            * (step + blocks),
        }
    )


def attention_flops(length, hidden_dim, batch_size=1):
    """Self-attention's two `L x L` products, summed over heads:
    `Q K^T` is `2 L² H` and `softmax(·) V` another `2 L² H`, so `4 B L² H`."""
    return twice_forward(
        {"attention": 2 * matmul_flops(length, hidden_dim, length * batch_size)}
    )


def bigs_layer_flops(
    config, length, batch_size=1, conv_mode="fft", fft_convention="radix2"
):
    """One BiGS layer (`keras_bigs.layers.BiGSBlock`) on `B` sequences of
    `L` tokens, as a `FlopCount`. With `T = B L` tokens:

        z  = LN(x)                          9 T H
        v  = gelu(dv(z))                    2 T H I       [H -> I]
        uf = gelu(du_forward(z))            2 T H²        [H -> H]
        ub = gelu(du_backward(flip z))      2 T H²        [H -> H]
        f  = duc_forward(ssm_f(uf))         2 T H² + conv [H -> H]
        b  = flip(duc_backward(ssm_b(ub)))  2 T H² + conv [H -> H]
        y  = x + do(gelu(dol(f b)) v)       2 T H I · 2   [H -> I -> H]

    so `dense = 2 T (4 H² + 3 H I)`; each direction adds one convolution of
    `H` channels and one kernel. Flips cost nothing (and running `ssm_b`
    anti-causally instead, as `S4DConv(reverse=True)` does, costs the
    same). Elementwise, per token: LayerNorm `9 H`,
    seven bias adds `5 H + 2 I`, four GELUs `8 (2 H + 2 I)`, the SSM skip
    `D u` and its add `2 · 2 H`, `f b` `H`, `· v` `I`, the residual `H`:
    `36 H + 19 I`.

    Args:
        config: `BiGSFlopsConfig`.
        length: int. Sequence length `L`.
        batch_size: int. `B`.
        conv_mode: `"fft"` (the paper's O(L log L) path) or `"toeplitz"`
            (the O(L²) matmul `S4DConv` uses for short sequences).
        fft_convention: `"radix2"` or `"xla"` (see `rfft_flops`).
    """
    if conv_mode not in CONV_PATHS:
        raise ValueError(
            f"Unknown `conv_mode={conv_mode!r}`; expected one of {CONV_PATHS}."
        )
    h, i = config.hidden_dim, config.intermediate_dim
    tokens = batch_size * length
    dense = (
        dense_flops(tokens, h, i)  # dv
        + 4 * dense_flops(tokens, h, h)  # du_*, duc_*
        + dense_flops(tokens, h, i)  # dol
        + dense_flops(tokens, i, h)
    )  # do
    elementwise = tokens * (
        LAYER_NORM_FLOPS * h
        + (5 * h + 2 * i)
        + GELU_FLOPS * (2 * h + 2 * i)
        + 4 * h
        + h
        + i
        + h
    )
    kernels = h if config.kernel_per_channel else 1
    if conv_mode == "fft":
        conv = fft_conv_flops(length, h, batch_size, kernels, fft_convention)
    else:
        conv = toeplitz_conv_flops(length, h, batch_size, kernels)
    direction = conv + ssm_kernel_flops(length, config.state_dim, kernels)
    return (
        twice_forward({"dense": dense, "elementwise": elementwise})
        + direction * 2
    )


def bert_layer_flops(config, length, batch_size=1):
    """One post-LN BERT layer (keras-hub's `TransformerEncoder`) on `B`
    sequences of `L` tokens, as a `FlopCount`. With `T = B L` tokens:

        q, k, v = x Wq, x Wk, x Wv          3 · 2 T H²
        s = q k^T / √d                      2 T L H      (+ T H scaling)
        a = softmax(s) v                    2 T L H      (5 per score)
        x = LN(x + a Wo)                    2 T H²
        y = LN(x + gelu(x W1) W2)           2 · 2 T H I

    so `dense = 2 T (4 H² + 2 H I)` and `attention = 4 T L H`.
    Elementwise, per token: biases `5 H + I`, query scaling `H`, GELU
    `8 I`, two residuals `2 H`, two LayerNorms `18 H`, and the softmax over
    `heads · L` scores.

    Args:
        config: `BertFlopsConfig`.
        length: int. Sequence length `L`.
        batch_size: int. `B`.
    """
    h, i = config.hidden_dim, config.intermediate_dim
    tokens = batch_size * length
    dense = (
        4 * dense_flops(tokens, h, h)
        + dense_flops(tokens, h, i)
        + dense_flops(tokens, i, h)
    )
    elementwise = tokens * (
        (5 * h + i)
        + h
        + GELU_FLOPS * i
        + 2 * h
        + 2 * LAYER_NORM_FLOPS * h
        + SOFTMAX_FLOPS * config.num_heads * length
    )
    return twice_forward(
        {"dense": dense, "elementwise": elementwise}
    ) + attention_flops(length, h, batch_size)


def embedding_flops(hidden_dim, length, batch_size=1):
    """Token + position + segment embeddings, summed and normalised:
    `T (2 H + 9 H)` forward (lookups are gathers, no FLOPs). Backward
    scatters each token's gradient into the token and segment tables
    (`2 T H` adds) besides the sum's and LayerNorm's gradients."""
    tokens = batch_size * length
    forward = tokens * (2 * hidden_dim + LAYER_NORM_FLOPS * hidden_dim)
    return FlopCount(
        {"embeddings": forward},
        {"embeddings": 2 * forward + 2 * tokens * hidden_dim},
    )


def model_flops(
    config,
    length,
    batch_size=1,
    conv_mode="fft",
    fft_convention="radix2",
    embeddings=True,
):
    """A whole backbone (embeddings + layers; no output head or pooler) on
    `B` sequences of `L` tokens, as a `FlopCount`.

    Args:
        config: `BiGSFlopsConfig` or `BertFlopsConfig`.
        length: int. Sequence length `L`.
        batch_size: int. `B`.
        conv_mode: BiGS only: `"fft"` or `"toeplitz"`.
        fft_convention: BiGS only: `"radix2"` or `"xla"`.
        embeddings: bool. Count the embedding sum and LayerNorm.

    Example:
    ```python
    from keras_bigs.performance import TABLE_6_CONFIGS
    from keras_bigs.performance import model_flops

    count = model_flops(TABLE_6_CONFIGS["bigs_paper"], 4096)
    count.forward_total  # 2.60e12 (one sequence, forward, every op)
    count.total  # 7.79e12 (a training step: forward + backward)
    ```
    """
    if isinstance(config, BiGSFlopsConfig):
        layer = bigs_layer_flops(
            config, length, batch_size, conv_mode, fft_convention
        )
    elif isinstance(config, BertFlopsConfig):
        layer = bert_layer_flops(config, length, batch_size)
    else:
        raise TypeError(
            f"Expected a BiGSFlopsConfig or BertFlopsConfig; "
            f"received {type(config).__name__}."
        )
    count = layer * config.num_layers
    if embeddings:
        count = count + embedding_flops(config.hidden_dim, length, batch_size)
    return count


def table6_flops(config, length):
    """FLOPs as the paper's Table 6 counts them: one sequence, forward
    pass, matmuls + attention products + FFT convolution (`"radix2"`),
    nothing else.

    Why this convention: BERT-large's forward matmuls alone,
    `24 · L (2 (4 H² + 2 H I) + 4 L H)`, give 7.89e10, 3.35e11, 7.22e11
    and 4.12e12 at 128/512/1024/4096 tokens, all four of the printed
    values; adding the softmax (5 per score) would print 4.2e12 at 4096,
    an MLM head's vocabulary projection (`2 V H` per token) 8.7e10 at 128,
    and a training step (3x) 2.4e11. BiGS's forward matmuls alone give
    8.0e10 at 128 (the paper: 8.1e10); adding the convolution, with
    `2.5 n log2 n` per real FFT, prints all four. The FFT constant is not
    pinned down by the table: any convolution cost between 2.8 and 8.1
    `· 2L log2 2L` per channel prints the same numbers (ours is about
    5.3; XLA's count, 12, does not: it prints 3.3e11 at 512).
    The numbers are thus 2 x the multiply-adds of one forward pass, which
    is also the multiply-adds of forward + backward if the backward is
    counted as equal to the forward; a training step under the 3x rule
    is `model_flops(...).total`.

    Example:
    ```python
    from keras_bigs.performance import TABLE_6_CONFIGS
    from keras_bigs.performance import table6_flops

    bert, bigs = TABLE_6_CONFIGS["bert_large"], TABLE_6_CONFIGS["bigs_paper"]
    table6_flops(bert, 4096)  # 4.12e12 (paper: 4.1e12)
    table6_flops(bigs, 4096)  # 2.59e12 (paper: 2.6e12)
    ```
    """
    count = model_flops(
        config,
        length,
        conv_mode="fft",
        fft_convention="radix2",
        embeddings=False,
    )
    return sum(count.forward.get(k, 0) for k in TABLE6_CATEGORIES)


def reproduce_table_6(lengths=None, bigs=None, bert=None, batch_size=1):
    """Rows of Table 6 side by side with `table6_flops` and the training
    step count.

    Args:
        lengths: sequence lengths; default the paper's (128 .. 4096).
        bigs: `BiGSFlopsConfig`; default `TABLE_6_CONFIGS["bigs_paper"]`.
        bert: `BertFlopsConfig`; default `TABLE_6_CONFIGS["bert_large"]`.
        batch_size: int. Sequences per training step (the `*_train`
            columns; Table 6 counts one).

    Returns:
        A list of dicts, one per length: `length`, `bigs`, `bert` (Table 6
        convention), `paper_bigs`, `paper_bert` (None where the paper has
        no value), `bigs_ratio`, `bert_ratio` (ours / paper),
        `bert_over_bigs`, and `bigs_train`, `bert_train` (a training step:
        forward + backward, all ops, embeddings included).
    """
    lengths = sorted(PAPER_TABLE_6) if lengths is None else lengths
    bigs = TABLE_6_CONFIGS["bigs_paper"] if bigs is None else bigs
    bert = TABLE_6_CONFIGS["bert_large"] if bert is None else bert
    rows = []
    for length in lengths:
        paper = PAPER_TABLE_6.get(length, {})
        ours_bigs = table6_flops(bigs, length)
        ours_bert = table6_flops(bert, length)
        rows.append(
            {
                "length": length,
                "bigs": ours_bigs,
                "bert": ours_bert,
                "paper_bigs": paper.get("bigs"),
                "paper_bert": paper.get("bert"),
                "bigs_ratio": _ratio(ours_bigs, paper.get("bigs")),
                "bert_ratio": _ratio(ours_bert, paper.get("bert")),
                "bert_over_bigs": ours_bert / ours_bigs,
                "bigs_train": model_flops(bigs, length, batch_size).total,
                "bert_train": model_flops(bert, length, batch_size).total,
            }
        )
    return rows


def round_significant(value, digits=2):
    """`value` rounded to `digits` significant figures, as Table 6 prints."""
    if value == 0:
        return 0.0
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


# === From a built model ===


# The backbone each configuration describes: a configuration's fields are
# that backbone's constructor arguments (and attributes) of the same names.
BACKBONE_OF_CONFIG = {
    BiGSFlopsConfig: BiGSBackbone,
    BertFlopsConfig: keras_hub.models.BertBackbone,
}


def flops_config(model):
    """The `BiGSFlopsConfig` or `BertFlopsConfig` of a `BiGSBackbone` (gated
    SSM layers only) or of a keras-hub `BertBackbone`."""
    if isinstance(model, BiGSBackbone) and (
        model.block_type != "gated" or model.routing != "ssm"
    ):
        raise ValueError(
            "Only BiGS layers (`block_type='gated'`, `routing='ssm'`) "
            f"are counted; this backbone has block_type="
            f"{model.block_type!r}, routing={model.routing!r}."
        )
    for config_cls, backbone_cls in BACKBONE_OF_CONFIG.items():
        if isinstance(model, backbone_cls):
            return config_cls(
                **{
                    field.name: getattr(model, field.name)
                    for field in dataclasses.fields(config_cls)
                }
            )
    raise TypeError(
        f"Expected a BiGSBackbone or keras_hub BertBackbone; "
        f"received {type(model).__name__}."
    )


def flops_backbone(config, max_sequence_length, dropout=0.0):
    """A new backbone of the sizes in `config`: the inverse of
    `flops_config`, for measuring what a configuration counts.

    Args:
        config: `BiGSFlopsConfig` (a `BiGSBackbone`) or `BertFlopsConfig`
            (a keras-hub `BertBackbone`).
        max_sequence_length: int. The longest input.
        dropout: float.

    Example:
    ```python
    from keras_bigs.performance import BiGSFlopsConfig
    from keras_bigs.performance import flops_backbone
    from keras_bigs.performance import flops_config

    config = BiGSFlopsConfig(num_layers=1, hidden_dim=16,
                             intermediate_dim=48, state_dim=4,
                             vocabulary_size=100)
    flops_config(flops_backbone(config, 32)) == config  # True
    ```
    """
    backbone_cls = BACKBONE_OF_CONFIG.get(type(config))
    if backbone_cls is None:
        raise TypeError(
            f"Expected a BiGSFlopsConfig or BertFlopsConfig; received "
            f"{type(config).__name__}."
        )
    return backbone_cls(
        **dataclasses.asdict(config),
        max_sequence_length=max_sequence_length,
        dropout=dropout,
    )


def model_conv_mode(model, length):
    """The convolution path (`"fft"` or `"toeplitz"`) a `BiGSBackbone`'s SSMs
    take at `length` on this device; `None` for other models."""
    if not isinstance(model, BiGSBackbone):
        return None
    ssm = model.bigs_layers[0].fs4
    return resolve_conv_mode(ssm.conv_mode, length, ssm.kernel_per_channel)


def _ratio(ours, paper):
    return None if not paper else ours / paper


def log2_floor(n):
    """`⌊log2 n⌋` of an int `n >= 1`, exactly (float `log2` can round up
    just below a power of two)."""
    return n.bit_length() - 1


def _check_convention(convention):
    if convention not in FFT_CONVENTIONS:
        raise ValueError(
            f"Unknown FFT convention {convention!r}; expected "
            f"one of {FFT_CONVENTIONS}."
        )
