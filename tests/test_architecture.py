"""The package reads one way: no import cycle, no import of the package
hidden inside a function, and each part imports only the parts below it;
private Keras and keras-hub names are touched in one module only."""

import ast

import keras
import keras_hub

from keras_bigs.keras_hub_internals import PRIVATE_METHODS
from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "keras_bigs"
TOOLS = REPO_ROOT / "tools"
# The one module that may import `keras.src` / `keras_hub.src` and touch
# private Keras and keras-hub names.
INTERNALS = "keras_bigs.keras_hub_internals"

# What each part of the package may import besides itself (the package's
# `__init__.py` gathers the public API and may import anything).
ALLOWED_IMPORTS = {
    "keras_hub_internals": set(),
    "layers": set(),
    "convert": {"keras_hub_internals"},
    "presets": {"convert", "keras_hub_internals"},
    "models": {"layers", "convert", "presets", "keras_hub_internals", "data"},
    "tokenizers": {"models"},
    "data": set(),
    "serving": {"layers", "models", "data", "keras_hub_internals"},
    "training": {
        "layers",
        "convert",
        "presets",
        "models",
        "data",
        "serving",
        "keras_hub_internals",
    },
    "analysis": {"layers", "convert", "models", "data", "training"},
    # The int8 benchmark scores against the original's reference outputs.
    "performance": {
        "layers",
        "convert",
        "models",
        "data",
        "serving",
        "training",
        "keras_hub_internals",
    },
}


def module_name(path):
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_module(name):
    path = REPO_ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


class ImportCollector(ast.NodeVisitor):
    """`(imported keras_bigs module, line, inside a function)` of a file."""

    def __init__(self, module, is_package):
        self.package = module if is_package else module.rpartition(".")[0]
        self.depth = 0
        self.found = []

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def add(self, name, node):
        if name == "keras_bigs" or name.startswith("keras_bigs."):
            self.found.append((name, node.lineno, self.depth > 0))

    def visit_Import(self, node):
        for alias in node.names:
            self.add(alias.name, node)

    def visit_ImportFrom(self, node):
        base = node.module or ""
        if node.level:
            parent = self.package.split(".")[
                : len(self.package.split(".")) - node.level + 1
            ]
            base = ".".join(parent + ([base] if base else []))
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            self.add(candidate if is_module(candidate) else base, node)


def import_graph():
    """`{module: [(imported module, line, inside a function), ...]}` of
    every module of the package."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        collector = ImportCollector(module, path.name == "__init__.py")
        collector.visit(ast.parse(path.read_text(), str(path)))
        graph[module] = collector.found
    return graph


def cycles(graph):
    """The strongly connected components with more than one module (or a
    module importing itself), by Tarjan's algorithm."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target, _, _ in graph.get(node, []):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            loops = any(t == node for t, _, _ in graph.get(node, []))
            if len(component) > 1 or loops:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_no_function_imports_part_of_the_package():
    hidden = [
        f"{module} line {line}: {target}"
        for module, imports in import_graph().items()
        for target, line, in_function in imports
        if in_function
    ]
    assert hidden == []


def test_each_part_imports_only_the_parts_below_it():
    graph = import_graph()
    assert {part(m) for m in graph if part(m)} == set(ALLOWED_IMPORTS)
    wrong = []
    for module, imports in graph.items():
        source = part(module)
        if source is None:
            continue
        for target, line, _ in imports:
            if part(target) not in ALLOWED_IMPORTS[source] | {source}:
                wrong.append(f"{module} line {line} imports {target}")
    assert wrong == []


def test_the_checks_see_a_cycle_and_a_hidden_import():
    graph = {
        "keras_bigs.a": [("keras_bigs.b", 1, False)],
        "keras_bigs.b": [("keras_bigs.a", 3, True)],
        "keras_bigs.c": [("keras_bigs.a", 1, False)],
    }
    assert cycles(graph) == [["keras_bigs.a", "keras_bigs.b"]]
    source = "def f():\n    from keras_bigs.models import bigs_backbone\n"
    collector = ImportCollector("keras_bigs.layers.s4d", False)
    collector.visit(ast.parse(source))
    assert collector.found == [("keras_bigs.models.bigs_backbone", 2, True)]


# Classes whose private (single-underscore) attributes belong to Keras or
# keras-hub: their methods and properties are found by `dir`.
KERAS_CLASSES = (
    keras.layers.Layer,
    keras.Model,
    keras.Variable,
    keras.optimizers.Optimizer,
    keras.optimizers.AdamW,
    keras.optimizers.schedules.LearningRateSchedule,
    keras.callbacks.Callback,
    keras.losses.Loss,
    keras.metrics.Metric,
    keras_hub.models.Backbone,
    keras_hub.models.Task,
    keras_hub.models.Preprocessor,
    keras_hub.models.TextClassifier,
    keras_hub.models.MaskedLM,
    keras_hub.layers.MaskedLMHead,
    keras_hub.layers.PositionEmbedding,
    keras_hub.tokenizers.WordPieceTokenizer,
)
# Private Keras and keras-hub names `dir` of those classes misses: instance
# attributes set in `__init__` or `build`, and methods of one backend's
# trainer or optimizer.
PRIVATE_ATTRIBUTES = {
    "_bias",
    "_build_shapes_dict",
    "_functional",
    "_get_jax_state",
    "_intermediate_dense",
    "_intermediate_layer_norm",
    "_kernel",
    "_layers",
    "_tracker",
}
PRIVATE_PACKAGES = ("keras.src", "keras_hub.src", "keras_nlp.src")


def private_keras_names():
    names = set(PRIVATE_ATTRIBUTES)
    for cls in KERAS_CLASSES:
        names.update(
            name
            for name in dir(cls)
            if name.startswith("_") and not name.startswith("__")
        )
    return names


def is_private_package(name):
    return any(
        name == package or name.startswith(package + ".")
        for package in PRIVATE_PACKAGES
    )


class PrivateAccessCollector(ast.NodeVisitor):
    """`(line, what)` of each use of a private Keras or keras-hub name in a
    file: an import from `keras.src` / `keras_hub.src`, an attribute
    `keras.src`, an access (`x._flatten_layers()`, `getattr(x, "_name")`)
    or an override (`def _use_weight_decay`) of a private name."""

    def __init__(self, private_names):
        self.private_names = private_names
        self.found = []

    def visit_Import(self, node):
        for alias in node.names:
            if is_private_package(alias.name):
                self.found.append((node.lineno, f"import {alias.name}"))

    def visit_ImportFrom(self, node):
        if not node.level and is_private_package(node.module or ""):
            self.found.append((node.lineno, f"from {node.module} import"))

    def visit_Attribute(self, node):
        if node.attr in self.private_names:
            self.found.append((node.lineno, f".{node.attr}"))
        elif (
            node.attr == "src"
            and isinstance(node.value, ast.Name)
            and node.value.id in ("keras", "keras_hub", "keras_nlp")
        ):
            self.found.append((node.lineno, f"{node.value.id}.src"))
        self.generic_visit(node)

    def visit_Call(self, node):
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in self.private_names
        ):
            self.found.append(
                (node.lineno, f"{node.func.id}(..., {node.args[1].value!r})")
            )
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        for statement in node.body:
            if (
                isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and statement.name in self.private_names
            ):
                self.found.append(
                    (statement.lineno, f"def {statement.name} (override)")
                )
        self.generic_visit(node)


def private_accesses(source, private_names):
    collector = PrivateAccessCollector(private_names)
    collector.visit(ast.parse(source))
    return collector.found


def test_private_keras_names_are_touched_in_the_internals_module_only():
    private_names = private_keras_names()
    # The scan is only as good as its list: it holds every private method
    # the internals module wraps.
    wrapped = {name for names in PRIVATE_METHODS.values() for name in names}
    assert wrapped | {"_get_jax_state"} <= private_names
    paths = sorted(PACKAGE.rglob("*.py")) + sorted(TOOLS.glob("*.py"))
    leaks = [
        f"{path.relative_to(REPO_ROOT)} line {line}: {what}"
        for path in paths
        if module_name(path) != INTERNALS
        for line, what in private_accesses(path.read_text(), private_names)
    ]
    assert leaks == []


def test_the_private_access_check_sees_each_kind_of_access():
    source = (
        "import keras.src.utils\n"
        "from keras_hub.src.utils import preset_utils\n"
        "import keras\n"
        "x = keras.src.backend\n"
        "layers = model._flatten_layers()\n"
        "state = getattr(model, '_get_jax_state')\n"
        "class Adam(keras.optimizers.AdamW):\n"
        "    def _use_weight_decay(self, variable):\n"
        "        return self._own_helper(variable)\n"
    )
    assert private_accesses(source, private_keras_names()) == [
        (1, "import keras.src.utils"),
        (2, "from keras_hub.src.utils import"),
        (4, "keras.src"),
        (5, "._flatten_layers"),
        (6, "getattr(..., '_get_jax_state')"),
        (8, "def _use_weight_decay (override)"),
    ]
