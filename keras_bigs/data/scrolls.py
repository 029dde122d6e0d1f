"""Long-document tasks in the SCROLLS layout (tau/scrolls): ContractNLI and
QuALITY, read from `train.jsonl` / `validation.jsonl` / `test.jsonl`."""

import dataclasses
import json
import os
import re

import tensorflow as tf

CONTRACT_NLI_LABELS = ("Entailment", "Contradiction", "Not mentioned")
OPTION_LETTERS = "ABCD"
# QuALITY's query: the question, then its four options a line each,
# `(A) ...` to `(D) ...`; the article follows.
OPTIONS_BLOCK = re.compile(
    r"^[ \t]*\(A\)[ \t]*(.*)\n[ \t]*\(B\)[ \t]*(.*)\n"
    r"[ \t]*\(C\)[ \t]*(.*)\n[ \t]*\(D\)[ \t]*(.*)$",
    re.MULTILINE,
)
REQUIRED_FIELDS = ("id", "pid", "input", "output")


@dataclasses.dataclass(frozen=True)
class ScrollsTask:
    """A SCROLLS task: how its `input` splits into query and document,
    and how its `output` becomes a label.

    Args:
        name: `"contract_nli"` or `"quality"`.
        metrics: the metric names (`keras_bigs.training.compute_metrics`),
            the paper's first.
        num_classes: classes (ContractNLI) or options (QuALITY).
        multiple_choice: whether the model picks one of the query's options
            (QuALITY) rather than a class (ContractNLI).
    """

    name: str
    metrics: tuple
    num_classes: int
    multiple_choice: bool


SCROLLS_TASKS = {
    "contract_nli": ScrollsTask("contract_nli", ("accuracy",), 3, False),
    "quality": ScrollsTask("quality", ("exact_match",), 4, True),
}


@dataclasses.dataclass(frozen=True)
class ScrollsExample:
    """One example: the query (ContractNLI's hypothesis; QuALITY's
    question), its options (QuALITY), the document and the label."""

    id: str
    query: str
    document: str
    label: int
    options: tuple = ()


def split_contract_nli(text, output):
    """`(query, document, (), label)` of a ContractNLI `input`: the
    hypothesis, a blank line, the contract."""
    query, blank, document = text.partition("\n\n")
    if not blank:
        raise ValueError("`input` has no blank line between query and document")
    if output not in CONTRACT_NLI_LABELS:
        raise ValueError(
            f"`output` {output!r} is none of {list(CONTRACT_NLI_LABELS)}"
        )
    return (
        query.strip(),
        document.strip(),
        (),
        CONTRACT_NLI_LABELS.index(output),
    )


def split_quality(text, output):
    """`(question, article, options, label)` of a QuALITY `input`: the
    question, its options `(A)` to `(D)` a line each, the article; the
    label is the option whose text is `output`."""
    match = OPTIONS_BLOCK.search(text)
    if match is None:
        raise ValueError("`input` has no options (A) to (D), a line each")
    options = tuple(option.strip() for option in match.groups())
    if output.strip() not in options:
        raise ValueError(
            f"`output` {output!r} is none of the options {list(options)}"
        )
    question = text[: match.start()].strip()
    document = text[match.end() :].strip()
    return question, document, options, options.index(output.strip())


SPLITTERS = {"contract_nli": split_contract_nli, "quality": split_quality}


def read_scrolls_jsonl(task, path):
    """The labelled examples of one SCROLLS file.

    Args:
        task: `"contract_nli"` or `"quality"`.
        path: a `.jsonl` file, one JSON object a line with `id`, `pid`,
            `input` (the query, a blank line, the document) and `output`.

    Returns:
        A list of `ScrollsExample`.

    Raises:
        ValueError: naming the file and line of the first malformed
            example (not JSON, a missing field, no query/document split, an
            unknown label).

    Example:
    ```python
    import json, tempfile
    from keras_bigs.data.scrolls import read_scrolls_jsonl

    path = tempfile.mkdtemp() + "/validation.jsonl"
    with open(path, "w") as f:
        f.write(json.dumps({"id": "1", "pid": "1", "output": "Entailment",
                            "input": "It is signed.\\n\\nThe contract..."}))
    read_scrolls_jsonl("contract_nli", path)[0].label  # 0
    ```
    """
    if task not in SPLITTERS:
        raise ValueError(
            f"Unknown SCROLLS task {task!r}; expected one of "
            f"{sorted(SPLITTERS)}."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No SCROLLS file {path}.")
    examples = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("the line is not a JSON object")
                missing = [k for k in REQUIRED_FIELDS if k not in record]
                if missing:
                    raise ValueError(f"missing field(s) {missing}")
                query, document, options, label = SPLITTERS[task](
                    str(record["input"]), str(record["output"])
                )
            except ValueError as error:  # JSONDecodeError included
                raise ValueError(f"{path}:{number}: {error}.") from error
            examples.append(
                ScrollsExample(
                    str(record["id"]), query, document, label, options
                )
            )
    if not examples:
        raise ValueError(f"{path} holds no examples.")
    return examples


def scrolls_model_inputs(task, examples):
    """The model input `x` of each example, as the task's preprocessor
    takes it, and the labels.

    ContractNLI: `(query, document)` pairs. QuALITY: `(question, choices)`
    with one choice per option, `"option document"`. The query comes
    first so that truncation (`"waterfall"`) cuts the document's end and
    keeps the query and option.

    Returns:
        `(x, labels)`, numpy-convertible.
    """
    labels = [example.label for example in examples]
    queries = [example.query for example in examples]
    if not SCROLLS_TASKS[task].multiple_choice:
        return (queries, [example.document for example in examples]), labels
    choices = [
        [f"{option} {example.document}" for option in example.options]
        for example in examples
    ]
    return (queries, choices), labels


def scrolls_dataset(task, examples):
    """Unbatched `tf.data` `(x, label)` of `examples`, in their order."""
    (queries, seconds), labels = scrolls_model_inputs(task, examples)
    x = (tf.constant(queries, tf.string), tf.constant(seconds, tf.string))
    return tf.data.Dataset.from_tensor_slices((x, tf.constant(labels)))
