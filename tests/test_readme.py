"""The README: its Python snippet runs against the simulator and prints what it says.

The README is the first screen a newcomer sees; the guides are in docs/
(tested by ``tests/test_docs.py``). ``tests/snippet_harness.py`` says how a
snippet runs and how its output is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .sim.keys import rsa_pem
from .snippet_harness import ROOT, Snippet, check, snippets

README = ROOT / "README.md"


def test_the_readme_has_a_snippet_and_it_is_tested() -> None:
    assert len(snippets(README)) >= 1


@pytest.mark.interop  # the same marker as the docs' snippets, some of which use the official SDK
@pytest.mark.parametrize("snippet", snippets(README), ids=str)
def test_the_snippet_runs_and_prints_what_the_readme_says(snippet: Snippet, tmp_path: Path) -> None:
    check(snippet, tmp_path, rsa_pem("readme"))


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
