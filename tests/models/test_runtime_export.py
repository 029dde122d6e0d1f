"""`task.export(path, format=...)` to ONNX, LiteRT and OpenVINO, each file
run in its own runtime (onnxruntime, the standalone LiteRT interpreter of
`ai-edge-litert`, OpenVINO) against `predict`."""

import importlib
import os
import sys
import warnings

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from keras_bigs.models.runtime_export import RUNTIME_FORMATS
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone

# The runtime each format needs, and the extra that installs it.
RUNTIMES = {
    "onnx": ("onnxruntime", "onnx"),
    "litert": ("ai_edge_litert.interpreter", "litert"),
    "openvino": ("openvino", "openvino"),
}
SUFFIX = {"onnx": ".onnx", "litert": ".tflite", "openvino": ".xml"}
LENGTH = 16
TOLERANCE = 1e-4


def runtime(format):
    """The runtime's module; a missing one skips (fails under CI=true,
    which installs every extra)."""
    module, extra = RUNTIMES[format]
    try:
        return importlib.import_module(module)
    except ImportError:
        message = (
            f"{format} export needs {module}: pip install 'keras-bigs[{extra}]'"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def run_exported(format, path, inputs):
    """`{output name: array}` of the exported file on `inputs`."""
    module = runtime(format)
    if format == "onnx":
        session = module.InferenceSession(path)
        names = [output.name for output in session.get_outputs()]
        feed = {i.name: inputs[i.name] for i in session.get_inputs()}
        return dict(zip(names, session.run(None, feed)))
    if format == "litert":
        interpreter = module.Interpreter(model_path=path)
        return dict(interpreter.get_signature_runner()(**inputs))
    # OpenVINO's CPU plugin computes in bfloat16 where the CPU has it,
    # unless asked for float32.
    compiled = module.Core().compile_model(
        path, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    results = compiled(
        {i.get_any_name(): inputs[i.get_any_name()] for i in compiled.inputs}
    )
    return {
        output.get_any_name(): results[output] for output in compiled.outputs
    }


def assert_outputs_match(exported, expected):
    """The exported outputs equal `predict`'s: one output, or a dict whose
    keys the runtime's output names contain."""
    if not isinstance(expected, dict):
        (value,) = exported.values()
        assert value.shape == expected.shape
        assert relative_error(value, expected) <= TOLERANCE
        return
    assert len(exported) == len(expected)
    for key, value in expected.items():
        (name,) = [n for n in exported if key in n]
        assert relative_error(exported[name], value) <= TOLERANCE, key


def export(task, format, tmp_path, capsys):
    path = str(tmp_path / f"model{SUFFIX[format]}")
    if format == "openvino" and sys.version_info >= (3, 13):
        # OpenVINO's converter fails there; the export says so.
        with pytest.raises(RuntimeError, match="fails on Python 3.13"):
            task.export(path, format=format)
        pytest.skip("OpenVINO's TensorFlow converter fails on Python 3.13")
    task.export(path, format=format)
    assert "FFT-free (Toeplitz)" in capsys.readouterr().out
    return path


def token_inputs(batch, length=LENGTH, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, length), "int32")
    mask[1:, length // 2 :] = 0  # a padded row
    return {
        "token_ids": (rng.integers(1000, 2000, (batch, length)) * mask).astype(
            "int32"
        ),
        "segment_ids": np.zeros((batch, length), "int32"),
        "padding_mask": mask,
    }


def tiny_tasks():
    """Each task on a one-layer backbone, with the inputs it takes."""
    keras.utils.set_random_seed(0)
    x = token_inputs(3)
    masked = dict(
        x, mask_positions=np.tile(np.arange(1, 4, dtype="int32"), (3, 1))
    )
    choices = {k: np.stack([v, v[::-1]], axis=1) for k, v in x.items()}
    return {
        "classifier": (
            keras_bigs.BiGSClassifier(tiny_backbone(LENGTH), num_classes=3),
            x,
        ),
        "masked_lm": (keras_bigs.BiGSMaskedLM(tiny_backbone(LENGTH)), masked),
        "token_classifier": (
            keras_bigs.BiGSTokenClassifier(
                tiny_backbone(LENGTH), num_classes=5
            ),
            x,
        ),
        "question_answerer": (
            keras_bigs.BiGSQuestionAnswerer(tiny_backbone(LENGTH)),
            x,
        ),
        "multiple_choice": (
            keras_bigs.BiGSMultipleChoice(tiny_backbone(LENGTH)),
            choices,
        ),
        "text_embedder": (
            keras_bigs.BiGSTextEmbedder(tiny_backbone(LENGTH)),
            x,
        ),
    }


def assert_strong_classifier_exports_at_parity(format, tmp_path, capsys):
    """The strong reference classifier (weights under which every block
    matters; 64 tokens, short rows padded), exported and run in the
    runtime, gives `predict`'s and the original's logits. Returns it."""
    folder = fixture_dir("flax_classifier", "bigs_reference_strong")
    reference = np.load(folder / "reference_outputs.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier = keras_bigs.BiGSClassifier.from_preset(
            str(folder), preprocessor=None
        )
    inputs = next(reference_batches(reference))[1]
    inputs = {k: v.astype("int32") for k, v in inputs.items()}
    path = export(classifier, format, tmp_path, capsys)
    (logits,) = run_exported(format, path, inputs).values()
    assert relative_error(logits, classifier.predict(inputs, verbose=0)) <= (
        TOLERANCE
    )
    assert relative_error(logits, reference["logits"]) <= TOLERANCE
    return classifier


@pytest.fixture(scope="module")
def tasks():
    return tiny_tasks()


@pytest.mark.backends("tensorflow")
@pytest.mark.parametrize("format", RUNTIME_FORMATS)
def test_the_original_checkpoint_exports_at_parity(format, tmp_path, capsys):
    classifier = assert_strong_classifier_exports_at_parity(
        format, tmp_path, capsys
    )
    # The task's own convolution mode is back after the export.
    assert classifier.backbone.bigs_layers[0].fs4.conv_mode == "auto"


@pytest.mark.backends("tensorflow")
@pytest.mark.parametrize("format", RUNTIME_FORMATS)
@pytest.mark.parametrize(
    "name",
    [
        "classifier",
        "masked_lm",
        "token_classifier",
        "question_answerer",
        "multiple_choice",
        "text_embedder",
    ],
)
def test_every_task_exports(tasks, name, format, tmp_path, capsys):
    task, inputs = tasks[name]
    path = export(task, format, tmp_path, capsys)
    assert_outputs_match(
        run_exported(format, path, inputs), task.predict(inputs, verbose=0)
    )


@pytest.mark.backends("tensorflow")
@pytest.mark.parametrize("format", RUNTIME_FORMATS)
def test_batch_and_length_are_dynamic(format, tmp_path, capsys):
    # A padding-invariant model takes any length up to its maximum.
    classifier = keras_bigs.BiGSClassifier(
        tiny_backbone(64, num_layers=2, padding_invariant=True), num_classes=2
    )
    signature = classifier.export_input_signature()
    assert signature["token_ids"].shape == (None, None)
    path = export(classifier, format, tmp_path, capsys)
    for batch, length in ((1, 64), (5, 9), (2, 33)):
        x = token_inputs(batch, length, seed=length)
        (logits,) = run_exported(format, path, x).values()
        expected = classifier.predict(x, verbose=0)
        assert relative_error(logits, expected) <= TOLERANCE
    # A longer row fails in every runtime (each with its own error type);
    # ONNX Runtime's message names the rule.
    with pytest.raises(Exception) as error:
        run_exported(format, path, token_inputs(1, 65))
    if format == "onnx":
        assert "input_longer_than_max_sequence_length_64" in str(error.value)


# JAX and PyTorch hand the export to a TensorFlow-backend process, which
# writes the same file: the hand-over does not depend on the format, and
# each format's export after it is the one tested above, so ONNX covers
# it.
@pytest.mark.backends("jax", "torch")
def test_other_backends_export_through_tensorflow(tmp_path, capsys):
    assert_strong_classifier_exports_at_parity("onnx", tmp_path, capsys)


@pytest.mark.backends("jax", "torch")
def test_other_backends_refuse_options_they_cannot_hand_over(tmp_path):
    classifier = keras_bigs.BiGSClassifier(tiny_backbone(LENGTH), num_classes=2)
    with pytest.raises(ValueError, match="with KERAS_BACKEND=tensorflow"):
        classifier.export(
            str(tmp_path / "model.onnx"), format="onnx", opset_version=17
        )
