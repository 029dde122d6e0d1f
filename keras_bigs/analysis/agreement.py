"""Masked-LM syntactic probes in the style of Goldberg (2019).

Each item is a sentence with one `[MASK]` and two candidate words, the
grammatical one (`correct`) and the ungrammatical one (`incorrect`); the
model gets the item right when its masked-LM logit at the mask is higher
for `correct`. Items are read from a TSV with the header
`phenomenon  sentence  correct  incorrect`.

`generate_agreement_probes` writes the items shipped with keras_bigs
(`AGREEMENT_PROBES_PATH`): subject-verb agreement with 0, 1 or 2 attractors
(intervening nouns of the other number) in prepositional phrases and
relative clauses, from templates.
"""

import csv
import dataclasses
import io
import itertools
import pathlib

import numpy as np

from keras_bigs.analysis.prediction import preprocessor_detached

AGREEMENT_PROBES_PATH = (
    pathlib.Path(__file__).resolve().parent.parent
    / "assets"
    / "agreement_probes.tsv"
)
PROBE_COLUMNS = ("phenomenon", "sentence", "correct", "incorrect")
MASK = "[MASK]"


@dataclasses.dataclass(frozen=True)
class ProbeItem:
    """One probe: `sentence` has one `[MASK]`; `line` is its line in the
    TSV (1-based, header = 1), for error messages."""

    phenomenon: str
    sentence: str
    correct: str
    incorrect: str
    line: int = 0


# === The shipped items ===

# (singular, plural) nouns; every form is one wordpiece of BERT's uncased
# vocabulary, so the probes work with the published models' tokenizer.
_SUBJECTS = (
    ("author", "authors"),
    ("teacher", "teachers"),
    ("pilot", "pilots"),
    ("doctor", "doctors"),
    ("farmer", "farmers"),
    ("senator", "senators"),
)
_ATTRACTORS = (("book", "books"), ("guard", "guards"))
_SECOND_ATTRACTORS = (("village", "villages"), ("manager", "managers"))
# (singular, plural) verb under the mask, and what follows it.
_VERBS = (
    (("is", "are"), "here ."),
    (("was", "were"), "late ."),
    (("has", "have"), "left ."),
)
# The relative clause's own verb agrees with its own subject.
_EMBEDDED_VERB = ("likes", "like")


def generate_agreement_probes():
    """The shipped subject-verb agreement items, from templates.

    Phenomena (each with singular and plural subjects, the attractors of
    the other number):

    - `simple`: "the author [MASK] here ."
    - `pp_1_attractor`: "the author of the books [MASK] here ."
    - `pp_2_attractors`: "the author of the books near the villages [MASK]
      here ."
    - `rc_1_attractor`: "the author that the guards like [MASK] here ."
    - `rc_2_attractors`: "the author that the guards near the villages like
      [MASK] here ."

    Returns:
        A list of `ProbeItem`, in a fixed order.

    Example:
    ```python
    from keras_bigs.analysis import generate_agreement_probes

    items = generate_agreement_probes()
    items[0].sentence, items[0].correct  # ("the author [MASK] here .", "is")
    ```
    """
    items = []

    def add(phenomenon, subject_phrase, number, verbs, rest):
        correct, incorrect = verbs[number], verbs[1 - number]
        items.append(
            ProbeItem(
                phenomenon,
                f"{subject_phrase} {MASK} {rest}",
                correct,
                incorrect,
            )
        )

    for (verbs, rest), subject, number in itertools.product(
        _VERBS, _SUBJECTS, (0, 1)
    ):
        other = 1 - number  # Attractors have the other number.
        head = f"the {subject[number]}"
        add("simple", head, number, verbs, rest)
        for first in _ATTRACTORS:
            add(
                "pp_1_attractor",
                f"{head} of the {first[other]}",
                number,
                verbs,
                rest,
            )
            add(
                "rc_1_attractor",
                f"{head} that the {first[other]} {_EMBEDDED_VERB[other]}",
                number,
                verbs,
                rest,
            )
            for second in _SECOND_ATTRACTORS:
                add(
                    "pp_2_attractors",
                    f"{head} of the {first[other]} near the {second[other]}",
                    number,
                    verbs,
                    rest,
                )
                add(
                    "rc_2_attractors",
                    f"{head} that the {first[other]} near the "
                    f"{second[other]} {_EMBEDDED_VERB[other]}",
                    number,
                    verbs,
                    rest,
                )
    order = (
        "simple",
        "pp_1_attractor",
        "pp_2_attractors",
        "rc_1_attractor",
        "rc_2_attractors",
    )
    return sorted(items, key=lambda item: order.index(item.phenomenon))


def format_probe_tsv(items):
    """The TSV text of `items` (header first, `\\n` line ends)."""
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter="\t",
        lineterminator="\n",
        quoting=csv.QUOTE_NONE,
        escapechar=None,
    )
    writer.writerow(PROBE_COLUMNS)
    for item in items:
        writer.writerow(
            [item.phenomenon, item.sentence, item.correct, item.incorrect]
        )
    return out.getvalue()


def write_probe_tsv(items, path):
    """Write `items` as a probe TSV (regenerates the shipped file with
    `write_probe_tsv(generate_agreement_probes(), AGREEMENT_PROBES_PATH)`).
    """
    pathlib.Path(path).write_text(format_probe_tsv(items), encoding="utf-8")


def read_probe_tsv(path=None):
    """Read probe items.

    Args:
        path: a TSV with the header `phenomenon sentence correct
            incorrect` (tab-separated, no quoting); default the shipped
            `AGREEMENT_PROBES_PATH`.

    Returns:
        A list of `ProbeItem`.

    Example:
    ```python
    from keras_bigs.analysis import read_probe_tsv

    items = read_probe_tsv()  # the shipped agreement items
    ```
    """
    path = pathlib.Path(AGREEMENT_PROBES_PATH if path is None else path)
    if not path.is_file():
        raise FileNotFoundError(f"Probe file {path} not found.")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != PROBE_COLUMNS:
        raise ValueError(
            f"{path}: the first line must be the header "
            f"{chr(9).join(PROBE_COLUMNS)!r} (tab-separated); found "
            f"{lines[0] if lines else 'an empty file'!r}."
        )
    items = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(PROBE_COLUMNS):
            raise ValueError(
                f"{path}, line {number}: expected {len(PROBE_COLUMNS)} "
                f"tab-separated columns, found {len(fields)}."
            )
        item = ProbeItem(*(f.strip() for f in fields), line=number)
        if item.sentence.count(MASK) != 1:
            raise ValueError(
                f"{path}, line {number}: the sentence must contain exactly "
                f"one {MASK}; it has {item.sentence.count(MASK)}."
            )
        if (
            not item.correct
            or not item.incorrect
            or (item.correct == item.incorrect)
        ):
            raise ValueError(
                f"{path}, line {number}: needs two different, non-empty "
                "candidates."
            )
        items.append(item)
    if not items:
        raise ValueError(f"{path} has no items.")
    return items


# === Scoring ===


def _ids(tokenizer, text):
    return [int(i) for i in np.asarray(tokenizer.tokenize(text)).tolist()]


def candidate_token_ids(items, tokenizer):
    """`(n, 2)` int32 token ids of each item's correct and incorrect word.

    Each candidate must be one wordpiece of the tokenizer's vocabulary
    (not `[UNK]`), else a `ValueError` names the item.
    """
    unknown = tokenizer.token_to_id("[UNK]")
    ids = []
    for item in items:
        pair = []
        for word in (item.correct, item.incorrect):
            pieces = _ids(tokenizer, word)
            if len(pieces) != 1 or pieces[0] == unknown:
                raise ValueError(
                    f"Probe item on line {item.line} ({item.sentence!r}): "
                    f"candidate {word!r} is not a single wordpiece of the "
                    f"tokenizer's vocabulary (it tokenizes to "
                    f"{[tokenizer.id_to_token(i) for i in pieces]})."
                )
            pair.append(pieces[0])
        ids.append(pair)
    return np.asarray(ids, dtype="int32")


def probe_inputs(items, tokenizer, sequence_length):
    """Token dicts `[CLS] sentence [SEP]` padded to `sequence_length`, with
    `mask_positions` `(n, 1)` at each item's `[MASK]`.

    Pad to the length the model was trained at: BiGS's outputs depend on
    the padded length.
    """
    cls_id, sep_id, pad_id, mask_id = (
        tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]", MASK)
    )
    n = len(items)
    token_ids = np.full((n, sequence_length), pad_id, dtype="int32")
    padding_mask = np.zeros((n, sequence_length), dtype="int32")
    positions = np.zeros((n, 1), dtype="int32")
    for row, item in enumerate(items):
        ids = [cls_id] + _ids(tokenizer, item.sentence) + [sep_id]
        if len(ids) > sequence_length:
            raise ValueError(
                f"Probe item on line {item.line} is {len(ids)} tokens long; "
                f"the model reads at most {sequence_length}."
            )
        token_ids[row, : len(ids)] = ids
        padding_mask[row, : len(ids)] = 1
        positions[row, 0] = ids.index(mask_id)
    return {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": padding_mask,
        "mask_positions": positions,
    }


def score_candidates(masked_lm, inputs, candidate_ids, batch_size=32):
    """Masked-LM logits of each item's two candidates at its mask.

    Args:
        masked_lm: a `BiGSMaskedLM` (its preprocessor, if any, is bypassed).
        inputs: `probe_inputs`' dict (one mask position per item).
        candidate_ids: `(n, 2)` token ids (`candidate_token_ids`).
        batch_size: int.

    Returns:
        `(n, 2)` float logits: column 0 the correct word's, 1 the
        incorrect's.
    """
    with preprocessor_detached(masked_lm):
        logits = masked_lm.predict(inputs, batch_size=batch_size, verbose=0)
    logits = np.asarray(logits)[:, 0, :]  # (n, vocabulary) at the mask
    return np.take_along_axis(logits, np.asarray(candidate_ids), axis=1)


def probe_accuracy(items, scores):
    """Accuracy per phenomenon, and over all items.

    An item is right when the correct word scores strictly higher.

    Returns:
        `{phenomenon: {"accuracy", "correct", "count"}}` in the items'
        order of first appearance, plus `"all"`.
    """
    scores = np.asarray(scores)
    right = scores[:, 0] > scores[:, 1]
    groups = {}
    for item, ok in zip(items, right):
        groups.setdefault(item.phenomenon, []).append(bool(ok))
    groups["all"] = right.tolist()
    return {
        name: {
            "accuracy": float(np.mean(values)),
            "correct": int(np.sum(values)),
            "count": len(values),
        }
        for name, values in groups.items()
    }


def run_agreement_probes(
    masked_lm, items=None, tokenizer=None, sequence_length=None, batch_size=32
):
    """Score probe items with a masked LM.

    Args:
        masked_lm: a `BiGSMaskedLM`.
        items: `ProbeItem`s; default the shipped agreement items.
        tokenizer: a `BiGSTokenizer` with the model's vocabulary; default
            the masked LM's preprocessor's.
        sequence_length: pad length; default the backbone's
            `max_sequence_length`.
        batch_size: int.

    Returns:
        `(results, scores)`: `probe_accuracy`'s dict and the `(n, 2)`
        candidate logits.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.analysis import run_agreement_probes

    masked_lm = keras_bigs.BiGSMaskedLM.from_preset("bigs_128_en")
    results, scores = run_agreement_probes(masked_lm)
    results["pp_1_attractor"]["accuracy"]
    ```
    """
    items = read_probe_tsv() if items is None else list(items)
    if tokenizer is None:
        if masked_lm.preprocessor is None:
            raise ValueError(
                "The masked LM has no preprocessor: pass the tokenizer of "
                "its vocabulary."
            )
        tokenizer = masked_lm.preprocessor.tokenizer
    size = tokenizer.vocabulary_size()
    if size > masked_lm.backbone.vocabulary_size:
        raise ValueError(
            f"The tokenizer has {size} tokens but the model only "
            f"{masked_lm.backbone.vocabulary_size}: pass the model's "
            "vocabulary."
        )
    if sequence_length is None:
        sequence_length = masked_lm.backbone.max_sequence_length
    candidates = candidate_token_ids(items, tokenizer)
    inputs = probe_inputs(items, tokenizer, sequence_length)
    scores = score_candidates(masked_lm, inputs, candidates, batch_size)
    return probe_accuracy(items, scores), scores
