"""Entity-level precision, recall and F1 of tagged sentences, as CoNLL's
`conlleval` script scores named-entity recognition.

An entity is a maximal span of one type: it starts at a `B-X` tag, or at
an `I-X` tag that does not continue an entity of type `X`, and it goes on
over `I-X` tags. Read so, one function scores both tagging schemes:
BIO (IOB2: every entity starts with `B-`) and IOB1 (`B-` only separates
two adjacent entities of one type). A predicted entity counts when its
span and type equal a true one.
"""

SCHEMES = ("BIO", "IOB1")


def _parts(tag, where):
    if tag == "O":
        return "O", None
    prefix, _, kind = tag.partition("-")
    if prefix not in ("B", "I") or not kind:
        raise ValueError(
            f"{where}: tag {tag!r} is neither 'O' nor B-TYPE or I-TYPE."
        )
    return prefix, kind


def entities(tags, where="tags"):
    """The `(type, first, last)` entities of one sentence's tags.

    Example:
    ```python
    from keras_bigs.training.entity_metrics import entities

    entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    # [('PER', 0, 1), ('LOC', 3, 3), ('LOC', 4, 4)]
    ```
    """
    found = []
    current = None  # [type, first, last]
    for position, tag in enumerate(tags):
        prefix, kind = _parts(tag, where)
        continues = prefix == "I" and current is not None and current[0] == kind
        if continues:
            current[2] = position
            continue
        if current is not None:
            found.append(tuple(current))
            current = None
        if prefix != "O":
            current = [kind, position, position]
    if current is not None:
        found.append(tuple(current))
    return found


def entity_scores(true_tags, predicted_tags, scheme="BIO"):
    """Micro-averaged entity precision, recall and F1 over sentences.

    Args:
        true_tags: list of lists of tag strings, one list per sentence.
        predicted_tags: the same shape (a sentence's prediction may be
            shorter when it was truncated: the missing tags count as
            `"O"`).
        scheme: `"BIO"` (IOB2) or `"IOB1"`; both are read as `conlleval`
            reads them (see the module docstring), and the tags must have
            one of those forms.

    Returns:
        dict: `precision`, `recall`, `f1` (0 where undefined) and the
        counts `true_entities`, `predicted_entities`, `correct_entities`.

    Example:
    ```python
    from keras_bigs.training.entity_metrics import entity_scores

    scores = entity_scores([["B-PER", "I-PER", "O", "B-LOC"]],
                           [["B-PER", "I-PER", "O", "B-ORG"]])
    scores["precision"], scores["recall"]  # 0.5, 0.5
    ```
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme={scheme!r}; expected one of {SCHEMES}.")
    if len(true_tags) != len(predicted_tags):
        raise ValueError(
            f"{len(true_tags)} true sentences but {len(predicted_tags)} "
            "predicted."
        )
    true_count = predicted_count = correct = 0
    for index, (truth, prediction) in enumerate(zip(true_tags, predicted_tags)):
        prediction = list(prediction) + ["O"] * (len(truth) - len(prediction))
        true_set = set(entities(truth, f"sentence {index}"))
        predicted_set = set(entities(prediction, f"sentence {index}"))
        true_count += len(true_set)
        predicted_count += len(predicted_set)
        correct += len(true_set & predicted_set)
    precision = correct / predicted_count if predicted_count else 0.0
    recall = correct / true_count if true_count else 0.0
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision + recall
        else 0.0
    )
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_entities": true_count,
        "predicted_entities": predicted_count,
        "correct_entities": correct,
    }
