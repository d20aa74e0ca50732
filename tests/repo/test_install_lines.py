"""Every ``pip install`` line the docs, the README and the code's hints give works today.

asyncquote is not on a package index, so a line that asks one for it
(``pip install "asyncquote[testing]"``) fails with "No matching distribution
found". The forms that work are docs/install.md's: ``pip install -e
".[extra]"`` in a checkout and ``pip install
"dist/asyncquote-<version>-py3-none-any.whl[extra]"``; the nox ``package``
session installs the built wheel in exactly that second form.
"""

from __future__ import annotations

import re
from importlib.metadata import metadata

import pytest

import asyncquote
from asyncquote._base.install import install_hint

from ..snippet_harness import ROOT

# asyncquote/_base/install.py builds its lines from templates: its output is checked instead.
HINTS = ROOT / "asyncquote" / "_base" / "install.py"
SOURCES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted(path for path in (ROOT / "asyncquote").rglob("*.py") if path != HINTS),
    ROOT / "noxfile.py",
]
# What "pip install" is given: -e and one argument, quoted or not.
_LINE = re.compile(r"""pip install ((?:-e )?(?:"[^"]*"|'[^']*'|[^\s`'"]+))""")
_EXTRAS = r"\[(?P<extras>[a-z,]+)\]"
_WORKING = (
    re.compile(r"-e \.$"),
    re.compile(rf'-e "\.{_EXTRAS}"$'),
    re.compile(rf'"dist/asyncquote-(<version>|\d+\.\d+\.\d+)-py3-none-any\.whl{_EXTRAS}"$'),
)
EXTRAS = set(metadata("asyncquote").get_all("Provides-Extra") or ())


def install_lines() -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        for match in _LINE.finditer(path.read_text(encoding="utf-8")):
            found.append((str(path.relative_to(ROOT)), match.group(1).rstrip("),;")))
    return found


def check(command: str) -> None:
    """``command`` (what follows ``pip install``) is a form that works."""
    if "asyncquote" not in command and not command.startswith("-e"):
        return  # another package (uvicorn, build, ...), from the index
    for form in _WORKING:
        if match := form.match(command):
            named = set(match.groupdict().get("extras", "").split(",")) - {""}
            assert named <= EXTRAS, f"pip install {command}: no extra {named - EXTRAS}"
            return
    raise AssertionError(f"pip install {command}: not a form docs/install.md gives")


LINES = install_lines()


def test_the_docs_give_install_lines_of_both_forms() -> None:
    commands = {command for _, command in LINES}
    assert '-e ".[testing]"' in commands
    assert '"dist/asyncquote-<version>-py3-none-any.whl[testing]"' in commands
    assert {"crypto", "websocket", "pandas", "testing"} <= EXTRAS


@pytest.mark.parametrize(("where", "command"), LINES, ids=[f"{w}:{c}" for w, c in LINES])
def test_every_install_line_works_without_a_package_index(where: str, command: str) -> None:
    check(command)


@pytest.mark.parametrize("extra", ["crypto", "websocket", "pandas"])
def test_the_import_error_hints_give_both_forms(extra: str) -> None:
    hint = install_hint(extra)
    commands = [match.group(1) for match in _LINE.finditer(hint)]
    assert commands == [
        f'-e ".[{extra}]"',
        f'"dist/asyncquote-{asyncquote.__version__}-py3-none-any.whl[{extra}]"',
    ]
    for command in commands:
        check(command)


@pytest.mark.parametrize(
    "command",
    ['"asyncquote[testing]"', "'asyncquote[websocket]'", '-e ".[nosuchextra]"', "asyncquote"],
)
def test_a_line_that_asks_an_index_for_asyncquote_is_caught(command: str) -> None:
    with pytest.raises(AssertionError):
        check(command)
