import json
import pickle
import re
import shutil
import warnings
import zipfile

import numpy as np
import pytest
from keras import ops

from keras_bigs import BiGSBackbone
from keras_bigs import CheckpointError
from keras_bigs.convert import readers
from keras_bigs.convert.name_table import load_backbone_weights
from keras_bigs.convert.readers import WEIGHT_FILES
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from tests.conftest import PARITY_TOLERANCE
from tests.conftest import fixture_dir

FOLDERS = {
    "flax_masked_lm": "gelu_approximate",
    "flax_classifier": "gelu_approximate",
    "flax_regressor": "gelu_approximate",
    "torch_masked_lm": "gelu",
    "torch_classifier": "gelu",
    "torch_question_answering": "gelu",
}


def load(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Flax masked-LM: no pooler
        return BiGSBackbone.from_preset(str(folder))


@pytest.mark.parametrize("fixtures", PARITY_TOLERANCE)
@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_backbone_parity_with_the_original(name, fixtures):
    folder = fixture_dir(name, fixtures)
    reference = np.load(folder / "reference_outputs.npz")
    backbone = load(folder)
    # The GELU is read from the checkpoint's origin, not passed by hand.
    assert backbone.activation == FOLDERS[name]
    checked = 0
    for prefix, inputs in reference_batches(reference):
        expected = reference[
            "sequence_output" if prefix == "x" else f"{prefix}_sequence_output"
        ]
        got = backbone.predict(inputs, verbose=0)["sequence_output"]
        assert relative_error(got, expected) < PARITY_TOLERANCE[fixtures]
        checked += 1
    assert checked == (2 if name.startswith("torch") else 1)


def test_strong_fixtures_see_each_block():
    """On the strong weights, a model missing one backward SSM, or with a
    1% error in one step size, fails the parity tolerance; on the weak
    ones the backward SSM hides under it (why both sets are tested)."""

    def error(fixtures, change):
        folder = fixture_dir("flax_classifier", fixtures)
        reference = np.load(folder / "reference_outputs.npz")
        backbone = load(folder)
        change(backbone.bigs_layers[1])
        inputs = next(reference_batches(reference))[1]
        got = backbone.predict(inputs, verbose=0)["sequence_output"]
        return relative_error(got, reference["sequence_output"])

    def drop_backward_ssm(block):
        for variable in (block.bs4.C, block.bs4.D):
            variable.assign(np.zeros(variable.shape, "float32"))

    def step_one_percent_off(block):
        block.fs4.log_step.assign(block.fs4.log_step + np.log(1.01))

    strong = "bigs_reference_strong"
    assert error(strong, drop_backward_ssm) > 100 * PARITY_TOLERANCE[strong]
    assert error(strong, step_one_percent_off) > 10 * PARITY_TOLERANCE[strong]
    weak = "bigs_reference"
    assert error(weak, drop_backward_ssm) < PARITY_TOLERANCE[weak]


def test_config_is_read_from_config_json():
    folder = fixture_dir("torch_classifier")
    config = json.loads((folder / "config.json").read_text())
    backbone = load(folder)
    assert backbone.vocabulary_size == config["vocab_size"]
    assert backbone.num_layers == config["num_hidden_layers"]
    assert backbone.hidden_dim == config["hidden_size"]
    assert backbone.intermediate_dim == config["intermediate_size"]
    assert backbone.state_dim == config["num_ssm"]
    assert backbone.max_sequence_length == config["max_position_embeddings"]


def test_flax_masked_lm_without_pooler_warns():
    with pytest.warns(UserWarning, match="pooler"):
        BiGSBackbone.from_preset(str(fixture_dir("flax_masked_lm")))


def test_readers_agree_across_formats(tmp_path):
    """The same tensors through .bin and safetensors readers, and the tied
    decoder of the .bin shares the word embeddings."""
    weights = readers.read_torch_bin(
        fixture_dir("torch_masked_lm") / "pytorch_model.bin"
    )
    np.testing.assert_array_equal(
        weights["cls.predictions.decoder.weight"],
        weights["bigs.embeddings.word_embeddings.weight"],
    )
    assert weights["bigs.encoder.layer.0.dv.weight"].dtype == np.float32
    from safetensors.numpy import save_file

    save_file(
        {k: np.ascontiguousarray(v) for k, v in weights.items()},
        str(tmp_path / "model.safetensors"),
    )
    again = readers.read_safetensors(tmp_path / "model.safetensors")
    for key, value in weights.items():
        np.testing.assert_array_equal(again[key], value)


def copy_fixture(name, tmp_path):
    target = tmp_path / name
    shutil.copytree(fixture_dir(name), target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def copy_fixture_with_config(name, tmp_path, **changes):
    """A writable copy of a fixture folder with `config.json` changed."""
    folder = copy_fixture(name, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    "name,weights_file",
    [
        ("flax_classifier", "flax_model.msgpack"),
        ("torch_classifier", "model.safetensors"),
        ("torch_masked_lm", "pytorch_model.bin"),
    ],
)
def test_truncated_checkpoint_raises_clear_error(tmp_path, name, weights_file):
    folder = copy_fixture(name, tmp_path)
    path = folder / weights_file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        CheckpointError, match=f"{weights_file}.*(corrupt|truncated)"
    ):
        BiGSBackbone.from_preset(str(folder))


@pytest.mark.parametrize(
    "name,weights_file",
    [
        ("flax_classifier", "flax_model.msgpack"),
        ("torch_classifier", "model.safetensors"),
        ("torch_masked_lm", "pytorch_model.bin"),
    ],
)
def test_overwritten_weight_bytes_are_refused_naming_the_variable(
    tmp_path, name, weights_file
):
    folder = copy_fixture(name, tmp_path)
    path = folder / weights_file
    reader, _ = WEIGHT_FILES[weights_file]
    variable, array = max(reader(path).items(), key=lambda item: item[1].size)
    data = path.read_bytes()
    start = data.index(array.tobytes())
    # 0xff bytes are NaN in every float format.
    path.write_bytes(data[:start] + b"\xff" * 8 + data[start + 8 :])
    message = (
        f"{weights_file}: variable '{re.escape(variable)}' holds 2 "
        "non-finite values"
    )
    if weights_file == "pytorch_model.bin":
        message = f"{weights_file}: .*corrupt"  # the zip's checksum fails
    with pytest.raises(CheckpointError, match=message):
        BiGSBackbone.from_preset(str(folder))


def test_checkpoint_with_more_layers_than_config_is_refused(tmp_path):
    folder = copy_fixture_with_config(
        "torch_classifier", tmp_path, num_hidden_layers=2
    )
    with pytest.raises(
        CheckpointError, match=r"'bigs\.encoder\.layer\.2\..*no place"
    ):
        BiGSBackbone.from_preset(str(folder))


def test_checkpoint_with_fewer_layers_than_config_is_refused(tmp_path):
    folder = copy_fixture_with_config(
        "flax_classifier", tmp_path, num_hidden_layers=4
    )
    with pytest.raises(
        CheckpointError, match=r"no weight 's4_bert/encoder/layer/3/"
    ):
        BiGSBackbone.from_preset(str(folder))


def test_shape_mismatch_names_the_weight(tmp_path):
    folder = copy_fixture_with_config(
        "torch_classifier", tmp_path, intermediate_size=96
    )
    with pytest.raises(
        CheckpointError,
        match=r"'bigs\.encoder\.layer\.0\.dv\.weight'.*\(80, 48\).*\(96, 48\)",
    ):
        BiGSBackbone.from_preset(str(folder))


def test_folder_without_weights_is_refused(tmp_path):
    folder = copy_fixture("torch_classifier", tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="none of the weight files"):
        BiGSBackbone.from_preset(str(folder))


def test_unsupported_original_config_is_refused(tmp_path):
    folder = copy_fixture_with_config(
        "flax_regressor", tmp_path, pre_norm=False
    )
    with pytest.raises(CheckpointError, match="pre_norm=False"):
        BiGSBackbone.from_preset(str(folder))


def test_bin_reader_refuses_foreign_objects(tmp_path):
    """A `.bin` is a pickle; anything but tensors must not be unpickled."""
    path = tmp_path / "pytorch_model.bin"
    payload = pickle.dumps({"x": shutil.rmtree}, protocol=2)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", payload)
    with pytest.raises(CheckpointError, match="shutil.rmtree"):
        readers.read_torch_bin(path)


def test_loading_is_deterministic_and_reuses_weights_exactly():
    folder = fixture_dir("torch_question_answering")
    backbone = load(folder)
    raw = readers.read_safetensors(folder / "model.safetensors")
    layer = backbone.bigs_layers[1]
    np.testing.assert_array_equal(
        ops.convert_to_numpy(layer.dv.kernel),
        raw["bigs.encoder.layer.1.dv.weight"].T,
    )
    np.testing.assert_array_equal(
        ops.convert_to_numpy(layer.bs4.C),
        raw["bigs.encoder.layer.1.bs4.kernel.C"],
    )


def test_a_refused_checkpoint_leaves_the_model_untouched():
    folder = fixture_dir("torch_classifier")
    weights = readers.read_safetensors(folder / "model.safetensors")
    backbone = BiGSBackbone.from_preset(str(folder), load_weights=False)
    before = [ops.convert_to_numpy(w).copy() for w in backbone.weights]
    # The last layer's weight is wrong: the error comes after every earlier
    # weight was checked, and none of them may have been assigned.
    weights["bigs.encoder.layer.2.do.weight"] = np.zeros((3, 3), "float32")
    with pytest.raises(CheckpointError, match="layer.2.do.weight"):
        load_backbone_weights(backbone, weights, "torch")
    for b, w in zip(before, backbone.weights):
        np.testing.assert_array_equal(b, ops.convert_to_numpy(w))
