"""`padding_invariant=True`: outputs at real tokens do not depend on how far
a batch is padded; off, the published behaviour is unchanged."""

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.analysis import padded_inputs
from keras_bigs.analysis import padding_change
from keras_bigs.convert.reference_outputs import relative_error
from tests.conftest import PARITY_TOLERANCE
from tests.conftest import fixture_dir
from tests.serving.serving_common import strong

ARCHITECTURES = [
    ("gated", "ssm"),
    ("gated", "attention"),
    ("stack", "ssm"),
    ("stack", "attention"),
]
MAX_LENGTH = 96
ROW_LENGTHS = (3, 11, 16)


def segments(rows):
    """Segment ids of two segments: the first two tokens, then the rest."""
    return [[int(i >= 2) for i in range(len(row))] for row in rows]


def worst_change(backbone, rows, lengths):
    """The largest `padding_change` over `lengths`."""
    return max(padding_change(backbone, rows, lengths, segments(rows)).values())


def random_rows(vocabulary_size, lengths=ROW_LENGTHS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(1, vocabulary_size, n).tolist() for n in lengths]


@pytest.mark.parametrize("block_type,routing", ARCHITECTURES)
def test_padding_invariant_outputs_do_not_depend_on_padding(
    block_type, routing
):
    keras.utils.set_random_seed(0)
    backbone = strong(
        keras_bigs.BiGSBackbone(
            vocabulary_size=200,
            num_layers=2,
            hidden_dim=16,
            intermediate_dim=32,
            state_dim=8,
            max_sequence_length=MAX_LENGTH,
            block_type=block_type,
            routing=routing,
            num_heads=2,
            dropout=0.0,
            padding_invariant=True,
        )
    )
    rows = random_rows(200)
    assert worst_change(backbone, rows, (16, 64, MAX_LENGTH)) <= 1e-5

    # The same weights without the mode: SSM routing reads the padding.
    faithful = keras_bigs.BiGSBackbone.from_config(
        {**backbone.get_config(), "padding_invariant": False}
    )
    faithful.set_weights(backbone.get_weights())
    change = worst_change(faithful, rows, (16, 64, MAX_LENGTH))
    if routing == "ssm":
        assert change > 1e-2
    else:  # attention honours the padding mask in both modes
        assert change <= 1e-5


def test_padding_invariant_s4d_reads_padding_as_zeros():
    ssm = keras_bigs.S4DConv(state_dim=4, reverse=True)
    x = np.random.default_rng(0).normal(size=(2, 10, 3)).astype("float32")
    mask = np.ones((2, 10), "int32")
    mask[0, 6:] = 0
    zeroed = x * mask[..., None]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ssm(x, padding_mask=mask)),
        keras.ops.convert_to_numpy(ssm(zeroed)),
        atol=1e-6,
    )


def test_padding_invariant_round_trips(tmp_path):
    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=50,
        num_layers=1,
        hidden_dim=8,
        intermediate_dim=16,
        state_dim=4,
        max_sequence_length=32,
        padding_invariant=True,
    )
    config = backbone.get_config()
    assert config["padding_invariant"] is True
    assert backbone.bigs_layers[0].get_config()["padding_invariant"] is True
    backbone.save_to_preset(str(tmp_path / "preset"))
    loaded = keras_bigs.BiGSBackbone.from_preset(str(tmp_path / "preset"))
    assert loaded.padding_invariant
    assert loaded.bigs_layers[0].padding_invariant
    path = str(tmp_path / "backbone.keras")
    backbone.save(path)
    assert keras.saving.load_model(path).padding_invariant
    off = keras_bigs.BiGSBackbone.from_preset(
        str(tmp_path / "preset"), padding_invariant=False
    )
    assert not off.padding_invariant
    inputs = padded_inputs(random_rows(50, (4, 9)), 32)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(inputs)["sequence_output"]),
        keras.ops.convert_to_numpy(backbone(inputs)["sequence_output"]),
    )


@pytest.mark.parametrize(
    "name", ["flax_classifier", "flax_masked_lm", "torch_classifier"]
)
def test_every_checkpoint_loads_padding_invariant(name):
    folder = str(fixture_dir(name, "bigs_reference_strong"))
    backbone = keras_bigs.BiGSBackbone.from_preset(
        folder, padding_invariant=True
    )
    assert backbone.padding_invariant
    task_class = {
        "flax_classifier": keras_bigs.BiGSClassifier,
        "torch_classifier": keras_bigs.BiGSClassifier,
        "flax_masked_lm": keras_bigs.BiGSMaskedLM,
    }[name]
    task = task_class.from_preset(folder, padding_invariant=True)
    assert task.backbone.padding_invariant


def test_strong_checkpoint_is_invariant_and_the_faithful_mode_is_not():
    """The fixture's rows (64, 47 and 9 tokens), as
    `tools/check_padding.py` measures them."""
    folder = fixture_dir("flax_classifier", "bigs_reference_strong")
    reference = np.load(folder / "reference_outputs.npz")
    real = reference["x_padding_mask"].sum(axis=1)
    rows = [r[:n].tolist() for r, n in zip(reference["x_token_ids"], real)]
    segment_rows = [
        r[:n].tolist() for r, n in zip(reference["x_segment_ids"], real)
    ]
    tolerance = PARITY_TOLERANCE["bigs_reference_strong"]
    for invariant in (True, False):
        backbone = keras_bigs.BiGSBackbone.from_preset(
            str(folder), padding_invariant=invariant
        )
        changes = padding_change(backbone, rows, (16, 64), segment_rows)
        if invariant:
            assert max(changes.values()) <= tolerance
        else:
            assert max(changes.values()) > 0.05


def test_invariant_mode_changes_nothing_at_full_length():
    """Rows that fill the whole length read no padding: both modes agree
    with the original's outputs there."""
    folder = fixture_dir("flax_classifier", "bigs_reference_strong")
    reference = np.load(folder / "reference_outputs.npz")
    full = reference["x_padding_mask"].all(axis=1)
    assert full.any()
    inputs = {
        key: reference[f"x_{key}"][full]
        for key in ("token_ids", "segment_ids", "padding_mask")
    }
    backbone = keras_bigs.BiGSBackbone.from_preset(
        str(folder), padding_invariant=True
    )
    got = keras.ops.convert_to_numpy(backbone(inputs)["sequence_output"])
    assert (
        relative_error(got, reference["sequence_output"][full])
        <= PARITY_TOLERANCE["bigs_reference_strong"]
    )
