"""`quantize("int8")` on every task: Keras' int8 weight quantization of the
embeddings and dense layers; the SSMs stay float32."""

import gc
import warnings
from unittest import mock

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from keras_bigs.keras_hub_internals import flatten_layers
from keras_bigs.layers.s4d import S4DConv
from tests.conftest import fixture_dir

# max |int8 - float32| / max |float32| of a task's outputs, on the
# checkpoints under which every block matters (measured: 1.0e-2 to 6.3e-2
# across tasks and backends; Keras also quantizes each Dense layer's
# inputs, per token, and backends round them differently).
INT8_TOLERANCE = 1e-1
TASKS = {
    "classifier": (keras_bigs.BiGSClassifier, "flax_classifier"),
    "regressor": (keras_bigs.BiGSClassifier, "flax_regressor"),
    "masked_lm": (keras_bigs.BiGSMaskedLM, "flax_masked_lm"),
    "token_classifier": (keras_bigs.BiGSTokenClassifier, "torch_classifier"),
    "question_answerer": (
        keras_bigs.BiGSQuestionAnswerer,
        "torch_question_answering",
    ),
    "multiple_choice": (keras_bigs.BiGSMultipleChoice, "torch_classifier"),
    "text_embedder": (keras_bigs.BiGSTextEmbedder, "flax_classifier"),
}


def task_and_inputs(kind):
    cls, name = TASKS[kind]
    folder = fixture_dir(name, "bigs_reference_strong")
    kwargs = {"preprocessor": None}
    if cls is keras_bigs.BiGSTokenClassifier:
        kwargs["num_classes"] = 5  # a new head on a classifier's backbone
    if cls in (keras_bigs.BiGSTokenClassifier, keras_bigs.BiGSMultipleChoice):
        kwargs["reinitialize_head"] = True
        keras.utils.set_random_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a new head; no pooler to read
        task = cls.from_preset(str(folder), **kwargs)
    reference = np.load(folder / "reference_outputs.npz")
    x = next(reference_batches(reference))[1]
    if cls is keras_bigs.BiGSMaskedLM:
        positions = np.tile(
            np.arange(1, 9, dtype="int32"), (len(x["token_ids"]), 1)
        )
        x = dict(x, mask_positions=positions)
    if cls is keras_bigs.BiGSMultipleChoice:
        x = {
            key: np.stack([value, value[::-1]], axis=1)
            for key, value in x.items()
        }
    return task, x


def outputs(task, x):
    return keras.tree.map_structure(np.asarray, task.predict(x, verbose=0))


def ssm_values(task):
    return {
        w.path: keras.ops.convert_to_numpy(w)
        for layer in flatten_layers(task)
        if isinstance(layer, S4DConv)
        for w in layer.weights
    }


@pytest.fixture(scope="module", params=sorted(TASKS))
def quantized(request):
    task, x = task_and_inputs(request.param)
    float32, ssm = outputs(task, x), ssm_values(task)
    # Keras runs a full garbage collection for each layer it quantizes
    # (`Layer.__delattr__`), a second or more each in a test process's
    # heap; the quantized weights do not depend on it.
    with mock.patch.object(gc, "collect"):
        task.quantize("int8")
    return task, x, float32, ssm


def test_outputs_stay_within_the_bound(quantized):
    task, x, float32, _ = quantized
    got = outputs(task, x)
    for key in float32 if isinstance(float32, dict) else [None]:
        expected = float32[key] if key else float32
        value = got[key] if key else got
        error = relative_error(value, expected)
        assert 0 < error <= INT8_TOLERANCE, (key, error)


def test_ssms_stay_float32_and_dense_layers_are_int8(quantized):
    task, _, _, ssm = quantized
    after = ssm_values(task)
    assert after.keys() == ssm.keys() and ssm
    for path, value in ssm.items():
        assert after[path].dtype == np.float32, path
        np.testing.assert_array_equal(after[path], value, err_msg=path)
    dense = [
        layer
        for layer in flatten_layers(task)
        if isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense))
    ]
    assert dense and all(layer.quantization_mode == "int8" for layer in dense)
    assert all(
        keras.backend.standardize_dtype(layer.kernel.dtype) == "int8"
        for layer in dense
    )
    embedding = task.backbone.token_embedding
    assert keras.backend.standardize_dtype(embedding.embeddings.dtype) == "int8"


@pytest.mark.parametrize("how", ["keras_file", "preset"])
def test_quantized_task_saves_and_loads(quantized, how, tmp_path):
    task, x, _, _ = quantized
    if how == "keras_file":
        task.save(str(tmp_path / "task.keras"))
        loaded = keras.saving.load_model(str(tmp_path / "task.keras"))
    else:
        task.save_to_preset(str(tmp_path))
        loaded = type(task).from_preset(str(tmp_path), preprocessor=None)
    keras.tree.map_structure(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6),
        outputs(loaded, x),
        outputs(task, x),
    )
    assert [w.path for w in loaded.weights] == [w.path for w in task.weights]
    for a, b in zip(loaded.weights, task.weights):
        assert a.dtype == b.dtype, a.path
