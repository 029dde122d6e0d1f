"""Bad host inputs are refused by name before anything runs, and the same
model object still predicts correctly afterwards (on JAX a failed trace
used to leave it unusable)."""

import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from tests.conftest import tiny_backbone

LENGTH = 16


def token_inputs(**changes):
    inputs = {
        "token_ids": np.array([[101, 7592, 102] + [0] * (LENGTH - 3)]),
        "segment_ids": np.zeros((1, LENGTH), "int32"),
        "padding_mask": np.array([[1] * 3 + [0] * (LENGTH - 3)]),
    }
    inputs.update(changes)
    return inputs


@pytest.fixture(scope="module")
def classifier():
    model = keras_bigs.BiGSClassifier(
        tiny_backbone(LENGTH), num_classes=3, preprocessor=None
    )
    model.compile(optimizer="adam")
    return model


BAD_INPUTS = {
    "segment id past num_segments": (
        token_inputs(segment_ids=np.full((1, LENGTH), 2)),
        r"`segment_ids` holds 2 at index \(0, 0\), outside \[0, 2\) "
        r"\(the backbone's num_segments\)",
    ),
    "negative token id": (
        token_inputs(token_ids=np.array([[101, -5] + [0] * (LENGTH - 2)])),
        r"`token_ids` holds -5 at index \(0, 1\), outside \[0, 30522\)",
    ),
    "token id past the vocabulary": (
        token_inputs(token_ids=np.array([[101, 30522] + [0] * (LENGTH - 2)])),
        r"`token_ids` holds 30522 at index \(0, 1\).*vocabulary_size",
    ),
    "padding mask of 2": (
        token_inputs(padding_mask=np.full((1, LENGTH), 2)),
        r"`padding_mask` holds 2 .*a mask is 0 or 1",
    ),
    "fractional token ids": (
        token_inputs(token_ids=np.full((1, LENGTH), 0.5)),
        r"`token_ids` must hold integers, but has dtype float64",
    ),
    "segment ids of another shape": (
        token_inputs(segment_ids=np.zeros((1, 8), "int32")),
        r"`segment_ids` has shape \(1, 8\), but `token_ids` has shape "
        r"\(1, 16\)",
    ),
    "row longer than the position table": (
        {name: np.zeros((1, 20), "int32") for name in token_inputs()},
        r"Input sequence length 20 is longer than the model's "
        r"max_sequence_length 16",
    ),
    "raw strings without a preprocessor": (
        ["a raw sentence"],
        r"This BiGSClassifier has no preprocessor \(preprocessor=None\)",
    ),
    "no examples": ([], r"BiGSClassifier got an empty input: no examples"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_inputs_are_refused_by_name_and_the_model_stays_usable(
    classifier, case
):
    expected = classifier.predict(token_inputs(), verbose=0)
    inputs, message = BAD_INPUTS[case]
    error = TypeError if "fractional" in case else ValueError
    with pytest.raises(error, match=message):
        classifier.predict(inputs, verbose=0)
    if isinstance(inputs, dict):
        with pytest.raises(error, match=message):
            classifier(inputs)
    np.testing.assert_array_equal(
        classifier.predict(token_inputs(), verbose=0), expected
    )


@pytest.mark.parametrize("label", [3, -1])
def test_labels_outside_the_classes_are_refused(classifier, label):
    before = [np.array(w) for w in classifier.weights]
    with pytest.raises(
        ValueError,
        match=rf"`y` holds {label} at index \(0,\), outside \[0, 3\) "
        r"\(the class ids of BiGSClassifier\)",
    ):
        classifier.fit(token_inputs(), np.array([label]), verbose=0)
    for a, b in zip(before, classifier.weights):
        np.testing.assert_array_equal(a, np.array(b))
    classifier.evaluate(token_inputs(), np.array([2]), verbose=0)


def test_labels_outside_the_classes_in_a_dataset_name_the_batch(classifier):
    labels = np.array([0, 1, 7, 2])
    dataset = tf.data.Dataset.from_tensor_slices(
        (
            {k: np.repeat(v, 4, axis=0) for k, v in token_inputs().items()},
            labels,
        )
    ).batch(1)
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"(?s)BiGSClassifier: `y` outside \[0, high\) in batch.*\[2\]"
        r".*\[high\] \[3\]",
    ):
        classifier.fit(dataset, verbose=0)
    classifier.fit(dataset.take(2), verbose=0)


def test_the_backbone_checks_what_it_is_called_with():
    backbone = tiny_backbone(LENGTH)
    with pytest.raises(ValueError, match=r"`token_ids` holds 30522"):
        backbone(token_inputs(token_ids=np.full((1, LENGTH), 30522)))
    with pytest.raises(ValueError, match=r"`segment_ids` holds 5"):
        backbone.predict(
            token_inputs(segment_ids=np.full((1, LENGTH), 5)), verbose=0
        )
    outputs = backbone.predict(token_inputs(), verbose=0)
    assert np.all(np.isfinite(outputs["sequence_output"]))


def test_task_specific_inputs_and_labels_are_checked():
    masked_lm = keras_bigs.BiGSMaskedLM(tiny_backbone(LENGTH))
    with pytest.raises(
        ValueError,
        match=r"`mask_positions` holds 16 at index \(0, 1\), outside "
        r"\[0, 16\) \(positions in a row\)",
    ):
        masked_lm.predict(
            token_inputs(mask_positions=np.array([[1, 16]])), verbose=0
        )
    choices = keras_bigs.BiGSMultipleChoice(tiny_backbone(LENGTH))
    choices.compile(optimizer="adam")
    two_choices = {
        name: np.stack([value, value], axis=1)
        for name, value in token_inputs().items()
    }
    with pytest.raises(ValueError, match=r"`y` holds 2 .*outside \[0, 2\)"):
        choices.fit(two_choices, np.array([2]), verbose=0)
    choices.fit(two_choices, np.array([1]), verbose=0)


def test_fit_on_raw_text_reshuffles_each_epoch_with_a_seed(monkeypatch):
    import keras
    import keras_hub

    seen = []
    monkeypatch.setattr(
        keras_hub.models.Task,
        "fit",
        lambda self, x, y, batch_size, **kwargs: seen.append((x, kwargs)),
    )
    classifier = keras_bigs.BiGSClassifier(
        tiny_backbone(LENGTH),
        num_classes=3,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=LENGTH
        ),
    )
    texts = [f"sentence number {i}" for i in range(40)]
    labels = np.arange(40) % 3

    def epochs(dataset, count):
        return [
            [
                (text.decode(), int(label))
                for texts, labels in dataset
                for text, label in zip(texts.numpy(), labels.numpy())
            ]
            for _ in range(count)
        ]

    for _ in range(2):
        keras.utils.set_random_seed(7)
        classifier.fit(texts, labels, batch_size=8, epochs=2)
    (first, kwargs), (again, _) = seen
    assert kwargs["shuffle"] is False
    one, two = epochs(first, 2)
    assert sorted(one) == sorted(two) == sorted(zip(texts, labels.tolist()))
    assert one != two  # a new order each epoch
    assert epochs(again, 1)[0] == one  # the same seed, the same order
