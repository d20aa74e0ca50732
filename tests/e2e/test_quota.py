"""Quota behaviour end to end: our client against the simulator's OpenD-like quotas.

Every test runs on trio with an autojumping MockClock: the clock leaps ahead
whenever every task is blocked, so 30-second windows cost no real time. With
loopback sockets that is exact, since sent bytes are readable at once.
"""

from __future__ import annotations

import itertools
import logging
import math

import anyio
import anyio.lowlevel
import pytest
import trio.testing

import asyncquote
from asyncquote import Quota, RateLimiter
from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator

pytestmark = pytest.mark.anyio

GUS = 3213
PERIOD = 30.0


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


async def fetch(client: asyncquote.QuoteClient, group: str) -> object:
    """One 3213 request per call: ``get_user_security`` would merge concurrent
    calls for a group into one request, and these tests are about the limiter."""
    request = Qot_GetUserSecurity_pb2.Request()
    request.c2s.groupName = group
    return await client.request(GUS, request, Qot_GetUserSecurity_pb2.Response)


def accepted_arrivals(sim: Simulator, proto_id: int = GUS) -> list[float]:
    return [r.time for r in sim.requests if r.proto_id == proto_id and not r.over_quota]


async def test_25_concurrent_calls_all_succeed_in_three_windows_in_fifo_order() -> None:
    async with (
        Simulator(port=0) as sim,  # OpenD's own quota: 10 per 30 s
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        start = anyio.current_time()
        finished: dict[int, float] = {}

        async def call(i: int) -> None:
            await fetch(client, "All")
            finished[i] = anyio.current_time() - start

        async with anyio.create_task_group() as tg:
            for i in range(25):
                tg.start_soon(call, i)
                await anyio.lowlevel.checkpoint()  # fix the order in which callers arrive
        elapsed = anyio.current_time() - start

    assert sorted(finished) == list(range(25))
    # FIFO: the first ten callers are served in the first window, and so on.
    assert {i: math.floor(t / PERIOD) for i, t in finished.items()} == {
        i: i // 10 for i in range(25)
    }
    assert len(sim.rejections) == 0
    arrivals = accepted_arrivals(sim)
    windows = [math.floor((t - start) / PERIOD) for t in arrivals]
    assert windows == [0] * 10 + [1] * 10 + [2] * 5
    assert 2 * PERIOD <= elapsed < 3 * PERIOD


async def test_random_latency_never_lets_more_than_the_quota_arrive_in_a_window() -> None:
    faults = Faults(reply_delay=(0.0, 20.0), seed=7)  # up to 20 s: most of a window
    async with (
        Simulator(port=0, faults=faults) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, timeout=math.inf) as client,
        anyio.create_task_group() as tg,
    ):
        for _ in range(60):
            tg.start_soon(fetch, client, "HK")
    assert len(sim.rejections) == 0
    arrivals = sorted(accepted_arrivals(sim))
    assert len(arrivals) == 60
    worst = max(
        sum(1 for t in arrivals[i:] if t < start + PERIOD) for i, start in enumerate(arrivals)
    )
    assert worst <= 10
    assert sim.max_arrivals_in_window(GUS, PERIOD) == worst


async def test_cancelling_a_queued_caller_keeps_the_others_order_and_leaks_no_slot() -> None:
    async with (
        Simulator(port=0, quotas={GUS: Quota(2, PERIOD)}) as sim,
        asyncquote.connect(
            sim.host, sim.port, keepalive=False, quotas={GUS: Quota(2, PERIOD)}
        ) as client,
    ):
        start = anyio.current_time()
        served: list[tuple[str, float]] = []

        async def call(name: str) -> None:
            await fetch(client, "Tech")
            served.append((name, anyio.current_time() - start))

        doomed = anyio.CancelScope()

        async def doomed_call() -> None:
            with doomed:
                await fetch(client, "Tech")
                raise AssertionError("was cancelled while queued; must not be served")

        async with anyio.create_task_group() as tg:
            for name in ("a", "b"):
                tg.start_soon(call, name)
                await anyio.lowlevel.checkpoint()
            tg.start_soon(doomed_call)
            await anyio.lowlevel.checkpoint()
            for name in ("c", "d"):
                tg.start_soon(call, name)
                await anyio.lowlevel.checkpoint()
            await anyio.sleep(5)
            assert client.quota(GUS).queued == 3
            doomed.cancel()
        # Replies within one window may complete in any order; the windows
        # themselves follow arrival order, and the cancel delayed no one.
        assert {name: round(t) for name, t in served} == {"a": 0, "b": 0, "c": 30, "d": 30}
        assert client.quota(GUS).queued == 0
        assert len(sim.rejections) == 0
        assert len(accepted_arrivals(sim)) == 4


async def test_when_the_gateway_rejects_anyway_the_client_waits_and_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The gateway allows fewer calls than the client believes: as if another
    # program were using the same account.
    async with (
        Simulator(port=0, quotas={GUS: Quota(3, PERIOD)}) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        caplog.set_level(logging.WARNING, logger="asyncquote.client")
        results = []
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(lambda: _append(results, fetch(client, "All")))
        assert len(results) == 5
    assert len(sim.rejections) >= 1
    assert any("too frequent" in r.getMessage() for r in caplog.records)
    assert sim.max_arrivals_in_window(GUS, PERIOD) <= 3


async def _append(results: list[object], call: object) -> None:
    results.append(await call)  # type: ignore[misc]


async def test_fail_fast_mode_raises_rate_limit_error_with_the_wait() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, on_quota="raise") as client,
    ):
        for _ in range(10):
            await client.get_user_security("All")
        await anyio.sleep(12)
        with pytest.raises(asyncquote.RateLimitError) as info:
            await client.get_user_security("All")
    assert info.value.proto_id == GUS
    assert info.value.retry_after == pytest.approx(18, abs=0.5)
    assert len(sim.rejections) == 0


async def test_fail_fast_mode_turns_a_gateway_rejection_into_rate_limit_error() -> None:
    async with (
        Simulator(port=0, quotas={GUS: Quota(1, PERIOD)}) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, on_quota="raise") as client,
    ):
        await client.get_user_security("All")
        with pytest.raises(asyncquote.RateLimitError, match="too frequent") as info:
            await client.get_user_security("All")
        assert isinstance(info.value.__cause__, asyncquote.OpenDError)
        assert info.value.retry_after == pytest.approx(PERIOD, abs=0.5)
        # The client is still usable once the window has passed.
        await anyio.sleep(PERIOD)
        assert await client.get_user_security("Tech")


async def test_two_clients_sharing_one_limiter_never_exceed_the_quota_together() -> None:
    limiter = RateLimiter()
    faults = Faults(reply_delay=(0.0, 3.0), seed=11)
    async with (
        Simulator(port=0, faults=faults) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, rate_limiter=limiter) as first,
        asyncquote.connect(sim.host, sim.port, keepalive=False, rate_limiter=limiter) as second,
    ):
        assert first.rate_limiter is second.rate_limiter
        async with anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(fetch, first if i % 2 else second, "US")
    assert len(sim.rejections) == 0
    assert len({r.conn_id for r in sim.requests if r.proto_id == GUS}) == 2
    assert sim.max_arrivals_in_window(GUS, PERIOD) <= 10


async def test_the_call_timeout_does_not_count_time_spent_queued() -> None:
    async with (
        Simulator(port=0, faults=Faults(reply_delay=1.0)) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, timeout=2.0) as client,
        anyio.create_task_group() as tg,
    ):
        for _ in range(15):  # the last 5 queue for ~31 s, far beyond timeout=2
            tg.start_soon(fetch, client, "All")
    assert len(accepted_arrivals(sim)) == 15


async def test_queue_timeout_bounds_the_time_in_the_queue() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, queue_timeout=5.0) as client,
    ):
        for _ in range(10):
            await client.get_user_security("All")
        with pytest.raises(asyncquote.RateLimitError, match="queue_timeout"):
            await client.get_user_security("All")
        assert client.quota(GUS).queued == 0


async def test_quota_status_reports_used_slots_queue_and_next_free() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        assert client.quota(GUS).used == 0
        async with anyio.create_task_group() as tg:
            for _ in range(13):
                tg.start_soon(fetch, client, "All")
            await anyio.sleep(1)
            status = client.quota(GUS)
            assert (status.used, status.queued) == (10, 3)
            assert status.quota == Quota(10, PERIOD)
            assert 28 < status.next_free_in <= PERIOD
        assert client.quota(1002).quota is None


async def test_a_quota_can_be_turned_off() -> None:
    async with (
        Simulator(port=0, quotas={GUS: None}) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, quotas={GUS: None}) as client,
    ):
        start = anyio.current_time()
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(fetch, client, "All")
        assert anyio.current_time() - start < 1
    assert len(sim.rejections) == 0


async def test_throttling_is_logged_once_per_episode_not_once_per_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="asyncquote.ratelimit")
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        for _episode in range(2):
            async with anyio.create_task_group() as tg:
                for _ in range(25):
                    tg.start_soon(fetch, client, "All")
    messages = [r.getMessage() for r in caplog.records if r.name == "asyncquote.ratelimit"]
    assert sum("queueing calls" in m for m in messages) == 2
    assert sum("queue drained" in m for m in messages) == 2


async def test_a_caller_sharing_a_request_queued_for_quota_keeps_its_timeout_for_the_wire() -> None:
    """Time queued for quota is not part of a call's timeout, for a caller
    that shares another's request too (its clock starts when that request
    gets its slot), not only for the caller that sends it."""
    async with (
        Simulator(port=0, quotas={GUS: Quota(1, PERIOD)}) as sim,
        asyncquote.connect(
            sim.host, sim.port, keepalive=False, quotas={GUS: Quota(1, PERIOD)}
        ) as client,
    ):
        await client.get_user_security("HK")  # the one slot: the next call queues ~30 s
        start = anyio.current_time()
        results: dict[str, int] = {}

        async def call(who: str) -> None:
            results[who] = len(await client.get_user_security("US", timeout=5))

        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "sender")
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(call, "sharer")
        waited = anyio.current_time() - start

    assert results["sender"] == results["sharer"] > 0
    assert waited >= PERIOD  # both waited the window out, beyond their 5 s timeouts
    assert len([r for r in sim.requests if r.proto_id == GUS]) == 2  # one each for HK, US
    assert not sim.rejections


async def test_with_the_clients_quota_off_a_refusal_still_waits_opends_window() -> None:
    """``quotas={3213: None}`` turns off the client's counting, not OpenD's:
    each refusal is retried only once OpenD's window (30 s for 3213) has
    passed, and the error at the end says to wait, never "retry in 0 s"."""
    async with (
        Simulator(port=0, quotas={GUS: Quota(1, 1000.0)}) as sim,  # refuses for good
        asyncquote.connect(sim.host, sim.port, keepalive=False, quotas={GUS: None}) as client,
    ):
        await fetch(client, "All")
        with pytest.raises(asyncquote.RateLimitError, match="too frequent") as info:
            await fetch(client, "All")
    refused = [r.time for r in sim.rejections if r.proto_id == GUS]
    assert len(refused) == 4  # the call and its 3 retries
    assert all(later - earlier >= PERIOD for earlier, later in itertools.pairwise(refused))
    assert info.value.retry_after == PERIOD


async def test_with_the_clients_quota_off_a_retry_after_the_window_succeeds() -> None:
    async with (
        Simulator(port=0, quotas={GUS: Quota(1, PERIOD)}) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, quotas={GUS: None}) as client,
    ):
        await fetch(client, "All")
        start = anyio.current_time()
        await fetch(client, "All")  # refused once, then retried after the window
        waited = anyio.current_time() - start
    assert len(sim.rejections) == 1
    assert waited >= PERIOD
