import pytest

from keras_bigs.training.entity_metrics import entities
from keras_bigs.training.entity_metrics import entity_scores


def test_entities_in_bio_and_iob1():
    # BIO (IOB2): every entity starts with B-.
    assert entities(["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"]) == [
        ("PER", 0, 1),
        ("LOC", 3, 3),
        ("LOC", 4, 5),
    ]
    # IOB1: entities start with I-; B- only splits two of one type.
    assert entities(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]) == [
        ("PER", 0, 1),
        ("LOC", 3, 3),
        ("LOC", 4, 4),
        ("ORG", 5, 5),
    ]


def test_scores_count_exact_spans_and_types():
    truth = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "B-MISC"]]
    scores = entity_scores(truth, predicted)
    # Correct: LOC and ORG; PER's span is cut short; MISC is spurious.
    assert scores["correct_entities"] == 2
    assert scores["true_entities"] == 3
    assert scores["predicted_entities"] == 4
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    perfect = entity_scores(truth, truth, scheme="IOB1")
    assert perfect["f1"] == 1.0


def test_truncated_predictions_and_bad_input():
    scores = entity_scores([["B-PER", "O", "B-LOC"]], [["B-PER"]])
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5
    with pytest.raises(ValueError, match="tag 'PER' is neither"):
        entity_scores([["PER"]], [["O"]])
    with pytest.raises(ValueError, match="scheme='IOBES'"):
        entity_scores([["O"]], [["O"]], scheme="IOBES")
    with pytest.raises(ValueError, match="2 true sentences but 1"):
        entity_scores([["O"], ["O"]], [["O"]])
    assert entity_scores([["O"]], [["O"]])["f1"] == 0.0
