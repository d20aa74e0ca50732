"""The README: its Python snippet runs against the simulator and prints what it says.

The README is the first screen a newcomer sees; the guides are in docs/
(tested by ``tests/repo/test_docs.py``). ``tests/snippet_harness.py`` says how a
snippet runs and how its output is checked.
"""

from __future__ import annotations

import builtins
import re
import symtable
from pathlib import Path

import pytest

from ..sim.keys import rsa_pem
from ..snippet_harness import ROOT, Snippet, check, snippets

README = ROOT / "README.md"


def test_the_readme_has_a_snippet_and_it_is_tested() -> None:
    assert len(snippets(README)) >= 1


@pytest.mark.interop  # the same marker as the docs' snippets, some of which use the official SDK
@pytest.mark.parametrize("snippet", snippets(README), ids=str)
def test_the_snippet_runs_and_prints_what_the_readme_says(snippet: Snippet, tmp_path: Path) -> None:
    check(snippet, tmp_path, rsa_pem("readme"))


def free_names(code: str) -> set[str]:
    """Names ``code`` uses that it neither defines nor imports, builtins aside."""
    top = symtable.symtable(code, "<snippet>", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    free: set[str] = set()

    def visit(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            name = symbol.get_name()
            at_top = table is top or symbol.is_global()
            known = name in defined or hasattr(builtins, name)
            if symbol.is_referenced() and at_top and not known:
                free.add(name)
        for child in table.get_children():
            visit(child)

    visit(top)
    return free


@pytest.mark.parametrize("snippet", snippets(README), ids=str)
def test_every_snippet_is_a_whole_program_to_paste_and_run(snippet: Snippet) -> None:
    # Compiled as a module, as `python snippet.py` would: no await outside a
    # function, every name imported or defined, and an event loop started.
    compile(snippet.code, str(snippet), "exec")
    assert free_names(snippet.code) == set()
    assert re.search(r"^(anyio\.run|asyncio\.run|trio\.run)\(", snippet.code, re.MULTILINE)


def test_a_fragment_is_not_a_whole_program() -> None:
    with pytest.raises(SyntaxError):
        compile("async with asyncquote.connect() as client:\n    pass\n", "<fragment>", "exec")
    assert free_names("async def main():\n    print(asyncquote.connect)\n") == {"asyncquote"}


def test_the_readme_links_to_pages_that_exist_on_a_checkout() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    assert "docs/quickstart.md" in links
    assert [link for link in links if not (ROOT / link).is_file()] == []


def test_the_readme_links_to_every_guide() -> None:
    text = README.read_text(encoding="utf-8")
    guides = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))
    unlinked = [g for g in guides if f"]({g})" not in text and g not in _NOT_LINKED]
    assert unlinked == []


# The site's home page repeats the README's introduction.
_NOT_LINKED = {"docs/index.md"}


def test_the_readme_keeps_the_health_section_issue_14_asks_for() -> None:
    assert "\n## Is OpenD healthy?\n" in README.read_text(encoding="utf-8")
