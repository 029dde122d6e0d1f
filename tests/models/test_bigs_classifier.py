import warnings

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from tests.conftest import PARITY_TOLERANCE
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone
from tests.keras_hub_test_case import TestCase

HEADS = ["flax_classifier", "flax_regressor", "torch_classifier"]


@pytest.mark.parametrize("fixtures", PARITY_TOLERANCE)
@pytest.mark.parametrize("name", HEADS)
def test_classifier_parity_with_the_original(name, fixtures):
    folder = fixture_dir(name, fixtures)
    reference = np.load(folder / "reference_outputs.npz")
    classifier = keras_bigs.BiGSClassifier.from_preset(
        str(folder), preprocessor=None
    )
    assert classifier.num_classes == reference["logits"].shape[-1]
    for prefix, inputs in reference_batches(reference):
        expected = reference["logits" if prefix == "x" else f"{prefix}_logits"]
        logits = classifier.predict(inputs, verbose=0)
        assert relative_error(logits, expected) < PARITY_TOLERANCE[fixtures]


def test_preprocessor_defaults_to_the_checkpoint_length():
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor.from_preset(
        str(fixture_dir("torch_classifier"))
    )
    assert preprocessor.sequence_length == 64
    x = preprocessor(
        x=(["Premise one.", "Premise two."], ["Hypothesis?", "Another one."])
    )
    token_ids = np.asarray(x["token_ids"])
    assert token_ids.shape == (2, 64)
    assert token_ids[0, 0] == 101 and list(token_ids[0]).count(102) == 2


def test_checkpoint_with_another_vocabulary_loads_without_preprocessor():
    # The fixtures' 1,000-token vocabulary is not the bundled tokenizer's.
    with pytest.warns(UserWarning, match="vocab_size=1000.*preprocessor=None"):
        classifier = keras_bigs.BiGSClassifier.from_preset(
            str(fixture_dir("torch_classifier"))
        )
    assert classifier.preprocessor is None


def test_num_classes_mismatch_is_an_error_or_a_new_head():
    folder = str(fixture_dir("torch_classifier"))
    with pytest.raises(ValueError, match=r"num_classes=2 .*3 outputs"):
        keras_bigs.BiGSClassifier.from_preset(folder, num_classes=2)
    with pytest.warns(UserWarning, match="new 2-way head"):
        classifier = keras_bigs.BiGSClassifier.from_preset(
            folder, num_classes=2, reinitialize_head=True
        )
    assert classifier.output_dense.units == 2


def small_classifier(num_classes):
    backbone = tiny_backbone(16)
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16
    )
    return keras_bigs.BiGSClassifier(
        backbone, num_classes=num_classes, preprocessor=preprocessor
    )


@pytest.mark.parametrize("num_classes", [1, 3], ids=["regression", "3-way"])
def test_fit_on_raw_string_pairs_lowers_the_loss(num_classes):
    keras.utils.set_random_seed(0)
    classifier = small_classifier(num_classes)
    if num_classes == 1:
        assert isinstance(classifier.loss, keras.losses.MeanSquaredError)
    first = ["a cat sat", "dogs bark loudly", "the sun is hot", "it rains"]
    second = ["on a mat", "at night", "in summer", "all day"]
    labels = (
        np.array([0.1, 0.9, 0.5, 0.3], "float32")
        if num_classes == 1
        else np.array([0, 1, 2, 1])
    )
    classifier.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = classifier.fit(
        x=(first * 4, second * 4),
        y=np.tile(labels, 4),
        batch_size=4,
        epochs=2,
        verbose=0,
    )
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    predictions = classifier.predict(["a raw sentence"], verbose=0)
    assert predictions.shape == (1, num_classes)


def test_save_load_round_trip(tmp_path):
    classifier = small_classifier(2)
    x = (["one sentence", "another"],)
    expected = classifier.predict(x, verbose=0)
    path = str(tmp_path / "classifier.keras")
    classifier.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), expected)


def test_tokenizer_larger_than_the_embedding_is_refused():
    backbone = keras_bigs.BiGSBackbone.from_preset(
        str(fixture_dir("torch_classifier"))
    )  # 1,000-token vocabulary
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64
    )
    with pytest.raises(ValueError, match=r"30522 tokens.*1000"):
        keras_bigs.BiGSClassifier(
            backbone, num_classes=3, preprocessor=preprocessor
        )


class BiGSClassifierKerasHubTest(TestCase):
    """keras-hub's task checks (serialization, predict and fit on strings,
    datasets and split preprocessing, compile defaults), a `.keras` round
    trip, and the original checkpoints as presets."""

    def setUp(self):
        self.preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=8
        )
        self.backbone = tiny_backbone(8)
        self.init_kwargs = {
            "backbone": self.backbone,
            "preprocessor": self.preprocessor,
            "num_classes": 2,
        }
        self.train_data = (
            ["the quick brown fox.", "the slow brown fox."],
            [1, 0],
        )

    def test_classifier_basics(self):
        self.run_task_test(
            cls=keras_bigs.BiGSClassifier,
            init_kwargs=self.init_kwargs,
            train_data=self.train_data,
            expected_output_shape=(2, 2),
        )

    def test_saved_model(self):
        self.run_model_saving_test(
            cls=keras_bigs.BiGSClassifier,
            init_kwargs=self.init_kwargs,
            input_data=self.preprocessor(*self.train_data)[0],
        )

    def test_original_checkpoints_as_presets(self):
        for fixtures in PARITY_TOLERANCE:
            for name in HEADS:
                folder = fixture_dir(name, fixtures)
                reference = np.load(folder / "reference_outputs.npz")
                self.run_preset_test(
                    cls=keras_bigs.BiGSClassifier,
                    preset=str(folder),
                    init_kwargs={"preprocessor": None},
                    input_data=next(reference_batches(reference))[1],
                    expected_output_shape=reference["logits"].shape,
                    expected_partial_output=reference["logits"][0],
                )
