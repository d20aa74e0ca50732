"""The documentation site (docs/): every Python block runs and prints what the page says.

``tests/snippet_harness.py`` says how a snippet runs against the simulator
and how its output is checked; ``make docs`` builds the site with
``mkdocs build --strict`` (broken links, bad docstrings). Here, besides the
snippets: the API reference documents every public name, the harness
catches a snippet that lies, and facts the pages list (fault names, sample
groups, test files) are the code's.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from importlib.metadata import metadata
from pathlib import Path
from typing import Any

import pytest

import asyncquote
import asyncquote.sim
import asyncquote.testing
from asyncquote.sim import FAULT_NAMES, WatchlistStore
from asyncquote.sim._watchlists import GroupType

from ..sim.keys import rsa_pem
from ..snippet_harness import ROOT, Snippet, check, output_matches, snippets
from .test_public_api import PUBLIC

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
SNIPPETS = [snippet for page in PAGES for snippet in snippets(page)]


def test_the_guides_have_snippets_and_each_is_tested() -> None:
    assert len(SNIPPETS) >= 25
    pages_with_snippets = {snippet.page for snippet in SNIPPETS}
    for guide in ("quickstart", "concurrency", "quotas", "staying-connected", "simulator"):
        assert f"docs/{guide}.md" in pages_with_snippets


@pytest.mark.interop  # some snippets use the official SDK's classes
@pytest.mark.parametrize("snippet", SNIPPETS, ids=str)
def test_the_snippet_runs_and_prints_what_the_page_says(snippet: Snippet, tmp_path: Path) -> None:
    check(snippet, tmp_path, rsa_pem("docs"))


@pytest.mark.parametrize(
    "snippet", [s for s in SNIPPETS if s.page == "docs/quotas.md"][:1], ids=str
)
def test_the_quota_example_prints_the_same_when_replies_take_time(
    snippet: Snippet, tmp_path: Path
) -> None:
    # Under the harness's virtual clock replies take no time; in real time
    # they do, and the example must print what its page shows all the same.
    check(snippet, tmp_path, b"", reply_delay=0.01)


# What a page must say before its examples may import a package that
# `pip install -e .` does not bring.
INSTALLS_NAMED = {"futu": "pip install futu-api", "pytest": '".[testing]"', "pandas": "[pandas"}
DEPENDENCIES = {"asyncquote", "anyio", "pydantic", "google"}


def imported(code: str) -> set[str]:
    tree = ast.parse("async def _():\n" + textwrap.indent(code, "    "))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.partition(".")[0])
    return names


@pytest.mark.parametrize("page", [ROOT / "README.md", *PAGES], ids=lambda p: p.name)
def test_a_page_whose_examples_import_a_package_says_how_to_install_it(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"```python([^\n]*)\n(.*?)```", text, re.DOTALL)
    own = {m for title, _ in blocks for m in re.findall(r'title="(\w+)\.py"', title)}
    for _, code in blocks:
        for name in imported(code) - set(sys.stdlib_module_names) - DEPENDENCIES - own:
            assert name in INSTALLS_NAMED, f"{page.name}: an example imports {name}"
            assert INSTALLS_NAMED[name] in text, (
                f"{page.name}: an example imports {name}, but the page does not say "
                f"{INSTALLS_NAMED[name]}"
            )


def extra_requirements(extra: str) -> set[str]:
    """The names of the packages asyncquote's ``extra`` installs."""
    requirements = metadata("asyncquote").get_all("Requires-Dist") or []
    marker = re.compile(rf"""extra\s*==\s*["']{extra}["']""")
    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] for r in requirements if marker.search(r)}


def test_the_testing_page_and_the_testing_extra_agree_on_trio() -> None:
    # The page says anyio's plugin runs tests on trio too; that is only so
    # when trio is installed, which the extra must do or the page must say.
    text = (DOCS / "testing.md").read_text(encoding="utf-8")
    assert "pytest" in extra_requirements("testing")
    if "trio" not in extra_requirements("testing"):
        assert "pip install trio" in text
        assert "runs the test twice" not in text


# -- the harness is strict


def lying(code: str, expected: str | None) -> Snippet:
    return Snippet("docs/lie.md", 1, code, expected)


def test_a_snippet_that_prints_something_else_fails(tmp_path: Path) -> None:
    snippet = lying('print(len(await client.get_user_security("HK")))\n', "7\n")
    with pytest.raises(AssertionError, match="printed:\n6\n"):
        check(snippet, tmp_path, b"")


def test_a_snippet_that_prints_what_its_page_does_not_show_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="does not say what"):
        check(lying("print(1)\n", None), tmp_path, b"")


def test_a_snippet_that_raises_fails(tmp_path: Path) -> None:
    snippet = lying('await client.get_user_security("No such group")\n', None)
    with pytest.raises(AssertionError, match="Unknown watchlists"):
        check(snippet, tmp_path, b"")


def test_a_snippet_that_runs_on_fails_unless_it_loops(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="failed"):
        check(lying("await anyio.sleep_forever()\n", None), tmp_path, b"")


def test_the_output_check_is_strict_where_it_should_be() -> None:
    assert output_matches("a ... c\n", "a b c\n")
    assert not output_matches("a ... c\n", "a b d\n")
    assert not output_matches("one\n", "one\ntwo\n")


def test_a_text_block_belongs_to_the_python_block_right_before_it(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nprint(1)\n```\n\n```text\n1\n```\n\n"
        "```python\npass\n```\n\n```console\n$ x\n```\n\n```text\n2\n```\n",
        encoding="utf-8",
    )
    found = snippets(page)
    assert [(s.line, s.code, s.expected) for s in found] == [
        (1, "print(1)\n", "1\n"),
        (9, "pass\n", None),
    ]


# -- the API reference


def documented() -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))
    return set(re.findall(r"^::: ([\w.]+)$", text, re.MULTILINE))


PUBLIC_MODULES = [asyncquote, asyncquote.sim, asyncquote.testing]


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_the_api_reference_documents_every_public_name(module: object) -> None:
    names = {f"{module.__name__}.{name}" for name in module.__all__}  # type: ignore[attr-defined]
    assert sorted(names - documented()) == []


def reference_page(module: str) -> Path:
    """The reference page titled with ``module``'s name."""
    pages = [
        page
        for page in sorted((DOCS / "reference").glob("*.md"))
        if page.read_text(encoding="utf-8").startswith(f"# `{module}`\n")
    ]
    assert len(pages) == 1, f"no reference page (or several) for {module}: {pages}"
    return pages[0]


def test_the_public_modules_are_the_pinned_ones() -> None:
    assert sorted(m.__name__ for m in PUBLIC_MODULES) == sorted(PUBLIC)


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_public_module_has_a_reference_page_that_the_index_and_readme_link(
    module: str,
) -> None:
    page = reference_page(module)
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert f"](reference/{page.name})" in index, f"docs/index.md does not link {page.name}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"](docs/reference/{page.name})" in readme, f"README.md does not link {page.name}"
    assert f"reference/{page.name}" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_no_page_calls_a_public_module_private() -> None:
    # docs/cli.md said only asyncquote and asyncquote.sim were public.
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        if "private" in text and "asyncquote/sim/__init__.py" in text:
            assert "asyncquote/testing/__init__.py" in text, page


def test_the_api_reference_documents_only_public_names() -> None:
    public = {f"{m.__name__}.{name}" for m in PUBLIC_MODULES for name in m.__all__}
    roots = {m.__name__ for m in PUBLIC_MODULES}
    assert sorted(documented() - public - roots) == []


# -- facts the pages list are the code's


def section(page: Path, title: str) -> str:
    text = page.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_simulator_page_names_the_sample_datas_custom_groups() -> None:
    custom = [g.name for g in WatchlistStore.sample().groups if g.group_type == GroupType.CUSTOM]
    text = section(DOCS / "simulator.md", "What it serves")
    described = re.search(r"custom groups? ((?:`[^`]+`(?:, | and )?)+)", text)
    assert described is not None, "the simulator page names no custom groups"
    assert re.findall(r"`([^`]+)`", described.group(1)) == custom


def test_the_simulator_page_spells_faults_as_the_command_line_does() -> None:
    text = section(DOCS / "simulator.md", "Faults")
    faults_part = text[text.index("--fault NAME") :]
    named = re.findall(r"`([a-z0-9_-]+)`", faults_part)
    named = [
        name
        for name in named
        if name.replace("-", "_") in {n.replace("-", "_") for n in FAULT_NAMES}
    ]
    assert len(set(named)) == len(FAULT_NAMES)
    assert [name for name in named if name not in FAULT_NAMES] == []


def test_the_test_files_the_pages_name_exist() -> None:
    """The pages' commands (e.g. the long soak) name test files that are there."""
    text = "".join(page.read_text(encoding="utf-8") for page in PAGES)
    named = set(re.findall(r"\btests/[\w/]+\.py\b", text))
    assert "tests/e2e/test_soak.py" in named
    assert [path for path in sorted(named) if not (ROOT / path).is_file()] == []


def test_every_page_is_in_the_sites_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r": ([\w/-]+\.md)$", nav, re.MULTILINE))
    assert sorted(p.relative_to(DOCS).as_posix() for p in PAGES) == sorted(listed)


def test_make_docs_fails_on_warnings() -> None:
    """``make docs`` is strict, and not quiet: mkdocs 1.6 does not count the
    warnings it does not print, so ``--strict --quiet`` passes a broken link."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^docs:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None, "the Makefile has no docs target"
    build = [line for line in recipe.group(1).splitlines() if "mkdocs build" in line]
    assert len(build) == 1
    assert "--strict" in build[0].split()
    assert not {"-q", "--quiet"} & set(build[0].split())


def rst_roles() -> Any:
    """docs/rst_roles.py, the griffe extension the reference is built with."""
    pytest.importorskip("griffe", reason="the docs extra is not installed (make docs installs it)")
    sys.path.insert(0, str(DOCS))
    try:
        import rst_roles
    finally:
        sys.path.remove(str(DOCS))
    return rst_roles


def test_docstring_roles_become_markdown_links_to_the_reference() -> None:
    markdown = rst_roles().markdown
    assert markdown("Obtain one with :func:`connect`.") == (
        "Obtain one with [`connect`][asyncquote.connect]."
    )
    assert markdown(":meth:`QuoteClient.request`") == (
        "[`QuoteClient.request`][asyncquote.QuoteClient.request]"
    )
    # An enum member has no heading of its own: its class does.
    assert markdown(":attr:`GroupType.ALL`") == "[`GroupType.ALL`][asyncquote.GroupType]"
    assert markdown(":class:`~asyncquote.sim.Faults`") == "[`Faults`][asyncquote.sim.Faults]"
    # Private and relative names are shown, not linked.
    assert markdown(":class:`~._faults.Faults`, :meth:`request`") == "`Faults`, `request`"
    assert markdown(":mod:`asyncquote.sim._texts`") == "`asyncquote.sim._texts`"
    assert markdown("Quickstart::\n\n    run(main)\n\nAfter.") == (
        "Quickstart:\n\n```python\nrun(main)\n```\n\nAfter."
    )
    assert markdown(":class:`asyncquote.testing.OpenD`") == (
        "[`asyncquote.testing.OpenD`][asyncquote.testing.OpenD]"
    )


def test_every_public_method_of_the_client_is_in_the_reference_with_its_docstring() -> None:
    # QuoteClient takes follow_user_security from its own module by an
    # assignment in the class body, which griffe read as an attribute without
    # a docstring: the reference left the method out, and a link to it broke
    # `make docs`.
    extension = rst_roles().RstRoles()
    import griffe

    package = griffe.load("asyncquote", extensions=griffe.load_extensions(extension))
    documented = package["QuoteClient"].all_members
    methods = [
        name
        for name, value in inspect.getmembers(asyncquote.QuoteClient)
        if not name.startswith("_") and callable(value)
    ]
    assert "follow_user_security" in methods
    missing = [
        name
        for name in methods
        if name not in documented
        or not documented[name].is_function
        or not documented[name].docstring
    ]
    assert missing == []


def test_a_literal_block_after_a_list_renders_as_code_not_as_a_paragraph() -> None:
    # asyncquote.testing's docstring: indented lines after a list item are
    # Markdown's continuation of the item, so its example ran into one paragraph.
    markdown = rst_roles().markdown
    text = (
        "Fixtures:\n\n* ``a``: one\n  two.\n\n::\n\n"
        "    import pytest\n\n    def test():\n        pass\n\nAfter."
    )
    assert markdown(text) == (
        "Fixtures:\n\n* ``a``: one\n  two.\n\n```python\nimport pytest\n\n"
        "def test():\n    pass\n```\n\nAfter."
    )
    # Not Python (a frame's layout): a plain block; "> " in it is not escaped.
    assert markdown("Layout::\n\n    > header | body\n") == (
        "Layout:\n\n```text\n> header | body\n```\n"
    )
    assert "```python" in markdown(asyncquote.testing.__doc__ or "")
    assert markdown("seconds;\n    > 0, or none") == "seconds;\n    \\> 0, or none"


# `client` in code (a Python block, or inline as `await client.x(...)`), and
# where a page makes one: `as client`, a `client` parameter or the fixture.
_CLIENT_USED = re.compile(r"```python[^\n]*\n(?:(?!```).)*\bclient\.|`[^`\n]*\bclient\.", re.DOTALL)
_CLIENT_MADE = re.compile(r"as client\b|\bclient: asyncquote\.QuoteClient|opend_client")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS)))
def test_a_page_says_where_its_client_comes_from_before_using_it(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    used = _CLIENT_USED.search(text)
    if used is None:
        return
    # Up to the end of the first use: a block may make its client and use it.
    assert _CLIENT_MADE.search(text, 0, used.end()), (
        f"{page.name} uses `client` ({used.group()[-40:]!r}) before saying where it comes from"
    )


def _raises_entries_without_a_description() -> list[str]:
    """``Raises:`` entries that griffe's Google parser cannot split into exception and text.

    An entry is one line at the section's indentation, ``Names: what``; a
    line of names continued on the next line is a warning, which fails
    ``make docs`` (mkdocs --strict).
    """
    found = []
    for path in sorted((ROOT / "asyncquote").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if line.strip() != "Raises:":
                continue
            indent = len(line) - len(line.lstrip()) + 4
            for entry in lines[number + 1 :]:
                if not entry.strip() or len(entry) - len(entry.lstrip()) < indent:
                    break
                if len(entry) - len(entry.lstrip()) == indent and ":" not in entry:
                    found.append(f"{path.relative_to(ROOT)}:{entry.strip()}")
    return found


def test_every_raises_entry_names_its_exceptions_and_says_when_on_one_line() -> None:
    assert _raises_entries_without_a_description() == []
