from keras_bigs.training.paper_table1 import PAPER_TABLE_1
from keras_bigs.training.paper_table1 import PAPER_TABLE_1_COLUMNS
from keras_bigs.training.paper_table1 import paper_table1_markdown
from tests.conftest import shared_dir


def cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_constant_is_table_1_top_of_the_shared_transcription():
    text = (shared_dir() / "paper" / "tables.md").read_text()
    section = text.split("## Table 1 (top)", 1)[1].split("\n## ", 1)[0]
    header, _, *rows = [
        cells(line) for line in section.splitlines() if line.startswith("|")
    ]
    assert header[:3] == ["training", "model", "arch / route"]
    assert tuple(header[3:]) == PAPER_TABLE_1_COLUMNS
    assert len(rows) == len(PAPER_TABLE_1) == 9
    for cited, row in zip(PAPER_TABLE_1, rows):
        training, model, architecture, *scores = row
        assert (cited.training, cited.model) == (training, model)
        assert cited.architecture == architecture.replace(" ", "")
        assert cited.scores == tuple(float(score) for score in scores)


def test_markdown_is_labelled_as_the_papers_and_has_every_row():
    lines = paper_table1_markdown().splitlines()
    assert lines[0].startswith("Paper, Table 1 (top)")
    assert "Pretraining Without Attention" in lines[0]
    assert "not a result of this project" in lines[0]
    assert lines[2] == (
        "| training | model | arch / route | MNLI | QNLI | QQP | RTE | "
        "SST-2 | MRPC | CoLA | STS-B | AVG |"
    )
    assert lines[4] == (
        "| short, ~11B tokens | BERT | STACK/ATT | 82.7 | 90.1 | 87.7 | "
        "76.8 | 91.5 | 90.8 | 58.6 | 88.6 | 83.3 |"
    )
    assert lines[5].startswith("| short, ~11B tokens | - | STACK/SSM | 78.4")
    assert lines[-1] == (
        "| full, ~97B tokens | BiGS | GATED/SSM | 86.2 | 90.9 | 88.3 | "
        "79.4 | 94.6 | 89.5 | 67.3 | 90.1 | 85.8 |"
    )
    assert len(lines) == 4 + len(PAPER_TABLE_1)
