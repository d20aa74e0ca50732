"""Shared test configuration.

Async tests use anyio's pytest plugin (``@pytest.mark.anyio``) and run on
asyncio by default. A module whose tests concern the connection, the client
or reconnecting runs them on every event loop we support, asyncio, uvloop and
trio, by asking for the ``every_event_loop`` fixture::

    @pytest.fixture
    def anyio_backend(every_event_loop: object) -> object:
        return every_event_loop

``loop_name`` says which one a test runs on.
uvloop is skipped where it does not install (Windows, PyPy); see the ``test``
extra in pyproject.toml.

Every test is bounded by pytest-timeout (see pyproject.toml), so a hang fails
instead of blocking CI.
"""

from __future__ import annotations

import importlib.util

import pytest

#: ``anyio_backend`` values for every supported event loop.
EVENT_LOOPS = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param(
        ("asyncio", {"use_uvloop": True}),
        id="uvloop",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed"
        ),
    ),
    pytest.param("trio", id="trio"),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=EVENT_LOOPS)
def every_event_loop(request: pytest.FixtureRequest) -> object:
    """One of asyncio, uvloop and trio (an ``anyio_backend`` value)."""
    return request.param


@pytest.fixture
def loop_name(anyio_backend: object) -> str:
    """``"asyncio"``, ``"uvloop"`` or ``"trio"``: the event loop the test runs on."""
    if isinstance(anyio_backend, tuple):
        name, options = anyio_backend
        return "uvloop" if options.get("use_uvloop") else str(name)
    return str(anyio_backend)
