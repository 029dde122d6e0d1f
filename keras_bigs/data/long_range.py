"""A generated long-range task, in the SCROLLS ContractNLI layout: does a
model use context thousands of tokens away?

Each example's query claims a colour for one named box ("The cedar box is
red."); the document is a window of real prose with one evidence
sentence for that box ("The cedar box is blue.") placed a chosen number
of words into it, and distractor sentences that give other things
colours ("The ochre crate is red."), anywhere. The label is `Entailment`
when the evidence agrees with the query and `Contradiction` when it does
not: neither the query alone nor the prose alone tells, a colour read
from a distractor is a coin toss, and a model that does not read the
evidence scores chance (the labels are balanced). With
`label="evidence"` the label is the evidence's colour alone
(`Entailment` for red): the same reading without the comparison, a
control that tells a task not learned from evidence not reached.
Records are what
`read_scrolls_jsonl("contract_nli", ...)` reads, with the evidence's
distance added (`distance_words`), so `tools/run_scrolls.py` trains on
them and `tools/long_range_benchmark.py` scores by distance.
"""

import json
import os
import pathlib
import random

BOXES = (
    "amber", "basalt", "cedar", "copper", "ember", "flint", "garnet",
    "harbor", "indigo", "juniper", "marble", "ochre", "pewter", "quartz",
    "slate", "willow",
)  # fmt: skip
COLOURS = ("red", "blue")
LABELS = {True: "Entailment", False: "Contradiction"}
# What decides an example's label: the evidence agreeing with the query's
# claim, or the evidence's colour alone (red).
LABEL_RULES = ("agreement", "evidence")


def claim(name, colour, thing="box"):
    """The sentence that gives the `thing` called `name` its `colour`."""
    return f"The {name} {thing} is {colour}."


def corpus_words(paths):
    """Every word of the text files, in order."""
    words = []
    for path in paths:
        words += pathlib.Path(path).read_text(encoding="utf-8").split()
    return words


def long_range_record(
    words,
    index,
    document_words,
    distance,
    rng,
    distractors,
    label="agreement",
):
    """One example (a dict in the SCROLLS layout) whose evidence follows
    `distance` words of the document's `document_words` words of prose
    (distractor sentences before it add their own words).

    Args:
        words: the corpus, a list of words; a random window of it is the
            prose.
        index: int, for the record's `id`.
        document_words: int. Words of prose in the document.
        distance: int in `[0, document_words]`: where the evidence goes.
        rng: a `random.Random`.
        distractors: int. Sentences that colour other things (crates),
            at random places.
        label: one of `LABEL_RULES`: `"agreement"`, the evidence agrees
            with the query's claim; `"evidence"`, the evidence says red.
    """
    if label not in LABEL_RULES:
        raise ValueError(f"label must be one of {LABEL_RULES}, not {label!r}")
    if not 0 <= distance <= document_words:
        raise ValueError(
            f"distance {distance} is outside the document's "
            f"{document_words} words"
        )
    if len(words) < document_words:
        raise ValueError(
            f"the corpus has {len(words):,} words; a document needs "
            f"{document_words:,}"
        )
    box, *others = rng.sample(BOXES, 1 + distractors)
    colour, claimed = rng.choice(COLOURS), rng.choice(COLOURS)
    start = rng.randrange(len(words) - document_words + 1)
    prose = words[start : start + document_words]
    # Insert from the back so earlier positions stay where they were.
    inserts = [(distance, claim(box, colour))] + [
        (
            rng.randrange(document_words + 1),
            claim(other, rng.choice(COLOURS), thing="crate"),
        )
        for other in others
    ]
    for position, sentence in sorted(inserts, key=lambda p: -p[0]):
        prose[position:position] = sentence.split()
    return {
        "id": f"long_range-{index:06d}",
        "pid": f"long_range-{index:06d}",
        "input": f"{claim(box, claimed)}\n\n{' '.join(prose)}",
        "output": LABELS[
            claimed == colour if label == "agreement" else colour == "red"
        ],
        "distance_words": distance,
    }


def long_range_records(
    words,
    count,
    document_words,
    distances=None,
    distractors=4,
    seed=0,
    label="agreement",
):
    """`count` examples; the evidence's distance cycles through
    `distances` (words), or is uniform over the document when `None`;
    `label` as `long_range_record`'s.

    Example:
    ```python
    from keras_bigs.data.long_range import long_range_records

    words = ("the quick brown fox jumps over the lazy dog " * 20).split()
    records = long_range_records(words, 4, 50, distances=[0, 40])
    [r["distance_words"] for r in records]  # [0, 40, 0, 40]
    query, document = records[0]["input"].split("\\n\\n")
    query.split()[1] == document.split()[1]  # True (the evidence, at 0)
    sorted({r["output"] for r in records})  # ['Contradiction', 'Entailment']
    ```
    """
    rng = random.Random(seed)
    records = []
    for index in range(count):
        if distances:
            distance = distances[index % len(distances)]
        else:
            distance = rng.randrange(document_words + 1)
        records.append(
            long_range_record(
                words, index, document_words, distance, rng, distractors, label
            )
        )
    return records


def write_jsonl(records, path):
    """One JSON object a line (the SCROLLS files' layout)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")


__all__ = [
    "claim",
    "corpus_words",
    "long_range_record",
    "long_range_records",
    "write_jsonl",
]
