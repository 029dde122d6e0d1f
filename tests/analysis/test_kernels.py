import keras
import numpy as np
import pytest
from keras import ops

import keras_bigs
from keras_bigs.analysis import kernel_reach
from keras_bigs.analysis import layer_kernels
from keras_bigs.analysis import plot_kernel_comparison
from keras_bigs.analysis import plot_kernel_heatmap
from keras_bigs.analysis import relative_position_profile
from keras_bigs.analysis.kernels import min_max_scale
from keras_bigs.keras_hub_internals import flatten_layers


def tiny_backbone(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    config = dict(
        vocabulary_size=50,
        num_layers=2,
        hidden_dim=8,
        intermediate_dim=16,
        state_dim=4,
        max_sequence_length=24,
    )
    config.update(kwargs)
    return keras_bigs.BiGSBackbone(**config)


def impulse_response(ssm, length, channels):
    """What the layer's convolution does to a unit impulse, skip removed."""
    u = np.zeros((1, length, channels), "float32")
    u[0, 0, :] = 1.0
    y = ops.convert_to_numpy(ssm(u))[0]  # (length, channels)
    d = ops.convert_to_numpy(ssm.D)
    return (y - d * u[0]).T  # (channels, length)


def test_kernel_is_what_the_layer_convolves_with():
    layer = keras_bigs.S4DConv(state_dim=8)
    layer.build((None, None, 3))
    layer.D.assign(np.array([0.3], "float32"))
    response = impulse_response(layer, 30, 3)
    kernel = ops.convert_to_numpy(layer.kernel(30))
    assert kernel.shape == (30,)
    for channel in response:
        np.testing.assert_allclose(channel, kernel, atol=1e-5)


def test_layer_kernels_are_each_layers_s4d_kernels():
    backbone = tiny_backbone()
    forward, backward = layer_kernels(backbone, 24)
    assert forward.shape == backward.shape == (2, 24)
    for i, block in enumerate(backbone.bigs_layers):
        np.testing.assert_array_equal(
            forward[i], ops.convert_to_numpy(block.fs4.kernel(24))
        )
        np.testing.assert_array_equal(
            backward[i], ops.convert_to_numpy(block.bs4.kernel(24))
        )
        np.testing.assert_allclose(
            forward[i], impulse_response(block.fs4, 24, 8)[0], atol=1e-5
        )
    # Kernel taps do not depend on the number computed.
    np.testing.assert_allclose(
        layer_kernels(backbone, 5)[0], forward[:, :5], atol=1e-6
    )


def test_per_channel_kernels_keep_the_channel_axis():
    backbone = tiny_backbone(kernel_per_channel=True)
    forward, backward = layer_kernels(backbone, 10)
    assert forward.shape == (2, 8, 10)
    offsets, profile = relative_position_profile(
        forward, backward, 3, scale=False
    )
    np.testing.assert_allclose(
        profile[:, 0], np.abs(forward[:, :, 3]).mean(axis=1)
    )


def test_attention_routing_has_no_kernels():
    backbone = tiny_backbone(routing="attention", num_heads=1)
    with pytest.raises(ValueError, match="SSM routing"):
        layer_kernels(backbone, 10)


def test_profile_places_forward_left_and_backward_right():
    rng = np.random.default_rng(0)
    forward = rng.normal(size=(3, 12))
    backward = rng.normal(size=(3, 12))
    offsets, raw = relative_position_profile(forward, backward, 4, scale=False)
    assert offsets.tolist() == [-4, -3, -2, -1, 0, 1, 2, 3, 4]
    for layer in range(3):
        for column, offset in enumerate(offsets):
            if offset < 0:
                expected = abs(forward[layer, -offset])
            elif offset > 0:
                expected = abs(backward[layer, offset])
            else:
                expected = (
                    abs(forward[layer, 0]) + abs(backward[layer, 0])
                ) / 2
            assert raw[layer, column] == pytest.approx(expected)

    _, scaled = relative_position_profile(forward, backward, 4)
    assert scaled.shape == (3, 9)
    np.testing.assert_allclose(scaled.min(axis=1), 0)
    np.testing.assert_allclose(scaled.max(axis=1), 1)
    low = raw.min(axis=1, keepdims=True)
    np.testing.assert_allclose(
        scaled, (raw - low) / (raw.max(axis=1, keepdims=True) - low)
    )


def test_profile_limits_and_constant_rows():
    with pytest.raises(ValueError, match="at least 11 taps"):
        relative_position_profile(np.ones((1, 5)), np.ones((1, 5)), 10)
    assert np.all(min_max_scale(np.ones((2, 4))) == 0)


def test_figures_are_written(tmp_path):
    backbone = tiny_backbone()
    forward, backward = layer_kernels(backbone, 24)
    offsets, profile = relative_position_profile(forward, backward, 10)
    plot_kernel_heatmap(offsets, profile, tmp_path / "fig3.png")
    all_offsets, ours = relative_position_profile(
        forward, backward, 23, scale=False
    )
    _, theirs = relative_position_profile(
        *layer_kernels(tiny_backbone(seed=1), 24), 23, scale=False
    )
    plot_kernel_comparison(
        all_offsets, [ours, theirs], ["a", "b"], tmp_path / "fig4.png"
    )
    for name in ("fig3.png", "fig4.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 1000
    with pytest.raises(ValueError, match="differ in shape"):
        plot_kernel_comparison(
            all_offsets, [ours, theirs[:1]], ["a", "b"], tmp_path / "bad.png"
        )


def test_reach_is_where_a_decaying_kernel_falls_below_the_threshold():
    # |K[l]| = exp(-Δ l / 2): below 1e-3 of K[0] past l = 2 ln(1000) / Δ.
    taps = np.arange(5000, dtype=np.float64)
    steps = np.array([0.01, 0.1, 1.0])
    decaying = np.exp(-0.5 * steps[:, None] * taps)
    oscillating = decaying * np.cos(0.3 * taps)  # an envelope's reach
    reach = kernel_reach(decaying, oscillating)
    expected = np.floor(2 * np.log(1000) / steps).astype(int)
    np.testing.assert_array_equal(reach[:, 0], expected)  # 1381, 138, 13
    assert np.all(reach[:, 1] <= expected)
    assert np.all(reach[:, 1] >= expected - 11)  # within one period
    # A kernel that never falls below the threshold reaches its end.
    flat = np.ones((1, 50))
    assert kernel_reach(flat, flat).tolist() == [[49, 49]]
    with pytest.raises(ValueError, match="`threshold` must be in"):
        kernel_reach(flat, flat, threshold=0)


def test_reach_of_a_layer_is_that_of_its_impulse_response():
    backbone = tiny_backbone()
    forward, backward = layer_kernels(backbone, 24)
    reach = kernel_reach(forward, backward, threshold=0.05)
    for layer, block in enumerate(backbone.bigs_layers):
        response = np.abs(impulse_response(block.fs4, 24, 8)[0])
        strong = np.nonzero(response >= 0.05 * response.max())[0]
        assert reach[layer, 0] == strong.max()
    # Per-channel kernels: the reach of their mean magnitude.
    per_channel = tiny_backbone(kernel_per_channel=True)
    forward, backward = layer_kernels(per_channel, 24)
    np.testing.assert_array_equal(
        kernel_reach(forward, backward),
        kernel_reach(
            np.abs(forward).mean(axis=1), np.abs(backward).mean(axis=1)
        ),
    )


def test_a_smaller_initial_step_reaches_further():
    # Every mode decays as exp(-dt l / 2): with steps of at least 0.01 no
    # tap 1,382 tokens away weighs 1e-3 of the kernel's largest; with
    # steps of 1e-3 (`dt_min`), taps thousands of tokens away still do.
    length = 8192
    reach = kernel_reach(*layer_kernels(tiny_backbone(), length))
    assert reach.max() <= 1381
    far = tiny_backbone(dt_min=1e-3, dt_max=2e-3)
    reach = kernel_reach(*layer_kernels(far, length))
    assert reach.min() >= 3000, reach
    # Both block types give every SSM the range.
    for block_type, count in (("gated", 4), ("stack", 8)):
        far = tiny_backbone(block_type=block_type, dt_min=1e-3, dt_max=2e-3)
        ssms = [
            layer
            for layer in flatten_layers(far)
            if isinstance(layer, keras_bigs.S4DConv)
        ]
        assert len(ssms) == count
        for ssm in ssms:
            assert (ssm.dt_min, ssm.dt_max) == (1e-3, 2e-3)
            step = np.exp(ops.convert_to_numpy(ssm.log_step))
            assert 1e-3 <= step.min() and step.max() < 2e-3
