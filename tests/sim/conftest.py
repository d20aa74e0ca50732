"""Fixtures for the simulator tests: every test runs on asyncio and on trio.

Tests in which time has to pass override ``anyio_backend`` with
``virtual_time`` instead: trio with a MockClock that jumps ahead whenever
every task is blocked, so sleeps and timeouts cost no real time. That holds
with real loopback sockets too, as loopback data is readable as soon as it is
sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio.testing

from asyncquote.sim import Simulator

from .wsclient import KEY


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


@pytest.fixture
async def ws_sim() -> AsyncIterator[Simulator]:
    """A simulator with a WebSocket port, requiring :data:`.wsclient.KEY`."""
    async with Simulator(websocket_port=0, websocket_key=KEY) as simulator:
        yield simulator


@pytest.fixture
def virtual_time() -> tuple[str, dict[str, object]]:
    """An ``anyio_backend`` value: trio on a fresh autojumping MockClock."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})
