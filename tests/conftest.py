"""Fixtures shared by the whole suite.

Async tests use anyio's pytest plugin (``@pytest.mark.anyio``) and run on
asyncio by default.

**Runners.** A user starts a program with ``asyncio.run(main())``,
``uvloop.run(main())``, ``trio.run(main)`` or ``anyio.run(main, backend=...)``,
or tests it under pytest-asyncio or anyio's pytest plugin; these differ in
what they set up (anyio's runners tell sniffio which library runs, a plain
``asyncio.run`` does not, so code outside a task behaves differently). Which
runners a test runs under is decided here, once, by :data:`RUNNERS`. A module
of end-to-end or driver tests asks for every one of them with::

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    def anyio_backend(runner: Runner) -> object:
        return runner.anyio_backend

Its async tests then run once per runner: under anyio's plugin on asyncio,
uvloop and trio; under plain ``asyncio.run``, ``uvloop.run``, ``trio.run`` and
``anyio.run`` (each in a fresh worker thread, whose context is empty: nothing
the plugin set up is visible to it); and under pytest-asyncio. Such a test
may use sync fixtures only (an async fixture would be set up on another
loop). A module whose tests need async fixtures asks for ``every_event_loop``
instead (anyio's plugin on asyncio, uvloop and trio; the same entries of
:data:`RUNNERS`). A sync test that starts a loop itself, once per Hypothesis
example say, asks for ``plain_runner`` and calls its ``run()``. ``loop_name``
says which event loop a test runs on.

A runner whose library is not installed (uvloop on Windows or PyPy; trio in
the nox session that runs without sniffio) is skipped.

Every test is bounded by pytest-timeout (see pyproject.toml), so a hang fails
instead of blocking CI.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import anyio
import pytest
from hypothesis import HealthCheck, settings

# The shared fixtures live in tests/_support; importing them here offers them to every test.
from ._support.sim import running_sim  # noqa: F401

# The suite runs in two processes on two shared cores: how fast Hypothesis
# generates or runs an example says nothing about the code under test, and a
# deadline or the "too slow" health check would turn machine load into failures.
settings.register_profile("asyncquote", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("asyncquote")

T = TypeVar("T")

_NO_UVLOOP = pytest.mark.skipif(
    importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed"
)
_NO_TRIO = pytest.mark.skipif(
    importlib.util.find_spec("trio") is None, reason="trio is not installed"
)
_NO_PYTEST_ASYNCIO = pytest.mark.skipif(
    importlib.util.find_spec("pytest_asyncio") is None, reason="pytest-asyncio is not installed"
)


@dataclass(frozen=True)
class Runner:
    """One way a user starts an async program (see the module's docstring)."""

    #: The test id: ``anyio-asyncio``, ``asyncio.run``, ``pytest-asyncio``...
    name: str
    #: The event loop: ``"asyncio"``, ``"uvloop"`` or ``"trio"``.
    loop: str
    #: What the module's ``anyio_backend`` fixture returns for this runner.
    anyio_backend: object
    #: Runs ``main()`` to completion in the calling thread; None: a pytest
    #: plugin runs the test (anyio's, or pytest-asyncio's).
    start: Callable[[Callable[[], Awaitable[object]]], object] | None = None

    @property
    def plain(self) -> bool:
        """Whether the test body runs under the runner itself, in a fresh thread."""
        return self.start is not None

    def run(self, main: Callable[[], Awaitable[T]]) -> T:
        """Run ``main()`` under this runner in a new thread (empty context); its result."""
        if self.start is None:
            raise RuntimeError(f"{self.name} is a pytest plugin: it runs test functions only")
        start = self.start
        outcome: list[object] = []
        failure: list[BaseException] = []

        def worker() -> None:
            try:
                outcome.append(start(main))
            except BaseException as exc:  # handed to the test's thread
                failure.append(exc)

        # A daemon: if the body hangs, pytest-timeout fails the test in this
        # thread (its signal interrupts the join) and the run goes on without it.
        thread = threading.Thread(target=worker, name=f"runner {self.name}", daemon=True)
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
        return outcome[0]  # type: ignore[return-value]


def _asyncio_run(main: Callable[[], Awaitable[object]]) -> object:
    return asyncio.run(_as_coroutine(main))


def _uvloop_run(main: Callable[[], Awaitable[object]]) -> object:
    import uvloop

    return uvloop.run(_as_coroutine(main))


def _trio_run(main: Callable[[], Awaitable[object]]) -> object:
    import trio

    return trio.run(_as_coroutine, main)


def _anyio_run(main: Callable[[], Awaitable[object]]) -> object:
    return anyio.run(_as_coroutine, main, backend="asyncio")


async def _as_coroutine(main: Callable[[], Awaitable[object]]) -> object:
    return await main()


#: Every runner, as ``runner`` parameters. Changing the matrix is changing this list.
RUNNERS = [
    pytest.param(Runner("anyio-asyncio", "asyncio", "asyncio"), id="anyio-asyncio"),
    pytest.param(
        Runner("anyio-uvloop", "uvloop", ("asyncio", {"use_uvloop": True})),
        id="anyio-uvloop",
        marks=_NO_UVLOOP,
    ),
    pytest.param(Runner("anyio-trio", "trio", "trio"), id="anyio-trio", marks=_NO_TRIO),
    pytest.param(Runner("asyncio.run", "asyncio", "asyncio", _asyncio_run), id="asyncio.run"),
    pytest.param(
        Runner("uvloop.run", "uvloop", ("asyncio", {"use_uvloop": True}), _uvloop_run),
        id="uvloop.run",
        marks=_NO_UVLOOP,
    ),
    pytest.param(Runner("trio.run", "trio", "trio", _trio_run), id="trio.run", marks=_NO_TRIO),
    pytest.param(Runner("anyio.run", "asyncio", "asyncio", _anyio_run), id="anyio.run"),
    pytest.param(
        Runner("pytest-asyncio", "asyncio", "asyncio"),
        id="pytest-asyncio",
        marks=[_NO_PYTEST_ASYNCIO, pytest.mark.asyncio],
    ),
]
#: ``anyio_backend`` values for every event loop under anyio's plugin (the
#: first three runners): for modules whose tests use async fixtures.
EVENT_LOOPS = [
    pytest.param(param.values[0].anyio_backend, id=param.id, marks=param.marks)  # type: ignore[attr-defined]
    for param in RUNNERS[:3]
]
# A run may ask for some runners only: ASYNCQUOTE_RUNNERS="asyncio.run,anyio-trio"
# (noxfile.py does, on the interpreters other than the main one, to keep CI quick).
_ONLY = os.environ.get("ASYNCQUOTE_RUNNERS", "").strip()
if _ONLY:
    _WANTED = {name.strip() for name in _ONLY.split(",")}
    _UNKNOWN = _WANTED - {str(param.id) for param in RUNNERS}
    if _UNKNOWN:
        raise pytest.UsageError(
            f"ASYNCQUOTE_RUNNERS names unknown runners {sorted(_UNKNOWN)}; "
            f"known: {', '.join(str(param.id) for param in RUNNERS)}"
        )
    RUNNERS = [param for param in RUNNERS if param.id in _WANTED]


@pytest.fixture(params=RUNNERS)
def runner(request: pytest.FixtureRequest) -> Runner:
    """One of :data:`RUNNERS`: the way this test's async body is started."""
    return cast(Runner, request.param)


@pytest.fixture(params=[param for param in RUNNERS if param.values[0].plain])  # type: ignore[attr-defined]
def plain_runner(request: pytest.FixtureRequest) -> Runner:
    """One of the plain runners in :data:`RUNNERS`, for a sync test to call ``.run()`` on.

    For a test that starts the loop itself, once per example (a Hypothesis
    test does: its examples are driven from sync code).
    """
    return cast(Runner, request.param)


class OnTriosVirtualClock:
    """Base of a test class whose tests wait seconds to minutes of loop time.

    They run on trio's autojumping MockClock (the wait costs no real time),
    under anyio's plugin: no other runner has a virtual clock.
    """

    @pytest.fixture
    def anyio_backend(self) -> object:
        # Imported here: conftest.py must import without trio (then these skip).
        trio_testing = pytest.importorskip("trio.testing")
        return ("trio", {"clock": trio_testing.MockClock(autojump_threshold=0)})


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a test under its plain runner, or as pytest-asyncio wrapped it.

    This hook runs before anyio's (conftest hooks come first among the
    tryfirst ones), which would otherwise run every test that has an
    ``anyio_backend`` under anyio's runner.
    """
    chosen = pyfuncitem.funcargs.get("runner")
    if not isinstance(chosen, Runner) or chosen.name.startswith("anyio-"):
        return None  # anyio's plugin (or pytest) runs it
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    if chosen.plain:
        test = pyfuncitem.obj
        chosen.run(lambda: test(**arguments))
    else:  # pytest-asyncio: its item has made the test a function that runs its loop
        result = pyfuncitem.obj(**arguments)
        if inspect.isawaitable(result):  # pytest-asyncio did not take the test: never pass unrun
            if inspect.iscoroutine(result):
                result.close()
            pytest.fail(f"pytest-asyncio did not run {pyfuncitem.nodeid}")
    return True


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=EVENT_LOOPS)
def every_event_loop(request: pytest.FixtureRequest) -> object:
    """asyncio, uvloop or trio under anyio's plugin (an ``anyio_backend`` value)."""
    return request.param


@pytest.fixture
def loop_name(anyio_backend: object) -> str:
    """``"asyncio"``, ``"uvloop"`` or ``"trio"``: the event loop the test runs on."""
    if isinstance(anyio_backend, tuple):
        name, options = anyio_backend
        return "uvloop" if options.get("use_uvloop") else str(name)
    return str(anyio_backend)
