"""`plot_kernels.py`, `analyze_by_length.py` and `probe_agreement.py`."""

import csv
import json
import warnings

import keras
import numpy as np
import pytest
from keras import ops

import keras_bigs
from keras_bigs.analysis import kernel_reach
from keras_bigs.analysis import layer_kernels
from keras_bigs.analysis import relative_position_profile
from tests.analysis.test_length import tiny_classifier
from tests.analysis.test_length import write_rte
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone
from tests.tools.test_convert_checkpoint import load_tool


def assert_png(path):
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 1000


def test_plot_kernels_figures_and_numbers(tmp_path):
    plot_kernels = load_tool("plot_kernels")
    model = str(fixture_dir("torch_masked_lm"))
    other = str(fixture_dir("flax_masked_lm"))
    status = plot_kernels.main(
        [
            model,
            "--output",
            str(tmp_path / "k.png"),
            "--compare",
            other,
            "--positions",
            "8",
            "--reach-length",
            "4096",
            "--json",
            str(tmp_path / "k.json"),
        ]
    )
    assert status == 0
    assert_png(tmp_path / "k.png")
    assert_png(tmp_path / "k_compare.png")
    report = json.loads((tmp_path / "k.json").read_text())
    assert report["positions"] == list(range(-8, 9))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backbone = keras_bigs.BiGSBackbone.from_preset(model)
    forward, backward = layer_kernels(backbone, 64)
    _, expected = relative_position_profile(forward, backward, 8)
    np.testing.assert_allclose(
        report["figure3"]["min_max_scaled"], expected, atol=1e-6
    )
    # Each layer's reach, over kernels longer than the model's table.
    reach = kernel_reach(*layer_kernels(backbone, 4096))
    assert report["reach"] == {
        "threshold": 1e-3,
        "length": 4096,
        "forward": reach[:, 0].tolist(),
        "backward": reach[:, 1].tolist(),
    }
    block = backbone.bigs_layers[2]
    figure4 = np.asarray(report["figure4"]["model"])
    assert figure4.shape == (3, 127)
    np.testing.assert_allclose(
        figure4[2, :63][::-1],
        np.abs(ops.convert_to_numpy(block.fs4.kernel(64)))[1:],
        rtol=1e-5,
        atol=1e-7,
    )


def test_plot_kernels_full_length_on_a_saved_preset(tmp_path):
    plot_kernels = load_tool("plot_kernels")
    tiny_classifier().save_to_preset(str(tmp_path / "clf"))
    assert (
        plot_kernels.main(
            [
                str(tmp_path / "clf"),
                "--positions",
                "full",
                "--output",
                str(tmp_path / "full.png"),
                "--json",
                str(tmp_path / "full.json"),
            ]
        )
        == 0
    )
    assert_png(tmp_path / "full.png")
    report = json.loads((tmp_path / "full.json").read_text())
    assert len(report["positions"]) == 63 and "figure4" not in report
    with pytest.raises(SystemExit):
        plot_kernels.main(
            [
                str(tmp_path / "clf"),
                "--positions",
                "32",
                "--output",
                str(tmp_path / "x.png"),
            ]
        )


def test_analyze_by_length_table_and_plot(tmp_path):
    analyze = load_tool("analyze_by_length")
    glue = write_rte(tmp_path / "glue")
    tiny_classifier().save_to_preset(str(tmp_path / "clf"))
    status = analyze.main(
        [
            str(tmp_path / "clf"),
            "--task",
            "rte",
            "--glue-dir",
            str(glue),
            "--output",
            str(tmp_path / "len.png"),
            "--bins",
            "0",
            "16",
            "32",
            "--csv",
            str(tmp_path / "len.csv"),
        ]
    )
    assert status == 0
    assert_png(tmp_path / "len.png")
    with open(tmp_path / "len.csv") as file:
        rows = list(csv.DictReader(file))
    assert [(r["low"], r["high"]) for r in rows] == [("0", "16"), ("16", "32")]
    assert sum(int(r["count"]) for r in rows) == 6


def write_vocabulary(path, words):
    """A 1,000-token vocabulary (the fixture models' size) with `words`."""
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    tokens += [f"filler{i}" for i in range(1000 - len(tokens))]
    path.write_text("\n".join(tokens) + "\n")
    return path


def test_probe_agreement_on_a_converted_fixture(tmp_path):
    probe = load_tool("probe_agreement")
    items = tmp_path / "items.tsv"
    items.write_text(
        "phenomenon\tsentence\tcorrect\tincorrect\n"
        "simple\tthe dog [MASK] here .\tis\tare\n"
        "simple\tthe dogs [MASK] here .\tare\tis\n"
        "pp\tthe dog of the cats [MASK] here .\tis\tare\n"
    )
    vocabulary = write_vocabulary(
        tmp_path / "vocab.txt",
        ["the", "dog", "dogs", "of", "cats", "here", ".", "is", "are"],
    )
    model = str(fixture_dir("torch_masked_lm"))
    status = probe.main(
        [
            model,
            "--items",
            str(items),
            "--vocabulary",
            str(vocabulary),
            "--json",
            str(tmp_path / "p.json"),
        ]
    )
    assert status == 0
    report = json.loads((tmp_path / "p.json").read_text())

    # The same numbers by hand: logits at the mask, correct vs incorrect.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masked_lm = keras_bigs.BiGSMaskedLM.from_preset(
            model, preprocessor=None
        )
    tokenizer = keras_bigs.BiGSTokenizer(vocabulary=str(vocabulary))
    token_ids = np.zeros((3, 64), "int32")
    rows = [
        ["the", "dog", "[MASK]", "here", "."],
        ["the", "dogs", "[MASK]", "here", "."],
        ["the", "dog", "of", "the", "cats", "[MASK]", "here", "."],
    ]
    for i, words in enumerate(rows):
        ids = [2] + [tokenizer.token_to_id(w) for w in words] + [3]
        token_ids[i, : len(ids)] = ids
    inputs = {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": (token_ids > 0).astype("int32"),
        "mask_positions": np.array([[3], [3], [6]], "int32"),
    }
    logits = masked_lm.predict(inputs, verbose=0)[:, 0]
    is_, are = tokenizer.token_to_id("is"), tokenizer.token_to_id("are")
    expected = [
        (logits[0, is_], logits[0, are]),
        (logits[1, are], logits[1, is_]),
        (logits[2, is_], logits[2, are]),
    ]
    for score, (correct, incorrect) in zip(report["scores"], expected):
        assert score["correct"] == pytest.approx(float(correct), rel=1e-5)
        assert score["incorrect"] == pytest.approx(float(incorrect), rel=1e-5)
    right = [c > i for c, i in expected]
    assert report["results"]["simple"]["accuracy"] == pytest.approx(
        np.mean(right[:2])
    )
    assert report["results"]["all"]["correct"] == sum(right)


def test_probe_agreement_shipped_items_on_a_saved_preset(tmp_path):
    probe = load_tool("probe_agreement")
    keras.utils.set_random_seed(0)
    backbone = tiny_backbone(32)
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32
    )
    keras_bigs.BiGSMaskedLM(backbone, preprocessor=preprocessor).save_to_preset(
        str(tmp_path / "mlm")
    )
    assert (
        probe.main([str(tmp_path / "mlm"), "--json", str(tmp_path / "p.json")])
        == 0
    )
    report = json.loads((tmp_path / "p.json").read_text())
    assert report["results"]["all"]["count"] == 468
    assert set(report["results"]) == {
        "simple",
        "pp_1_attractor",
        "pp_2_attractors",
        "rc_1_attractor",
        "rc_2_attractors",
        "all",
    }


def test_probe_agreement_refuses_a_multi_piece_candidate(tmp_path, capsys):
    probe = load_tool("probe_agreement")
    items = tmp_path / "items.tsv"
    items.write_text(
        "phenomenon\tsentence\tcorrect\tincorrect\n"
        "x\tthe dog [MASK] .\tbarks\tbark\n"
    )
    vocabulary = write_vocabulary(
        tmp_path / "vocab.txt", ["the", "dog", ".", "bark"]
    )
    with pytest.raises(SystemExit):
        probe.main(
            [
                str(fixture_dir("torch_masked_lm")),
                "--items",
                str(items),
                "--vocabulary",
                str(vocabulary),
            ]
        )
    assert "line 2" in capsys.readouterr().err
