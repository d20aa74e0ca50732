"""A quote stream between the receive path and its reader, on every runner."""

from __future__ import annotations

import anyio
import pytest

from asyncquote import ConnectionLostError, UsageError
from asyncquote._quotes.stream import QuoteStream, StreamGap

from ..conftest import Runner

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def test_a_waiting_reader_is_woken_by_a_put_from_outside_any_task(runner: Runner) -> None:
    stream: QuoteStream[str] = QuoteStream("s", 8)
    got: list[object] = []

    async def read() -> None:
        got.append(await stream.__anext__())

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        await anyio.wait_all_tasks_blocked()
        stream._put("A", "a1")  # as the receive path does: synchronous
    assert got == ["a1"]


async def test_a_slow_reader_gets_the_newest_and_the_count_of_what_it_skipped(
    runner: Runner,
) -> None:
    stream: QuoteStream[str] = QuoteStream("s", 8)
    for n in range(100):
        stream._put("A", f"a{n}")
        stream._put("B", f"b{n}")
    assert stream.pending == 2
    assert [await stream.__anext__(), await stream.__anext__()] == ["a99", "b99"]
    assert stream.superseded == 198
    assert stream.dropped == 0


async def test_a_gap_is_a_marker_between_old_and_new_updates(runner: Runner) -> None:
    stream: QuoteStream[str] = QuoteStream("s", 8)
    stream._put("A", "old")
    stream._put("B", "old")
    stream._gap()
    stream._put("A", "new")  # supersedes A's old update, behind the marker
    assert stream.pending == 3
    items = [await stream.__anext__() for _ in range(3)]
    assert items == ["old", StreamGap(reconnects=1), "new"]
    assert (stream.gaps, stream.superseded) == (1, 1)


async def test_a_closed_stream_ends_after_what_it_holds_or_raises_its_error(
    runner: Runner,
) -> None:
    stream: QuoteStream[str] = QuoteStream("s", 8)
    stream._put("A", "a1")
    stream._close()
    stream._put("A", "late")  # after closing: ignored
    assert [item async for item in stream] == ["a1"]
    lost: QuoteStream[str] = QuoteStream("s", 8)
    lost._put("A", "a1")
    lost._close(ConnectionLostError("the client was closed"))
    assert await lost.__anext__() == "a1"
    with pytest.raises(ConnectionLostError, match="closed"):
        await lost.__anext__()


async def test_a_second_reader_at_once_is_a_usage_error(runner: Runner) -> None:
    stream: QuoteStream[str] = QuoteStream("s", 8)

    async def first_reader() -> None:
        assert [item async for item in stream] == []

    async with anyio.create_task_group() as tg:
        tg.start_soon(first_reader)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(UsageError, match="one reader at a time"):
            await stream.__anext__()
        stream._close()
