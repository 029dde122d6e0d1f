"""Reading SCROLLS files (ContractNLI, QuALITY) and packing their inputs
so that truncation cuts the document, never the query."""

import json

import numpy as np
import pytest

import keras_bigs
from keras_bigs.data.scrolls import read_scrolls_jsonl
from keras_bigs.data.scrolls import scrolls_dataset
from keras_bigs.data.scrolls import scrolls_model_inputs

DOCUMENT = " ".join(["The parties agree to keep the terms secret."] * 40)


def contract_nli(i, output="Entailment", query="Disclosure is forbidden."):
    return {
        "id": f"c{i}",
        "pid": f"c{i}_0",
        "output": output,
        "input": f"{query}\n\n{DOCUMENT}",
    }


def quality(i, output="a red car", options=None):
    options = options or [
        "a blue boat",
        "a red car",
        "a green kite",
        "a yellow bus",
    ]
    lines = "\n".join(
        f" ({letter}) {option}" for letter, option in zip("ABCD", options)
    )
    question = "What did the narrator buy?"
    return {
        "id": f"q{i}",
        "pid": f"q{i}_0",
        "output": output,
        "input": f"{question}\n\n{lines}\n\n\n{DOCUMENT}",
    }


def write(path, records):
    with open(path, "w") as f:
        for record in records:
            f.write(
                (record if isinstance(record, str) else json.dumps(record))
                + "\n"
            )
    return str(path)


def test_contract_nli_splits_the_query_from_the_document(tmp_path):
    path = write(
        tmp_path / "validation.jsonl",
        [
            contract_nli(0),
            contract_nli(1, "Contradiction"),
            contract_nli(2, "Not mentioned"),
        ],
    )
    examples = read_scrolls_jsonl("contract_nli", path)
    assert [e.label for e in examples] == [0, 1, 2]
    assert examples[0].query == "Disclosure is forbidden."
    assert examples[0].document == DOCUMENT
    assert [e.id for e in examples] == ["c0", "c1", "c2"]


def test_quality_finds_the_options_and_the_answer(tmp_path):
    path = write(
        tmp_path / "train.jsonl", [quality(0), quality(1, "a yellow bus")]
    )
    first, second = read_scrolls_jsonl("quality", path)
    assert first.query == "What did the narrator buy?"
    assert first.options == (
        "a blue boat",
        "a red car",
        "a green kite",
        "a yellow bus",
    )
    assert first.document == DOCUMENT
    assert (first.label, second.label) == (1, 3)
    (queries, choices), labels = scrolls_model_inputs("quality", [first])
    assert queries == ["What did the narrator buy?"]
    assert choices[0][1] == f"a red car {DOCUMENT}" and labels == [1]
    dataset = scrolls_dataset("quality", [first, second])
    (query, choice_row), label = next(iter(dataset))
    assert choice_row.shape == (4,) and int(label) == 1


@pytest.mark.parametrize(
    "task,line,message",
    [
        ("contract_nli", "{not json", "Expecting property name"),
        ("contract_nli", '["a list"]', "not a JSON object"),
        (
            "contract_nli",
            json.dumps({"id": "1", "input": "q\n\nd"}),
            r"missing field\(s\) \['pid', 'output'\]",
        ),
        (
            "contract_nli",
            json.dumps(contract_nli(0, "Maybe")),
            "'Maybe' is none of",
        ),
        (
            "contract_nli",
            json.dumps(dict(contract_nli(0), input="no split")),
            "no blank line",
        ),
        (
            "quality",
            json.dumps(quality(0, "a purple hat")),
            "'a purple hat' is none of the options",
        ),
        (
            "quality",
            json.dumps(dict(quality(0), input="Q?\n\nno options")),
            r"no options \(A\) to \(D\)",
        ),
    ],
)
def test_a_malformed_line_is_an_error_naming_file_and_line(
    tmp_path, task, line, message
):
    good = json.dumps(contract_nli(0) if task == "contract_nli" else quality(0))
    path = write(tmp_path / "train.jsonl", [good, "", line])
    with pytest.raises(ValueError, match=f"train.jsonl:3: .*{message}"):
        read_scrolls_jsonl(task, path)


def test_missing_or_empty_files_and_unknown_tasks_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No SCROLLS file"):
        read_scrolls_jsonl("quality", str(tmp_path / "train.jsonl"))
    with pytest.raises(ValueError, match="holds no examples"):
        read_scrolls_jsonl("quality", write(tmp_path / "empty.jsonl", []))
    with pytest.raises(ValueError, match="Unknown SCROLLS task 'qasper'"):
        read_scrolls_jsonl("qasper", str(tmp_path / "empty.jsonl"))


def packed_ids(preprocessor, x):
    outputs = preprocessor(x=x)
    if isinstance(outputs, tuple):
        outputs = outputs[0]
    return np.asarray(outputs["token_ids"])


def test_truncation_cuts_the_document_and_keeps_the_query(tmp_path):
    tokenizer = keras_bigs.BiGSTokenizer()
    query = "does the agreement forbid any disclosure to third parties"
    query_ids = np.asarray(tokenizer(query)).tolist()
    pair = keras_bigs.BiGSTextClassifierPreprocessor(
        tokenizer, sequence_length=32, truncate="waterfall", buckets=None
    )
    ids = packed_ids(pair, ([query], [DOCUMENT]))[0]
    assert ids.tolist()[1 : 1 + len(query_ids)] == query_ids
    assert ids[-1] == tokenizer.token_to_id("[SEP]")  # the document was cut
    choice = keras_bigs.BiGSMultipleChoicePreprocessor(
        tokenizer, sequence_length=32, truncate="waterfall", buckets=None
    )
    (queries, choices), _ = scrolls_model_inputs(
        "quality",
        read_scrolls_jsonl(
            "quality", write(tmp_path / "validation.jsonl", [quality(0)])
        ),
    )
    ids = packed_ids(choice, (queries, choices))[0, 1]
    packed = ids.tolist()
    expected = np.asarray(tokenizer("what did the narrator buy?")).tolist()
    option = np.asarray(tokenizer("a red car")).tolist()
    assert packed[1 : 1 + len(expected)] == expected
    start = 2 + len(expected)
    assert packed[start : start + len(option)] == option
