"""Fixtures for the simulator tests: every test runs on asyncio and on trio."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from asyncquote.sim import Simulator


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator
