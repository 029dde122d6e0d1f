"""The paper's Table 1 (top), as printed, for tables beside this project's
own ablation study (`keras_bigs.training.ablation_study`)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class PaperTable1Row:
    """One row of the paper's Table 1 (top).

    Args:
        training: the pretraining budget, as the table names it.
        model: `"BERT"`, `"BiGS"`, or `""` where the table names none.
        architecture: block type / routing, as `ARCHITECTURES` labels them
            (`"GATED/SSM"`, `"STACK/ATT"`, ...).
        scores: GLUE dev scores in `PAPER_TABLE_1_COLUMNS` order.
    """

    training: str
    model: str
    architecture: str
    scores: tuple


PAPER_TABLE_1_COLUMNS = (
    "MNLI",
    "QNLI",
    "QQP",
    "RTE",
    "SST-2",
    "MRPC",
    "CoLA",
    "STS-B",
    "AVG",
)

# Table 1 (top) of Wang, Yan, Gu & Rush, "Pretraining Without Attention"
# (arXiv:2212.10544; Findings of EMNLP 2023): GLUE dev scores of the four
# architectures at BERT-large size and three pretraining budgets, averages
# of six fine-tuning runs, as printed (accuracy for MNLI, QNLI, RTE, SST-2;
# F1 for QQP and MRPC; Matthews correlation for CoLA; Spearman for STS-B;
# RTE, MRPC and STS-B fine-tuned from an MNLI checkpoint). Kept here so
# that the ablation study prints them without the `shared/` data folder.
PAPER_TABLE_1_SCORES = {
    "short, ~11B tokens": {
        "STACK/ATT": (82.7, 90.1, 87.7, 76.8, 91.5, 90.8, 58.6, 88.6, 83.3),
        "STACK/SSM": (78.4, 83.5, 85.6, 60.5, 91.6, 83.9, 53.1, 81.3, 77.2),
        "GATED/ATT": (82.2, 88.3, 87.4, 71.7, 91.3, 88.5, 58.8, 86.5, 81.8),
        "GATED/SSM": (82.6, 89.2, 87.6, 73.8, 92.8, 88.9, 63.2, 88.4, 83.3),
    },
    "medium, ~29B tokens": {
        "STACK/ATT": (85.0, 90.9, 87.9, 80.5, 93.0, 90.9, 60.8, 89.2, 84.8),
        "STACK/SSM": (80.1, 86.5, 87.2, 65.6, 92.3, 86.5, 56.5, 83.4, 79.8),
        "GATED/ATT": (83.5, 90.2, 87.6, 72.0, 91.7, 88.7, 61.6, 87.5, 82.9),
        "GATED/SSM": (84.5, 90.2, 88.3, 78.6, 94.4, 89.6, 63.9, 89.3, 84.8),
    },
    "full, ~97B tokens": {
        "GATED/SSM": (86.2, 90.9, 88.3, 79.4, 94.6, 89.5, 67.3, 90.1, 85.8),
    },
}
# The models the table names: BERT is STACK/ATT, BiGS is GATED/SSM.
PAPER_TABLE_1_MODELS = {"STACK/ATT": "BERT", "GATED/SSM": "BiGS"}
PAPER_TABLE_1 = tuple(
    PaperTable1Row(
        training,
        PAPER_TABLE_1_MODELS.get(architecture, ""),
        architecture,
        scores,
    )
    for training, rows in PAPER_TABLE_1_SCORES.items()
    for architecture, scores in rows.items()
)

PAPER_TABLE_1_TITLE = (
    "Paper, Table 1 (top): GLUE dev at BERT-large size (Wang et al., "
    '"Pretraining Without Attention", arXiv:2212.10544); the paper\'s '
    "numbers, not a result of this project"
)


def paper_table1_markdown():
    """The paper's Table 1 (top) as a Markdown table under a title that
    attributes it to the paper.

    Example:
    ```python
    from keras_bigs.training.paper_table1 import paper_table1_markdown

    print(paper_table1_markdown())
    ```
    """
    header = ["training", "model", "arch / route", *PAPER_TABLE_1_COLUMNS]
    lines = [
        PAPER_TABLE_1_TITLE,
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in PAPER_TABLE_1:
        cells = [row.training, row.model or "-", row.architecture]
        cells += [f"{score:.1f}" for score in row.scores]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
