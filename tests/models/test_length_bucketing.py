"""Preprocessors of padding-invariant models pad each batch to its bucket."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from tests.conftest import tiny_backbone
from tests.serving.serving_common import strong

SHORT = ["Short.", "Also short."]
LONGER = ["word " * 20, "a"]  # 22 tokens: bucket 32


def classifier_preprocessor(**kwargs):
    return keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64, **kwargs
    )


def test_explicit_buckets_pad_each_batch_to_its_bucket():
    preprocessor = classifier_preprocessor(buckets=[16, 32])
    assert preprocessor(SHORT)["token_ids"].shape == (2, 16)
    assert preprocessor(LONGER)["token_ids"].shape == (2, 32)
    assert preprocessor(["word " * 200])["token_ids"].shape == (1, 64)
    assert preprocessor("one example")["token_ids"].shape == (16,)
    # In tf.data (graph mode) the same.
    dataset = tf.data.Dataset.from_tensor_slices(SHORT + LONGER).batch(2)
    shapes = [x["token_ids"].shape[1] for x in dataset.map(preprocessor)]
    assert shapes == [16, 32]
    eager = preprocessor(LONGER)
    graph = next(iter(dataset.skip(1).map(preprocessor)))
    for key in eager:
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(eager[key]), graph[key].numpy()
        )


def test_auto_buckets_follow_the_model():
    standalone = classifier_preprocessor()
    assert standalone.buckets == "auto"
    assert standalone(SHORT)["token_ids"].shape == (2, 64)

    invariant = classifier_preprocessor()
    keras_bigs.BiGSClassifier(
        tiny_backbone(64, padding_invariant=True), 2, preprocessor=invariant
    )
    assert invariant.padding_lengths == (16, 32, 64)
    assert invariant(SHORT)["token_ids"].shape == (2, 16)

    faithful = classifier_preprocessor()
    keras_bigs.BiGSClassifier(tiny_backbone(64), 2, preprocessor=faithful)
    assert faithful.padding_lengths is None
    assert faithful(SHORT)["token_ids"].shape == (2, 64)

    off = classifier_preprocessor(buckets=None)
    keras_bigs.BiGSClassifier(
        tiny_backbone(64, padding_invariant=True), 2, preprocessor=off
    )
    assert off(SHORT)["token_ids"].shape == (2, 64)


def test_buckets_on_a_model_that_is_not_invariant_are_an_error():
    message = "backbone is not padding-invariant"
    with pytest.raises(ValueError, match=message):
        keras_bigs.BiGSClassifier(
            tiny_backbone(64),
            2,
            preprocessor=classifier_preprocessor(buckets=[16, 32]),
        )
    classifier = keras_bigs.BiGSClassifier(
        tiny_backbone(64), 2, preprocessor=classifier_preprocessor()
    )
    with pytest.raises(ValueError, match=message):
        classifier.preprocessor.buckets = [16]


def test_bad_bucket_lists_name_the_problem():
    with pytest.raises(ValueError, match="128 exceeds the maximum .* 64"):
        classifier_preprocessor(buckets=[16, 128])
    with pytest.raises(ValueError, match="16 follows 32"):
        classifier_preprocessor(buckets=[32, 16])
    with pytest.raises(ValueError, match="buckets='powers'"):
        classifier_preprocessor(buckets="powers")


def test_bucketed_predictions_equal_full_length_ones():
    keras.utils.set_random_seed(0)
    backbone = strong(tiny_backbone(64, num_layers=2, padding_invariant=True))
    classifier = keras_bigs.BiGSClassifier(
        backbone, 3, preprocessor=classifier_preprocessor()
    )
    texts = SHORT + LONGER + ["", "word " * 100]
    bucketed = classifier.predict(texts, batch_size=2, verbose=0)
    classifier.preprocessor = classifier_preprocessor(buckets=None)
    full = classifier.predict(texts, batch_size=2, verbose=0)
    np.testing.assert_allclose(bucketed, full, rtol=1e-5, atol=1e-5)


def test_buckets_round_trip_and_a_saved_invariant_preset_uses_them(tmp_path):
    preprocessor = classifier_preprocessor(buckets=[16, 32])
    config = preprocessor.get_config()
    assert config["buckets"] == [16, 32, 64]
    again = keras_bigs.BiGSTextClassifierPreprocessor.from_config(config)
    assert again.padding_lengths == (16, 32, 64)
    assert classifier_preprocessor().get_config()["buckets"] == "auto"

    classifier = keras_bigs.BiGSClassifier(
        tiny_backbone(64, padding_invariant=True),
        2,
        preprocessor=classifier_preprocessor(),
    )
    classifier.save_to_preset(str(tmp_path / "preset"))
    loaded = keras_bigs.BiGSClassifier.from_preset(str(tmp_path / "preset"))
    assert loaded.backbone.padding_invariant
    assert loaded.preprocessor.padding_lengths == (16, 32, 64)
    assert loaded.preprocessor(SHORT)["token_ids"].shape == (2, 16)
    faithful = keras_bigs.BiGSClassifier.from_preset(
        str(tmp_path / "preset"), padding_invariant=False
    )
    assert faithful.preprocessor(SHORT)["token_ids"].shape == (2, 64)


def test_masked_lm_and_multiple_choice_preprocessors_bucket():
    masked_lm = keras_bigs.BiGSMaskedLMPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64, buckets=[16, 32]
    )
    x, y, sample_weight = masked_lm(["The quick brown fox jumped."] * 2)
    assert x["token_ids"].shape == (2, 16)
    assert x["mask_positions"].shape == (2, 10)  # ceil(0.15 * 64)
    assert np.all(keras.ops.convert_to_numpy(x["mask_positions"]) < 16)
    choice = keras_bigs.BiGSMultipleChoicePreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=64, buckets=[16]
    )
    x = choice(x=(["The sky is"], [["blue.", "green.", "loud."]]))
    assert x["token_ids"].shape == (1, 3, 16)


BUCKETING_PREPROCESSORS = [
    (keras_bigs.BiGSTextClassifierPreprocessor, ()),
    (keras_bigs.BiGSTextEmbedderPreprocessor, ()),
    (keras_bigs.BiGSMultipleChoicePreprocessor, ()),
    # mask_selection_rate, mask_selection_length, mask_token_rate,
    # random_token_rate come between `truncate` and `buckets`.
    (keras_bigs.BiGSMaskedLMPreprocessor, (0.2, 7, 0.7, 0.2)),
]


@pytest.mark.parametrize(
    "cls, between",
    BUCKETING_PREPROCESSORS,
    ids=[cls.__name__ for cls, _ in BUCKETING_PREPROCESSORS],
)
def test_positional_arguments_and_config_round_trip(cls, between):
    preprocessor = cls(
        keras_bigs.BiGSTokenizer(), 64, "waterfall", *between, [16]
    )
    assert preprocessor.sequence_length == 64
    assert preprocessor.truncate == "waterfall"
    assert preprocessor.padding_lengths == (16, 64)
    config = preprocessor.get_config()
    assert config["sequence_length"] == 64
    assert config["truncate"] == "waterfall"
    assert config["buckets"] == [16, 64]
    if between:
        assert config["mask_selection_length"] == 7
        assert config["random_token_rate"] == 0.2
    # `from_config` deserializes the tokenizer in the dict it is given.
    again = cls.from_config(preprocessor.get_config())
    assert again.get_config() == config
    assert again.padding_lengths == (16, 64)
