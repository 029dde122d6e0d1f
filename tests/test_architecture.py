"""The package reads one way: no import cycle, no import of the package
hidden inside a function, and each part imports only the parts below it."""

import ast

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "keras_bigs"

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
    "serving": {"layers", "models", "data"},
    "training": {"layers", "models", "data", "serving"},
    "analysis": {"layers", "convert", "models", "data", "training"},
    # The int8 benchmark scores against the original's reference outputs.
    "performance": {
        "layers",
        "convert",
        "models",
        "data",
        "serving",
        "training",
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
