import pytest

from keras_bigs.training.ablation_study import ARCHITECTURES
from keras_bigs.training.ablation_study import SCRATCH
from keras_bigs.training.ablation_study import AblationStudy
from keras_bigs.training.ablation_study import glue_score
from keras_bigs.training.ablation_study import matched_architectures
from keras_bigs.training.ablation_study import ordering_verdict
from keras_bigs.training.ablation_study import results_table
from keras_bigs.training.paper_table1 import paper_table1_markdown


def test_architectures_are_matched_to_bigs_in_encoder_parameters():
    study = AblationStudy(
        output_dir="unused",
        num_layers=2,
        hidden_dim=64,
        intermediate_dim=128,
        state_dim=8,
        sequence_length=32,
    )
    matched = matched_architectures(study)
    assert list(matched) == list(ARCHITECTURES)
    target = matched["gated_ssm"]["encoder_parameters"]
    assert matched["gated_ssm"]["arguments"]["intermediate_dim"] == 128
    for name, model in matched.items():
        arguments = model["arguments"]
        assert arguments["block_type"] == ARCHITECTURES[name].block_type
        assert arguments["routing"] == ARCHITECTURES[name].routing
        assert arguments["intermediate_dim"] % 8 == 0
        # Within one step of 8 intermediate units of the target.
        assert abs(model["encoder_parameters"] - target) / target < 0.03
    # The widths differ: the blocks spend parameters differently.
    widths = {m["arguments"]["intermediate_dim"] for m in matched.values()}
    assert len(widths) > 1


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"architectures": ("gated_ssm", "lstm")}, "Unknown architecture"),
        ({"architectures": ("stack_attention",)}, "needs 'gated_ssm'"),
        ({"heldout_every": 0}, "heldout_every must be at least 2"),
        ({"glue_tasks": ("sst2", "squad")}, "squad"),
    ],
)
def test_study_refuses_what_it_cannot_run(arguments, message):
    with pytest.raises(ValueError, match=message):
        AblationStudy(output_dir="unused", **arguments)


def test_ordering_verdict_compares_the_glue_averages():
    verdict = ordering_verdict(
        {"gated_ssm": 80.0, "stack_attention": 81.0, "stack_ssm": 75.0}
    )
    assert verdict == {
        "gated_ssm_minus_stack_attention": -1.0,
        "gated_ssm_minus_stack_ssm": 5.0,
        "stack_attention_minus_stack_ssm": 6.0,
        "both_above_stack_ssm": True,
    }
    assert not ordering_verdict(
        {"gated_ssm": 70.0, "stack_attention": 81.0, "stack_ssm": 75.0}
    )["both_above_stack_ssm"]
    assert ordering_verdict({"gated_ssm": 70.0}) is None


def test_results_table_has_a_row_per_model_and_the_baseline():
    heldout = {"loss": 5.4321, "accuracy": 0.2345}
    results = {
        "glue_tasks": ["sst2", "mrpc"],
        "models": {
            "gated_ssm": {
                "encoder_parameters": 1234567,
                "heldout": heldout,
                "glue": {"sst2": 80.04, "mrpc": 75.0},
                "glue_average": 77.52,
            },
            SCRATCH: {
                "encoder_parameters": 1234567,
                "heldout": None,
                "glue": {"sst2": 70.0, "mrpc": 68.0},
                "glue_average": 69.0,
            },
        },
        "unigram_baseline": {
            "loss": 7.25,
            "accuracy": 0.061,
            "token_text": "the",
        },
    }
    lines = results_table(results).splitlines()
    assert lines[0] == (
        "| model | encoder params | MLM loss | MLM acc | sst2 (accuracy) | "
        "mrpc (f1) | GLUE avg |"
    )
    assert lines[2] == (
        "| GATED/SSM | 1,234,567 | 5.432 | 23.4 | 80.0 | 75.0 | 77.5 |"
    )
    assert lines[3] == (
        "| GATED/SSM (no pretraining) | 1,234,567 | - | - | 70.0 | 68.0 | "
        "69.0 |"
    )
    assert lines[4] == (
        "| unigram baseline (always 'the') | - | 7.250 | 6.1 | - | - | - |"
    )
    # The paper's Table 1 (top) follows, attributed to the paper.
    assert lines[5] == ""
    assert "\n".join(lines[6:]) == paper_table1_markdown()
    assert lines[6].startswith("Paper, Table 1 (top)")
    assert "not a result of this project" in lines[6]


def test_glue_score_is_the_main_metric_and_zero_for_a_constant_model():
    assert glue_score("mrpc", {"f1": 0.8125, "accuracy": 0.7}) == 81.25
    assert glue_score("cola", {"matthews_corrcoef": 0.25}) == 25.0
    # Constant predictions: Pearson is undefined.
    nan = float("nan")
    assert glue_score("stsb", {"pearson": nan, "spearman": nan}) == 0.0
