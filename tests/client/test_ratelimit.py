"""The quota core with plain numbers, and the async limiter under a virtual clock."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import random

import anyio
import anyio.lowlevel
import pytest
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncquote import InvalidArgumentError, RateLimitError
from asyncquote._client.ratelimit import (
    DEFAULT_QUOTAS,
    Quota,
    RateLimiter,
    SlidingWindow,
    is_quota_rejection,
)

# -- the pure core: no I/O, plain floats ------------------------------------


def test_a_fresh_window_has_every_slot_free() -> None:
    window = SlidingWindow(Quota(3, 10.0))
    assert window.used(0.0) == 0
    assert window.delay(0.0) == 0


def test_slots_in_flight_have_no_predictable_free_time() -> None:
    window = SlidingWindow(Quota(2, 10.0))
    window.on_sent(0.0)
    window.on_sent(0.0)
    assert window.used(100.0) == 2
    assert window.delay(100.0) == math.inf


def test_a_slot_frees_a_period_after_the_reply_not_after_the_send() -> None:
    window = SlidingWindow(Quota(1, 30.0))
    window.on_sent(0.0)
    window.on_done(5.0)  # the request may have arrived at OpenD as late as t=5
    assert window.delay(30.0) == pytest.approx(5.0)
    assert window.delay(34.9) == pytest.approx(0.1)
    assert window.delay(35.0) == 0
    assert window.used(35.0) == 0


def test_delay_counts_down_to_the_earliest_cooling_slot() -> None:
    window = SlidingWindow(Quota(3, 30.0))
    for sent, done in [(0.0, 1.0), (0.0, 2.0), (0.0, 3.0)]:
        window.on_sent(sent)
        window.on_done(done)
    assert window.delay(10.0) == pytest.approx(21.0)
    assert window.used(31.0) == 2
    assert window.delay(31.0) == 0


def test_a_rejection_blocks_the_window_for_a_period_even_with_free_slots() -> None:
    window = SlidingWindow(Quota(10, 30.0))
    window.on_rejected(100.0)
    assert window.used(100.0) == 0
    assert window.delay(100.0) == pytest.approx(30.0)
    assert window.delay(130.0) == 0


def test_out_of_order_completion_times_are_kept_sorted() -> None:
    window = SlidingWindow(Quota(2, 10.0))
    window.on_sent(0.0)
    window.on_sent(0.0)
    window.on_done(5.0)
    window.on_done(3.0)
    assert window.delay(4.0) == pytest.approx(9.0)  # the slot freed by the t=3 reply
    assert window.used(13.0) == 1


def test_misuse_of_the_core_is_reported() -> None:
    window = SlidingWindow(Quota(1, 1.0))
    with pytest.raises(RuntimeError, match="without a matching"):
        window.on_done(0.0)
    window.on_sent(0.0)
    with pytest.raises(RuntimeError, match="no free slot"):
        window.on_sent(0.0)


@pytest.mark.parametrize(
    ("max_calls", "period"), [(0, 1.0), (-1, 1.0), (1.5, 1.0), (1, 0), (1, -2.0), (1, math.inf)]
)
def test_a_nonsensical_quota_is_refused(max_calls: object, period: object) -> None:
    with pytest.raises(InvalidArgumentError):
        Quota(max_calls, period)  # type: ignore[arg-type]


def test_opend_quota_rejections_are_told_apart_from_other_errors() -> None:
    assert is_quota_rejection(-1, "获取自选股频率太高，请求失败，每30秒最多10次。")
    assert is_quota_rejection(-1, "Request too frequent, at most 10 per 30 seconds")
    assert not is_quota_rejection(-1, "Unknown watchlists")
    assert not is_quota_rejection(-100, "too frequent")  # a timeout is not a quota


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    max_calls=st.integers(1, 12),
    max_latency=st.floats(0.0, 50.0),
    callers=st.integers(1, 60),
)
def test_no_window_ever_sees_more_arrivals_than_the_quota_whatever_the_latency(
    seed: int, max_calls: int, max_latency: float, callers: int
) -> None:
    """Greedy senders, random latency, arrival anywhere between send and reply."""
    rng = random.Random(seed)
    period = 30.0
    window = SlidingWindow(Quota(max_calls, period))
    now = 0.0
    waiting = callers
    in_flight: list[float] = []  # reply times
    arrivals: list[float] = []
    while waiting or in_flight:
        while waiting and window.delay(now) == 0:
            window.on_sent(now)
            latency = rng.uniform(0, max_latency)
            arrivals.append(now + rng.uniform(0, latency))
            in_flight.append(now + latency)
            waiting -= 1
        # Advance to the next event: a reply, or a slot cooling down.
        next_reply = min(in_flight, default=math.inf)
        next_free = now + window.delay(now) if waiting else math.inf
        now = min(next_reply, next_free)
        for reply_at in [t for t in in_flight if t <= now]:
            in_flight.remove(reply_at)
            window.on_done(reply_at)
    arrivals.sort()
    for i, start in enumerate(arrivals):
        in_window = [t for t in arrivals[i:] if t < start + period]
        assert len(in_window) <= max_calls


# -- the async limiter under trio's virtual clock -----------------------------


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


pytestmark_async = pytest.mark.anyio

QUOTA = Quota(10, 30.0)
GUS = 3213


async def _hold(limiter: RateLimiter, name: int, log: list[tuple[int, float]]) -> None:
    async with limiter.slot(1):
        log.append((name, anyio.current_time()))
        await anyio.sleep(0.5)  # "on the wire"


@pytestmark_async
async def test_callers_beyond_the_quota_are_served_first_come_first_served() -> None:
    limiter = RateLimiter({1: QUOTA})
    log: list[tuple[int, float]] = []
    start = anyio.current_time()
    async with anyio.create_task_group() as tg:
        for i in range(25):
            tg.start_soon(_hold, limiter, i, log)
            await anyio.lowlevel.checkpoint()  # fix the arrival order
    assert [name for name, _ in log] == list(range(25))
    batches = [round(t - start, 6) for _, t in log]
    assert batches == [0.0] * 10 + [30.5] * 10 + [61.0] * 5
    assert limiter.status(1).queued == 0


@pytestmark_async
async def test_a_cancelled_waiter_takes_no_slot_and_delays_no_one() -> None:
    limiter = RateLimiter({1: Quota(2, 10.0)})
    log: list[tuple[int, float]] = []
    start = anyio.current_time()
    async with anyio.create_task_group() as tg:
        for i in range(2):
            tg.start_soon(_hold, limiter, i, log)
            await anyio.lowlevel.checkpoint()
        doomed = anyio.CancelScope()
        tg.start_soon(_cancelled_waiter, limiter, doomed)
        await anyio.lowlevel.checkpoint()
        for i in range(2, 4):
            tg.start_soon(_hold, limiter, i, log)
            await anyio.lowlevel.checkpoint()
        await anyio.sleep(1)
        assert limiter.status(1).queued == 3
        doomed.cancel()
    assert [name for name, _ in log] == [0, 1, 2, 3]
    assert [round(t - start, 6) for _, t in log] == [0.0, 0.0, 10.5, 10.5]
    status = limiter.status(1)
    assert status.queued == 0
    assert status.used == 2  # the two latest, still cooling; the cancelled one took none


async def _cancelled_waiter(limiter: RateLimiter, scope: anyio.CancelScope) -> None:
    with scope:
        async with limiter.slot(1):
            raise AssertionError("a cancelled waiter must never get a slot")


@pytestmark_async
async def test_queue_timeout_raises_rate_limit_error_and_frees_the_place() -> None:
    limiter = RateLimiter({1: Quota(1, 10.0)})
    async with limiter.slot(1):
        pass
    with pytest.raises(RateLimitError, match="queue_timeout") as info:
        async with limiter.slot(1, queue_timeout=2.0):
            pass
    assert info.value.retry_after == pytest.approx(8.0)
    assert limiter.status(1).queued == 0
    async with limiter.slot(1, queue_timeout=8.5):  # now it fits
        pass


@pytestmark_async
async def test_fail_fast_raises_with_the_wait_instead_of_queueing() -> None:
    limiter = RateLimiter({1: Quota(1, 10.0)})
    async with limiter.slot(1, fail_fast=True):
        pass
    await anyio.sleep(4.0)
    with pytest.raises(RateLimitError) as info:
        async with limiter.slot(1, fail_fast=True):
            pass
    assert info.value.retry_after == pytest.approx(6.0)
    assert info.value.proto_id == 1


@pytestmark_async
async def test_protocols_without_a_quota_are_never_delayed() -> None:
    limiter = RateLimiter({3213: None})
    start = anyio.current_time()
    for proto_id in (3213, 1002, 9999):
        for _ in range(100):
            async with limiter.slot(proto_id):
                pass
    assert anyio.current_time() == start
    assert limiter.quota_for(3213) is None
    assert limiter.quota_for(3222) == DEFAULT_QUOTAS[3222]


@pytestmark_async
async def test_a_rejection_pauses_the_queue_for_a_period() -> None:
    limiter = RateLimiter({1: Quota(10, 30.0)})
    start = anyio.current_time()
    limiter.on_quota_rejection(1)
    async with limiter.slot(1):
        assert anyio.current_time() - start == pytest.approx(30.0)


@pytestmark_async
async def test_status_reports_used_queued_and_next_free() -> None:
    limiter = RateLimiter({1: Quota(2, 10.0)})
    log: list[tuple[int, float]] = []
    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(_hold, limiter, i, log)
        await anyio.sleep(0.1)
        status = limiter.status(1)
        assert (status.used, status.queued, status.next_free_in) == (2, 3, math.inf)
        assert status.throttled
        await anyio.sleep(1)
        status = limiter.status(1)
        assert status.queued == 3
        assert status.next_free_in == pytest.approx(9.4)  # the t=0.5 release frees at 10.5


def test_quotas_must_be_quota_objects() -> None:
    with pytest.raises(InvalidArgumentError, match="3213"):
        RateLimiter({3213: (10, 30)})  # type: ignore[dict-item]


@pytestmark_async
async def test_try_acquire_takes_a_free_slot_without_waiting_and_refuses_a_full_window() -> None:
    limiter = RateLimiter({1: Quota(2, 10.0)})
    assert limiter.try_acquire(1)
    assert limiter.try_acquire(1)
    assert not limiter.try_acquire(1)  # full: nothing taken
    assert limiter.status(1).used == 2
    limiter.release(1)
    limiter.release(1)
    assert not limiter.try_acquire(1)  # released slots cool down for a period
    await anyio.sleep(10.0)
    assert limiter.try_acquire(1)


@pytestmark_async
async def test_try_acquire_does_not_jump_the_queue() -> None:
    now = [0.0]  # the limiter's own clock, moved by hand
    limiter = RateLimiter({1: Quota(1, 10.0)}, clock=lambda: now[0])
    assert limiter.try_acquire(1)
    limiter.release(1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(limiter.acquire, 1)
        await anyio.wait_all_tasks_blocked()
        assert limiter.status(1).queued == 1
        now[0] = 10.0  # the window is free, but the queued caller has not run yet
        assert not limiter.try_acquire(1)
    assert limiter.status(1).queued == 0
    assert limiter.status(1).used == 1  # the queued caller's slot, not ours


@pytestmark_async
async def test_acquire_and_release_pair_up_like_slot() -> None:
    limiter = RateLimiter({1: QUOTA})
    start = anyio.current_time()
    for _ in range(11):
        await limiter.acquire(1)
        limiter.release(1)
    assert anyio.current_time() - start == pytest.approx(30.0)  # the 11th waited a period
    assert limiter.try_acquire(9999)  # no quota: always free
    limiter.release(9999)
    while limiter.try_acquire(1):
        pass
    with pytest.raises(RateLimitError):
        await limiter.acquire(1, fail_fast=True)
    assert limiter.status(1).used == 10


# -- outside any task: what a late reply does on asyncio -----------------------


class _FakeTimeLoop(asyncio.SelectorEventLoop):
    """A plain asyncio loop whose clock is moved by hand."""

    now = 1000.0

    def time(self) -> float:
        return self.now


def test_release_from_a_loop_callback_uses_the_loops_clock_with_sniffio_importable() -> None:
    """A late reply releases its slot from the loop's read callback, where no
    task runs: under a plain ``asyncio.run`` (nothing of anyio set up) that
    must work, on the clock of the loop the limiter was first used on."""
    assert importlib.util.find_spec("sniffio") is not None  # what users have
    limiter = RateLimiter({1: Quota(1, 10.0)})  # no clock given: the loop's

    async def main() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, _FakeTimeLoop)
        assert limiter.try_acquire(1)
        released = loop.create_future()

        def late_reply() -> None:  # a callback: no task is running in it
            assert asyncio.current_task() is None
            try:
                limiter.release(1)
            except Exception as exc:  # reported to the test, not to the loop's log
                released.set_exception(exc)
            else:
                released.set_result(None)

        loop.call_soon(late_reply)
        await released
        assert limiter.status(1).used == 1
        assert limiter.status(1).next_free_in == 10.0  # cooling from the fake "now"
        loop.now += 10.0
        assert limiter.status(1).used == 0
        assert limiter.try_acquire(1)

    # What asyncio.run does, on this loop (asyncio.Runner's loop_factory is 3.11+).
    loop = _FakeTimeLoop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


# -- a refusal by OpenD means "wait", whether or not the client counts --------


@pytestmark_async
async def test_a_refusal_of_a_protocol_whose_quota_is_off_blocks_it_for_opends_window() -> None:
    limiter = RateLimiter({GUS: None})  # the client does not count 3213 any more
    documented = DEFAULT_QUOTAS[GUS].period
    assert limiter.try_acquire(GUS)
    limiter.on_quota_rejection(GUS)
    status = limiter.status(GUS)
    assert (status.quota, status.used) == (None, 0)
    assert status.next_free_in == documented
    assert not limiter.try_acquire(GUS)
    with pytest.raises(RateLimitError) as info:
        await limiter.acquire(GUS, fail_fast=True)
    assert info.value.retry_after == documented
    start = anyio.current_time()
    await limiter.acquire(GUS)
    assert anyio.current_time() - start == pytest.approx(documented)
    assert limiter.status(GUS).next_free_in == 0
    assert limiter.try_acquire(GUS)  # and no counting from now on


@pytestmark_async
async def test_a_refusal_of_a_protocol_without_a_documented_quota_still_waits() -> None:
    limiter = RateLimiter()
    limiter.on_quota_rejection(9999)
    assert limiter.status(9999).next_free_in > 0
    with pytest.raises(RateLimitError, match="queue_timeout") as info:
        await limiter.acquire(9999, queue_timeout=1.0)
    assert info.value.retry_after > 0
    assert limiter.status(9999).queued == 0


@pytestmark_async
async def test_fail_fast_behind_a_queue_never_says_retry_in_zero_seconds() -> None:
    now = [0.0]  # the limiter's own clock, moved by hand
    limiter = RateLimiter({1: Quota(2, 10.0)}, clock=lambda: now[0])
    assert limiter.try_acquire(1)
    assert limiter.try_acquire(1)
    limiter.release(1)
    limiter.release(1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(limiter.acquire, 1)
        await anyio.wait_all_tasks_blocked()
        now[0] = 10.0  # the window is free, but a caller queued first
        with pytest.raises(RateLimitError) as info:
            await limiter.acquire(1, fail_fast=True)
    assert info.value.retry_after > 0
