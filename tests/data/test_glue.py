import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import CARVED_FROM_TRAIN
from keras_bigs.data import GLUE_TASKS
from keras_bigs.data import evaluation_split
from keras_bigs.data import get_glue_task
from keras_bigs.data import glue_dataset
from keras_bigs.data import read_glue_tsv
from keras_bigs.data import train_validation_split
from tests.conftest import shared_dir
from tests.conftest import tiny_backbone


def glue_dir():
    return shared_dir() / "glue"


def write_tsv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join("\t".join(row) + "\n" for row in rows), encoding="utf-8"
    )
    return path


def examples_of(dataset):
    """Unbatched `(x, label)` Python values of a `glue_dataset`."""
    out = []
    for x, labels in dataset:
        columns = x if isinstance(x, tuple) else (x,)
        columns = [[t.decode() for t in c.numpy()] for c in columns]
        out.extend(zip(*columns, labels.numpy().tolist()))
    return out


# === The task table ===


def test_the_nine_tasks_and_their_labels_and_metrics():
    assert list(GLUE_TASKS) == [
        "cola",
        "sst2",
        "mrpc",
        "stsb",
        "qqp",
        "mnli",
        "qnli",
        "rte",
        "wnli",
        "ax",
    ]
    assert {n: t.folder for n, t in GLUE_TASKS.items()} == {
        "cola": "CoLA",
        "sst2": "SST-2",
        "mrpc": "MRPC",
        "stsb": "STS-B",
        "qqp": "QQP",
        "mnli": "MNLI",
        "qnli": "QNLI",
        "rte": "RTE",
        "wnli": "WNLI",
        "ax": "diagnostic",
    }
    # The order the published MNLI heads were trained with (HF datasets).
    assert GLUE_TASKS["mnli"].label_names == (
        "entailment",
        "neutral",
        "contradiction",
    )
    assert GLUE_TASKS["rte"].label_names == ("entailment", "not_entailment")
    assert GLUE_TASKS["qnli"].label_names == ("entailment", "not_entailment")
    for name in ("cola", "sst2", "mrpc", "qqp", "wnli"):
        assert GLUE_TASKS[name].label_names == ("0", "1")
    stsb = GLUE_TASKS["stsb"]
    assert stsb.is_regression and stsb.num_classes == 1
    assert [t.name for t in GLUE_TASKS.values() if t.is_regression] == ["stsb"]
    assert GLUE_TASKS["mnli"].num_classes == 3
    assert GLUE_TASKS["cola"].metrics == ("matthews_corrcoef",)
    assert GLUE_TASKS["mrpc"].metrics == ("f1", "accuracy")
    assert GLUE_TASKS["qqp"].metrics == ("f1", "accuracy")
    assert stsb.metrics == ("pearson", "spearman")
    for name in ("sst2", "mnli", "qnli", "rte", "wnli"):
        assert GLUE_TASKS[name].metrics == ("accuracy",)
    assert all(t.tfds_name == f"glue/{n}" for n, t in GLUE_TASKS.items())
    assert GLUE_TASKS["mnli"].splits == (
        "train",
        "dev_matched",
        "dev_mismatched",
        "test_matched",
        "test_mismatched",
    )
    assert GLUE_TASKS["mnli"].dev_splits == ("dev_matched", "dev_mismatched")
    assert GLUE_TASKS["rte"].dev_splits == ("dev",)
    assert GLUE_TASKS["mnli"].tfds_split("dev_mismatched") == (
        "validation_mismatched"
    )
    assert not GLUE_TASKS["cola"].has_header
    assert [t.is_pair for t in GLUE_TASKS.values()] == [
        False,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
    ]


def test_tasks_are_frozen_and_looked_up_by_name():
    with pytest.raises(AttributeError):
        GLUE_TASKS["rte"].folder = "other"
    assert get_glue_task("SST-2") is GLUE_TASKS["sst2"]
    assert get_glue_task(GLUE_TASKS["rte"]) is GLUE_TASKS["rte"]
    with pytest.raises(ValueError, match=r"Unknown GLUE task 'squad'.*'rte'"):
        get_glue_task("squad")
    with pytest.raises(ValueError, match=r"no split 'dev'.*dev_matched"):
        GLUE_TASKS["mnli"].file_name("dev")


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

MNLI_COLUMNS = [
    "index",
    "promptID",
    "pairID",
    "genre",
    "sentence1_binary_parse",
    "sentence2_binary_parse",
    "sentence1_parse",
    "sentence2_parse",
    "sentence1",
    "sentence2",
]


def mnli_row(index, premise, hypothesis, labels):
    return [
        str(index),
        "31193",
        "31193n",
        "government",
        "( ( Conceptually ( cream skimming ) ) ...",
        "( Product ...",
        "(ROOT (S ...",
        "(ROOT (S ...",
        premise,
        hypothesis,
        *labels,
    ]


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
        match=r"mnli dev_mismatched file not found: .*"
        r"MNLI/dev_mismatched\.tsv",
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


def test_test_split_yields_texts_only(tmp_path):
    write_tsv(
        tmp_path / "RTE" / "test.tsv",
        [
            ["index", "sentence1", "sentence2"],
            [
                "0",
                "Mangla was summoned after Madhumita's sister Nidhi Shukla.",
                "Shukla is related to Mangla.",
            ],
            [
                "1",
                "Authorities in Brazil say that more than 200 people are "
                "being held hostage.",
                "Authorities in Brazil hold 200 people.",
            ],
        ],
    )
    dataset = glue_dataset("rte", tmp_path, "test", batch_size=2)
    x = next(iter(dataset))
    assert isinstance(x, tuple) and len(x) == 2
    assert x[1].numpy().tolist() == [
        b"Shukla is related to Mangla.",
        b"Authorities in Brazil hold 200 people.",
    ]


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
        match=r"bad\.tsv, line 3: expected 4 tab-separated "
        r"columns, found 3",
    ):
        read_glue_tsv("rte", path, "train")
    with pytest.warns(
        UserWarning,
        match=r"Skipped 1 malformed rows of .*bad\.tsv; the "
        r"first: .*line 3",
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
        r"\(the rte labels are \['entailment', "
        r"'not_entailment'\]\)",
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
        match=r"cola\.tsv, line 2: unknown label "
        r"'yes'",
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
        match=r"stsb\.tsv, line 2: the score "
        r"'n/a' is not a number",
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
        match=r"all_bad\.tsv has no well-formed "
        r"rows \(1 malformed skipped\)",
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
        match=r"train\.tsv, line 1: the header has no column "
        r"'question'",
    ):
        read_glue_tsv("qnli", bad_header, "train", skip_malformed=True)
    invalid = tmp_path / "latin1.tsv"
    invalid.write_bytes(b"sentence\tlabel\ngood\t1\ncaf\xe9\t0\n")
    with pytest.raises(
        ValueError,
        match=r"latin1\.tsv, line 3: not valid "
        r"UTF-8",
    ):
        read_glue_tsv("sst2", invalid, "train")


# === Batches, shuffling, carving ===


def test_batches_have_static_shapes_with_drop_remainder():
    dataset = glue_dataset(
        "rte", glue_dir(), "train", batch_size=32, drop_remainder=True
    )
    (text_a, text_b), labels = dataset.element_spec
    assert text_a.shape == text_b.shape == labels.shape == (32,)
    assert text_a.dtype == tf.string and labels.dtype == tf.int32
    assert int(dataset.cardinality()) == 2490 // 32
    ragged = glue_dataset("rte", glue_dir(), "dev", batch_size=32)
    assert ragged.element_spec[1].shape.as_list() == [None]
    sizes = [int(labels.shape[0]) for _, labels in ragged]
    assert sizes == [32] * 8 + [277 - 256]
    # Single-sentence tasks: `x` is the string tensor itself.
    single = glue_dataset("cola", glue_dir(), "dev", batch_size=8)
    assert isinstance(single.element_spec[0], tf.TensorSpec)
    stsb = glue_dataset("stsb", glue_dir(), "dev", batch_size=8)
    assert stsb.element_spec[1].dtype == tf.float32


def test_seeded_shuffle_is_reproducible_and_reshuffles_each_epoch():
    def order(dataset):
        return [row[0] for row in examples_of(dataset)]

    in_file_order = order(
        glue_dataset("wnli", glue_dir(), "train", shuffle=False)
    )
    assert in_file_order == read_glue_tsv("wnli", glue_dir(), "train").texts[0]
    seeded = glue_dataset("wnli", glue_dir(), "train", seed=7)
    first_epoch, second_epoch = order(seeded), order(seeded)
    assert first_epoch != second_epoch != in_file_order
    assert sorted(first_epoch) == sorted(in_file_order)
    again = glue_dataset("wnli", glue_dir(), "train", seed=7)
    assert order(again) == first_epoch and order(again) == second_epoch
    assert (
        order(glue_dataset("wnli", glue_dir(), "train", seed=8)) != first_epoch
    )
    # Dev data is not shuffled unless asked.
    dev = read_glue_tsv("wnli", glue_dir(), "dev").texts[0]
    assert order(glue_dataset("wnli", glue_dir(), "dev")) == dev


def test_sst2_carved_validation_is_disjoint_complete_and_seeded():
    train, validation = train_validation_split("sst2", glue_dir(), 0.05, seed=0)
    assert (len(train), len(validation)) == (63982, 3367)
    assert validation.split == CARVED_FROM_TRAIN
    lines = np.concatenate([train.line_numbers, validation.line_numbers])
    np.testing.assert_array_equal(np.sort(lines), np.arange(2, 67351))
    assert np.all(np.diff(validation.line_numbers) > 0)  # file order
    again = train_validation_split("sst2", glue_dir(), 0.05, seed=0)[1]
    np.testing.assert_array_equal(again.line_numbers, validation.line_numbers)
    assert again.texts == validation.texts
    other = train_validation_split("sst2", glue_dir(), 0.05, seed=1)[1]
    assert not np.array_equal(other.line_numbers, validation.line_numbers)
    counted = train_validation_split("sst2", glue_dir(), 1000)
    assert (len(counted[0]), len(counted[1])) == (66349, 1000)
    with pytest.raises(ValueError, match=r"Cannot hold out 67349 of 67349"):
        train_validation_split("sst2", glue_dir(), 67349)
    with pytest.raises(
        ValueError,
        match=r"validation_fraction must be in "
        r"\(0, 1\) or a count",
    ):
        train_validation_split("sst2", glue_dir(), 1.5)


def test_evaluation_split_and_carved_datasets():
    assert evaluation_split("sst2", glue_dir()) == CARVED_FROM_TRAIN
    assert evaluation_split("rte", glue_dir()) == "dev"
    with pytest.raises(
        ValueError,
        match=r"'ax' has only the splits "
        r"\['test'\]",
    ):
        evaluation_split("ax", glue_dir())
    train = glue_dataset(
        "sst2", glue_dir(), "train", batch_size=1000, validation_fraction=0.05
    )
    validation = glue_dataset(
        "sst2", glue_dir(), CARVED_FROM_TRAIN, batch_size=1000
    )
    assert int(train.cardinality()) == 64  # ceil(63982 / 1000)
    carved = examples_of(validation)
    expected = train_validation_split("sst2", glue_dir())[1]
    assert [row[0] for row in carved] == expected.texts[0]
    assert [row[1] for row in carved] == expected.labels.tolist()
    with pytest.raises(ValueError, match=r"does not apply to split 'dev'"):
        glue_dataset("rte", glue_dir(), "dev", validation_fraction=0.1)
    with pytest.raises(ValueError, match=r"no split 'validation'"):
        glue_dataset("rte", glue_dir(), "validation")


def test_mnli_evaluation_falls_back_to_carving(tmp_path):
    write_tsv(
        tmp_path / "MNLI" / "train.tsv",
        [
            MNLI_COLUMNS + ["label1", "gold_label"],
            *[
                mnli_row(
                    i,
                    f"Premise {i}.",
                    f"Hypothesis {i}.",
                    ["neutral", "neutral"],
                )
                for i in range(20)
            ],
        ],
    )
    assert evaluation_split("mnli", tmp_path) == CARVED_FROM_TRAIN
    with pytest.raises(
        FileNotFoundError,
        match=r"neither dev_matched nor "
        r"train data",
    ):
        evaluation_split("mnli", tmp_path / "elsewhere")


# === TFDS ===


@pytest.fixture
def fake_tfds(monkeypatch):
    """`tfds.load` answering from small in-memory feature dicts."""
    tfds = pytest.importorskip("tensorflow_datasets")
    splits = {
        ("glue/mnli", "train"): {
            "premise": ["P0", "P1", "P2", "P3"],
            "hypothesis": ["H0", "H1", "H2", "H3"],
            # TFDS: entailment 0, neutral 1, contradiction 2.
            "label": np.array([0, 1, 2, 0], np.int64),
            "idx": np.arange(4, dtype=np.int32),
        },
        ("glue/mnli", "validation_matched"): {
            "premise": ["DP"],
            "hypothesis": ["DH"],
            "label": np.array([2], np.int64),
            "idx": np.zeros(1, np.int32),
        },
        ("glue/mnli", "test_matched"): {
            "premise": ["TP"],
            "hypothesis": ["TH"],
            "label": np.array([-1], np.int64),
            "idx": np.zeros(1, np.int32),
        },
        ("glue/sst2", "train"): {
            "sentence": [f"sentence {i}" for i in range(10)],
            "label": np.array([i % 2 for i in range(10)], np.int64),
            "idx": np.arange(10, dtype=np.int32),
        },
        ("glue/stsb", "validation"): {
            "sentence1": ["A"],
            "sentence2": ["B"],
            "label": np.array([3.8], np.float32),
            "idx": np.zeros(1),
        },
    }
    calls = []

    def load(name, split, data_dir=None, shuffle_files=False, **kwargs):
        calls.append((name, split, data_dir, shuffle_files))
        return tf.data.Dataset.from_tensor_slices(splits[(name, split)])

    monkeypatch.setattr(tfds, "load", load)
    return calls


def test_tfds_pairs_have_the_tsv_label_order(fake_tfds):
    train = glue_dataset(
        "mnli",
        split="train",
        batch_size=4,
        shuffle=False,
        use_tfds=True,
        tfds_data_dir="/data/tfds",
    )
    assert fake_tfds == [("glue/mnli", "train", "/data/tfds", False)]
    x, labels = train.element_spec
    assert isinstance(x, tuple) and len(x) == 2
    # TFDS numbers MNLI as the TSV reader does.
    assert examples_of(train) == [
        ("P0", "H0", 0),
        ("P1", "H1", 1),
        ("P2", "H2", 2),
        ("P3", "H3", 0),
    ]
    dev = glue_dataset("mnli", split="dev_matched", use_tfds=True)
    assert fake_tfds[-1][1] == "validation_matched"
    assert examples_of(dev) == [("DP", "DH", 2)]
    test = glue_dataset("mnli", split="test_matched", use_tfds=True)
    premise, hypothesis = next(iter(test))
    assert premise.numpy().tolist() == [b"TP"]
    stsb = glue_dataset("stsb", split="dev", use_tfds=True)
    assert stsb.element_spec[1].dtype == tf.float32
    assert examples_of(stsb) == [("A", "B", pytest.approx(3.8))]


def test_tfds_single_sentence_and_carving(fake_tfds):
    train = glue_dataset(
        "sst2",
        split="train",
        batch_size=3,
        use_tfds=True,
        shuffle=False,
        drop_remainder=True,
    )
    assert isinstance(train.element_spec[0], tf.TensorSpec)
    assert train.element_spec[0].shape == (3,)
    assert examples_of(train)[:2] == [("sentence 0", 0), ("sentence 1", 1)]
    kept = glue_dataset(
        "sst2",
        split="train",
        use_tfds=True,
        validation_fraction=3,
        shuffle=False,
    )
    held_out = glue_dataset(
        "sst2", split=CARVED_FROM_TRAIN, use_tfds=True, validation_fraction=3
    )
    kept, held_out = examples_of(kept), examples_of(held_out)
    assert (len(kept), len(held_out)) == (7, 3)
    assert sorted(kept + held_out) == sorted(
        (f"sentence {i}", i % 2) for i in range(10)
    )


# === Training on it ===


def test_classifier_fits_on_single_and_pair_batches():
    """keras-hub's `Task.fit` maps the preprocessor over `(x, y)`: `x` a
    string tensor or a tuple of two."""
    backbone = tiny_backbone(16)
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16
    )
    classifier = keras_bigs.BiGSClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    pairs = glue_dataset(
        "rte", glue_dir(), "dev", batch_size=4, drop_remainder=True
    )
    history = classifier.fit(pairs, steps_per_epoch=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    singles = glue_dataset(
        "cola", glue_dir(), "dev", batch_size=4, drop_remainder=True
    )
    history = classifier.fit(
        singles, steps_per_epoch=1, shuffle=False, verbose=0
    )
    assert np.isfinite(history.history["loss"][0])
