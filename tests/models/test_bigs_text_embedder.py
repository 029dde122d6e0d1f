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

# Every kind of original checkpoint: the embedder reads only the backbone.
CHECKPOINTS = [
    "flax_classifier",
    "flax_masked_lm",
    "flax_token_classifier",
    "torch_classifier",
    "torch_masked_lm",
    "torch_question_answering",
]


def expected_embeddings(sequence_output, padding_mask, pooling_mode):
    """The pooling and L2 normalisation, in float64 numpy."""
    sequence = sequence_output.astype("float64")
    mask = padding_mask.astype("float64")[..., None]
    if pooling_mode == "mean":
        pooled = (sequence * mask).sum(1) / mask.sum(1)
    elif pooling_mode == "max":
        pooled = np.where(mask > 0, sequence, -np.inf).max(1)
    else:
        pooled = sequence[:, 0]
    return pooled / np.linalg.norm(pooled, axis=-1, keepdims=True)


def embedder(sequence_length=16, **kwargs):
    preprocessor = keras_bigs.BiGSTextEmbedderPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=sequence_length
    )
    return keras_bigs.BiGSTextEmbedder(
        tiny_backbone(sequence_length, **kwargs), preprocessor
    )


@pytest.mark.parametrize("fixtures", PARITY_TOLERANCE)
@pytest.mark.parametrize("name", CHECKPOINTS)
def test_embeddings_of_every_checkpoint_match_the_original(name, fixtures):
    # The original's sequence output, pooled over real tokens: parity of
    # the embeddings with the original model.
    folder = fixture_dir(name, fixtures)
    reference = np.load(folder / "reference_outputs.npz")
    model = keras_bigs.BiGSTextEmbedder.from_preset(
        str(folder), preprocessor=None
    )
    for prefix, inputs in reference_batches(reference):
        key = (
            "sequence_output" if prefix == "x" else f"{prefix}_sequence_output"
        )
        expected = expected_embeddings(
            reference[key], inputs["padding_mask"], "mean"
        )
        embeddings = model.predict(inputs, verbose=0)
        assert embeddings.dtype == np.float32
        assert embeddings.shape == expected.shape
        assert (
            relative_error(embeddings, expected) <= PARITY_TOLERANCE[fixtures]
        )


@pytest.mark.parametrize("pooling_mode", ["mean", "max", "cls"])
def test_pooling_modes_read_only_real_tokens(pooling_mode):
    folder = fixture_dir("flax_classifier", "bigs_reference_strong")
    reference = np.load(folder / "reference_outputs.npz")
    model = keras_bigs.BiGSTextEmbedder.from_preset(
        str(folder), preprocessor=None, pooling_mode=pooling_mode
    )
    inputs = next(reference_batches(reference))[1]
    assert inputs["padding_mask"].sum(1).min() < inputs["padding_mask"].shape[1]
    expected = expected_embeddings(
        reference["sequence_output"], inputs["padding_mask"], pooling_mode
    )
    got = model.predict(inputs, verbose=0)
    assert relative_error(got, expected) <= 5e-5


def test_unnormalized_embeddings_are_the_masked_mean():
    model = embedder()
    unnormalized = keras_bigs.BiGSTextEmbedder(
        model.backbone, model.preprocessor, normalize=False
    )
    texts = ["a short text", "a longer text with more words in it", ""]
    x = model.preprocessor(texts)
    sequence = keras.ops.convert_to_numpy(model.backbone(x)["sequence_output"])
    mask = np.asarray(x["padding_mask"])
    mean = (sequence * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(
        unnormalized.predict(texts, verbose=0), mean, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        np.linalg.norm(model.predict(texts, verbose=0), axis=-1), 1.0, 1e-5
    )


def test_similarity_is_cosine_and_ranks_identical_texts_first():
    model = embedder()
    documents = ["the cat sat on the mat", "stock markets fell sharply"]
    query = model.encode_text(documents[1], verbose=0)
    scores = np.asarray(
        model.similarity(query, model.encode_documents(documents, verbose=0))
    )
    assert scores.shape == (1, 2)
    np.testing.assert_allclose(scores[0, 1], 1.0, rtol=1e-5)
    assert scores[0, 0] < scores[0, 1]


def test_padding_invariant_embeddings_do_not_depend_on_the_batch():
    model = embedder(sequence_length=64, padding_invariant=True, num_layers=2)
    assert model.preprocessor.padding_lengths == (16, 32, 64)
    texts = ["a short text", "many words " * 20]
    assert model.preprocessor(texts[:1])["token_ids"].shape == (1, 16)
    assert model.preprocessor(texts)["token_ids"].shape == (2, 64)
    alone = model.encode_text(texts[0], verbose=0)
    beside_a_long_one = model.encode_text(texts, verbose=0)[:1]
    np.testing.assert_allclose(alone, beside_a_long_one, atol=1e-5)


def test_unknown_pooling_mode_is_an_error():
    with pytest.raises(
        ValueError, match=r"pooling_mode='sum'; expected one of \('mean'"
    ):
        keras_bigs.BiGSTextEmbedder(tiny_backbone(8), pooling_mode="sum")


def test_a_saved_preset_of_another_task_loads_as_an_embedder(tmp_path):
    # The masked LM's backbone, padded to the length it was trained at.
    masked_lm = keras_bigs.BiGSMaskedLM(
        tiny_backbone(16),
        preprocessor=keras_bigs.BiGSMaskedLMPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16
        ),
    )
    masked_lm.save_to_preset(str(tmp_path))
    model = keras_bigs.BiGSTextEmbedder.from_preset(str(tmp_path))
    assert model.preprocessor.sequence_length == 16
    for a, b in zip(model.backbone.weights, masked_lm.backbone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


class BiGSTextEmbedderKerasHubTest(TestCase):
    """keras-hub's task checks (serialization, predict and fit on strings,
    compile defaults) and a `.keras` round trip."""

    def setUp(self):
        self.preprocessor = keras_bigs.BiGSTextEmbedderPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=8
        )
        self.init_kwargs = {
            "backbone": tiny_backbone(8),
            "preprocessor": self.preprocessor,
            "pooling_mode": "mean",
            "normalize": True,
        }
        # Targets for a regression-style fit (a user-chosen loss).
        self.train_data = (
            ["the quick brown fox.", "the slow brown fox."],
            np.ones((2, 16), "float32") / 4.0,
        )

    def test_embedder_basics(self):
        # keras-hub's TextEmbedder has no default loss: the fit below
        # compiles one.
        model = keras_bigs.BiGSTextEmbedder(**self.init_kwargs)
        self.run_serialization_test(model)
        texts = self.train_data[0]
        self.assertEqual(model.predict(texts, verbose=0).shape, (2, 16))
        self.assertEqual(model.encode_text(texts[0], verbose=0).shape, (1, 16))
        self.assertIsNone(model.loss)

    def test_saved_model(self):
        self.run_model_saving_test(
            cls=keras_bigs.BiGSTextEmbedder,
            init_kwargs=self.init_kwargs,
            input_data=self.preprocessor(self.train_data[0]),
        )

    def test_fit_with_a_user_loss_moves_the_embeddings(self):
        keras.utils.set_random_seed(0)
        model = keras_bigs.BiGSTextEmbedder(**self.init_kwargs)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        texts, targets = self.train_data
        before = model.evaluate(texts, targets, verbose=0)
        model.fit(texts, targets, epochs=5, batch_size=2, verbose=0)
        assert model.evaluate(texts, targets, verbose=0) < before
