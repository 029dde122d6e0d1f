import keras
import numpy as np
import pytest

import keras_bigs
from tests.conftest import tiny_backbone
from tests.keras_hub_test_case import TestCase

PROMPTS = [
    "The sky on a clear day is",
    "Fire feels",
    "Ice feels",
    "The sun rises in the",
]
CHOICES = [
    ["blue.", "loud.", "sour."],
    ["hot.", "cold.", "wet."],
    ["hot.", "cold.", "loud."],
    ["east.", "west.", "sea."],
]
LABELS = np.array([0, 0, 1, 0])


def preprocessor(sequence_length=16):
    return keras_bigs.BiGSMultipleChoicePreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=sequence_length
    )


def test_preprocessor_packs_prompt_and_each_choice():
    mc_preprocessor = preprocessor()
    tokenizer = mc_preprocessor.tokenizer
    x = mc_preprocessor(x=(PROMPTS, CHOICES))
    token_ids = np.asarray(x["token_ids"])
    assert token_ids.shape == (4, 3, 16)
    for row, prompt in enumerate(PROMPTS):
        for column, choice in enumerate(CHOICES[row]):
            expected = (
                [tokenizer.cls_token_id]
                + tokenizer(prompt).tolist()
                + [tokenizer.sep_token_id]
                + tokenizer(choice).tolist()
                + [tokenizer.sep_token_id]
            )
            packed = token_ids[row, column]
            assert packed[: len(expected)].tolist() == expected
            assert (packed[len(expected) :] == 0).all()
            segments = np.asarray(x["segment_ids"])[row, column]
            second = len(tokenizer(prompt)) + 2
            assert segments[second : len(expected)].all()
            assert not segments[:second].any()


def test_choices_of_the_wrong_rank_are_an_error():
    with pytest.raises(ValueError, match="one more dimension than prompts"):
        preprocessor()(x=(PROMPTS, ["blue.", "hot.", "cold.", "east."]))


def small_model():
    backbone = tiny_backbone(16)
    return keras_bigs.BiGSMultipleChoice(backbone, preprocessor=preprocessor())


def test_choices_are_scored_independently():
    model = small_model()
    model.preprocessor = None
    x = {
        name: np.asarray(value)
        for name, value in preprocessor()(x=(PROMPTS, CHOICES)).items()
    }
    logits = model.predict(x, verbose=0)
    assert logits.shape == (4, 3)
    # The same (prompt, choice) pair gets the same score anywhere.
    swapped = {name: value[:, ::-1] for name, value in x.items()}
    np.testing.assert_allclose(
        model.predict(swapped, verbose=0), logits[:, ::-1], rtol=1e-5, atol=1e-6
    )


def test_fit_on_raw_strings_lowers_the_loss():
    keras.utils.set_random_seed(0)
    model = small_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(
        x=(PROMPTS * 20, CHOICES * 20),
        y=np.tile(LABELS, 20),
        batch_size=4,
        epochs=2,
        verbose=0,
    )
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]
    assert model.predict((PROMPTS, CHOICES), verbose=0).shape == (4, 3)


def test_save_to_preset_round_trip(tmp_path):
    model = small_model()
    model.save_to_preset(str(tmp_path / "mc"))
    restored = keras_bigs.BiGSMultipleChoice.from_preset(str(tmp_path / "mc"))
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(
        restored.predict((PROMPTS, CHOICES), verbose=0),
        model.predict((PROMPTS, CHOICES), verbose=0),
    )
    assert restored.preprocessor.sequence_length == 16


class BiGSMultipleChoiceKerasHubTest(TestCase):
    """keras-hub's task checks and a `.keras` round trip."""

    def setUp(self):
        self.preprocessor = preprocessor(sequence_length=8)
        self.backbone = tiny_backbone(8)
        self.init_kwargs = {
            "backbone": self.backbone,
            "preprocessor": self.preprocessor,
        }
        self.train_data = ((PROMPTS[:2], CHOICES[:2]), LABELS[:2])

    def test_multiple_choice_basics(self):
        self.run_task_test(
            cls=keras_bigs.BiGSMultipleChoice,
            init_kwargs=self.init_kwargs,
            train_data=self.train_data,
            expected_output_shape=(2, 3),
        )

    def test_saved_model(self):
        self.run_model_saving_test(
            cls=keras_bigs.BiGSMultipleChoice,
            init_kwargs=self.init_kwargs,
            input_data=self.preprocessor(*self.train_data)[0],
        )
