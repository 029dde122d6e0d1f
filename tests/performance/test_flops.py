"""Analytic FLOP counts (Table 6), and `tools/flops.py`'s table of them."""

import json
import math

import pytest

from keras_bigs.performance import PAPER_TABLE_6
from keras_bigs.performance import TABLE_6_CONFIGS
from keras_bigs.performance import BertFlopsConfig
from keras_bigs.performance import BiGSFlopsConfig
from keras_bigs.performance import model_flops
from keras_bigs.performance import reproduce_table_6
from keras_bigs.performance import table6_flops
from keras_bigs.performance.flops import bert_layer_flops
from keras_bigs.performance.flops import bigs_layer_flops
from keras_bigs.performance.flops import dense_flops
from keras_bigs.performance.flops import fft_conv_flops
from keras_bigs.performance.flops import irfft_flops
from keras_bigs.performance.flops import log2_floor
from keras_bigs.performance.flops import rfft_flops
from keras_bigs.performance.flops import round_significant
from tests.tools.test_convert_checkpoint import load_tool

# Table 6 prints two significant figures, so a count that prints the same
# is within half a unit of the second digit: 0.7% at 7.x, 2% at 2.x.
TABLE6_TOLERANCE = 0.02

TINY_BIGS = BiGSFlopsConfig(
    num_layers=1,
    hidden_dim=64,
    intermediate_dim=192,
    state_dim=16,
    vocabulary_size=100,
)
TINY_BERT = BertFlopsConfig(
    num_layers=1,
    hidden_dim=64,
    intermediate_dim=256,
    num_heads=2,
    vocabulary_size=100,
)


@pytest.mark.parametrize("length", sorted(PAPER_TABLE_6))
def test_table6_is_reproduced_to_the_printed_digits(length):
    for name, config in (("bigs", "bigs_paper"), ("bert", "bert_large")):
        ours = table6_flops(TABLE_6_CONFIGS[config], length)
        paper = PAPER_TABLE_6[length][name]
        assert round_significant(ours, 2) == paper, (name, ours, paper)
        assert abs(ours / paper - 1) < TABLE6_TOLERANCE


def test_dense_and_fft_counts_equal_hand_computation():
    assert dense_flops(3, 4, 5) == 2 * 3 * 4 * 5
    assert rfft_flops(8) == 2.5 * 8 * 3
    assert irfft_flops(8) == 2.5 * 8 * 3
    assert rfft_flops(8, "xla") == 8 * 8 * 3  # XLA: 8 |operand| log2 n
    assert irfft_flops(8, "xla") == 8 * 5 * 3  # operand: 5 complex bins
    assert rfft_flops(600, "xla") == 8 * 600 * 9  # XLA takes ⌊log2 600⌋
    assert [log2_floor(n) for n in (1, 2, 3, 4, 2**40 - 1)] == [0, 1, 1, 2, 39]
    with pytest.raises(ValueError, match="convention"):
        rfft_flops(8, "cooley")

    tokens, h, i = 2 * 10, 8, 24
    bigs = bigs_layer_flops(
        BiGSFlopsConfig(1, h, i, state_dim=4), 10, batch_size=2
    )
    # dv, dol, do (H x I) and du_f, du_b, duc_f, duc_b (H x H).
    assert bigs.forward["dense"] == 2 * tokens * (3 * h * i + 4 * h * h)
    assert bigs.backward["dense"] == 2 * bigs.forward["dense"]
    bert = bert_layer_flops(
        BertFlopsConfig(1, h, 32, num_heads=2), 10, batch_size=2
    )
    assert bert.forward["dense"] == 2 * tokens * (4 * h * h + 2 * h * 32)
    assert bert.forward["attention"] == 4 * tokens * 10 * h  # QK^T and AV

    conv = fft_conv_flops(10, channels=8, batch_size=2)
    n = 20
    per_row = 2 * 2.5 * n * math.log2(n) + 6 * 11
    assert conv.forward["ssm_conv"] == pytest.approx(
        16 * per_row + 2.5 * n * math.log2(n)
    )


def test_count_arithmetic_and_totals():
    layer = bigs_layer_flops(TINY_BIGS, 32)
    assert (layer * 3).forward_total == pytest.approx(3 * layer.forward_total)
    count = model_flops(TINY_BIGS, 32, batch_size=4)
    assert count.total == count.forward_total + count.backward_total
    assert count.as_dict()["total"] == pytest.approx(count.total)
    # The batch multiplies everything but the kernels (computed once).
    one = model_flops(TINY_BIGS, 32)
    assert count.forward["dense"] == 4 * one.forward["dense"]
    assert count.forward["ssm_kernel"] == one.forward["ssm_kernel"]
    with pytest.raises(TypeError):
        model_flops(object(), 32)
    with pytest.raises(ValueError, match="conv_mode"):
        bigs_layer_flops(TINY_BIGS, 32, conv_mode="direct")
    # "auto" is a layer setting, not a path: the count needs the path.
    with pytest.raises(ValueError, match="conv_mode"):
        bigs_layer_flops(TINY_BIGS, 32, conv_mode="auto")


def test_bert_over_bigs_grows_with_length():
    lengths = [128, 256, 512, 1024, 2048, 4096, 8192, 16384]
    rows = reproduce_table_6(lengths)
    ratios = [row["bert_over_bigs"] for row in rows]
    assert all(b > a for a, b in zip(ratios, ratios[1:]))
    assert ratios[0] < 1 < ratios[-1]  # BERT is cheaper only when short
    train = [row["bert_train"] / row["bigs_train"] for row in rows]
    assert all(b > a for a, b in zip(train, train[1:]))
    # Per token, BiGS grows like log L (FFT) and BERT like L (attention).
    bigs = TABLE_6_CONFIGS["bigs_paper"]
    bert = TABLE_6_CONFIGS["bert_large"]
    assert table6_flops(bigs, 8192) / (2 * table6_flops(bigs, 4096)) < 1.01
    assert table6_flops(bert, 8192) / (2 * table6_flops(bert, 4096)) > 1.2
    # Lengths outside the paper's table carry no paper value.
    assert rows[1]["paper_bigs"] is None and rows[1]["bigs_ratio"] is None


def test_tool_reproduces_table6(tmp_path, capsys):
    tool = load_tool("flops")
    assert tool.main(["--json", str(tmp_path / "t6.json")]) == 0
    out = capsys.readouterr().out
    assert "8.10e+10" in out and "4.12e+12" in out
    report = json.loads((tmp_path / "t6.json").read_text())
    assert report["config"] == "paper"
    assert [row["length"] for row in report["rows"]] == sorted(PAPER_TABLE_6)
    for row in report["rows"]:
        assert abs(row["bigs_ratio"] - 1) < TABLE6_TOLERANCE
        assert abs(row["bert_ratio"] - 1) < TABLE6_TOLERANCE
        assert row["bigs_count"]["total"] == row["bigs_train"]
