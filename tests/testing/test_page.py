"""The "Testing your bot" page's code runs: its bot and tests pass as a user would run them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
# The page lives in docs/ once the docs site has it; its draft until then.
PAGES = [ROOT / "docs" / "testing.md", ROOT / "TESTING_PAGE_DRAFT.md"]
TITLE = "# Testing your bot"
BLOCK = re.compile(r'```python(?: title="(?P<title>[^"]+)")?\n(?P<code>.*?)```', re.DOTALL)


def page() -> str:
    for path in PAGES:
        if path.exists() and path.read_text(encoding="utf-8").startswith(TITLE):
            return path.read_text(encoding="utf-8")
    raise AssertionError(f"no page starting with {TITLE!r} in {[str(p) for p in PAGES]}")


def test_the_page_s_bot_test_is_complete_and_short() -> None:
    files = {m["title"]: m["code"] for m in BLOCK.finditer(page()) if m["title"]}
    assert set(files) == {"mybot.py", "test_bot.py"}
    assert len(files["test_bot.py"].strip().splitlines()) < 20


def test_the_page_s_tests_pass(pytester: pytest.Pytester) -> None:
    blocks = list(BLOCK.finditer(page()))
    for match in blocks:
        if match["title"]:
            pytester.makepyfile(**{match["title"].removesuffix(".py"): match["code"]})
    # Untitled blocks that are whole tests (the official SDK's) run too.
    untitled = [match["code"] for match in blocks if not match["title"]]
    whole_tests = [code for code in untitled if code.startswith("def test_")]
    assert whole_tests, "the page shows a test with the official SDK"
    pytester.makepyfile(test_sdk="\n\n".join(whole_tests))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", "-v"
    )
    # The bot test runs on anyio's default backends, asyncio and trio.
    result.assert_outcomes(passed=3)
