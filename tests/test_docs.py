"""README.md and the guides in docs/ name only what exists: every
`tools/NAME.py --flag` is a tool and an option of its argparse parser,
every flag shown alone (`--flag`) is an option of some tool, every
`keras_bigs.X.Y` resolves, every repository path is a file or folder,
and every relative link reaches a file and heading.

A problem is reported as `FILE:LINE: what is wrong`.
"""

import argparse
import functools
import importlib
import importlib.util
import re
from unittest import mock

import pytest

from tests.conftest import REPO_ROOT

README_MAX_LINES = 250
DOCS = REPO_ROOT / "docs"

FENCE = re.compile(r"^\s*```")
INLINE_CODE = re.compile(r"`([^`]+)`")
TOOL = re.compile(r"(?<![\w./-])tools/(\w+)\.py\b")
# Where a shell command ends: a chained command, a pipe or a comment.
COMMAND_END = re.compile(r"&&|\|\||[;|]|(?:^|\s)#")
TOKEN = re.compile(r"\S+")
FLAG = re.compile(r"--[A-Za-z0-9][\w-]*")
PYTHON_NAME = re.compile(r"\bkeras_bigs(?:\.[A-Za-z_]\w*)+")
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:keras_bigs|tests|tools|\.ci)/[\w./-]*[\w/])"
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def doc_files():
    return [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def label(path, line):
    return f"{path.relative_to(REPO_ROOT)}:{line}"


def code_texts(text):
    """`(first line number, code)` of every command of the fenced blocks
    (lines continued with a trailing `\\` joined, the line breaks kept)
    and every inline code span outside them (which may run over a line
    break)."""
    found, prose = [], []
    lines = text.split("\n")
    fenced, pending, start = False, [], 0
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            fenced = not fenced
            prose.append("")
            continue
        if not fenced:
            prose.append(line)
            continue
        prose.append("")
        if not pending:
            start = number
        pending.append(line.rstrip())
        if not line.rstrip().endswith("\\"):
            found.append((start, "\n".join(p.rstrip("\\") for p in pending)))
            pending = []
    prose_text = "\n".join(prose)
    for match in INLINE_CODE.finditer(prose_text):
        if "\n\n" not in match.group(1):
            number = prose_text.count("\n", 0, match.start()) + 1
            found.append((number, match.group(1)))
    return found


class _ParserBuilt(Exception):
    def __init__(self, parser):
        super().__init__()
        self.parser = parser


@functools.cache
def tool_options(name):
    """The option strings of `tools/NAME.py`'s parser (`--no-x` of a
    `BooleanOptionalAction` included), or `None` when there is no such
    tool. The tool is imported, not run: its `parse_args` (or `main`)
    is called with parsing intercepted once the parser is built."""
    path = REPO_ROOT / "tools" / f"{name}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_docs_tool_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry = getattr(module, "parse_args", None) or module.main

    def intercept(parser, *args, **kwargs):
        raise _ParserBuilt(parser)

    with (
        mock.patch.object(argparse.ArgumentParser, "parse_args", intercept),
        mock.patch.object(
            argparse.ArgumentParser, "parse_known_args", intercept
        ),
    ):
        try:
            entry(["--help"])
        except _ParserBuilt as built:
            return frozenset(built.parser._option_string_actions)
    raise AssertionError(f"tools/{name}.py parsed no command line")


def tool_problems(path, text):
    """A problem for every `tools/NAME.py` that does not exist and every
    `--flag` after one, in the same command, that its parser lacks."""
    problems = []
    for number, code in code_texts(text):
        for match in TOOL.finditer(code):
            name = match.group(1)
            options = tool_options(name)
            if options is None:
                line = number + code.count("\n", 0, match.start())
                problems.append(f"{label(path, line)}: no tool {name}.py")
                continue
            end = len(code)
            for stop in (COMMAND_END, TOOL):
                found = stop.search(code, match.end())
                end = min(end, found.start()) if found else end
            for token in TOKEN.finditer(code, match.end(), end):
                flag = FLAG.match(token.group().strip("[](){}\"'"))
                if flag and flag.group() not in options:
                    line = number + code.count("\n", 0, token.start())
                    problems.append(
                        f"{label(path, line)}: tools/{name}.py has no "
                        f"flag {flag.group()}"
                    )
    return problems


@functools.cache
def every_tool_option():
    """The option strings of every tool in `tools/`."""
    return frozenset().union(
        *(tool_options(path.stem) for path in REPO_ROOT.glob("tools/*.py"))
    )


def bare_flag_problems(path, text):
    """A problem for every code span that starts with a `--flag` (a flag
    shown outside a tool's command, as in a table of flags) that no
    tool's parser has."""
    problems = []
    for number, code in code_texts(text):
        flag = FLAG.match(code)
        if flag and flag.group() not in every_tool_option():
            problems.append(
                f"{label(path, number)}: no tool has the flag {flag.group()}"
            )
    return problems


def resolve(dotted):
    """The object a dotted `keras_bigs.` name stands for: the longest
    importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            value = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if not f"{module_name}.".startswith(f"{error.name}."):
                raise
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(dotted)


def name_problems(path, text):
    """A problem for every `keras_bigs.X.Y` that does not resolve."""
    problems = []
    for number, line in enumerate(text.split("\n"), start=1):
        for match in PYTHON_NAME.finditer(line):
            try:
                resolve(match.group())
            except (AttributeError, ModuleNotFoundError):
                problems.append(
                    f"{label(path, number)}: {match.group()} does not resolve"
                )
    return problems


def heading_anchors(text):
    """GitHub's anchors of a Markdown file's headings."""
    anchors, fenced = set(), False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def link_problems(path, text):
    """A problem for every repository path that does not exist and every
    relative link whose file or heading does not."""
    problems = []
    for number, line in enumerate(text.split("\n"), start=1):
        for match in REPO_PATH.finditer(line):
            if TOOL.fullmatch(match.group(1)):
                continue  # `tool_problems` checks the tools
            if not (REPO_ROOT / match.group(1)).exists():
                problems.append(
                    f"{label(path, number)}: no file {match.group(1)}"
                )
        for match in LINK.finditer(line):
            target = match.group(1)
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = path.parent / file_part
            if file_part and not linked.exists():
                problems.append(f"{label(path, number)}: no file {target}")
                continue
            if not anchor or (file_part and linked.suffix != ".md"):
                continue
            linked_text = linked.read_text() if file_part else text
            if anchor not in heading_anchors(linked_text):
                shown = linked if file_part else path
                problems.append(
                    f"{label(path, number)}: no heading #{anchor} in "
                    f"{shown.relative_to(REPO_ROOT)}"
                )
    return problems


def all_problems(check):
    problems = []
    for path in doc_files():
        problems += check(path, path.read_text())
    return problems


def test_readme_is_short_and_the_index_lists_every_guide():
    readme = (REPO_ROOT / "README.md").read_text()
    assert len(readme.split("\n")) <= README_MAX_LINES
    assert "bash tests/run.sh" in readme
    assert "bash tools/setup.sh && " in readme
    index = (DOCS / "README.md").read_text()
    guides = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert guides
    unlisted = sorted(g for g in guides if f"]({g})" not in index)
    assert not unlisted, f"docs/README.md does not link {unlisted}"


def test_every_tool_and_flag_in_the_docs_exists():
    problems = all_problems(tool_problems)
    assert not problems, "\n".join(problems)


def test_every_flag_shown_alone_in_the_docs_exists():
    problems = all_problems(bare_flag_problems)
    assert not problems, "\n".join(problems)


def test_every_keras_bigs_name_in_the_docs_resolves():
    problems = all_problems(name_problems)
    assert not problems, "\n".join(problems)


def test_every_path_and_link_in_the_docs_exists():
    problems = all_problems(link_problems)
    assert not problems, "\n".join(problems)


@pytest.fixture
def bad_doc():
    path = DOCS / "bad.md"
    text = "\n".join(
        [
            "# A guide",
            "```bash",
            ".venv/bin/python tools/run_glue.py --task sst2 \\",
            "    --no-such-flag 1 --padding-invariant && ls --all",
            "```",
            "Then `tools/pretrain.py --glue-dir G",
            "--steps=3 [--bogus]`, `tools/nope.py --x`,",
            "`keras_bigs.BiGSBackbone.from_preset` and `keras_bigs.Nope`,",
            "`tools/run_glue.py --no-padding-invariant --help`;",
            "see [a](#a-guide), [b](#nowhere), [c](tasks_missing.md)",
            "and keras_bigs/no_such_module.py.",
            "Flags alone: `--freeze-ssm`, `--no-such-recipe-flag 3`.",
        ]
    )
    return path, text


def test_the_checks_name_file_line_and_what_is_wrong(bad_doc):
    path, text = bad_doc
    assert code_texts(text)[0] == (
        3,
        ".venv/bin/python tools/run_glue.py --task sst2 \n"
        "    --no-such-flag 1 --padding-invariant && ls --all",
    )
    assert tool_problems(path, text) == [
        "docs/bad.md:4: tools/run_glue.py has no flag --no-such-flag",
        "docs/bad.md:7: tools/pretrain.py has no flag --bogus",
        "docs/bad.md:7: no tool nope.py",
    ]
    assert bare_flag_problems(path, text) == [
        "docs/bad.md:12: no tool has the flag --no-such-recipe-flag"
    ]
    assert name_problems(path, text) == [
        "docs/bad.md:8: keras_bigs.Nope does not resolve"
    ]
    assert link_problems(path, text) == [
        "docs/bad.md:10: no heading #nowhere in docs/bad.md",
        "docs/bad.md:10: no file tasks_missing.md",
        "docs/bad.md:11: no file keras_bigs/no_such_module.py",
    ]
