"""Plain asyncio usage, as most users write it: asyncio.gather, asyncio.wait_for."""

from __future__ import annotations

import asyncio

import pytest

import asyncquote
from asyncquote.sim import NO_QUOTAS, Simulator

from ..conftest import Runner

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    # These tests are written with asyncio's own API (gather, wait_for,
    # ensure_future): every runner on an asyncio loop, uvloop's included.
    if runner.loop == "trio":
        pytest.skip("asyncio's API: runs on asyncio event loops only")
    return runner.anyio_backend


async def test_asyncio_gather_over_one_client_returns_every_result() -> None:
    async with (
        Simulator(port=0, quotas=NO_QUOTAS) as sim,
        asyncquote.connect(sim.host, sim.port, quotas={3213: None}) as client,
    ):
        results = await asyncio.wait_for(
            asyncio.gather(*(client.get_user_security(g) for g in ["All", "HK", "US"] * 20)),
            timeout=10,
        )
    assert [len(r) for r in results[:3]] == [
        len(sim.watchlists.securities_in(g)) for g in ("All", "HK", "US")
    ]
    assert results[0] == results[3] == results[57]


async def test_asyncio_wait_for_cancelling_a_call_leaves_the_client_usable() -> None:
    async with Simulator(port=0) as sim, asyncquote.connect(sim.host, sim.port) as client:
        task = asyncio.ensure_future(client.get_user_security("All"))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.connection.pending_count == 0
        assert await asyncio.wait_for(client.get_user_security("Tech"), timeout=10)


async def test_the_quota_queue_works_on_plain_asyncio_in_real_time() -> None:
    quota = {3213: asyncquote.Quota(2, 0.2)}
    async with (
        Simulator(port=0, quotas=quota) as sim,
        asyncquote.connect(sim.host, sim.port, quotas=quota) as client,
    ):
        results = await asyncio.wait_for(
            asyncio.gather(*(client.get_user_security("Tech") for _ in range(5))), timeout=10
        )
    assert len(results) == 5
    assert len(sim.rejections) == 0
    assert sim.max_arrivals_in_window(3213, 0.2) <= 2
