import numpy as np
import pytest

import keras
import keras_bigs
from keras_bigs.models.bigs_question_answerer import best_spans
from tests.conftest import fixture_dir
from tests.conftest import reference_batches

QUESTIONS = ["Who wrote it?", "When was it written?"]
CONTEXTS = ["It was written by Ada Lovelace in 1843.",
            "It was written by Ada Lovelace in 1843."]
ANSWERS = ([18, 34], ["Ada Lovelace", "1843"])


def relative_error(got, expected):
    return np.abs(got - expected).max() / np.abs(expected).max()


def test_question_answering_parity_with_the_original():
    folder = fixture_dir("torch_question_answering")
    reference = np.load(folder / "reference_outputs.npz")
    qa = keras_bigs.BiGSQuestionAnswerer.from_preset(str(folder),
                                                     preprocessor=None)
    for prefix, inputs in reference_batches(reference):
        outputs = qa.predict(inputs, verbose=0)
        for name in ("start_logits", "end_logits"):
            key = name if prefix == "x" else f"{prefix}_{name}"
            assert outputs[name].shape == reference[key].shape
            assert relative_error(outputs[name], reference[key]) < 1e-5


def preprocessor(sequence_length=32):
    return keras_bigs.BiGSQuestionAnswererPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=sequence_length)


def test_preprocessor_labels_the_answer_tokens():
    qa_preprocessor = preprocessor()
    x, y = qa_preprocessor(x=(QUESTIONS, CONTEXTS), y=ANSWERS)
    token_ids = np.asarray(x["token_ids"])
    segment_ids = np.asarray(x["segment_ids"])
    starts, ends = np.asarray(y["start_logits"]), np.asarray(y["end_logits"])
    assert token_ids.shape == (2, 32)
    # [CLS] who wrote it ? [SEP] it was written by ada love ##lace ...
    assert (starts[0], ends[0]) == (10, 12)
    tokenizer = qa_preprocessor.tokenizer
    for row, answer in enumerate(ANSWERS[1]):
        span = token_ids[row, starts[row]:ends[row] + 1]
        assert tokenizer.detokenize(span) == answer.lower()
        assert (segment_ids[row, starts[row]:ends[row] + 1] == 1).all()


def test_answer_cut_off_by_truncation_points_at_cls():
    x, y = preprocessor(sequence_length=12)(
        x=(QUESTIONS, CONTEXTS), y=ANSWERS)
    # 12 tokens keep "it was written by ada" of the context only.
    assert np.asarray(y["start_logits"]).tolist() == [0, 0]
    assert np.asarray(y["end_logits"]).tolist() == [0, 0]


def test_answer_start_that_does_not_match_the_text_is_an_error():
    with pytest.raises(Exception, match="not at its answer_start"):
        preprocessor()(x=(QUESTIONS[:1], CONTEXTS[:1]),
                       y=([3], ["Ada Lovelace"]))


def test_best_spans_matches_brute_force():
    rng = np.random.default_rng(0)
    start, end = rng.normal(size=(4, 20)), rng.normal(size=(4, 20))
    candidates = np.zeros((4, 20), bool)
    candidates[:, 6:19] = True
    for row, (s, e, score) in enumerate(best_spans(start, end, candidates,
                                                   max_answer_length=5)):
        best = max((start[row, i] + end[row, j], i, j)
                   for i in range(6, 19) for j in range(i, min(i + 5, 19)))
        assert (s, e) == best[1:] and score == pytest.approx(best[0])


def small_question_answerer():
    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=32,
        intermediate_dim=64, state_dim=4, max_sequence_length=32)
    return keras_bigs.BiGSQuestionAnswerer(backbone,
                                           preprocessor=preprocessor())


def test_fit_on_raw_strings_lowers_the_loss_and_answers():
    keras.utils.set_random_seed(0)
    qa = small_question_answerer()
    qa.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = qa.fit(x=(QUESTIONS * 8, CONTEXTS * 8),
                     y=(ANSWERS[0] * 8, ANSWERS[1] * 8), batch_size=2,
                     epochs=4, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    # Answers are words of the context, punctuation split off.
    assert qa.answer(QUESTIONS, CONTEXTS) == ["Ada Lovelace", "1843"]


def test_answer_needs_a_preprocessor():
    qa = small_question_answerer()
    qa.preprocessor = None
    with pytest.raises(ValueError, match="needs a preprocessor"):
        qa.answer(QUESTIONS, CONTEXTS)
