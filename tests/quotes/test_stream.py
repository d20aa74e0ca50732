"""A quote stream between the receive path and its reader, on every runner."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from asyncquote import BasicQuote, ConnectionLostError, OrderBook, UsageError
from asyncquote._models import convert as _convert
from asyncquote._models import quote_convert as _quote_convert
from asyncquote._opend.framing import Frame
from asyncquote._quotes.live import LiveQuotes
from asyncquote._quotes.stream import QuoteStream, StreamGap

from ..conftest import Runner
from ..hostile_peer import pb_message, response_body
from ..hostile_quotes import basic_qot, order_book_s2c

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


# -- updates decoded when read ------------------------------------------------
#
# The receive path (LiveQuotes.on_push) puts each update in as the protobuf
# message of its push; the reader builds the model when it takes it.

TENCENT, APPLE = (1, "00700"), (11, "AAPL")


def quote_push(*quotes: bytes) -> Frame:
    return Frame(3005, 0, response_body(pb_message(*((1, quote) for quote in quotes))), b"")


def live_stream(*keys: tuple[int, str], capacity: int = 8) -> tuple[LiveQuotes, QuoteStream[Any]]:
    live = LiveQuotes()
    stream: QuoteStream[Any] = QuoteStream("s", capacity)
    live.register(stream, [(key, 1) for key in keys])
    return live, stream


@pytest.fixture
def models_built(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many models of each class were built (every decoder builds through ``_new``)."""
    built: Counter[str] = Counter()

    def new(cls: type) -> object:
        built[cls.__name__] += 1
        return object.__new__(cls)

    monkeypatch.setattr(_convert, "_new", new)
    return built


async def test_a_flood_with_a_stopped_reader_decodes_only_what_is_read(
    runner: Runner, models_built: Counter[str]
) -> None:
    live, stream = live_stream(TENCENT, APPLE)
    for n in range(1000):  # nobody reads meanwhile
        live.on_push(quote_push(basic_qot(TENCENT, 100.0 + n)))
        live.on_push(quote_push(basic_qot(APPLE, 300.0 + n), basic_qot((1, "09988"), 5.0)))
    assert models_built["BasicQuote"] == 0  # the receive path built no model
    assert (stream.pending, stream.superseded) == (2, 1998)
    first = await stream.__anext__()
    assert isinstance(first, BasicQuote)
    assert (str(first.security), first.cur_price) == ("HK.00700", 1099.0)
    assert models_built["BasicQuote"] == 1  # one per update taken, when taken
    second = await stream.__anext__()
    assert (str(second.security), second.cur_price) == ("US.AAPL", 1299.0)
    assert models_built["BasicQuote"] == 2


async def test_conflation_keeps_each_pairs_place_and_counts_what_it_replaced(
    runner: Runner,
) -> None:
    live, stream = live_stream(TENCENT, APPLE, (1, "09988"))
    for key, price in [(TENCENT, 1.0), (APPLE, 2.0), (TENCENT, 3.0), ((1, "09988"), 4.0)]:
        live.on_push(quote_push(basic_qot(key, price)))
    live.on_push(quote_push(basic_qot(APPLE, 5.0), basic_qot(TENCENT, 6.0)))  # two in one push
    got = [await stream.__anext__() for _ in range(3)]
    assert [(q.security.code, q.cur_price) for q in got] == [
        ("00700", 6.0),
        ("AAPL", 5.0),
        ("09988", 4.0),
    ]
    assert (stream.superseded, stream.pending) == (3, 0)


async def test_an_order_book_is_decoded_when_read_too(
    runner: Runner, models_built: Counter[str]
) -> None:
    live = LiveQuotes()
    stream: QuoteStream[Any] = QuoteStream("s", 8)
    live.register(stream, [(TENCENT, 2)])
    for price in (10.0, 11.0):
        live.on_push(Frame(3013, 0, response_body(order_book_s2c(TENCENT, price)), b""))
    assert models_built["OrderBook"] == 0
    book = await stream.__anext__()
    assert isinstance(book, OrderBook)
    assert book.asks[0].price == pytest.approx(11.2)
    assert (models_built["OrderBook"], stream.superseded) == (1, 1)


async def test_an_update_that_cannot_be_decoded_is_logged_and_skipped_by_the_reader(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    live, stream = live_stream(TENCENT, APPLE)
    # Parses, names its security, lacks every other required field: the
    # receive path routes it; it fails when the reader decodes it.
    live.on_push(quote_push(pb_message((1, pb_message((1, TENCENT[0]), (2, TENCENT[1]))))))
    live.on_push(quote_push(basic_qot(APPLE, 2.0)))
    with caplog.at_level(logging.WARNING, logger="asyncquote.quotes"):
        update = await stream.__anext__()
        assert (update.security.code, update.cur_price) == ("AAPL", 2.0)  # the next one
        (record,) = [r for r in caplog.records if "skipped an update" in r.getMessage()]
        assert "lacks required fields" in record.getMessage()
        assert "curPrice" in record.getMessage()
        # The stream goes on: a later update of the same pair decodes.
        live.on_push(quote_push(pb_message((1, pb_message((1, TENCENT[0]), (2, TENCENT[1]))))))
        stream._close()
        assert [item async for item in stream] == []  # skipped, then the end
    assert (
        len([r for r in caplog.records if "skipped an update" in r.getMessage()]) == 1
    )  # throttled


async def test_a_bug_in_a_decoder_skips_the_update_and_the_stream_goes_on(
    runner: Runner, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    live, stream = live_stream(TENCENT, APPLE)
    live.on_push(quote_push(basic_qot(TENCENT, 1.0)))
    live.on_push(quote_push(basic_qot(APPLE, 2.0)))
    real = _quote_convert.PUSH_UPDATE_DECODERS

    def broken(pb: Any) -> Any:
        if pb.security.code == "00700":
            raise ValueError("a bug")
        return real[pb.__class__](pb)

    monkeypatch.setattr(_quote_convert, "PUSH_UPDATE_DECODERS", dict.fromkeys(real, broken))
    with caplog.at_level(logging.WARNING, logger="asyncquote.quotes"):
        update = await stream.__anext__()
    assert update.security.code == "AAPL"
    assert "could not decode an update of stream s" in caplog.text
    assert "a bug" in caplog.text


async def test_a_quote_naming_no_security_is_reported_and_the_rest_of_its_push_delivered(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    live, stream = live_stream(TENCENT)
    nameless = pb_message((9, 1.0))  # a curPrice and nothing else
    with caplog.at_level(logging.WARNING, logger="asyncquote.quotes"):
        live.on_push(quote_push(nameless, basic_qot(TENCENT, 3.0)))
    assert "1 update(s) of a protocol 3005 push name no security" in caplog.text
    update = await stream.__anext__()
    assert (update.security.code, update.cur_price) == ("00700", 3.0)


def _busy_stream(count: int) -> QuoteStream[str]:
    """A stream holding ``count`` updates of as many securities."""
    stream: QuoteStream[str] = QuoteStream("s", count)
    for n in range(count):
        stream._put(n, f"u{n}")
    return stream


async def test_a_reader_of_a_busy_stream_can_be_cancelled_between_any_two_updates(
    runner: Runner,
) -> None:
    stream = _busy_stream(50)
    got: list[object] = []
    with anyio.CancelScope() as scope:
        async for item in stream:
            got.append(item)
            if len(got) == 3:
                scope.cancel()  # no other await in this loop: the stream's own check stops it
    assert got == ["u0", "u1", "u2"]
    assert stream.pending == 47


async def test_a_reader_of_a_busy_stream_lets_other_tasks_run_every_few_updates(
    runner: Runner,
) -> None:
    stream = _busy_stream(1000)
    turns = 0
    longest = 0  # updates taken in a row while the other task waited
    in_a_row = 0

    async def other() -> None:
        nonlocal turns, in_a_row
        while True:
            turns += 1
            in_a_row = 0
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(other)
        await anyio.lowlevel.checkpoint()
        for _ in range(1000):
            await stream.__anext__()  # the reader awaits nothing else
            in_a_row += 1
            longest = max(longest, in_a_row)
        tg.cancel_scope.cancel()
    # A yield every 16 updates; trio may run the reader's next stretch before
    # the other task's turn in the next batch (it shuffles a batch's order).
    assert 0 < longest <= 2 * 16
    assert turns >= 1000 // 32
