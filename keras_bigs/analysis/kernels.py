"""What each BiGS layer's SSMs attend to: kernels by relative position.

The paper's Figure 3 shows, for every layer, how much each nearby token
contributes through the forward and backward SSM kernels; Figure 4 compares
one layer's kernel before and after fine-tuning over every position.

Relative positions here are `source - target`: the forward SSM is causal,
so its tap `K_f[l]` carries token `t - l` to output `t` (relative position
`-l`, to the left); the backward SSM runs on the flipped sequence, so its
tap `K_b[l]` carries token `t + l` (relative position `+l`). At `0` both
kernels read the token itself; the profile shows the mean of the two.
The skip term `D` is not part of the kernel and is left out.
"""

import numpy as np
from keras import ops

from keras_bigs.analysis.plotting import pyplot
from keras_bigs.analysis.plotting import save_figure
from keras_bigs.layers.bigs_block import BiGSBlock


def _ssm_blocks(backbone):
    blocks = list(getattr(backbone, "bigs_layers", []))
    bad = [
        b.name
        for b in blocks
        if not isinstance(b, BiGSBlock) or b.routing != "ssm"
    ]
    if not blocks or bad:
        raise ValueError(
            "Kernel analysis needs a BiGS backbone with SSM routing "
            "(block_type='gated', routing='ssm'); this one has no SSM in "
            f"the layers {bad or 'at all'}."
        )
    return blocks


def layer_kernels(backbone, length):
    """The forward and backward SSM kernels of every layer.

    Args:
        backbone: a `BiGSBackbone` with SSM routing.
        length: int. Number of kernel taps `K[0..length)`; `K[l]` does not
            depend on the sequence length, so any `length` >= 1 works.

    Returns:
        `(forward, backward)` float32 numpy arrays of shape
        `(num_layers, length)`, or `(num_layers, channels, length)` for
        `kernel_per_channel=True`, as `S4DConv.kernel` computes them.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.analysis import layer_kernels

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=100, num_layers=2, hidden_dim=8,
        intermediate_dim=16, state_dim=4, max_sequence_length=32)
    forward, backward = layer_kernels(backbone, 32)
    forward.shape, backward.shape  # ((2, 32), (2, 32))
    ```
    """
    length = int(length)
    if length < 1:
        raise ValueError(f"`length` must be at least 1; received {length}.")
    blocks = _ssm_blocks(backbone)

    def stack(name):
        return np.stack(
            [
                ops.convert_to_numpy(getattr(b, name).kernel(length))
                for b in blocks
            ]
        ).astype("float32")

    return stack("fs4"), stack("bs4")


def min_max_scale(values, axis=-1):
    """Scale to [0, 1] along `axis`; a constant row becomes all zeros."""
    values = np.asarray(values, dtype=np.float64)
    low = values.min(axis=axis, keepdims=True)
    span = values.max(axis=axis, keepdims=True) - low
    # A constant row has no contrast to show (and would divide by zero).
    return np.where(span > 0, (values - low) / np.where(span > 0, span, 1), 0.0)


def relative_position_profile(forward, backward, positions, scale=True):
    """Absolute contribution of relative positions `-positions..positions`.

    Args:
        forward, backward: `(num_layers, length)` kernels (from
            `layer_kernels`), or `(num_layers, channels, length)`, where the
            absolute values are averaged over channels.
        positions: int. Largest offset shown; at most `length - 1`.
        scale: bool. Min-max scale each layer's row to [0, 1] (Figure 3);
            `False` keeps the absolute kernel values.

    Returns:
        `(offsets, profile)`: `offsets` the ints `-positions..positions`,
        `profile` `(num_layers, 2 * positions + 1)` float64, where column
        `positions - l` is `|K_forward[l]|`, column `positions + l` is
        `|K_backward[l]|`, and the centre the mean of `|K_f[0]|, |K_b[0]|`.

    Example:
    ```python
    import numpy as np
    from keras_bigs.analysis import relative_position_profile

    forward = np.array([[1.0, 0.5, 0.25]])
    backward = np.array([[3.0, 2.0, 1.0]])
    offsets, profile = relative_position_profile(forward, backward, 2,
                                                 scale=False)
    offsets  # [-2, -1, 0, 1, 2]
    profile  # [[0.25, 0.5, 2.0, 2.0, 1.0]]
    ```
    """
    forward = np.abs(np.asarray(forward, dtype=np.float64))
    backward = np.abs(np.asarray(backward, dtype=np.float64))
    if forward.shape != backward.shape or forward.ndim not in (2, 3):
        raise ValueError(
            "Expected forward and backward kernels of the same shape "
            "(num_layers, length) or (num_layers, channels, length); "
            f"received {forward.shape} and {backward.shape}."
        )
    if forward.ndim == 3:  # One kernel per channel: their mean magnitude.
        forward, backward = forward.mean(axis=1), backward.mean(axis=1)
    length = forward.shape[-1]
    positions = int(positions)
    if not 0 <= positions < length:
        raise ValueError(
            f"`positions={positions}` needs kernels of at least "
            f"{positions + 1} taps; these have {length}."
        )
    centre = (forward[:, :1] + backward[:, :1]) / 2
    profile = np.concatenate(
        [
            forward[:, positions:0:-1],  # offsets -positions..-1
            centre,
            backward[:, 1 : positions + 1],  # offsets 1..positions
        ],
        axis=1,
    )
    if scale:
        profile = min_max_scale(profile, axis=1)
    return np.arange(-positions, positions + 1), profile


def kernel_reach(forward, backward, threshold=1e-3):
    """How far each layer's SSMs carry a token: per layer and direction,
    the largest distance `l` whose tap still weighs at least `threshold`
    of the kernel's largest, `|K[l]| >= threshold * max |K|`.

    A kernel's taps decay as `exp(Re(A) Δ l)`: a token further away than
    the reach reaches the layer's output (and gets gradient through it)
    only at below `threshold` of the nearest tokens' weight.

    Args:
        forward, backward: `(num_layers, length)` kernels (from
            `layer_kernels`), or `(num_layers, channels, length)`, where
            the absolute values are averaged over channels.
        threshold: float in (0, 1].

    Returns:
        `(num_layers, 2)` int array: the forward (leftward) and backward
        (rightward) reach in tokens, at most `length - 1`.

    Example:
    ```python
    import numpy as np
    from keras_bigs.analysis import kernel_reach

    taps = np.arange(8)
    forward = np.array([0.5 ** taps])  # halves every token
    backward = np.array([0.9 ** taps])
    kernel_reach(forward, backward, threshold=0.1).tolist()  # [[3, 7]]
    ```
    """
    if not 0 < threshold <= 1:
        raise ValueError(
            f"`threshold` must be in (0, 1]; received {threshold}."
        )
    reaches = []
    for kernels in (forward, backward):
        magnitude = np.abs(np.asarray(kernels, dtype=np.float64))
        if magnitude.ndim == 3:  # One kernel per channel: their mean.
            magnitude = magnitude.mean(axis=1)
        strong = magnitude >= threshold * magnitude.max(axis=-1, keepdims=True)
        # The last strong tap: the first strong one counted from the end.
        last = magnitude.shape[-1] - 1 - np.argmax(strong[:, ::-1], axis=-1)
        reaches.append(last)
    return np.stack(reaches, axis=-1)


def plot_kernel_heatmap(offsets, profile, path, title=None):
    """Figure 3: one heat-map row per layer over relative positions.

    Args:
        offsets: `(P,)` relative positions (from
            `relative_position_profile`).
        profile: `(num_layers, P)` values, min-max scaled per layer.
        path: where to write the PNG.
        title: optional figure title.

    Example:
    ```python
    import os
    import tempfile
    import numpy as np
    from keras_bigs.analysis import plot_kernel_heatmap
    from keras_bigs.analysis import relative_position_profile

    rng = np.random.default_rng(0)
    offsets, profile = relative_position_profile(
        rng.random((2, 16)), rng.random((2, 16)), 10)
    path = os.path.join(tempfile.mkdtemp(), "kernels.png")
    plot_kernel_heatmap(offsets, profile, path)
    os.path.getsize(path) > 0  # True
    ```
    """
    plt = pyplot()
    num_layers = profile.shape[0]
    figure, axis = plt.subplots(
        figsize=(
            max(4.0, 0.35 * len(offsets) + 1.5),
            max(2.0, 0.35 * num_layers + 1.2),
        )
    )
    image = axis.imshow(
        profile, aspect="auto", cmap="viridis", interpolation="nearest"
    )
    # Label at most ~21 ticks so long views stay readable.
    step = max(1, len(offsets) // 21)
    ticks = np.arange(0, len(offsets), step)
    axis.set_xticks(ticks, [str(offsets[i]) for i in ticks])
    axis.set_yticks(np.arange(num_layers), [str(i) for i in range(num_layers)])
    axis.set_xlabel(
        "relative position (← earlier tokens: forward SSM | "
        "later tokens: backward SSM →)"
    )
    axis.set_ylabel("layer")
    figure.colorbar(image, ax=axis, label="|kernel|, min-max scaled")
    if title:
        axis.set_title(title)
    save_figure(figure, path)


def plot_kernel_comparison(offsets, profiles, labels, path, layers=None):
    """Figure 4: one layer's kernel from several checkpoints, every position.

    Args:
        offsets: `(P,)` relative positions.
        profiles: list of `(num_layers, P)` profiles, one per checkpoint.
        labels: list of str, one per profile (the legend).
        path: where to write the PNG.
        layers: ints, the layers to draw (one panel each); default all.

    Example:
    ```python
    import os
    import tempfile
    import numpy as np
    from keras_bigs.analysis import plot_kernel_comparison
    from keras_bigs.analysis import relative_position_profile

    rng = np.random.default_rng(0)
    offsets, before = relative_position_profile(
        rng.random((2, 16)), rng.random((2, 16)), 10)
    _, after = relative_position_profile(
        rng.random((2, 16)), rng.random((2, 16)), 10)
    path = os.path.join(tempfile.mkdtemp(), "compare.png")
    plot_kernel_comparison(offsets, [before, after],
                           ["pretrained", "fine-tuned"], path)
    os.path.getsize(path) > 0  # True
    ```
    """
    plt = pyplot()
    shapes = {np.shape(p) for p in profiles}
    if len(shapes) != 1:
        raise ValueError(
            "The checkpoints' profiles differ in shape "
            f"{sorted(shapes)}: compare models with the same number of "
            "layers, over the same positions."
        )
    num_layers = profiles[0].shape[0]
    layers = list(range(num_layers)) if layers is None else list(layers)
    if any(not 0 <= i < num_layers for i in layers):
        raise ValueError(f"layers {layers} out of range 0..{num_layers - 1}.")
    figure, axes = plt.subplots(
        len(layers),
        1,
        squeeze=False,
        sharex=True,
        figsize=(8, 1.8 * len(layers) + 0.6),
    )
    for axis, layer in zip(axes[:, 0], layers):
        for profile, label in zip(profiles, labels):
            axis.plot(offsets, profile[layer], label=label, linewidth=1)
        axis.set_ylabel(f"layer {layer}\n|kernel|")
    axes[0, 0].legend(loc="upper right", fontsize="small")
    axes[-1, 0].set_xlabel("relative position")
    save_figure(figure, path)
