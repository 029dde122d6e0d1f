import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.convert.name_table import check_tied_decoder
from keras_bigs.convert.readers import CheckpointError
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from tests.conftest import PARITY_TOLERANCE
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone
from tests.keras_hub_test_case import TestCase


def all_positions(inputs):
    batch, length = inputs["token_ids"].shape
    positions = np.tile(np.arange(length, dtype="int32"), (batch, 1))
    return dict(inputs, mask_positions=positions)


@pytest.mark.parametrize("fixtures", PARITY_TOLERANCE)
@pytest.mark.parametrize("name", ["flax_masked_lm", "torch_masked_lm"])
def test_masked_lm_parity_with_the_original(name, fixtures):
    folder = fixture_dir(name, fixtures)
    reference = np.load(folder / "reference_outputs.npz")
    # The fixtures' 1,000-token vocabulary is not the tokenizer's.
    with pytest.warns(UserWarning, match="preprocessor=None"):
        masked_lm = keras_bigs.BiGSMaskedLM.from_preset(str(folder))
    assert masked_lm.preprocessor is None
    for prefix, inputs in reference_batches(reference):
        expected = reference["logits" if prefix == "x" else f"{prefix}_logits"]
        logits = masked_lm.predict(all_positions(inputs), verbose=0)
        assert logits.shape == expected.shape
        assert relative_error(logits, expected) < PARITY_TOLERANCE[fixtures]


def test_decoder_is_tied_to_the_token_embedding():
    masked_lm = keras_bigs.BiGSMaskedLM.from_preset(
        str(fixture_dir("torch_masked_lm")), preprocessor=None
    )
    embedding = masked_lm.backbone.token_embedding
    assert masked_lm.masked_lm_head.token_embedding is embedding
    # Changing the embedding changes the output projection.
    inputs = all_positions(
        {
            "token_ids": np.full((1, 64), 5, "int32"),
            "segment_ids": np.zeros((1, 64), "int32"),
            "padding_mask": np.ones((1, 64), "int32"),
        }
    )
    before = masked_lm.predict(inputs, verbose=0)
    embedding.embeddings.assign(embedding.embeddings * 2.0)
    assert not np.allclose(masked_lm.predict(inputs, verbose=0), before)


def test_untied_torch_decoder_is_an_error():
    rng = np.random.default_rng(0)
    weights = {
        "bert.embeddings.word_embeddings.weight": rng.normal(size=(10, 4)),
        "cls.predictions.decoder.weight": rng.normal(size=(10, 4)),
        "cls.predictions.decoder.bias": np.zeros(10),
        "cls.predictions.bias": np.zeros(10),
    }
    with pytest.raises(CheckpointError, match="decoder.weight.*not tied"):
        check_tied_decoder(weights, "bert.", "torch")
    weights["cls.predictions.decoder.weight"] = weights[
        "bert.embeddings.word_embeddings.weight"
    ]
    check_tied_decoder(weights, "bert.", "torch")


def test_checkpoint_without_a_masked_lm_head_warns():
    with pytest.warns(UserWarning, match="no masked-LM head"):
        keras_bigs.BiGSMaskedLM.from_preset(
            str(fixture_dir("flax_classifier")), preprocessor=None
        )


def test_preprocessor_masks_15_percent_80_10_10():
    keras.utils.set_random_seed(0)
    tokenizer = keras_bigs.BiGSTokenizer()
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        tokenizer, sequence_length=128
    )
    assert preprocessor.mask_selection_length == 20
    sentence = " ".join(["the quick brown fox jumps over the lazy dog"] * 15)
    original = np.asarray(tokenizer(sentence))[:126]
    x, y, sample_weight = preprocessor([sentence] * 400)
    token_ids = np.asarray(x["token_ids"])
    positions = np.asarray(x["mask_positions"])
    weights = np.asarray(sample_weight)
    assert token_ids.shape == (400, 128)
    assert np.asarray(x["padding_mask"]).all()
    assert token_ids[:, 0].tolist() == [tokenizer.cls_token_id] * 400
    assert token_ids[:, -1].tolist() == [tokenizer.sep_token_id] * 400

    selected = weights.sum() / (400 * 126)
    assert 0.13 < selected < 0.17
    picked = weights.astype(bool)
    rows = np.repeat(np.arange(400)[:, None], 20, axis=1)[picked]
    cols = positions[picked]
    assert (cols >= 1).all() and (cols <= 126).all()  # never [CLS]/[SEP]
    # Labels are the original tokens at the selected positions.
    np.testing.assert_array_equal(np.asarray(y)[picked], original[cols - 1])
    now = token_ids[rows, cols]
    masked = np.mean(now == tokenizer.mask_token_id)
    kept = np.mean(now == original[cols - 1])
    assert 0.77 < masked < 0.83
    assert 0.08 < kept < 0.13  # 10% kept, plus random draws of the same id
    assert 0.07 < 1 - masked - kept < 0.12


def test_fit_on_raw_strings_lowers_the_loss():
    keras.utils.set_random_seed(0)
    backbone = tiny_backbone(16)
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16, mask_selection_rate=0.3
    )
    masked_lm = keras_bigs.BiGSMaskedLM(backbone, preprocessor=preprocessor)
    masked_lm.compile(optimizer=keras.optimizers.Adam(1e-2))
    sentences = ["the cat sat on the mat", "a dog barks at the cat"] * 32
    history = masked_lm.fit(x=sentences, batch_size=8, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]


class BiGSMaskedLMKerasHubTest(TestCase):
    """keras-hub's task checks, a `.keras` round trip, and the original
    checkpoints as presets."""

    def setUp(self):
        # Every token masked, so that every call masks alike.
        self.preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
            keras_bigs.BiGSTokenizer(),
            sequence_length=8,
            mask_selection_rate=1.0,
            mask_token_rate=1.0,
            random_token_rate=0.0,
            mask_selection_length=5,
        )
        self.backbone = tiny_backbone(8)
        self.init_kwargs = {
            "backbone": self.backbone,
            "preprocessor": self.preprocessor,
        }
        self.train_data = (["the quick brown fox.", "the slow brown fox."],)

    def test_masked_lm_basics(self):
        self.run_task_test(
            cls=keras_bigs.BiGSMaskedLM,
            init_kwargs=self.init_kwargs,
            train_data=self.train_data,
            expected_output_shape=(2, 5, 30522),
        )

    def test_saved_model(self):
        self.run_model_saving_test(
            cls=keras_bigs.BiGSMaskedLM,
            init_kwargs=self.init_kwargs,
            input_data=self.preprocessor(*self.train_data)[0],
        )

    def test_original_checkpoints_as_presets(self):
        for fixtures in PARITY_TOLERANCE:
            for name in ("flax_masked_lm", "torch_masked_lm"):
                folder = fixture_dir(name, fixtures)
                reference = np.load(folder / "reference_outputs.npz")
                inputs = next(reference_batches(reference))[1]
                self.run_preset_test(
                    cls=keras_bigs.BiGSMaskedLM,
                    preset=str(folder),
                    init_kwargs={"preprocessor": None},
                    input_data=all_positions(inputs),
                    expected_output_shape=reference["logits"].shape,
                    expected_partial_output=reference["logits"][0, 0],
                )
