"""Single-flight: concurrent calls for one key share one execution."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest
import trio.testing

from asyncquote import OpenDError
from asyncquote._client.singleflight import SingleFlight

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_concurrent_callers_of_one_key_share_one_call() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    calls = 0
    release = anyio.Event()

    async def work() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    results: list[int] = []

    async def caller() -> None:
        results.append(await flights.run("k", lambda *_: work()))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(caller)
        await anyio.wait_all_tasks_blocked()
        assert flights.in_flight("k")
        release.set()
    assert calls == 1
    assert results == [42] * 50
    assert not flights.in_flight("k")


async def test_different_keys_do_not_share() -> None:
    flights: SingleFlight[str, str] = SingleFlight()

    async def echo(key: str) -> str:
        await anyio.sleep(0.01)
        return key

    results: dict[str, str] = {}

    async def caller(key: str) -> None:
        results[key] = await flights.run(key, lambda *_: echo(key))

    async with anyio.create_task_group() as tg:
        for key in "abc":
            tg.start_soon(caller, key)
    assert results == {"a": "a", "b": "b", "c": "c"}


async def test_every_waiter_gets_its_own_copy_of_the_same_error() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = anyio.Event()

    async def fail() -> int:
        await release.wait()
        raise OpenDError(-1, 2, "Unknown watchlists", 3213)

    errors: list[OpenDError] = []

    async def caller() -> None:
        try:
            await flights.run("k", lambda *_: fail())
        except OpenDError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(caller)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert len(errors) == 5
    assert len({id(e) for e in errors}) == 5
    assert {(e.ret_type, e.err_code, e.message, e.proto_id) for e in errors} == {
        (-1, 2, "Unknown watchlists", 3213)
    }


async def test_a_cancelled_leader_hands_over_to_a_waiter() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    calls = 0

    async def work() -> str:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.05)
        return f"call {calls}"

    leader_scope = anyio.CancelScope()
    result: list[str] = []

    async def leader() -> None:
        with leader_scope:
            await flights.run("k", lambda *_: work())

    async def follower() -> None:
        result.append(await flights.run("k", lambda *_: work()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(leader)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(follower)
        await anyio.wait_all_tasks_blocked()
        leader_scope.cancel()
    assert leader_scope.cancelled_caught
    assert result == ["call 2"]


# -- issue 11 item 4: each caller keeps its own timeout (virtual clock) ----------

_VIRTUAL = [("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})]


class _Mine(Exception):
    """Stands for an error that concerns only the caller that got it."""


@pytest.mark.parametrize("anyio_backend", _VIRTUAL)
async def test_a_follower_gives_up_at_its_own_deadline_and_the_call_goes_on() -> None:
    flights: SingleFlight[str, str] = SingleFlight(
        expired=lambda key, timeout: TimeoutError(f"{key} not within {timeout:g} s")
    )
    leader: list[tuple[str, float]] = []

    async def slow(left: float, started: Callable[[], None]) -> str:
        started()
        await anyio.sleep(8)
        return f"done, {left:g} s allowed"

    async def lead() -> None:
        leader.append((await flights.run("k", slow, 30), anyio.current_time()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(lead)
        await anyio.wait_all_tasks_blocked()
        started = anyio.current_time()
        with pytest.raises(TimeoutError, match=r"k not within 0\.5 s"):
            await flights.run("k", slow, 0.5)
        assert anyio.current_time() - started == pytest.approx(0.5)
        assert flights.in_flight("k")
    assert leader == [("done, 30 s allowed", pytest.approx(started + 8))]


@pytest.mark.parametrize("anyio_backend", _VIRTUAL)
async def test_a_leader_failing_with_a_personal_error_hands_over_with_the_time_left() -> None:
    flights: SingleFlight[str, float] = SingleFlight(personal=(_Mine,))
    calls: list[float] = []

    async def work(left: float, started: Callable[[], None]) -> float:
        started()
        calls.append(left)
        await anyio.sleep(1)
        if len(calls) == 1:
            raise _Mine("the leader's own deadline")
        return left

    async def lead() -> None:
        with pytest.raises(_Mine):
            await flights.run("k", work, 1)

    async with anyio.create_task_group() as tg:
        tg.start_soon(lead)
        await anyio.wait_all_tasks_blocked()
        await anyio.sleep(0.25)
        assert await flights.run("k", work, 5) == pytest.approx(4.25)
    assert calls == [1, pytest.approx(4.25)]


@pytest.mark.parametrize("anyio_backend", _VIRTUAL)
async def test_a_followers_clock_starts_when_the_call_gets_going_not_while_it_waits_to() -> None:
    """Time the shared call spends before it starts (queued for quota) counts for no one."""
    flights: SingleFlight[str, str] = SingleFlight()
    go = anyio.Event()

    async def queued_then_quick(left: float, started: Callable[[], None]) -> str:
        await go.wait()  # e.g. queued for a quota slot
        started()
        await anyio.sleep(3)
        return "done"

    async with anyio.create_task_group() as tg:
        tg.start_soon(flights.run, "k", queued_then_quick, 5)
        await anyio.wait_all_tasks_blocked()

        async def release_later() -> None:
            await anyio.sleep(60)
            go.set()

        tg.start_soon(release_later)
        arrived = anyio.current_time()
        assert await flights.run("k", queued_then_quick, 5) == "done"
        assert anyio.current_time() - arrived == pytest.approx(63)


@pytest.mark.parametrize("anyio_backend", _VIRTUAL)
async def test_a_followers_clock_does_not_start_over_with_a_call_it_leads_after_a_handover() -> (
    None
):
    flights: SingleFlight[str, str] = SingleFlight(
        personal=(_Mine,), expired=lambda key, timeout: TimeoutError(f"{timeout:g}")
    )
    calls: list[float] = []

    async def work(left: float, started: Callable[[], None]) -> str:
        started()
        calls.append(left)
        await anyio.sleep(4)
        if len(calls) == 1:
            raise _Mine("the leader's own deadline")
        return "late"

    async def lead() -> None:
        with pytest.raises(_Mine):
            await flights.run("k", work, 4)

    async with anyio.create_task_group() as tg:
        tg.start_soon(lead)
        await anyio.wait_all_tasks_blocked()
        started = anyio.current_time()
        # 6 s in all: 4 spent behind the first leader, 2 left for its own call.
        assert await flights.run("k", work, 6) == "late"
    assert calls == [4, pytest.approx(2)]
    assert anyio.current_time() - started == pytest.approx(8)
