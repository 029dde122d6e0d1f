"""Every docstring Example in the package runs as written, and every result
it states in a trailing comment is what the code gives.

A stated result is a trailing comment that starts like a Python literal
(a number, bracket, brace, quote, True/False/None, or `≈` for a rounded
value): `x.shape  # (2, 16)`, `len(a), len(b)  # 95, 5`, or
`f(x)  # 4.12e12 (paper: 4.1e12)`; a note may follow the literal after a
colon or in parentheses. A tuple of ints stated for an array is its shape;
a string ending in `...` is a prefix; a float is checked to 0.5% (`≈`:
10%). Other comments are prose.
"""

import ast
import contextlib
import importlib
import inspect
import io
import math
import pkgutil
import re
import textwrap
import tokenize

import keras
import numpy as np
import pytest

import keras_bigs
from tests.conftest import REPO_ROOT
from tests.conftest import shared_dir

# Examples that cannot run in the test environment, and why.
DOWNLOADS = "downloads a checkpoint or dataset"
NOT_RUN = {
    "keras_bigs.analysis.agreement.run_agreement_probes": DOWNLOADS,
    "keras_bigs.data.glue_dataset.glue_dataset": DOWNLOADS,
    "keras_bigs.data.glue_dataset.tfds_glue_dataset": DOWNLOADS,
    "keras_bigs.data.text_corpus.tfds_text_dataset": DOWNLOADS,
    "keras_bigs.data.hdf5_shards.hdf5_shard_dataset": "reads HDF5 shards",
    "keras_bigs.data.host_sharding.shard_for_host": "reads HDF5 shards",
    "keras_bigs.training.distribution.layout_map.bigs_layout_map": (
        "needs 8 TPU chips"
    ),
}
# Keras exports TF SavedModels from the JAX and TensorFlow backends only.
NEEDS_SAVED_MODEL_EXPORT = ("keras_bigs.serving.export.export_for_serving",)
LITERAL_START = re.compile(r"""^(≈|~|-?\d|\(|\[|\{|"|'|True|False|None)""")


def documented_objects():
    """`{qualified name: docstring}` of every module, class, function and
    method of the package whose docstring has a ```python block."""
    found = {}
    modules = [keras_bigs] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(keras_bigs.__path__, "keras_bigs.")
    ]
    for module in modules:
        candidates = [(module.__name__, module)]
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            candidates.append((f"{module.__name__}.{name}", value))
            if inspect.isclass(value):
                candidates += [
                    (f"{module.__name__}.{name}.{attribute}", member)
                    for attribute, member in vars(value).items()
                    if callable(member) or isinstance(member, classmethod)
                ]
        for qualified, value in candidates:
            doc = (
                inspect.getdoc(value)
                if not isinstance(value, classmethod)
                else inspect.getdoc(value.__func__)
            )
            if doc and "```python" in doc:
                found[qualified] = doc
    return found


def examples(doc):
    return [
        textwrap.dedent(block)
        for block in re.findall(r"```python\n(.*?)```", doc, re.S)
    ]


def trailing_comments(code):
    """`{line number: comment text}` of comments after code on a line."""
    comments, code_lines = {}, set()
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string[1:].strip()
        elif token.type not in (
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            code_lines.update(range(token.start[0], token.end[0] + 1))
    return {line: text for line, text in comments.items() if line in code_lines}


def stated_result(comment):
    """`(value, approximate)` stated by a comment, or `None` for prose.

    Raises:
        ValueError: the comment starts like a literal but is none.
    """
    if not LITERAL_START.match(comment):
        return None
    approximate = comment.startswith(("≈", "~"))
    text = comment.lstrip("≈~ ")
    cuts = [len(text)] + [m.start() for m in re.finditer(r":\s| \(", text)]
    for cut in cuts:
        try:
            return ast.literal_eval(text[:cut].strip()), approximate
        except (SyntaxError, ValueError):
            continue
    raise ValueError(f"stated result {comment!r} is not a Python literal")


def as_plain(value):
    """Tensors, arrays and shapes as numpy arrays or tuples."""
    if hasattr(value, "as_list"):  # tf.TensorShape
        return tuple(value.as_list())
    if isinstance(
        value, (str, bytes, bool, int, float, type(None), tuple, list, dict)
    ):
        return value
    return keras.ops.convert_to_numpy(value)


def matches(value, expected, approximate=False):
    value = as_plain(value)
    if (
        isinstance(expected, tuple)
        and isinstance(value, np.ndarray)
        and all(isinstance(e, int) for e in expected)
    ):
        return value.shape == expected
    if isinstance(expected, (tuple, list)):
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return (
            isinstance(value, (tuple, list))
            and len(value) == len(expected)
            and all(matches(v, e, approximate) for v, e in zip(value, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(value, dict)
            and set(value) == set(expected)
            and all(
                matches(value[k], expected[k], approximate) for k in expected
            )
        )
    if isinstance(expected, str):
        if isinstance(value, bytes):
            value = value.decode()
        if expected.endswith("..."):
            return str(value).startswith(expected[:-3].rstrip())
        return value == expected
    if isinstance(expected, bool) or expected is None:
        return value == expected
    if isinstance(expected, (int, float)):
        number = float(np.asarray(value))
        if isinstance(expected, int) and not approximate:
            return number == expected
        return math.isclose(
            number,
            expected,
            rel_tol=0.1 if approximate else 5e-3,
            abs_tol=1e-12,
        )
    raise TypeError(f"cannot compare with a stated {type(expected)}")


def run_example(code):
    """Run `code` statement by statement; return the number of stated
    results it checked."""
    comments = trailing_comments(code)
    namespace = {}
    checked = 0
    for statement in ast.parse(code).body:
        comment = comments.get(statement.end_lineno)
        stated = stated_result(comment) if comment else None
        module = ast.Module([statement], type_ignores=[])
        if stated is None or not isinstance(statement, (ast.Expr, ast.Assign)):
            exec(compile(module, "<example>", "exec"), namespace)
            continue
        if isinstance(statement, ast.Expr):
            value = eval(
                compile(ast.Expression(statement.value), "<example>", "eval"),
                namespace,
            )
        else:
            exec(compile(module, "<example>", "exec"), namespace)
            target = statement.targets[0]
            names = [target] if isinstance(target, ast.Name) else target.elts
            values = [namespace[name.id] for name in names]
            value = values[0] if isinstance(target, ast.Name) else tuple(values)
        source = ast.get_source_segment(code, statement)
        expected, approximate = stated
        assert matches(value, expected, approximate), (
            f"{source}  # {comment}\ngave {value!r}"
        )
        checked += 1
    return checked


DOCUMENTED = documented_objects()


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_docstring_example_runs_and_states_true_results(name):
    if name in NOT_RUN:
        pytest.skip(NOT_RUN[name])
    if name in NEEDS_SAVED_MODEL_EXPORT and keras.backend.backend() not in (
        "jax",
        "tensorflow",
    ):
        pytest.skip("Keras exports SavedModels from jax and tensorflow only")
    code = "\n\n".join(examples(DOCUMENTED[name]))
    if "../shared" in code:
        code = code.replace("../shared", str(shared_dir()))
    keras.utils.set_random_seed(0)
    with contextlib.chdir(REPO_ROOT):
        run_example(code)


# Every public class and function of the package (`keras_bigs.__all__`
# less its modules and its exception).
PUBLIC = [
    value
    for value in (getattr(keras_bigs, name) for name in keras_bigs.__all__)
    if inspect.isfunction(value)
    or (inspect.isclass(value) and not issubclass(value, Exception))
]


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_public_classes_document_args_and_an_example(cls):
    assert "Args:" in cls.__doc__
    assert "```python" in cls.__doc__


def test_results_are_checked_and_a_wrong_one_fails():
    assert run_example("x = 2 + 2  # 4\nx * 1.5  # 6.0 (a float)") == 2
    assert run_example("import numpy as np\nnp.zeros((2, 3))  # (2, 3)") == 1
    assert run_example("'prose'  # a comment that states nothing") == 0
    with pytest.raises(AssertionError, match="gave 5"):
        run_example("2 + 3  # 4")
    with pytest.raises(ValueError, match="not a Python literal"):
        run_example("2 + 2  # 4 4")
