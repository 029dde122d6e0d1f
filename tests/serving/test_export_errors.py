"""What `export_for_serving` refuses, before it writes anything: other
tasks and arguments, a task without preprocessor, a non-empty destination
and the torch backend."""

import keras
import pytest

import keras_bigs
from keras_bigs.serving import export_for_serving
from tests.conftest import tiny_backbone
from tests.serving.serving_common import SEQUENCE_LENGTH


@pytest.mark.backends("jax", "tensorflow")
def test_unsupported_tasks_and_arguments_are_errors(models, tmp_path):
    path = str(tmp_path / "export")
    with pytest.raises(
        TypeError,
        match="exports BiGSClassifier, BiGSMaskedLM, BiGSTextEmbedder; got "
        "BiGSBackbone",
    ):
        export_for_serving(models.classifier.backbone, path)
    with pytest.raises(ValueError, match="weights_dtype='int8'"):
        export_for_serving(models.classifier, path, weights_dtype="int8")
    with pytest.raises(ValueError, match="max_masks=33; expected 1 to 32"):
        export_for_serving(models.masked_lm, path, max_masks=33)
    if keras.backend.backend() == "tensorflow":
        with pytest.raises(ValueError, match="JAX backend only"):
            export_for_serving(models.classifier, path, platforms=["cpu"])


@pytest.mark.backends("jax", "tensorflow")
def test_a_task_without_preprocessor_is_an_error(models, tmp_path):
    preprocessor = models.classifier.preprocessor
    models.classifier.preprocessor = None
    try:
        with pytest.raises(
            ValueError,
            match=(
                r"has no preprocessor .* tokenizes its string inputs in the "
                r"graph\. Set `task.preprocessor` to a "
                r"BiGSTextClassifierPreprocessor"
            ),
        ):
            export_for_serving(models.classifier, str(tmp_path / "export"))
    finally:
        models.classifier.preprocessor = preprocessor


@pytest.mark.backends("jax", "tensorflow")
def test_a_non_empty_destination_is_an_error(models, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(
        FileExistsError, match=("exists and is not empty. Pass overwrite=True")
    ):
        export_for_serving(models.classifier, str(tmp_path))
    # overwrite=True replaces earlier exports, not any folder.
    with pytest.raises(
        FileExistsError,
        match=("holds no SavedModel .*replaces an earlier export only"),
    ):
        export_for_serving(models.classifier, str(tmp_path), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.backends("torch")
def test_torch_backend_is_an_error(tmp_path):
    classifier = keras_bigs.BiGSClassifier(
        tiny_backbone(SEQUENCE_LENGTH),
        num_classes=2,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=SEQUENCE_LENGTH
        ),
    )
    with pytest.raises(
        RuntimeError,
        match=(
            "needs the JAX or TensorFlow backend; this process runs Keras on "
            "'torch'.*KERAS_BACKEND=jax"
        ),
    ):
        export_for_serving(classifier, str(tmp_path / "export"))
