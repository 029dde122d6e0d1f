"""The analytic counts against XLA's cost analysis of the compiled step."""

import dataclasses
import json

import pytest

from keras_bigs.layers.s4d import TOEPLITZ_MAX_LENGTH
from keras_bigs.performance import compare_with_xla
from keras_bigs.performance import flops_backbone
from keras_bigs.performance import flops_config
from keras_bigs.performance import model_flops
from keras_bigs.performance import xla_flops
from keras_bigs.performance.flops import irfft_flops
from keras_bigs.performance.flops import rfft_flops
from keras_bigs.performance.xla_cost import hlo_dot_flops
from keras_bigs.performance.xla_cost import hlo_fft_flops
from tests.performance.test_flops import TINY_BERT
from tests.performance.test_flops import TINY_BIGS
from tests.tools.test_convert_checkpoint import load_tool


@pytest.mark.backends("jax")
def test_hlo_parsers_match_xla_formulas():
    import jax
    import jax.numpy as jnp

    def step(a, b, x):
        spectrum = jnp.fft.rfft(x, n=64)
        return a @ b, jnp.fft.irfft(spectrum * 2.0, n=64)

    compiled = (
        jax.jit(step)
        .lower(jnp.ones((8, 16)), jnp.ones((16, 4)), jnp.ones((3, 32)))
        .compile()
    )
    text = compiled.as_text()
    assert hlo_dot_flops(text) == 2 * 8 * 16 * 4
    assert hlo_fft_flops(text) == 3 * (
        rfft_flops(64, "xla") + irfft_flops(64, "xla")
    )


@pytest.fixture(scope="module")
def tiny_bigs():
    return flops_backbone(TINY_BIGS, 512)


@pytest.fixture(scope="module")
def tiny_bert():
    return flops_backbone(TINY_BERT, 512)


def test_flops_config_reads_the_models_sizes(tiny_bigs, tiny_bert):
    assert flops_config(tiny_bigs) == TINY_BIGS
    assert flops_config(tiny_bert) == TINY_BERT
    with pytest.raises(TypeError):
        flops_config(object())


@pytest.mark.backends("jax")
@pytest.mark.parametrize("name, length", [("bigs", 64), ("bigs", 512)])
def test_analytic_counts_agree_with_xla(request, name, length):
    """Matmuls and FFTs are counted by XLA's own formulas on the same
    shapes, so they agree exactly. The rest (elementwise ops, spectral
    products, kernels) uses per-element constants; XLA counts it 1.1-1.5x
    ours (mostly in the backward pass, which it counts at ~2.4x the
    forward where we take 2x). That rest is under 10% of these tiny
    models' steps (it shrinks as 1/H), so the totals agree within 5%.
    (BERT is checked the same way through the tool, below; compiling is
    what makes these tests slow.)"""
    import jax

    model = request.getfixturevalue(f"tiny_{name}")
    config = TINY_BIGS if name == "bigs" else TINY_BERT
    check = compare_with_xla(model, 1, length)
    if name == "bigs" and jax.default_backend() == "cpu":
        # S4DConv convolves short sequences by Toeplitz matmul.
        toeplitz = length <= TOEPLITZ_MAX_LENGTH["cpu"]
        assert check["conv_mode"] == ("toeplitz" if toeplitz else "fft")
    assert check["analytic"]["total"] == pytest.approx(
        model_flops(
            config,
            length,
            conv_mode=check["conv_mode"] or "fft",
            fft_convention="xla",
        ).total
    )
    assert check["dot_ratio"] == pytest.approx(1.0, rel=1e-6)
    if check["conv_mode"] == "fft":
        assert check["fft_ratio"] == pytest.approx(1.0, rel=1e-6)
    else:
        assert check["fft_ratio"] is None
    assert 0.8 < check["other_ratio"] < 1.6
    assert check["xla_over_analytic"] == pytest.approx(1.0, abs=0.05)


@pytest.mark.backends("tensorflow", "torch")
def test_xla_flops_needs_jax(tiny_bigs):
    with pytest.raises(RuntimeError, match="KERAS_BACKEND=jax"):
        xla_flops(tiny_bigs, 1, 16)


@pytest.mark.backends("jax")
def test_tool_runs_end_to_end_with_xla(tmp_path, capsys):
    tool = load_tool("flops")
    # The tiny models' sizes: their weights' initialisers are compiled.
    assert (
        tool.main(
            [
                "--lengths",
                "64",
                "--hidden",
                "64",
                "--layers",
                "1",
                "--state",
                "16",
                "--heads",
                "2",
                "--vocab",
                "100",
                "--batch-size",
                "2",
                "--xla",
                "--json",
                str(tmp_path / "custom.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "XLA BiGS" in out
    report = json.loads((tmp_path / "custom.json").read_text())
    assert report["config"] == "custom"
    assert report["bigs"] == dataclasses.asdict(TINY_BIGS)
    assert report["bert"] == dataclasses.asdict(TINY_BERT)  # I = 4 x H
    (row,) = report["rows"]
    assert row["paper_bigs"] is None
    assert row["xla_bigs"]["batch_size"] == 2
    for name in ("bigs", "bert"):  # as test_analytic_counts_agree_with_xla
        check = row[f"xla_{name}"]
        assert check["dot_ratio"] == pytest.approx(1.0, rel=1e-6)
        assert 0.8 < check["other_ratio"] < 1.6
        assert check["xla_over_analytic"] == pytest.approx(1.0, abs=0.05)
    assert row["xla_bert"]["analytic"]["total"] == pytest.approx(
        model_flops(TINY_BERT, 64, batch_size=2).total
    )
