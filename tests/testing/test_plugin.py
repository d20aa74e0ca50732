"""The plugin as a user gets it: a throwaway test file run by pytest in a subprocess.

The subprocess loads the plugin through its ``pytest11`` entry point (the
package is installed), with no conftest of ours, under pytest-asyncio
(strict and auto mode, function and module loop scopes) and under anyio's
plugin on asyncio, uvloop and trio.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

# What a user would write: only the fixtures, the marker and plain asserts.
THROWAWAY = """
import pytest

WATCHLISTS = {"Tech": ["US.AAPL", "US.NVDA", "US.MADEUP"]}


@pytest.mark.opend(watchlists=WATCHLISTS, quotas="fast")
async def test_the_bot_sees_the_watchlist_and_its_edits(opend, opend_client):
    items = await opend_client.get_user_security("Tech")
    assert [str(item.security) for item in items] == ["US.AAPL", "US.NVDA", "US.MADEUP"]
    assert items[0].basic.name == "苹果"  # the sample's static info for a known code
    opend.set_watchlist("Tech", ["US.TSLA"])
    assert [str(i.security) for i in await opend_client.get_user_security("Tech")] == ["US.TSLA"]
    assert opend.requests.filter(3213, group="Tech").groups == ["Tech", "Tech"]


async def test_the_client_survives_a_restart(opend, opend_client):
    assert opend.drop_connections() == 1
    await opend.restart(downtime=0.05)
    assert len(await opend_client.get_user_security("HK")) == 6
    assert len(opend.requests.filter(1001).conn_ids) == 2


def test_a_synchronous_test_gets_a_gateway_too(opend):
    assert opend.requests == []
    assert opend.port > 0
"""

ANYIO_CONFTEST = """
import pytest

BACKENDS = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    pytest.param("trio", id="trio"),
]


@pytest.fixture(params=BACKENDS)
def anyio_backend(request):
    return request.param
"""

UVLOOP = importlib.util.find_spec("uvloop") is not None
ASYNC_TESTS = 2  # in THROWAWAY


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run pytest on the files made, warnings as errors, with no ini of ours."""
    options = ["-p", "no:cacheprovider", "-W", "error"]
    if "no:asyncio" not in args:
        # pytest-asyncio warns when this is unset; set as its documentation asks.
        options += ["-o", "asyncio_default_fixture_loop_scope=function"]
    return pytester.runpytest_subprocess(*options, *args)


def test_pytest_asyncio_auto_mode_runs_plain_async_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bot=THROWAWAY)
    result = run(pytester, "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=ASYNC_TESTS + 1)


@pytest.mark.parametrize("loop_scope", ["function", "module"])
def test_pytest_asyncio_strict_mode_on_any_loop_scope(
    pytester: pytest.Pytester, loop_scope: str
) -> None:
    marked = f"pytestmark = pytest.mark.asyncio(loop_scope={loop_scope!r})\n"
    pytester.makepyfile(
        test_bot=THROWAWAY.replace("import pytest\n", "import pytest\n" + marked, 1)
    )
    result = run(
        pytester,
        "-o",
        "asyncio_mode=strict",
        # The mark warns on the synchronous test, saying it is not async; that is pytest-asyncio's.
        "-W",
        "ignore::pytest.PytestWarning",
    )
    result.assert_outcomes(passed=ASYNC_TESTS + 1)


@pytest.mark.skipif(not UVLOOP, reason="uvloop is not installed")
@pytest.mark.parametrize("pytest_asyncio", ["loaded", "not installed"])
def test_anyio_plugin_on_asyncio_uvloop_and_trio(
    pytester: pytest.Pytester, pytest_asyncio: str
) -> None:
    pytester.makepyfile(test_bot=THROWAWAY)
    pytester.makeconftest(ANYIO_CONFTEST)
    # pytest-asyncio in strict mode leaves unmarked tests to anyio (in auto mode it takes all).
    if pytest_asyncio == "loaded":
        result = run(pytester, "--anyio-mode=auto", "-v", "-o", "asyncio_mode=strict")
    else:
        result = run(pytester, "--anyio-mode=auto", "-v", "-p", "no:asyncio")
    result.assert_outcomes(passed=3 * ASYNC_TESTS + 1)
    for backend in ("asyncio", "uvloop", "trio"):
        result.stdout.fnmatch_lines([f"*test_the_client_survives_a_restart?{backend}? PASSED*"])


def test_the_fixtures_come_from_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_sync(opend):
            assert opend.port > 0
        """
    )
    loaded = run(pytester)
    loaded.assert_outcomes(passed=1)
    loaded.stdout.fnmatch_lines(["plugins: *asyncquote-*"])
    disabled = run(pytester, "-p", "no:asyncquote")
    disabled.assert_outcomes(errors=1)
    disabled.stdout.fnmatch_lines(["*fixture 'opend' not found*"])


def test_opend_client_in_a_synchronous_test_says_what_to_do(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_sync(opend_client):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*opend_client needs an async test run by pytest-asyncio*"])


def test_an_unknown_marker_option_is_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.opend(quota="fast")
        def test_typo(opend):
            pass
        """
    )
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.opend: unknown option(s) quota; known: *quotas*"])


def test_importing_asyncquote_does_not_import_pytest() -> None:
    code = textwrap.dedent(
        """
        import sys
        import asyncquote, asyncquote.sim, asyncquote.testing
        print("pytest" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
