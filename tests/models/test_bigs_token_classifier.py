import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.convert import readers
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from tests.conftest import PARITY_TOLERANCE
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone
from tests.convert.test_original_checkpoint import copy_fixture_with_config
from tests.keras_hub_test_case import TestCase

WORDS = [["EU", "rejects", "tokenization", "call"], ["Peter", "Blackburn"]]
LABELS = [[3, 0, 7, 0], [1, 2]]


def preprocessor(sequence_length=16):
    return keras_bigs.BiGSTokenClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=sequence_length
    )


@pytest.mark.parametrize("fixtures", PARITY_TOLERANCE)
def test_token_classifier_parity_with_the_original(fixtures):
    folder = fixture_dir("flax_token_classifier", fixtures)
    reference = np.load(folder / "reference_outputs.npz")
    tagger = keras_bigs.BiGSTokenClassifier.from_preset(
        str(folder), preprocessor=None
    )
    assert tagger.num_classes == reference["logits"].shape[-1] == 5
    for prefix, inputs in reference_batches(reference):
        logits = tagger.predict(inputs, verbose=0)
        assert logits.shape == reference["logits"].shape
        assert (
            relative_error(logits, reference["logits"])
            <= (PARITY_TOLERANCE[fixtures])
        )


def test_the_head_size_must_match_the_checkpoint():
    folder = str(fixture_dir("flax_token_classifier"))
    with pytest.raises(ValueError, match=r"num_classes=9 .*5 outputs"):
        keras_bigs.BiGSTokenClassifier.from_preset(folder, num_classes=9)
    with pytest.warns(UserWarning, match="new 9-way head"):
        tagger = keras_bigs.BiGSTokenClassifier.from_preset(
            folder, num_classes=9, reinitialize_head=True, preprocessor=None
        )
    assert tagger.num_classes == 9


def test_first_wordpiece_carries_the_label():
    x, y, weight = preprocessor()(x=WORDS, y=LABELS)
    token_ids = np.asarray(x["token_ids"])
    # [CLS] EU rejects token ##ization call [SEP]
    assert token_ids[0, :7].tolist() == [
        101,
        7327,
        19164,
        19204,
        3989,
        2655,
        102,
    ]
    assert np.asarray(y)[0, :7].tolist() == [0, 3, 0, 7, 0, 0, 0]
    assert np.asarray(weight)[0, :7].tolist() == [0, 1, 1, 1, 0, 1, 0]
    # One weight per word: loss and metrics count each word once.
    assert np.asarray(weight).sum(axis=1).tolist() == [4, 2]
    assert np.asarray(x["padding_mask"]).sum(axis=1).tolist() == [7, 4]


def test_raw_strings_empty_words_and_truncation():
    x, y, weight = preprocessor()(
        x=["EU rejects tokenization call", "\u200b a"], y=LABELS[:1] + [[5, 6]]
    )
    assert np.asarray(y)[0, :7].tolist() == [0, 3, 0, 7, 0, 0, 0]
    # A word with no wordpiece becomes [UNK] and keeps its label.
    assert np.asarray(x["token_ids"])[1, :4].tolist() == [101, 100, 1037, 102]
    assert np.asarray(y)[1, :3].tolist() == [0, 5, 6]
    long = [["word"] * 30]
    x, y, weight = preprocessor()(x=long, y=[list(range(30))])
    assert np.asarray(x["token_ids"])[0, -1] == 102  # [SEP] kept
    assert np.asarray(weight).sum() == 14  # 16 - [CLS] - [SEP]
    with pytest.raises(ValueError, match="one label per word"):
        preprocessor()(x=WORDS, y=[[1, 2], [1, 2]])
    with pytest.raises(ValueError, match="takes strings"):
        preprocessor()(x=np.ones((2, 3), "int32"))


def test_tf_data_gives_the_eager_outputs():
    words = tf.ragged.constant(WORDS)
    labels = tf.ragged.constant(LABELS)
    dataset = (
        tf.data.Dataset.from_tensor_slices((words, labels))
        .ragged_batch(2)
        .map(preprocessor())
    )
    graph = next(iter(dataset))
    eager = preprocessor()(x=WORDS, y=LABELS)
    for got, want in zip(tf.nest.flatten(graph), tf.nest.flatten(eager)):
        np.testing.assert_array_equal(
            np.asarray(got), keras.ops.convert_to_numpy(want)
        )


def test_training_learns_word_labels_and_predict_words_returns_them():
    keras.utils.set_random_seed(0)
    tagger = keras_bigs.BiGSTokenClassifier(
        tiny_backbone(16), num_classes=8, preprocessor=preprocessor()
    )
    tagger.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = tagger.fit(
        x=WORDS * 40, y=LABELS * 40, batch_size=4, epochs=5, verbose=0
    )
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert history.history["sparse_categorical_accuracy"][-1] >= 0.95
    assert tagger.predict_words(WORDS) == LABELS
    assert tagger.predict_words("EU rejects tokenization call") == [LABELS[0]]
    # Words past the sequence length get no label.
    assert len(tagger.predict_words([["word"] * 30])[0]) == 14


def test_predict_words_needs_the_preprocessor():
    tagger = keras_bigs.BiGSTokenClassifier(tiny_backbone(16), num_classes=2)
    with pytest.raises(ValueError, match="needs a preprocessor"):
        tagger.predict_words(WORDS)


def test_sentences_mixing_raw_strings_and_word_lists_are_refused():
    tagger = keras_bigs.BiGSTokenClassifier(
        tiny_backbone(16), num_classes=2, preprocessor=preprocessor()
    )
    mixed = ["a raw sentence", ["pre", "split"]]
    message = r"Sentences mix raw strings \(row 0\) and word lists \(row 1\)"
    with pytest.raises(ValueError, match=message):
        tagger.predict_words(mixed)
    with pytest.raises(ValueError, match=message):
        tagger.predict(mixed, verbose=0)
    assert [len(labels) for labels in tagger.predict_words(WORDS)] == [4, 2]


class BiGSTokenClassifierKerasHubTest(TestCase):
    """keras-hub's task checks, a `.keras` round trip, and the original
    checkpoints as presets."""

    def setUp(self):
        self.init_kwargs = {
            "backbone": tiny_backbone(16),
            "preprocessor": preprocessor(),
            "num_classes": 8,
        }
        self.train_data = (
            tf.ragged.constant(WORDS),
            tf.ragged.constant(LABELS),
        )

    def test_saved_model(self):
        x, _, _ = preprocessor()(x=WORDS, y=LABELS)
        self.run_model_saving_test(
            cls=keras_bigs.BiGSTokenClassifier,
            init_kwargs=self.init_kwargs,
            input_data={k: np.asarray(v) for k, v in x.items()},
        )

    def test_original_checkpoints_as_presets(self):
        for fixtures in PARITY_TOLERANCE:
            folder = fixture_dir("flax_token_classifier", fixtures)
            reference = np.load(folder / "reference_outputs.npz")
            self.run_preset_test(
                cls=keras_bigs.BiGSTokenClassifier,
                preset=str(folder),
                init_kwargs={"preprocessor": None},
                input_data=next(reference_batches(reference))[1],
                expected_output_shape=reference["logits"].shape,
                expected_partial_output=reference["logits"][0, 0],
            )

    def test_preprocessor_config_round_trip(self):
        original = preprocessor(32)
        again = keras_bigs.BiGSTokenClassifierPreprocessor.from_config(
            original.get_config()
        )
        assert again.sequence_length == 32
        assert "truncate" not in again.get_config()


def test_pytorch_layout_head_loads(tmp_path):
    """A PyTorch `BiGSForTokenClassification` stores its head as
    `classifier.weight` (out, in) and `classifier.bias`: the classifier
    fixture's weights under that architecture give logits
    `sequence_output @ weight.T + bias` at every token."""
    folder = copy_fixture_with_config(
        "torch_classifier",
        tmp_path,
        architectures=["BiGSForTokenClassification"],
    )
    tagger = keras_bigs.BiGSTokenClassifier.from_preset(
        str(folder), preprocessor=None
    )
    weights = readers.read_safetensors(folder / "model.safetensors")
    reference = np.load(folder / "reference_outputs.npz")
    inputs = next(reference_batches(reference))[1]
    logits = tagger.predict(inputs, verbose=0)
    expected = (
        reference["sequence_output"] @ weights["classifier.weight"].T
        + weights["classifier.bias"]
    )
    assert relative_error(logits, expected) < 1e-5
