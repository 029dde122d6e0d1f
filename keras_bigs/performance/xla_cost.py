"""XLA's own FLOP count of a compiled training step (JAX only), and the
analytic count of `keras_bigs.performance.flops` beside it.

`xla_flops` compiles a backbone's step and reads XLA's cost analysis; the
HLO text parsers (`hlo_dot_flops`, `hlo_fft_flops`) split that total into
matmuls and FFTs with the formulas XLA's `HloCostAnalysis` uses, so that
`compare_with_xla` can check each part of the analytic count on its own.
jax is imported inside the functions that need it: it is an optional
backend, and the analytic counts work without it.
"""

import math
import re

import keras

from keras_bigs.performance.flops import BiGSFlopsConfig
from keras_bigs.performance.flops import flops_config
from keras_bigs.performance.flops import irfft_flops
from keras_bigs.performance.flops import log2_floor
from keras_bigs.performance.flops import model_conv_mode
from keras_bigs.performance.flops import model_flops
from keras_bigs.performance.flops import rfft_flops

# === XLA's cost analysis ===


def _example_inputs(batch_size, length):
    import jax

    ids = jax.ShapeDtypeStruct((batch_size, length), "int32")
    return {"token_ids": ids, "segment_ids": ids, "padding_mask": ids}


def xla_flops(model, batch_size, length, backward=True):
    """XLA's cost analysis of a backbone's compiled step (JAX only).

    The step is `sum(sequence_output²) / 2` (forward) or its gradient with
    respect to every trainable variable (forward + backward), jitted
    through `model.stateless_call` on `(batch_size, length)` inputs and
    compiled for this machine's default device without running. The
    pooler, which the loss does not read, is dead code XLA removes.

    Besides the total (`cost_analysis()["flops"]`), the compiled HLO's
    `dot` and `fft` instructions are summed separately, with the formulas
    XLA's `HloCostAnalysis` uses: `2 · |output| · |contracted dims|` per
    dot and `8 · |operand| · ⌊log2 fft_length⌋` per FFT, so matmuls can be
    compared on their own. XLA counts `exp`, `tanh`, `rsqrt`, ... as
    "transcendentals", outside `flops`.

    Args:
        model: a `keras.Model` taking `token_ids`, `segment_ids` and
            `padding_mask` and returning a `sequence_output` (e.g.
            `BiGSBackbone`, keras-hub's `BertBackbone`).
        batch_size: int.
        length: int. Sequence length.
        backward: bool. Forward + backward (default) or forward only.

    Returns:
        A dict: `total`, `dot`, `fft`, `other` (`total - dot - fft`) and
        `transcendentals`.

    Raises:
        RuntimeError: when the Keras backend is not JAX.
    """
    if keras.backend.backend() != "jax":
        raise RuntimeError(
            "xla_flops compiles the step with jax.jit and needs "
            "KERAS_BACKEND=jax; this process runs Keras on "
            f"{keras.backend.backend()!r}."
        )
    import jax
    import jax.numpy as jnp

    def spec(variables):
        return [jax.ShapeDtypeStruct(v.shape, v.dtype) for v in variables]

    def loss(trainable, non_trainable, inputs):
        outputs, _ = model.stateless_call(trainable, non_trainable, inputs)
        # Half the sum of squares: its cotangent is the output itself. (A
        # plain sum's cotangent is constant, and XLA then turns the last
        # layer's weight gradient into a reduction, which is no `dot`.)
        sequence = outputs["sequence_output"].astype("float32")
        return 0.5 * jnp.sum(sequence * sequence)

    step = jax.grad(loss) if backward else loss
    compiled = (
        jax.jit(step)
        .lower(
            spec(model.trainable_variables),
            spec(model.non_trainable_variables),
            _example_inputs(batch_size, length),
        )
        .compile()
    )
    cost = compiled.cost_analysis()
    if isinstance(cost, (list, tuple)):  # older jax: one dict per device
        cost = cost[0]
    hlo = compiled.as_text()
    dot, fft = hlo_dot_flops(hlo), hlo_fft_flops(hlo)
    total = float(cost.get("flops", 0.0))
    return {
        "total": total,
        "dot": dot,
        "fft": fft,
        "other": total - dot - fft,
        "transcendentals": float(cost.get("transcendentals", 0.0)),
    }


# === HLO text ===

# `%name = f32[2,3]{1,0} op(%a, %b), attr=...` (an HLO instruction line).
_INSTRUCTION = re.compile(
    r"%([^\s=]+) = [a-z]+[0-9]*\[([0-9,]*)\]\S* ([a-z][a-z0-9-]*)\((.*)$"
)


def _dims(text):
    return [int(d) for d in text.split(",") if d]


def _hlo_instructions(hlo_text):
    """`(op, output dims, operand dims, attributes text)` of each
    array-shaped instruction; operand shapes are looked up by name (names
    are unique in an HLO module): compiled HLO text does not print them
    inline."""
    parsed = []
    shapes = {}
    for line in hlo_text.splitlines():
        match = _INSTRUCTION.search(line)
        if match:
            name, dims, op, rest = match.groups()
            shapes[name] = _dims(dims)
            parsed.append((op, _dims(dims), rest))
    for op, dims, rest in parsed:
        arguments = rest.split(")", 1)[0]
        operands = [
            shapes.get(n) for n in re.findall(r"%([^\s,)]+)", arguments)
        ]
        yield op, dims, operands, rest


def hlo_dot_flops(hlo_text):
    """Sum of `2 · |output| · |contracted|` over the `dot` instructions of
    an HLO module's text (what XLA's cost analysis counts for them), fused
    ones included."""
    flops = 0.0
    for op, dims, operands, rest in _hlo_instructions(hlo_text):
        if op != "dot" or not operands or operands[0] is None:
            continue
        contracting = re.search(r"lhs_contracting_dims=\{([0-9,]*)\}", rest)
        lhs = operands[0]
        contracted = math.prod(
            lhs[d] for d in _dims(contracting.group(1) if contracting else "")
        )
        flops += 2 * math.prod(dims) * contracted
    return flops


def hlo_fft_flops(hlo_text):
    """Sum of `8 · |operand| · ⌊log2 fft_length⌋` over the `fft`
    instructions of an HLO module's text (XLA's `HandleFft`)."""
    flops = 0.0
    for op, _, operands, rest in _hlo_instructions(hlo_text):
        if op != "fft" or not operands or operands[0] is None:
            continue
        lengths = re.search(r"fft_length=\{([0-9,]*)\}", rest)
        log_factors = math.prod(log2_floor(n) for n in _dims(lengths.group(1)))
        flops += 8 * math.prod(operands[0]) * log_factors
    return flops


# === Analytic vs XLA ===


def compare_with_xla(model, batch_size, length):
    """The analytic training-step count of `model` next to XLA's.

    The analytic side takes the model's own convolution path at `length`
    (`model_conv_mode`) and XLA's FFT convention, so both count the same
    operations; `xla_over_analytic` is then 1 up to the elementwise
    constants, `dot_ratio` compares the matmuls alone (dense layers,
    attention products, Toeplitz convolution), `fft_ratio` the FFTs and
    `other_ratio` the rest.

    Returns:
        A dict: `length`, `batch_size`, `conv_mode`, `analytic` (the
        `FlopCount.as_dict()`), `analytic_radix2_total` (the same with
        `2.5 n log2 n` FFTs), `xla` (`xla_flops`), `xla_over_analytic`,
        `dot_ratio`, `fft_ratio` (None without FFTs) and `other_ratio`
        (everything else: elementwise ops, spectral products, kernels).
    """
    config = flops_config(model)
    conv_mode = model_conv_mode(model, length) or "fft"
    analytic = model_flops(
        config, length, batch_size, conv_mode=conv_mode, fft_convention="xla"
    )
    radix2 = model_flops(config, length, batch_size, conv_mode=conv_mode)
    xla = xla_flops(model, batch_size, length)
    matmuls = sum(
        analytic.forward.get(k, 0) + analytic.backward.get(k, 0)
        for k in ("dense", "attention", "ssm_kernel_matmul")
    )
    ffts = 0.0
    if isinstance(config, BiGSFlopsConfig) and conv_mode == "toeplitz":
        matmuls += (
            analytic.forward["ssm_conv"] + 2 * analytic.forward["ssm_conv"]
        )
    elif isinstance(config, BiGSFlopsConfig):
        ffts = _analytic_fft_flops(config, length, batch_size)
    others = analytic.total - matmuls - ffts
    return {
        "length": length,
        "batch_size": batch_size,
        "conv_mode": conv_mode if isinstance(config, BiGSFlopsConfig) else None,
        "analytic": analytic.as_dict(),
        "analytic_radix2_total": radix2.total,
        "xla": xla,
        "xla_over_analytic": xla["total"] / analytic.total,
        "dot_ratio": xla["dot"] / matmuls,
        "fft_ratio": xla["fft"] / ffts if ffts else None,
        "other_ratio": xla["other"] / others,
    }


def _analytic_fft_flops(config, length, batch_size):
    """The FFTs alone (XLA convention) of a BiGS training step."""
    n = 2 * length
    kernels = config.hidden_dim if config.kernel_per_channel else 1
    rows = batch_size * config.hidden_dim
    per_direction = rows * 2 * (
        rfft_flops(n, "xla") + irfft_flops(n, "xla")
    ) + kernels * (rfft_flops(n, "xla") + irfft_flops(n, "xla"))
    return 2 * config.num_layers * per_direction
