"""The "Testing your bot" page's code runs: its bot and tests pass as a user would run them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "testing.md"
TITLE = "# Testing your bot"
BLOCK = re.compile(r'```python(?: title="(?P<title>[^"]+)")?\n(?P<code>.*?)```', re.DOTALL)


def page() -> str:
    text = PAGE.read_text(encoding="utf-8")
    assert text.startswith(TITLE)
    return text


def test_the_page_s_bot_test_is_complete_and_short() -> None:
    files = {m["title"]: m["code"] for m in BLOCK.finditer(page()) if m["title"]}
    assert {"mybot.py", "test_bot.py"} <= set(files)
    assert len(files["test_bot.py"].strip().splitlines()) < 20


def test_the_page_s_tests_pass(pytester: pytest.Pytester) -> None:
    files = {m["title"]: m["code"] for m in BLOCK.finditer(page()) if m["title"]}
    assert "test_sdk_bot.py" in files, "the page shows a test with the official SDK"
    for title, code in files.items():
        pytester.makepyfile(**{title.removesuffix(".py"): code})
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", "-v"
    )
    # Each anyio test runs on anyio's default backends, asyncio and trio;
    # the official SDK's test is synchronous and runs once.
    anyio_tests = sum(
        code.count("\nasync def test_")
        for title, code in files.items()
        if title != "test_sdk_bot.py"
    )
    result.assert_outcomes(passed=2 * anyio_tests + 1)
