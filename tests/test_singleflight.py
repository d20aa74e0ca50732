"""Single-flight: concurrent calls for one key share one execution."""

from __future__ import annotations

import anyio
import pytest

from asyncquote import OpenDError
from asyncquote.singleflight import SingleFlight

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
        results.append(await flights.run("k", lambda _: work()))

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
        results[key] = await flights.run(key, lambda _: echo(key))

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
            await flights.run("k", lambda _: fail())
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
            await flights.run("k", lambda _: work())

    async def follower() -> None:
        result.append(await flights.run("k", lambda _: work()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(leader)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(follower)
        await anyio.wait_all_tasks_blocked()
        leader_scope.cancel()
    assert leader_scope.cancelled_caught
    assert result == ["call 2"]
