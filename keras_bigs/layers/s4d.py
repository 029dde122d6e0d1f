"""The S4D state space model as a convolution: kernel math and `S4DConv`.

The SSM of BiGS is diagonal (S4D) with a zero-order-hold discretisation and
`B = 1`.  Everything below is real arithmetic on `(re, im)` pairs so that it
runs on every backend and on TPUs, which have no complex dtypes.

    x'(t) = A x(t) + u(t),  y(t) = Re(C x(t)) + D u(t)      (continuous SSM)
    Ā = exp(Δ A),  B̄ = (exp(Δ A) - 1) / A                     (zero-order hold)
    K[l] = Re(Σ_n C_n B̄_n Ā_n^l)                              (SSM kernel)
    y = K * u + D u                                            (causal conv)
"""

import math

import keras
import numpy as np
from keras import ops

from keras_bigs.layers.devices import device_kind

# The original clamps the real part of A below this value to keep it stable.
MAX_A_REAL = -1e-4

# The two exact ways to convolve, and the modes a layer accepts ("auto"
# picks a path by length and device).
CONV_PATHS = ("fft", "toeplitz")
CONV_MODES = ("auto",) + CONV_PATHS

# `conv_mode="auto"` multiplies by the Toeplitz matrix up to this length and
# uses the FFT above it: the O(L²) product wins while the matrix is small.
# The switch is where whole training steps cross over, which comes before
# the layer's own crossover (docs/performance.md, "S4D convolution paths";
# `tools/benchmark.py --conv-mode` measures both paths). GPUs and TPUs run
# the product on matrix units, which moves the crossover up; their values
# are estimates, not measurements.
TOEPLITZ_MAX_LENGTH = {"cpu": 128, "gpu": 1024, "tpu": 1024}


def resolve_conv_mode(conv_mode, length, kernel_per_channel=False):
    """The path `conv_mode="auto"` takes for `length` on this device.

    Per-channel kernels would need a `(channels, L, L)` Toeplitz tensor, so
    `"auto"` keeps them on the FFT; an unknown (dynamic) length too.
    """
    if conv_mode != "auto":
        return conv_mode
    if length is None or kernel_per_channel:
        return "fft"
    limit = TOEPLITZ_MAX_LENGTH.get(device_kind(), TOEPLITZ_MAX_LENGTH["cpu"])
    return "toeplitz" if length <= limit else "fft"


# === Initialisations of A (numpy, float64, computed once at build) ===


def hippo_legs_diagonal(state_dim):
    """Diagonalised HiPPO-LegS (the original BiGS default).

    The normal part of the HiPPO-LegS matrix is `S = -1/2 I + skew`; its
    eigenvalues are `-1/2 + i λ` with `λ` the (ascending) eigenvalues of the
    Hermitian matrix `-i · skew`.
    """
    n = np.arange(state_dim, dtype=np.float64)
    p = np.sqrt(1 + 2 * n)
    hippo = -(np.tril(np.outer(p, p)) - np.diag(n))  # A_nk (HiPPO-LegS)
    low_rank = np.sqrt(n + 0.5)
    normal = hippo + np.outer(low_rank, low_rank)  # A + P P^T
    a_real = np.mean(np.diag(normal)) * np.ones(state_dim)
    skew = normal - np.diag(np.diag(normal))
    a_imag = np.linalg.eigvalsh(-1j * skew)
    return a_real, a_imag


def s4d_lin(state_dim):
    """S4D-Lin: A_n = -1/2 + i π n."""
    n = np.arange(state_dim, dtype=np.float64)
    return -0.5 * np.ones(state_dim), math.pi * n


def s4d_inv(state_dim):
    """S4D-Inv: A_n = -1/2 + i N/π (N / (2n + 1) - 1)."""
    n = np.arange(state_dim, dtype=np.float64)
    return (
        -0.5 * np.ones(state_dim),
        state_dim / math.pi * (state_dim / (2 * n + 1) - 1),
    )


A_INITIALIZATIONS = {
    "hippo": hippo_legs_diagonal,
    "lin": s4d_lin,
    "inv": s4d_inv,
}


# === Kernel and convolution (keras.ops, real arithmetic) ===


def zoh_kernel(A_re, A_im, C, log_step, length):
    """SSM convolution kernel `K[0..length)` by zero-order hold.

    Args:
        A_re, A_im: `(..., N)` real and imaginary parts of the diagonal `A`.
        C: `(..., N, 2)` real and imaginary parts of `C`.
        log_step: `(..., 1)` log of the step size `Δ`.
        length: number of kernel taps `L`.

    Returns:
        `(..., L)` real kernel.
    """
    a = ops.minimum(A_re, MAX_A_REAL)  # A = min(A_re, -1e-4) + i A_im
    b = A_im
    dt = ops.exp(log_step)  # Δ = exp(log Δ)
    # exp(Δ A) - 1
    decay = ops.exp(dt * a)
    e_re = decay * ops.cos(dt * b) - 1.0
    e_im = decay * ops.sin(dt * b)
    # B̄ = (exp(Δ A) - 1) / A
    norm = a * a + b * b
    bbar_re = (e_re * a + e_im * b) / norm
    bbar_im = (e_im * a - e_re * b) / norm
    # W = C B̄
    c_re, c_im = C[..., 0], C[..., 1]
    w_re = c_re * bbar_re - c_im * bbar_im
    w_im = c_re * bbar_im + c_im * bbar_re
    # K[l] = Re(Σ_n W_n Ā_n^l) with l = q s + r (s ≈ √L): the powers factor,
    # Ā^l = Ā^r Ā^(q s), so K is one small (L/s, 2N) x (2N, s) matrix
    # product of two √L-long power tables instead of N x L transcendentals.
    if not isinstance(length, (int, np.integer)):
        # A symbolic length (TF graph): the direct N x L Vandermonde sum.
        return _vandermonde_sum(
            w_re, w_im, dt * a, dt * b, ops.arange(0, length), A_re.dtype
        )
    step, blocks = power_table_sizes(int(length))
    # P[r, n] = W_n Ā_n^r,  r < s
    p_re, p_im = _complex_powers(
        dt * a, dt * b, ops.arange(0, step), A_re.dtype
    )
    p_re, p_im = (
        ops.expand_dims(w_re, -1) * p_re - ops.expand_dims(w_im, -1) * p_im,
        ops.expand_dims(w_re, -1) * p_im + ops.expand_dims(w_im, -1) * p_re,
    )
    # Q[n, q] = Ā_n^(q s)
    q_re, q_im = _complex_powers(
        dt * a, dt * b, ops.arange(0, blocks) * step, A_re.dtype
    )
    # K[q s + r] = Σ_n Re(P[n, r] Q[n, q]) = Σ_n P_re Q_re - P_im Q_im
    kernel = ops.einsum(
        "...nr,...nq->...qr",
        ops.concatenate([p_re, -p_im], axis=-2),
        ops.concatenate([q_re, q_im], axis=-2),
    )
    lead = tuple(ops.shape(kernel)[:-2])
    return ops.reshape(kernel, lead + (blocks * step,))[..., :length]


def power_table_sizes(length):
    """`(s, ⌈L/s⌉)` with `s = ⌈√L⌉`: the lengths of `zoh_kernel`'s two power
    tables, `Ā^r` for `r < s` and `Ā^(qs)` for `q < ⌈L/s⌉`."""
    step = math.isqrt(max(length, 1) - 1) + 1
    return step, -(-length // step)


def _complex_powers(dt_a, dt_b, exponents, dtype):
    """`Ā^l = exp(l Δ a) (cos(l Δ b) + i sin(l Δ b))` for `l` in
    `exponents`: `(..., N)` -> `(..., N, len(exponents))` as (re, im)."""
    exponents = ops.cast(exponents, dtype)
    magnitude = ops.exp(ops.expand_dims(dt_a, -1) * exponents)
    phase = ops.expand_dims(dt_b, -1) * exponents
    return magnitude * ops.cos(phase), magnitude * ops.sin(phase)


def _vandermonde_sum(w_re, w_im, dt_a, dt_b, positions, dtype):
    """`K[l] = Re(Σ_n W_n Ā_n^l)` term by term (`(..., N, L)` powers)."""
    power_re, power_im = _complex_powers(dt_a, dt_b, positions, dtype)
    return ops.sum(
        ops.expand_dims(w_re, -1) * power_re
        - ops.expand_dims(w_im, -1) * power_im,
        axis=-2,
    )


def fft_convolution(u, kernel, reverse=False):
    """Causal convolution along the last axis by FFT of size `2L`:

        y[t] = Σ_{s≤t} K[t-s] u[s]          (reverse=False)
        y[t] = Σ_{s≥t} K[s-t] u[s]          (reverse=True, anti-causal)

    Zero-padding to `2L` turns the FFT's circular convolution into a linear
    one, so nothing wraps around. Time-reversing a real kernel conjugates its
    spectrum, so the anti-causal convolution costs the same as the causal
    one and needs no flips. The kernel's FFT is taken once and broadcast over
    batch and channels. No `L x L` tensor exists on this path.

    Args:
        u: `(..., L)` input.
        kernel: `(..., L)` kernel, broadcastable against `u`.
        reverse: bool. Anti-causal instead of causal.
    """
    length = ops.shape(u)[-1]
    fft_length = 2 * length
    u_re, u_im = ops.rfft(u, fft_length=fft_length)
    k_re, k_im = ops.rfft(kernel, fft_length=fft_length)
    if reverse:
        k_im = -k_im  # spectrum of the time-reversed kernel
    # Pointwise complex product in the frequency domain.
    y_re = u_re * k_re - u_im * k_im
    y_im = u_re * k_im + u_im * k_re
    y = ops.irfft((y_re, y_im), fft_length=fft_length)
    return y[..., :length]


def toeplitz_matrix(kernel, transposed=False):
    """`M[..., s, t] = K[t - s]` for `t ≥ s`, else 0: `(..., L) -> (..., L, L)`
    (`M^T` with `transposed=True`).

    Built by reshaping a tiled, zero-padded kernel (row `s` is the padded
    kernel shifted right by `s`), so it is all dense ops: no gather, and a
    cheap gradient. A length unknown at trace time (a TensorFlow graph)
    takes `toeplitz_matrix_by_gather`.
    """
    length = kernel.shape[-1]
    if length is None:
        return toeplitz_matrix_by_gather(kernel, transposed)
    if transposed:
        rank = len(kernel.shape) + 1
        axes = tuple(range(rank - 2)) + (rank - 1, rank - 2)
        return ops.transpose(toeplitz_matrix(kernel), axes)
    lead = tuple(kernel.shape[:-1])
    padded = ops.concatenate(
        [kernel, ops.zeros(lead + (length,), kernel.dtype)], axis=-1
    )  # (..., 2L): K followed by L zeros
    tiled = ops.tile(padded, (1,) * len(lead) + (length,))  # (..., 2L²)
    # Rows of 2L - 1: row s starts at s (2L - 1) ≡ -s (mod 2L), so
    # rows[s, j] = padded[(j - s) mod 2L] = K[j - s] for j ≥ s, else 0.
    rows = ops.reshape(
        tiled[..., : length * (2 * length - 1)],
        lead + (length, 2 * length - 1),
    )
    return rows[..., :length]


def toeplitz_matrix_by_gather(kernel, transposed=False):
    """`toeplitz_matrix` for any length: `M[s, t] = K[max(t - s, 0)] [t ≥ s]`,
    one gather of the kernel. Works where the length is only known at run
    time (exports with a dynamic sequence length). `M^T` is gathered
    directly (OpenVINO's converter fails on a transpose after a gather)."""
    positions = ops.arange(0, ops.shape(kernel)[-1])
    later, earlier = (
        ops.expand_dims(positions, 0),
        ops.expand_dims(positions, 1),
    )
    lag = earlier - later if transposed else later - earlier
    taps = ops.take(kernel, ops.maximum(lag, 0), axis=-1)  # (..., L, L)
    return taps * ops.cast(lag >= 0, kernel.dtype)


def toeplitz_convolution(u, kernel, reverse=False):
    """The convolution of `fft_convolution` as one matrix product,
    `y = M^T u` (causal) or `y = M u` (anti-causal), `M = toeplitz_matrix(K)`.

    O(L²) work per channel, but for a shared kernel a single `(L, L) x
    (L, batch * channels)` matmul, which beats the FFT for short sequences.
    It needs no FFT, so it also runs where none exists (ONNX, LiteRT and
    OpenVINO exports).

    Args:
        u: `(batch, L, channels)` input (note: length on axis 1).
        kernel: `(L,)` shared kernel or `(channels, L)` per channel.
        reverse: bool. Anti-causal instead of causal.
    """
    if len(kernel.shape) > 1:
        equation = "hts,bsh->bth" if reverse else "hst,bsh->bth"
        return ops.einsum(equation, toeplitz_matrix(kernel), u)
    matrix = toeplitz_matrix(kernel, transposed=not reverse)
    length, channels = ops.shape(u)[1], u.shape[-1]
    # Every (batch, channel) column shares the matrix: one large GEMM, which
    # measured faster than an einsum or a batched matmul on CPU. (-1: the
    # batch may be dynamic, e.g. in a serving graph.)
    columns = ops.reshape(ops.transpose(u, (1, 0, 2)), (length, -1))
    y = ops.reshape(ops.matmul(matrix, columns), (length, -1, channels))
    return ops.transpose(y, (1, 0, 2))


@keras.saving.register_keras_serializable(package="keras_bigs")
class S4DConv(keras.layers.Layer):
    """A diagonal state space model (S4D) applied as a causal convolution.

    Maps `(batch, length, channels)` to the same shape. The kernel is
    recomputed for each input's length, so any length works; output at
    position `t` only depends on inputs at positions `<= t` (or `>= t` with
    `reverse=True`, the backward SSM of BiGS, which equals flipping the
    sequence, convolving and flipping back, without the flips).

    By default one kernel is shared by all channels (BiGS's choice: `A_re`,
    `A_im` of shape `(state_dim,)`, `C` `(state_dim, 2)`, `log_step` and `D`
    `(1,)`). With `kernel_per_channel=True` every channel has its own SSM
    (standard S4D), and each parameter gains a leading `channels` axis.

    The convolution has two exact paths: an FFT of size `2L` (O(L log L),
    no `L x L` tensor) and one matrix product with the `L x L` Toeplitz
    matrix of the kernel (O(L²), but faster for short sequences). `"auto"`
    picks by length and device (see `TOEPLITZ_MAX_LENGTH`). With a
    `padding_mask`, positions where it is 0 are read as zeros: padding then
    contributes nothing to any output, so outputs at real positions do not
    depend on how much padding follows them. The kernel and
    the convolution always run in float32, also under a `mixed_bfloat16` or
    `mixed_float16` policy; the output is cast back to the compute dtype.

    Args:
        state_dim: int. Size `N` of the diagonal state.
        kernel_per_channel: bool. One SSM per channel instead of one shared.
        a_initialization: `"hippo"` (diagonalised HiPPO-LegS, the original's
            default), `"lin"` (S4D-Lin) or `"inv"` (S4D-Inv).
        dt_min, dt_max: `log_step` is initialised uniformly in
            `[log dt_min, log dt_max)`. Every mode decays as
            `exp(-dt l / 2)` over `l` tokens, so `dt_min` bounds how far
            the kernel reaches at initialisation: about `14 / dt_min`
            tokens before it falls below 1e-3 (1,381 by default).
        reverse: bool. Anti-causal: read the sequence from its end.
        conv_mode: `"auto"` (default), `"fft"` or `"toeplitz"`. Changes
            speed and memory, not results (beyond float32 rounding).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    ```python
    import keras
    import numpy as np
    import keras_bigs

    ssm = keras_bigs.S4DConv(state_dim=16)
    x = np.random.rand(2, 50, 8).astype("float32")
    y = ssm(x)  # (2, 50, 8)
    k = ssm.kernel(50)  # (50,): the shared kernel
    fft = keras_bigs.S4DConv(state_dim=16, conv_mode="fft")
    fft.build(x.shape)
    fft.set_weights(ssm.get_weights())
    difference = keras.ops.max(keras.ops.abs(fft(x) - y))
    bool(difference < 1e-5)  # True (the same layer, to float32 rounding)
    ```
    """

    def __init__(
        self,
        state_dim=64,
        kernel_per_channel=False,
        a_initialization="hippo",
        dt_min=0.01,
        dt_max=1.0,
        reverse=False,
        conv_mode="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if a_initialization not in A_INITIALIZATIONS:
            raise ValueError(
                f"Unknown `a_initialization={a_initialization!r}`; expected "
                f"one of {sorted(A_INITIALIZATIONS)}."
            )
        if conv_mode not in CONV_MODES:
            raise ValueError(
                f"Unknown `conv_mode={conv_mode!r}`; expected one of "
                f"{CONV_MODES}."
            )
        if not 0 < dt_min <= dt_max:
            raise ValueError(
                f"`dt_min={dt_min!r}` and `dt_max={dt_max!r}`: the initial "
                "step sizes must satisfy 0 < dt_min <= dt_max."
            )
        self.state_dim = state_dim
        self.kernel_per_channel = kernel_per_channel
        self.a_initialization = a_initialization
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.reverse = reverse
        self.conv_mode = conv_mode

    def build(self, input_shape):
        channels = input_shape[-1]
        lead = (channels,) if self.kernel_per_channel else ()
        a_re, a_im = A_INITIALIZATIONS[self.a_initialization](self.state_dim)

        def constant(values):
            def init(shape, dtype=None):
                return ops.cast(np.broadcast_to(values, shape), dtype)

            return init

        def add(name, shape, initializer):
            # autocast=False: the SSM parameters stay float32 in the math
            # even where the layer computes in a 16-bit dtype.
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=initializer,
                dtype="float32",
                autocast=False,
            )

        n = self.state_dim
        self.A_re = add("A_re", lead + (n,), constant(a_re))
        self.A_im = add("A_im", lead + (n,), constant(a_im))
        self.C = add(
            "C", lead + (n, 2), keras.initializers.RandomNormal(0.0, 0.5**0.5)
        )
        self.log_step = add(
            "log_step",
            lead + (1,),
            keras.initializers.RandomUniform(
                math.log(self.dt_min), math.log(self.dt_max)
            ),
        )
        self.D = add(
            "D", (channels,) if self.kernel_per_channel else (1,), "ones"
        )
        self.built = True

    def kernel(self, length):
        """The convolution kernel for sequences of `length` tokens.

        Returns a float32 tensor of shape `(length,)`, or
        `(channels, length)` with `kernel_per_channel=True`; `K[l]` is how
        much input `t - l` (`t + l` with `reverse=True`) contributes to
        output `t`, besides `D`.
        """
        return zoh_kernel(self.A_re, self.A_im, self.C, self.log_step, length)

    def call(self, inputs, padding_mask=None):
        u = ops.cast(inputs, "float32")
        if padding_mask is not None:
            u = u * ops.expand_dims(ops.cast(padding_mask, "float32"), -1)
        length = u.shape[1]
        kernel = self.kernel(ops.shape(u)[1])  # static when known
        mode = resolve_conv_mode(
            self.conv_mode, length, self.kernel_per_channel
        )
        if mode == "toeplitz":
            y = toeplitz_convolution(u, kernel, reverse=self.reverse)
        else:
            # The FFT runs along the last axis: channels-first for it.
            y = fft_convolution(
                ops.transpose(u, (0, 2, 1)), kernel, reverse=self.reverse
            )
            y = ops.transpose(y, (0, 2, 1))
        return ops.cast(y + self.D * u, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def quantize(self, mode=None, type_check=True, config=None):
        """`model.quantize(...)` leaves the SSM in float32, on purpose: its
        parameters are a few numbers per layer, and the kernel
        `C exp(A dt k)` sums `state_dim` oscillating terms whose rounding
        would compound over the sequence."""

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "state_dim": self.state_dim,
                "kernel_per_channel": self.kernel_per_channel,
                "a_initialization": self.a_initialization,
                "dt_min": self.dt_min,
                "dt_max": self.dt_max,
                "reverse": self.reverse,
                "conv_mode": self.conv_mode,
            }
        )
        return config


def s4d_pair(
    state_dim,
    kernel_per_channel=False,
    a_initialization="hippo",
    dt_min=0.01,
    dt_max=1.0,
    conv_mode="auto",
    dtype=None,
):
    """The two SSMs of a bidirectional layer: `fs4` (causal, reads the
    sequence forwards) and `bs4` (anti-causal, backwards), alike but for
    direction, named as in the original checkpoints.

    Args:
        state_dim, kernel_per_channel, a_initialization, dt_min, dt_max,
            conv_mode: see `S4DConv`.
        dtype: dtype policy of both.

    Example:
    ```python
    import keras
    import numpy as np
    from keras_bigs.layers.s4d import s4d_pair

    fs4, bs4 = s4d_pair(state_dim=4)
    x = np.zeros((1, 6, 2), "float32")
    x[0, 2] = 1.0  # one impulse at position 2
    forward = keras.ops.convert_to_numpy(fs4(x))
    backward = keras.ops.convert_to_numpy(bs4(x))
    # Each reaches one side of the impulse only.
    float(abs(forward[0, :2]).max() + abs(backward[0, 3:]).max())  # 0.0
    (fs4.name, bs4.name, bs4.reverse)  # ('fs4', 'bs4', True)
    ```
    """
    return tuple(
        S4DConv(
            state_dim=state_dim,
            kernel_per_channel=kernel_per_channel,
            a_initialization=a_initialization,
            dt_min=dt_min,
            dt_max=dt_max,
            reverse=reverse,
            conv_mode=conv_mode,
            dtype=dtype,
            name=name,
        )
        for name, reverse in (("fs4", False), ("bs4", True))
    )
