"""The generated long-range task: where its evidence is, what decides the
label, and that it reads as SCROLLS ContractNLI."""

import random

import pytest

from keras_bigs.data.long_range import BOXES
from keras_bigs.data.long_range import claim
from keras_bigs.data.long_range import long_range_record
from keras_bigs.data.long_range import long_range_records
from keras_bigs.data.long_range import write_jsonl
from keras_bigs.data.scrolls import read_scrolls_jsonl

# Prose without any of the task's own words, so each is found by search.
WORDS = [f"x{i}" for i in range(500)]


def claims_in(document):
    """`[(name, thing, colour, prose words before it)]` of a document's
    claims."""
    tokens, found, prose = document.split(), [], 0
    position = 0
    while position < len(tokens):
        if tokens[position] == "The" and tokens[position + 1] in BOXES:
            name, thing, _, colour = tokens[position + 1 : position + 5]
            found.append((name, thing, colour.rstrip("."), prose))
            position += 5
        else:
            prose += 1
            position += 1
    return found


def test_the_evidence_follows_the_chosen_prose_and_decides_the_label():
    records = long_range_records(
        WORDS, 60, document_words=200, distances=[0, 37, 200], distractors=3
    )
    outputs = set()
    for record, distance in zip(records, [0, 37, 200] * 20):
        query, document = record["input"].split("\n\n")
        box, claimed = query.split()[1], query.split()[4].rstrip(".")
        found = claims_in(document)
        assert len(found) == 4  # the evidence and three distractors
        evidence = [c for c in found if c[1] == "box"]
        assert len(evidence) == 1, "distractors colour crates"
        assert {c[0] for c in found if c[1] == "crate"}.isdisjoint({box})
        name, _, colour, prose_before = evidence[0]
        assert name == box
        assert prose_before == distance == record["distance_words"]
        assert record["output"] == (
            "Entailment" if colour == claimed else "Contradiction"
        )
        # 200 words of prose, in corpus order.
        prose = [t for t in document.split() if t.startswith("x")]
        assert len(prose) == 200
        first = int(prose[0][1:])
        assert prose == [f"x{i}" for i in range(first, first + 200)]
        outputs.add(record["output"])
    assert outputs == {"Entailment", "Contradiction"}
    labels = [r["output"] for r in records]
    assert 20 <= labels.count("Entailment") <= 40  # balanced, by chance


def test_distances_are_uniform_without_a_list_and_records_are_seeded():
    records = long_range_records(WORDS, 300, document_words=100)
    distances = [r["distance_words"] for r in records]
    assert min(distances) < 10 and max(distances) > 90
    assert records == long_range_records(WORDS, 300, document_words=100)
    assert records != long_range_records(WORDS, 300, 100, seed=1)


def test_records_read_as_contract_nli(tmp_path):
    records = long_range_records(WORDS, 5, document_words=50)
    path = tmp_path / "validation.jsonl"
    write_jsonl(records, path)
    examples = read_scrolls_jsonl("contract_nli", str(path))
    assert [e.query for e in examples] == [
        r["input"].split("\n\n")[0] for r in records
    ]
    assert [e.label for e in examples] == [
        ("Entailment", "Contradiction").index(r["output"]) for r in records
    ]


def test_impossible_requests_name_the_problem():
    rng = random.Random(0)
    with pytest.raises(ValueError, match="distance 60 is outside the docu"):
        long_range_record(WORDS, 0, 50, 60, rng, 2)
    with pytest.raises(ValueError, match="the corpus has 500 words; a doc"):
        long_range_record(WORDS, 0, 600, 10, rng, 2)
    assert claim("cedar", "red") == "The cedar box is red."
    assert claim("ochre", "blue", "crate") == "The ochre crate is blue."


def test_the_evidence_label_is_the_evidence_colour_alone():
    agreement = long_range_records(WORDS, 40, 60, distractors=2)
    evidence = long_range_records(
        WORDS, 40, 60, distractors=2, label="evidence"
    )
    changed = 0
    for same, control in zip(agreement, evidence):
        assert same["input"] == control["input"]  # the same examples
        box = control["input"].split()[1]
        (colour,) = [
            c[2]
            for c in claims_in(control["input"].split("\n\n")[1])
            if c[0] == box
        ]
        assert control["output"] == (
            "Entailment" if colour == "red" else "Contradiction"
        )
        changed += same["output"] != control["output"]
    assert changed > 5  # the query's claim no longer matters
    with pytest.raises(ValueError, match="label must be one of"):
        long_range_record(WORDS, 0, 50, 10, random.Random(0), 2, "query")
