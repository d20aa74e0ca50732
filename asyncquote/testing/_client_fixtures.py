"""The async fixtures behind ``opend_client``: one per plugin that runs async tests.

anyio's plugin runs an async generator fixture's setup and teardown in one
task, so its fixture simply enters :func:`asyncquote.connect`.
pytest-asyncio runs setup and teardown as two tasks, and a task group (the
client has one) must be left in the task that entered it, so its fixtures
keep the client in a task of their own that lives from setup to teardown.
pytest-asyncio runs a test on the loop of its loop scope, and a fixture on
the loop its definition names: one fixture per loop scope, and the test's
is the one asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import pytest

from .._client.client import QuoteClient
from .._client.connect import connect
from ._gateway import OpenD

__all__ = ["ANYIO_FIXTURE", "asyncio_fixture_name", "client_fixture_for", "fixtures"]

ANYIO_FIXTURE = "_asyncquote_opend_client_anyio"
LoopScope = Literal["function", "class", "module", "package", "session"]
_LOOP_SCOPES: tuple[LoopScope, ...] = ("function", "class", "module", "package", "session")
_HAS_PYTEST_ASYNCIO = importlib.util.find_spec("pytest_asyncio") is not None


def asyncio_fixture_name(loop_scope: str) -> str:
    """The name of the pytest-asyncio fixture for tests on a ``loop_scope`` loop."""
    return f"_asyncquote_opend_client_asyncio_{loop_scope}"


def _connect(request: pytest.FixtureRequest, opend: OpenD) -> Any:
    kwargs = opend.connect_kwargs()
    for marker in reversed(list(request.node.iter_markers("opend_client"))):
        kwargs.update(marker.kwargs)
    return connect(**kwargs)


def _asyncio_loop_scope(item: pytest.Item) -> str:
    marker = item.get_closest_marker("asyncio")
    scope = None if marker is None else marker.kwargs.get("loop_scope", marker.kwargs.get("scope"))
    return str(scope or item.config.getini("asyncio_default_test_loop_scope") or "function")


def client_fixture_for(request: pytest.FixtureRequest) -> str:
    """The name of the async fixture that makes the client on this test's event loop."""
    item = request.node
    if _HAS_PYTEST_ASYNCIO:
        import pytest_asyncio

        if isinstance(item, pytest.Function) and pytest_asyncio.is_async_test(item):
            return asyncio_fixture_name(_asyncio_loop_scope(item))
    if "anyio_backend" in request.fixturenames:
        return ANYIO_FIXTURE
    pytest.fail(
        f"{item.nodeid}: opend_client needs an async test run by pytest-asyncio "
        "(@pytest.mark.asyncio, or asyncio_mode = auto) or by anyio's plugin "
        "(@pytest.mark.anyio); a synchronous test can use opend with a synchronous client",
        pytrace=False,
    )


async def _anyio_client(
    request: pytest.FixtureRequest, opend: OpenD, anyio_backend: object
) -> AsyncIterator[QuoteClient]:
    async with _connect(request, opend) as client:
        yield client


def _asyncio_client() -> Callable[..., AsyncIterator[QuoteClient]]:
    async def fixture(request: pytest.FixtureRequest, opend: OpenD) -> AsyncIterator[QuoteClient]:
        ready: asyncio.Future[QuoteClient] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()

        async def host() -> None:
            try:
                async with _connect(request, opend) as client:
                    ready.set_result(client)
                    await stop.wait()
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)
                    return
                raise

        task = asyncio.ensure_future(host())
        try:
            yield await ready
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return fixture


def fixtures() -> dict[str, Any]:
    """Every fixture of this module, by name, for the plugin module's namespace."""
    made: dict[str, Any] = {ANYIO_FIXTURE: pytest.fixture(name=ANYIO_FIXTURE)(_anyio_client)}
    if _HAS_PYTEST_ASYNCIO:
        import pytest_asyncio

        for scope in _LOOP_SCOPES:
            name = asyncio_fixture_name(scope)
            made[name] = pytest_asyncio.fixture(loop_scope=scope, name=name)(_asyncio_client())
    return made
