"""The drop-oldest broadcast behind ``client.events()``, without sockets.

Publishing is synchronous, so these tests are deterministic: they publish,
then read, and count. They run on asyncio, uvloop and trio.
"""

from __future__ import annotations

import anyio
import pytest

import asyncquote
from asyncquote._io.broadcast import Broadcast

from ..conftest import Runner

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def take(iterator: asyncquote.Subscription[int], count: int) -> list[int]:
    items = []
    async for item in iterator:
        items.append(item)
        if len(items) == count:
            break
    return items


async def test_every_subscriber_gets_every_item_in_order() -> None:
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe() as first, hub.subscribe() as second:
        assert hub.subscribers == 2
        for item in range(5):
            hub.publish(item)
        assert await take(first, 5) == [0, 1, 2, 3, 4]
        assert await take(second, 5) == [0, 1, 2, 3, 4]
        assert first.dropped == second.dropped == 0


async def test_items_before_subscribing_are_not_seen() -> None:
    hub: Broadcast[int] = Broadcast()
    hub.publish(1)
    async with hub.subscribe() as items:
        hub.publish(2)
        assert await take(items, 1) == [2]


async def test_a_view_keeps_only_what_it_accepts_and_the_rest_takes_no_room() -> None:
    # client.state_changes() is such a view on client.events()' broadcast:
    # a flood of Notify events must not push the connection's states out.
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe(buffer=2, accept=lambda item: item % 10 == 0) as tens:
        for item in range(100):
            hub.publish(item)
        assert tens.pending == 2
        assert tens.dropped == 8  # of the ten it accepted, not of the hundred
        assert await take(tens, 2) == [80, 90]


async def test_a_full_buffer_drops_the_oldest_and_counts_them() -> None:
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe(buffer=3) as slow, hub.subscribe(buffer=100) as fast:
        for item in range(10):
            hub.publish(item)
            assert slow.pending <= 3  # never more than its buffer
        assert slow.dropped == 7
        assert await take(slow, 3) == [7, 8, 9]  # the newest survive
        assert fast.dropped == 0  # one slow subscriber costs the others nothing
        assert await take(fast, 10) == list(range(10))


async def test_a_flood_stays_bounded_and_the_publisher_never_waits() -> None:
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe(buffer=16) as items:
        # 100,000 items published with no reader running: publish() is
        # synchronous, so it cannot have waited for one.
        for item in range(100_000):
            hub.publish(item)
        assert items.pending == 16
        assert items.dropped == 100_000 - 16
        assert await take(items, 16) == list(range(100_000 - 16, 100_000))


async def test_a_waiting_reader_is_woken_by_a_publish() -> None:
    hub: Broadcast[int] = Broadcast()
    got: list[int] = []
    async with hub.subscribe() as items, anyio.create_task_group() as tg:

        async def read() -> None:
            got.extend(await take(items, 2))

        tg.start_soon(read)
        await anyio.wait_all_tasks_blocked()
        hub.publish(1)
        await anyio.wait_all_tasks_blocked()
        assert got == []  # still waiting for the second
        hub.publish(2)
    assert got == [1, 2]


async def test_leaving_the_block_unsubscribes() -> None:
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe() as items:
        pass
    assert hub.subscribers == 0
    hub.publish(1)
    assert items.pending == 0
    assert await take(items, 1) == []  # ended


async def test_closing_ends_every_iteration_after_what_is_buffered() -> None:
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe() as items, anyio.create_task_group() as tg:
        got: list[int] = []

        async def read_all() -> None:
            got.extend([item async for item in items])

        tg.start_soon(read_all)
        hub.publish(1)
        hub.publish(2)
        hub.close()
        hub.publish(3)  # after close: nobody gets it
    assert got == [1, 2]
    async with hub.subscribe() as late:
        assert [item async for item in late] == []


async def test_a_reader_can_be_cancelled_while_waiting() -> None:
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe() as items:
        with anyio.move_on_after(0.01):
            await take(items, 1)
        hub.publish(5)
        assert await take(items, 1) == [5]  # still usable


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3", None])
async def test_a_bad_buffer_is_refused(bad: object) -> None:
    hub: Broadcast[int] = Broadcast()
    with pytest.raises(asyncquote.InvalidArgumentError, match="buffer"):
        async with hub.subscribe(bad):  # type: ignore[arg-type]
            pass
    assert hub.subscribers == 0


async def test_a_second_concurrent_reader_is_refused_at_once_and_the_first_ends_on_close() -> None:
    hub: Broadcast[int] = Broadcast()
    got: list[int] = []
    async with hub.subscribe() as items, anyio.create_task_group() as tg:

        async def read_all() -> None:
            got.extend([item async for item in items])

        tg.start_soon(read_all)
        await anyio.wait_all_tasks_blocked()  # the first reader waits for an item
        with anyio.fail_after(5):  # bounds a hang: the refusal itself is immediate
            with pytest.raises(asyncquote.UsageError, match="another task"):
                await take(items, 1)
        hub.publish(1)
        hub.close()
    assert got == [1]  # the first reader got the item and ended with the close


async def test_readers_one_after_another_may_share_a_subscription() -> None:
    hub: Broadcast[int] = Broadcast()
    async with hub.subscribe() as items:
        for item in range(3):
            hub.publish(item)
        async with anyio.create_task_group() as tg:
            tg.start_soon(take, items, 1)
        assert await take(items, 2) == [1, 2]
