import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from keras_bigs.models.bigs_question_answerer import best_spans
from tests.conftest import PARITY_TOLERANCE
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone
from tests.keras_hub_test_case import TestCase

QUESTIONS = ["Who wrote it?", "When was it written?"]
CONTEXTS = [
    "It was written by Ada Lovelace in 1843.",
    "It was written by Ada Lovelace in 1843.",
]
ANSWERS = ([18, 34], ["Ada Lovelace", "1843"])


@pytest.mark.parametrize("fixtures", PARITY_TOLERANCE)
def test_question_answering_parity_with_the_original(fixtures):
    folder = fixture_dir("torch_question_answering", fixtures)
    reference = np.load(folder / "reference_outputs.npz")
    qa = keras_bigs.BiGSQuestionAnswerer.from_preset(
        str(folder), preprocessor=None
    )
    for prefix, inputs in reference_batches(reference):
        outputs = qa.predict(inputs, verbose=0)
        for name in ("start_logits", "end_logits"):
            key = name if prefix == "x" else f"{prefix}_{name}"
            assert outputs[name].shape == reference[key].shape
            assert (
                relative_error(outputs[name], reference[key])
                < PARITY_TOLERANCE[fixtures]
            )


def preprocessor(sequence_length=32):
    return keras_bigs.BiGSQuestionAnswererPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=sequence_length
    )


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
        span = token_ids[row, starts[row] : ends[row] + 1]
        assert tokenizer.detokenize(span) == answer.lower()
        assert (segment_ids[row, starts[row] : ends[row] + 1] == 1).all()


def test_answer_cut_off_by_truncation_points_at_cls():
    x, y = preprocessor(sequence_length=12)(x=(QUESTIONS, CONTEXTS), y=ANSWERS)
    # 12 tokens keep "it was written by ada" of the context only.
    assert np.asarray(y["start_logits"]).tolist() == [0, 0]
    assert np.asarray(y["end_logits"]).tolist() == [0, 0]


def test_answer_start_that_does_not_match_the_text_is_an_error():
    with pytest.raises(Exception, match="not at its answer_start"):
        preprocessor()(
            x=(QUESTIONS[:1], CONTEXTS[:1]), y=([3], ["Ada Lovelace"])
        )


def test_best_spans_matches_brute_force():
    rng = np.random.default_rng(0)
    start, end = rng.normal(size=(4, 20)), rng.normal(size=(4, 20))
    candidates = np.zeros((4, 20), bool)
    candidates[:, 6:19] = True
    for row, (s, e, score) in enumerate(
        best_spans(start, end, candidates, max_answer_length=5)
    ):
        best = max(
            (start[row, i] + end[row, j], i, j)
            for i in range(6, 19)
            for j in range(i, min(i + 5, 19))
        )
        assert (s, e) == best[1:] and score == pytest.approx(best[0])


def small_question_answerer():
    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522,
        num_layers=1,
        hidden_dim=32,
        intermediate_dim=64,
        state_dim=4,
        max_sequence_length=32,
    )
    return keras_bigs.BiGSQuestionAnswerer(
        backbone, preprocessor=preprocessor()
    )


def test_fit_on_raw_strings_lowers_the_loss_and_answers():
    keras.utils.set_random_seed(0)
    qa = small_question_answerer()
    qa.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = qa.fit(
        x=(QUESTIONS * 8, CONTEXTS * 8),
        y=(ANSWERS[0] * 8, ANSWERS[1] * 8),
        batch_size=2,
        epochs=4,
        verbose=0,
    )
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    # Answers are words of the context, punctuation split off.
    assert qa.answer(QUESTIONS, CONTEXTS) == ["Ada Lovelace", "1843"]


def test_answer_needs_a_preprocessor():
    qa = small_question_answerer()
    qa.preprocessor = None
    with pytest.raises(ValueError, match="needs a preprocessor"):
        qa.answer(QUESTIONS, CONTEXTS)


class BiGSQuestionAnswererKerasHubTest(TestCase):
    """keras-hub's task checks, a `.keras` round trip, and the original
    checkpoints as presets."""

    def setUp(self):
        self.preprocessor = preprocessor(sequence_length=16)
        self.backbone = tiny_backbone(16)
        self.init_kwargs = {
            "backbone": self.backbone,
            "preprocessor": self.preprocessor,
        }
        self.train_data = ((QUESTIONS, CONTEXTS), ANSWERS)

    def test_question_answerer_basics(self):
        self.run_task_test(
            cls=keras_bigs.BiGSQuestionAnswerer,
            init_kwargs=self.init_kwargs,
            train_data=self.train_data,
            expected_output_shape={
                "start_logits": (2, 16),
                "end_logits": (2, 16),
            },
        )

    def test_saved_model(self):
        self.run_model_saving_test(
            cls=keras_bigs.BiGSQuestionAnswerer,
            init_kwargs=self.init_kwargs,
            input_data=self.preprocessor(*self.train_data)[0],
        )

    def test_original_checkpoints_as_presets(self):
        for fixtures in PARITY_TOLERANCE:
            folder = fixture_dir("torch_question_answering", fixtures)
            reference = np.load(folder / "reference_outputs.npz")
            self.run_preset_test(
                cls=keras_bigs.BiGSQuestionAnswerer,
                preset=str(folder),
                init_kwargs={"preprocessor": None},
                input_data=next(reference_batches(reference))[1],
                expected_output_shape={
                    "start_logits": (3, 64),
                    "end_logits": (3, 64),
                },
                expected_partial_output={
                    name: reference[name][0]
                    for name in ("start_logits", "end_logits")
                },
            )
