"""The runner matrix (``runner`` in conftest.py) runs test bodies as each runner really does."""

from __future__ import annotations

import asyncio
import importlib.util
import os

import anyio
import pytest

from ..conftest import Runner

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def library_seen_outside_a_task() -> str:
    """What sniffio says in a loop callback, where no task runs (as in a transport callback)."""
    try:
        import sniffio
    except ImportError:
        return "no sniffio"
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return "none"


async def test_the_body_runs_as_its_runner_runs_it(runner: Runner, loop_name: str) -> None:
    assert loop_name == runner.loop
    if runner.loop == "trio":
        import trio

        trio.lowlevel.current_trio_token()  # raises outside trio.run
        return
    loop = asyncio.get_running_loop()
    uvloop_loop = type(loop).__module__.startswith("uvloop")
    assert uvloop_loop == (runner.loop == "uvloop")
    seen = anyio.Event()
    outside: list[str] = []

    def callback() -> None:
        outside.append(library_seen_outside_a_task())
        seen.set()

    loop.call_soon(callback)
    await seen.wait()
    # anyio's runners tell sniffio the library for the whole run; the plain
    # asyncio runners and pytest-asyncio do not: there, code outside a task
    # cannot ask anyio for anything (issue 20, item 1).
    if importlib.util.find_spec("sniffio") is None:
        expected = "no sniffio"
    else:
        expected = "asyncio" if runner.name.startswith("anyio") else "none"
    assert outside == [expected]


def test_sniffio_is_importable_unless_the_session_runs_without_it() -> None:
    # The runners differ only where sniffio is importable (it comes with trio
    # and httpx): CI has it, except the nox session that checks the library
    # without it (ASYNCQUOTE_WITHOUT_SNIFFIO=1), where it must really be absent.
    found = importlib.util.find_spec("sniffio") is not None
    assert found != (os.environ.get("ASYNCQUOTE_WITHOUT_SNIFFIO") == "1")
