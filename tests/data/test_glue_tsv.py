"""Reading the official GLUE TSV files (`keras_bigs.data.glue_tsv`): the
shared files in full, the other tasks' layouts, malformed files."""

import numpy as np
import pytest

from keras_bigs.data import GLUE_TASKS
from keras_bigs.data import evaluation_split
from keras_bigs.data import read_glue_tsv
from tests.data.conftest import MNLI_COLUMNS
from tests.data.conftest import glue_dir
from tests.data.conftest import mnli_row
from tests.data.conftest import write_tsv

# === The shared GLUE files ===

# (task, split, rows, label counts by class id or None, first example).
SHARED = [
    ("sst2", "train", 67349, None, (("when are bears bears and ",), 1)),
    (
        "cola",
        "train",
        8551,
        [2528, 6023],
        (
            (
                "Our friends won't buy this analysis, let alone the next one "
                "we propose.",
            ),
            1,
        ),
    ),
    (
        "cola",
        "dev",
        1043,
        None,
        (("The sailors rode the breeze clear of the rocks.",), 1),
    ),
    (
        "rte",
        "train",
        2490,
        [1249, 1241],
        (
            (
                "No Weapons of Mass Destruction Found in Iraq Yet.",
                "Weapons of Mass Destruction Found in Iraq.",
            ),
            1,
        ),
    ),
    (
        "rte",
        "dev",
        277,
        None,
        ((None, "Christopher Reeve had an accident."), 1),
    ),
    (
        "mrpc",
        "train",
        3668,
        None,
        (
            (
                'Amrozi accused his brother, whom he called "the witness", of '
                "deliberately distorting his evidence.",
                'Referring to him as only "the witness", Amrozi accused his '
                "brother of deliberately distorting his evidence.",
            ),
            1,
        ),
    ),
    # A stray opening quote: a quoting CSV reader would swallow lines.
    (
        "mrpc",
        "dev",
        408,
        None,
        (
            (
                None,
                '"The foodservice pie business does not fit our long-term '
                "growth strategy.",
            ),
            1,
        ),
    ),
    (
        "stsb",
        "train",
        5749,
        None,
        (("A plane is taking off.", "An air plane is taking off."), 5.0),
    ),
    (
        "stsb",
        "dev",
        1500,
        None,
        (
            (
                "A man with a hard hat is dancing.",
                "A man wearing a hard hat is dancing.",
            ),
            5.0,
        ),
    ),
    (
        "wnli",
        "train",
        635,
        None,
        (
            (
                "John couldn't see the stage with Billy in front of him "
                "because he is so short.",
                "John is so short.",
            ),
            1,
        ),
    ),
    (
        "wnli",
        "dev",
        71,
        None,
        (
            (
                "The drain is clogged with hair. It has to be cleaned.",
                "The hair has to be cleaned.",
            ),
            0,
        ),
    ),
]


@pytest.mark.parametrize(
    "task,split,rows,label_counts,first",
    SHARED,
    ids=[f"{s[0]}-{s[1]}" for s in SHARED],
)
def test_shared_glue_files_read_completely(
    task, split, rows, label_counts, first
):
    examples = read_glue_tsv(task, glue_dir(), split)
    assert len(examples) == rows and examples.skipped == 0
    assert len(examples.texts) == (2 if GLUE_TASKS[task].is_pair else 1)
    assert all(len(column) == rows for column in examples.texts)
    # Each example is one line, after the header if there is one.
    header = 1 if GLUE_TASKS[task].has_header else 0
    np.testing.assert_array_equal(
        examples.line_numbers, np.arange(1, rows + 1) + header
    )
    if task == "stsb":
        assert examples.labels.dtype == np.float32
        assert examples.labels.min() == 0.0 and examples.labels.max() == 5.0
    else:
        assert examples.labels.dtype == np.int32
        assert set(examples.labels.tolist()) == {0, 1}
    if label_counts is not None:
        assert np.bincount(examples.labels).tolist() == label_counts
    texts, label = first  # `None`: that column is not checked.
    for column, expected in zip(examples.texts, texts):
        if expected is not None:
            assert column[0] == expected
    assert examples.labels[0] == label


def test_read_accepts_the_file_or_the_task_folder():
    by_file = read_glue_tsv("rte", glue_dir() / "RTE" / "dev.tsv", "dev")
    by_folder = read_glue_tsv("rte", glue_dir() / "RTE", "dev")
    assert by_file.texts == by_folder.texts
    assert by_file.path.endswith("dev.tsv")


# === Tasks not in shared/: small files in the official layouts ===


@pytest.fixture
def mnli_dir(tmp_path):
    folder = tmp_path / "glue" / "MNLI"
    write_tsv(
        folder / "train.tsv",
        [
            MNLI_COLUMNS + ["label1", "gold_label"],
            mnli_row(
                0,
                "Conceptually cream skimming has two basic dimensions "
                "- product and geography.",
                "Product and geography are what make cream skimming work. ",
                ["neutral", "neutral"],
            ),
            mnli_row(
                1,
                "you know during the season",
                "You lose the things.",
                ["entailment", "entailment"],
            ),
            mnli_row(
                2,
                "One of our number will carry out your instructions.",
                "A member of my team will execute your orders.",
                ["contradiction", "contradiction"],
            ),
        ],
    )
    write_tsv(
        folder / "dev_matched.tsv",
        [
            MNLI_COLUMNS
            + ["label1", "label2", "label3", "label4", "label5", "gold_label"],
            mnli_row(
                0,
                "The new rights are nice enough",
                "Everyone really likes the newest benefits ",
                [
                    "neutral",
                    "entailment",
                    "neutral",
                    "neutral",
                    "neutral",
                    "neutral",
                ],
            ),
            mnli_row(
                1,
                "This site includes a list of all award winners.",
                "The Government Executive articles housed on the website "
                "are not able to be searched.",
                ["contradiction"] * 6,
            ),
        ],
    )
    write_tsv(
        folder / "test_matched.tsv",
        [
            MNLI_COLUMNS,
            mnli_row(
                0,
                "Hierbas, ans seco, ans dulce, and frigola are just a "
                "few names worth keeping a look-out for.",
                "Hierbas is a name worth looking out for.",
                [],
            ),
        ],
    )
    return tmp_path / "glue"


def test_mnli_columns_by_header_and_label_order(mnli_dir):
    train = read_glue_tsv("mnli", mnli_dir, "train")
    assert train.texts[0][1] == "you know during the season"
    assert train.texts[1][0] == (
        "Product and geography are what make cream skimming work. "
    )
    # entailment, neutral, contradiction -> 0, 1, 2.
    assert train.labels.tolist() == [1, 0, 2]
    dev = read_glue_tsv("mnli", mnli_dir, "dev_matched")
    assert dev.labels.tolist() == [1, 2]  # gold_label, not label1
    test = read_glue_tsv("mnli", mnli_dir, "test_matched")
    assert test.texts[1] == ["Hierbas is a name worth looking out for."]
    assert test.labels.tolist() == [-1]
    assert evaluation_split("mnli", mnli_dir) == "dev_matched"
    with pytest.raises(
        FileNotFoundError,
        match=r"mnli dev_mismatched file not found: .*MNLI/dev_mismatched\.tsv",
    ):
        read_glue_tsv("mnli", mnli_dir, "dev_mismatched")


def test_qqp_and_qnli_official_layouts(tmp_path):
    write_tsv(
        tmp_path / "QQP" / "train.tsv",
        [
            ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
            [
                "133273",
                "213221",
                "213222",
                "How is the life of a math student? "
                "Could you describe your own experiences?",
                "Which level of prepration is enough for the exam jlpt5?",
                "0",
            ],
            [
                "402555",
                "536040",
                "536041",
                "How do I control my horny emotions?",
                "How do you control your horniness?",
                "1",
            ],
        ],
    )
    write_tsv(
        tmp_path / "QQP" / "test.tsv",
        [
            ["id", "question1", "question2"],
            ["0", "Why am I mentally very lonely?", "Find the remainder?"],
        ],
    )
    write_tsv(
        tmp_path / "QNLI" / "dev.tsv",
        [
            ["index", "question", "sentence", "label"],
            [
                "0",
                "What came into force after the new constitution was herald?",
                "As of that day, the new constitution heralding the Second "
                "Republic came into force.",
                "entailment",
            ],
            [
                "1",
                "What is the first major city in the stream of the Rhine?",
                "The most important tributaries in this area are the Ill below "
                "of Strasbourg.",
                "not_entailment",
            ],
        ],
    )
    qqp = read_glue_tsv("qqp", tmp_path, "train")
    assert qqp.texts[1][1] == "How do you control your horniness?"
    assert qqp.texts[0][0].startswith("How is the life of a math student?")
    assert qqp.labels.tolist() == [0, 1]
    qqp_test = read_glue_tsv("qqp", tmp_path, "test")
    assert qqp_test.texts == (
        ["Why am I mentally very lonely?"],
        ["Find the remainder?"],
    )
    qnli = read_glue_tsv("qnli", tmp_path, "dev")
    assert qnli.texts[0][1].startswith("What is the first major city")
    assert qnli.texts[1][0].startswith("As of that day")
    assert qnli.labels.tolist() == [0, 1]


# === Malformed files ===


RTE_HEADER = ["index", "sentence1", "sentence2", "label"]


def test_wrong_column_count_names_file_and_line(tmp_path):
    path = write_tsv(
        tmp_path / "bad.tsv",
        [
            RTE_HEADER,
            ["0", "A premise.", "A hypothesis.", "entailment"],
            ["1", "A premise without its hypothesis.", "not_entailment"],
            ["2", "Another premise.", "Another hypothesis.", "entailment"],
        ],
    )
    with pytest.raises(
        ValueError,
        match=r"bad\.tsv, line 3: expected 4 tab-separated columns, found 3",
    ):
        read_glue_tsv("rte", path, "train")
    with pytest.warns(
        UserWarning,
        match=r"Skipped 1 malformed rows of .*bad\.tsv; the first: .*line 3",
    ):
        examples = read_glue_tsv("rte", path, "train", skip_malformed=True)
    assert examples.skipped == 1
    assert examples.texts[0] == ["A premise.", "Another premise."]
    assert examples.line_numbers.tolist() == [2, 4]


def test_unknown_label_and_bad_score(tmp_path):
    path = write_tsv(
        tmp_path / "labels.tsv",
        [
            RTE_HEADER,
            ["0", "A premise.", "A hypothesis.", "entailment"],
            ["1", "A premise.", "A hypothesis.", "neutral"],
        ],
    )
    with pytest.raises(
        ValueError,
        match=r"labels\.tsv, line 3: unknown label 'neutral' "
        r"\(the rte labels are \['entailment', 'not_entailment'\]\)",
    ):
        read_glue_tsv("rte", path, "dev")
    cola = write_tsv(
        tmp_path / "cola.tsv",
        [
            ["gj04", "1", "", "Good sentence."],
            ["gj04", "yes", "", "Bad label."],
        ],
    )
    with pytest.raises(
        ValueError,
        match=r"cola\.tsv, line 2: unknown label 'yes'",
    ):
        read_glue_tsv("cola", cola, "train")
    stsb = write_tsv(
        tmp_path / "stsb.tsv",
        [
            [
                "index",
                "genre",
                "filename",
                "year",
                "old_index",
                "source1",
                "source2",
                "sentence1",
                "sentence2",
                "score",
            ],
            [
                "0",
                "main-captions",
                "MSRvid",
                "2012test",
                "0001",
                "none",
                "none",
                "A plane is taking off.",
                "An air plane is taking off.",
                "n/a",
            ],
        ],
    )
    with pytest.raises(
        ValueError,
        match=r"stsb\.tsv, line 2: the score 'n/a' is not a number",
    ):
        read_glue_tsv("stsb", stsb, "train")


def test_empty_header_only_missing_and_bad_header(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    for skip in (False, True):
        with pytest.raises(ValueError, match=r"empty\.tsv is empty"):
            read_glue_tsv("rte", empty, "train", skip_malformed=skip)
    header_only = write_tsv(tmp_path / "header.tsv", [RTE_HEADER])
    with pytest.raises(
        ValueError, match=r"header\.tsv has a header but no rows"
    ):
        read_glue_tsv("rte", header_only, "train")
    all_bad = write_tsv(tmp_path / "all_bad.tsv", [RTE_HEADER, ["0", "x"]])
    with pytest.raises(
        ValueError,
        match=r"all_bad\.tsv has no well-formed rows \(1 malformed skipped\)",
    ):
        read_glue_tsv("rte", all_bad, "train", skip_malformed=True)
    with pytest.raises(
        FileNotFoundError, match=r"rte train file not found: .*missing\.tsv"
    ):
        read_glue_tsv("rte", tmp_path / "missing.tsv", "train")
    bad_header = write_tsv(
        tmp_path / "QNLI" / "train.tsv",
        [
            ["index", "query", "sentence", "label"],
            ["0", "A question?", "A sentence.", "entailment"],
        ],
    )
    with pytest.raises(
        ValueError,
        match=r"train\.tsv, line 1: the header has no column 'question'",
    ):
        read_glue_tsv("qnli", bad_header, "train", skip_malformed=True)
    invalid = tmp_path / "latin1.tsv"
    invalid.write_bytes(b"sentence\tlabel\ngood\t1\ncaf\xe9\t0\n")
    with pytest.raises(
        ValueError,
        match=r"latin1\.tsv, line 3: not valid UTF-8",
    ):
        read_glue_tsv("sst2", invalid, "train")
