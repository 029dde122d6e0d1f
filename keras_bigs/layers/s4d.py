"""The S4D state space model as a convolution: kernel math and `S4DConv`.

The SSM of BiGS is diagonal (S4D) with a zero-order-hold discretisation and
`B = 1`.  Everything below is real arithmetic on `(re, im)` pairs so that it
runs on every backend and on TPUs, which have no complex dtypes.

    x'(t) = A x(t) + u(t),  y(t) = Re(C x(t)) + D u(t)        (continuous SSM)
    Ā = exp(Δ A),  B̄ = (exp(Δ A) - 1) / A                       (zero-order hold)
    K[l] = Re(Σ_n C_n B̄_n Ā_n^l)                                (SSM kernel)
    y = K * u + D u                                              (causal conv)
"""

import math

import keras
import numpy as np
from keras import ops

# The original clamps the real part of A below this value to keep it stable.
MAX_A_REAL = -1e-4


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
    # Ā^l = exp(l Δ A) = exp(l Δ a) (cos(l Δ b) + i sin(l Δ b))
    positions = ops.cast(ops.arange(length), A_re.dtype)
    magnitude = ops.exp(ops.expand_dims(dt * a, -1) * positions)
    phase = ops.expand_dims(dt * b, -1) * positions
    # K[l] = Re(Σ_n W_n Ā_n^l)
    terms = ops.expand_dims(w_re, -1) * ops.cos(phase) - ops.expand_dims(
        w_im, -1
    ) * ops.sin(phase)
    return ops.sum(magnitude * terms, axis=-2)


def causal_fft_convolution(u, kernel):
    """`y[t] = Σ_{s≤t} K[t-s] u[s]` along the last axis, by FFT of size 2L.

    Zero-padding to `2L` turns the FFT's circular convolution into a linear
    one, so nothing wraps from the end of the sequence to its start.

    Args:
        u: `(..., L)` input.
        kernel: `(..., L)` kernel, broadcastable against `u`.
    """
    length = ops.shape(u)[-1]
    fft_length = 2 * length
    u_re, u_im = ops.rfft(u, fft_length=fft_length)
    k_re, k_im = ops.rfft(kernel, fft_length=fft_length)
    # Pointwise complex product in the frequency domain.
    y_re = u_re * k_re - u_im * k_im
    y_im = u_re * k_im + u_im * k_re
    y = ops.irfft((y_re, y_im), fft_length=fft_length)
    return y[..., :length]


@keras.saving.register_keras_serializable(package="keras_bigs")
class S4DConv(keras.layers.Layer):
    """A diagonal state space model (S4D) applied as a causal convolution.

    Maps `(batch, length, channels)` to the same shape. The kernel is
    recomputed for each input's length, so any length works; output at
    position `t` only depends on inputs at positions `<= t`.

    By default one kernel is shared by all channels (BiGS's choice: `A_re`,
    `A_im` of shape `(state_dim,)`, `C` `(state_dim, 2)`, `log_step` and `D`
    `(1,)`). With `kernel_per_channel=True` every channel has its own SSM
    (standard S4D), and each parameter gains a leading `channels` axis.

    The kernel and the FFT always run in float32, also under a
    `mixed_bfloat16` or `mixed_float16` policy; the output is cast back to
    the compute dtype.

    Args:
        state_dim: int. Size `N` of the diagonal state.
        kernel_per_channel: bool. One SSM per channel instead of one shared.
        a_initialization: `"hippo"` (diagonalised HiPPO-LegS, the original's
            default), `"lin"` (S4D-Lin) or `"inv"` (S4D-Inv).
        dt_min, dt_max: `log_step` is initialised uniformly in
            `[log dt_min, log dt_max)`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    ```python
    import numpy as np
    import keras_bigs

    ssm = keras_bigs.S4DConv(state_dim=16)
    y = ssm(np.random.rand(2, 50, 8).astype("float32"))  # (2, 50, 8)
    k = ssm.kernel(50)  # (50,): the shared kernel
    ```
    """

    def __init__(
        self,
        state_dim=64,
        kernel_per_channel=False,
        a_initialization="hippo",
        dt_min=0.01,
        dt_max=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if a_initialization not in A_INITIALIZATIONS:
            raise ValueError(
                f"Unknown `a_initialization={a_initialization!r}`; expected "
                f"one of {sorted(A_INITIALIZATIONS)}."
            )
        self.state_dim = state_dim
        self.kernel_per_channel = kernel_per_channel
        self.a_initialization = a_initialization
        self.dt_min = dt_min
        self.dt_max = dt_max

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
        self.D = add("D", (channels,) if self.kernel_per_channel else (1,),
                     "ones")
        self.built = True

    def kernel(self, length):
        """The convolution kernel for sequences of `length` tokens.

        Returns a float32 tensor of shape `(length,)`, or
        `(channels, length)` with `kernel_per_channel=True`; `K[l]` is how
        much input `t - l` contributes to output `t` (besides `D`).
        """
        return zoh_kernel(self.A_re, self.A_im, self.C, self.log_step, length)

    def call(self, inputs):
        u = ops.transpose(ops.cast(inputs, "float32"), (0, 2, 1))  # (B, H, L)
        y = causal_fft_convolution(u, self.kernel(ops.shape(u)[-1]))
        y = ops.transpose(y, (0, 2, 1)) + self.D * ops.cast(inputs, "float32")
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "state_dim": self.state_dim,
                "kernel_per_channel": self.kernel_per_channel,
                "a_initialization": self.a_initialization,
                "dt_min": self.dt_min,
                "dt_max": self.dt_max,
            }
        )
        return config
