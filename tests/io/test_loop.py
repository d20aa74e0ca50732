"""The per-call primitives chosen for the running loop, on both backends."""

from __future__ import annotations

import anyio
import pytest

from asyncquote._io.loop import clock, oneshot_factory

from ..conftest import Runner

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def test_set_wakes_the_waiting_task() -> None:
    woken = oneshot_factory()()
    order: list[str] = []

    async def waiter() -> None:
        await woken
        order.append("woke")

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        assert order == []
        order.append("set")
        woken.set()
    assert order == ["set", "woke"]


async def test_a_oneshot_set_early_returns_at_once_and_setting_twice_is_harmless() -> None:
    woken = oneshot_factory()()
    woken.set()
    woken.set()
    with anyio.fail_after(1):
        await woken


async def test_setting_a_oneshot_whose_waiter_was_cancelled_is_harmless() -> None:
    woken = oneshot_factory()()
    with anyio.move_on_after(0.01) as scope:
        await woken
    assert scope.cancelled_caught
    woken.set()  # e.g. a reply arriving after the caller gave up


async def test_the_clock_is_anyios_clock() -> None:
    now = clock()
    before = anyio.current_time()
    await anyio.sleep(0.01)
    middle = now()
    after = anyio.current_time()
    assert before < middle <= after


async def test_the_primitives_are_the_running_loops_own_without_anyios_lookup(
    runner: Runner,
) -> None:
    # anyio's Event and current_time look the backend up on every use
    # (several Python calls), and a call uses several: trio's own are taken.
    if runner.loop == "trio":
        import trio

        # The run's clock itself: trio.current_time reaches it through two
        # more Python calls on every read.
        assert clock() == trio.lowlevel.current_clock().current_time
        assert isinstance(oneshot_factory()()._event, trio.Event)  # type: ignore[attr-defined]
    else:
        import asyncio

        assert clock() == asyncio.get_running_loop().time
