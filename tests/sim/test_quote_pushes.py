"""Quote pushes (3005, 3013): only to connections registered, encrypted, bounded, at a rate."""

from __future__ import annotations

import datetime
import functools
import hashlib
import itertools
import zoneinfo

import anyio
import pytest

from asyncquote._opend.quotes import UsTradingPart
from asyncquote._pb import Qot_UpdateBasicQot_pb2, Qot_UpdateOrderBook_pb2
from asyncquote.sim import Simulator, serve
from asyncquote.sim._market_calendar import trading_part

from .cryptoclient import encrypted_client
from .keys import rsa_pem
from .quotes import (
    ORDER_BOOK,
    ORDER_BOOK_ODD,
    QUOTE,
    SUB,
    UPDATE_BASIC_QOT,
    UPDATE_ORDER_BOOK,
    QuoteClient,
    sub_request,
)
from .rawclient import NOTIFY, ready_client
from .wsclient import KEY, WsClient, websocket_port

pytestmark = pytest.mark.anyio

TENCENT, APPLE = "HK.00700", "US.AAPL"


async def test_a_price_set_goes_exactly_to_the_connections_registered_for_it() -> None:
    with anyio.fail_after(10):
        async with (
            Simulator(quote_rate=0) as sim,
            ready_client(sim.host, sim.port) as raw_quotes,
            ready_client(sim.host, sim.port) as raw_books,
            ready_client(sim.host, sim.port) as raw_silent,
            ready_client(sim.host, sim.port) as raw_other,
        ):
            quotes, books = QuoteClient(raw_quotes), QuoteClient(raw_books)
            silent, other = QuoteClient(raw_silent), QuoteClient(raw_other)
            await quotes.sub([TENCENT], [QUOTE], first_push=False)
            await books.sub([TENCENT], [ORDER_BOOK], first_push=False)
            await silent.sub([TENCENT], [QUOTE, ORDER_BOOK], push=None)
            await other.sub([APPLE], [QUOTE, ORDER_BOOK], first_push=False)
            quote = sim.market.set_price(TENCENT, 400.2)
            pushed = await quotes.quote_push()
            book = await books.book_push()
            assert await quotes.pushed_since() == []
            assert await books.pushed_since() == []
            assert await silent.pushed_since() == []
            assert await other.pushed_since() == []
    assert (pushed.curPrice, pushed.volume, pushed.highPrice) == (
        400.2,
        quote.volume,
        quote.high_price,
    )
    assert pushed.updateTimestamp == quote.update_time
    assert [level.price for level in book.orderBookBidList[:2]] == [400.0, 399.8]
    assert [level.price for level in book.orderBookAskList[:2]] == [400.4, 400.6]
    assert len(book.orderBookAskList) == 10


async def test_the_odd_lot_book_is_pushed_when_it_changes_to_its_subscribers_only() -> None:
    with anyio.fail_after(10):
        async with (
            Simulator(quote_rate=0) as sim,
            ready_client(sim.host, sim.port) as raw_odd,
            ready_client(sim.host, sim.port) as raw_board,
        ):
            odd, board = QuoteClient(raw_odd), QuoteClient(raw_board)
            await odd.sub([TENCENT], [ORDER_BOOK_ODD], first_push=False)
            await board.sub([TENCENT], [ORDER_BOOK], first_push=False)
            sim.market.set_price(TENCENT, 400.2)
            moved = await odd.book_push()
            assert (await board.book_push()).orderBookType == 0
            sim.market.set_price(TENCENT, 400.2)  # a trade, but the same price
            await board.book_push()
            unchanged = await odd.pushed_since()
            sim.market.set_price(TENCENT, 400.4)
            again = await odd.book_push()
            assert await odd.pushed_since() == []
            assert await board.pushed_since() != []  # its book moved twice more
            book = sim.market.odd_lot_book(TENCENT)
    assert unchanged == []
    assert (moved.orderBookType, again.orderBookType) == (1, 1)
    assert [level.price for level in again.orderBookAskList] == [level.price for level in book.asks]
    assert again.svrRecvTimeAskTimestamp == book.update_time


@pytest.mark.parametrize("algo", [0, 1, 2])
async def test_quote_pushes_to_an_encrypted_connection_are_encrypted_with_its_key(
    algo: int,
) -> None:
    key = rsa_pem("simulator")
    with anyio.fail_after(5):
        async with (
            Simulator(rsa_key=key, quote_rate=0) as sim,
            encrypted_client(sim.host, sim.port, key, algo=algo) as client,
        ):
            quotes = QuoteClient(client)
            assert (await quotes.sub([TENCENT], [QUOTE, ORDER_BOOK])).retType == 0
            first = await quotes.quote_push()
            await quotes.book_push()
            sim.market.set_price(TENCENT, 400.2)
            moved = await quotes.quote_push()
    assert first.security.code == moved.security.code == "00700"
    assert moved.curPrice == 400.2
    pushes = [frame for frame in client.wire if frame.serial_no == 0]
    assert [frame.proto_id for frame in pushes] == [
        UPDATE_BASIC_QOT,
        UPDATE_ORDER_BOOK,
        UPDATE_BASIC_QOT,
    ]
    assert all(hashlib.sha1(frame.body).digest() != frame.body_sha1 for frame in pushes)


async def test_the_websocket_front_passes_quote_pushes_on_as_section_zero() -> None:
    with anyio.fail_after(10):
        async with (
            Simulator(quote_rate=0, websocket_port=0, websocket_key=KEY) as sim,
            WsClient(sim.host, websocket_port(sim)) as client,
        ):
            assert (await client.log_in(KEY)).error == 0
            request = sub_request([TENCENT], [QUOTE], first_push=False)
            await client.send(SUB, 7, request.SerializeToString())
            reply = await client.receive()
            used = await client.receive()  # the bridge asks for notifications
            sim.market.set_price(TENCENT, 400.2)
            push = await client.receive()
    assert (reply.cmd, reply.section, reply.error) == (SUB, 7, 0)
    assert (used.cmd, used.section) == (NOTIFY, 0)
    assert (push.cmd, push.section) == (UPDATE_BASIC_QOT, 0)
    quote = Qot_UpdateBasicQot_pb2.Response.FromString(push.body).s2c.basicQotList[0]
    assert quote.curPrice == 400.2


async def test_a_client_that_stops_reading_quotes_stalls_only_itself() -> None:
    # More than one round of pushes (48) may wait: only a stalled client loses any.
    backlog = 100
    with anyio.fail_after(60):
        async with (
            Simulator(quote_rate=0, push_backlog=backlog) as sim,
            ready_client(sim.host, sim.port) as raw_stalled,
            ready_client(sim.host, sim.port) as raw_reader,
        ):
            stalled, reader = QuoteClient(raw_stalled), QuoteClient(raw_reader)
            # Every security's book to the stalled client: its buffers fill sooner.
            everything = list(sim.market.codes)
            await stalled.sub(everything, [QUOTE, ORDER_BOOK], first_push=False)
            await reader.sub([TENCENT], [ORDER_BOOK], first_push=False)
            pushed = 0
            while sim.pushes_dropped < 10:
                for code in everything:
                    sim.market.set_price(code, sim.market.quote(code).cur_price)
                pushed += 1
                # The reader gets every book while the other reads nothing.
                book = await reader.book_push()
                expected = sim.market.order_book(TENCENT).asks[0]
                assert book.orderBookAskList[0].volume == expected.volume
            waiting = sim._table._peers[1]._pushes_waiting  # the first connection's
            # Once it reads again, the stalled client gets what was kept for it.
            first = await stalled.quote_push()
    assert waiting == backlog
    assert first.security.code == "00700"
    assert pushed > 1


async def test_pushes_for_a_closed_connection_go_nowhere() -> None:
    with anyio.fail_after(5):
        async with Simulator(quote_rate=0) as sim:
            async with ready_client(sim.host, sim.port) as raw:
                await QuoteClient(raw).sub([TENCENT], [QUOTE], first_push=False)
            await sim.drop_connections()
            sim.market.set_price(TENCENT, 400.2)
            assert sim.pushes_dropped == 0
            assert sim.used_subscription_quota == 1  # until its minute is up


class TestAtARate:
    """The market's own task, on a virtual clock: minutes pass at once."""

    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_every_security_moves_at_the_rate_and_each_move_is_pushed(self) -> None:
        async with Simulator(quote_rate=2) as sim, ready_client(sim.host, sim.port) as raw:
            client = QuoteClient(raw)
            await client.sub([TENCENT, APPLE], [QUOTE])
            first = [await client.quote_push() for _ in range(2)]
            moves = [await client.quote_push() for _ in range(6)]
        assert [quote.security.code for quote in first] == ["00700", "AAPL"]
        assert [quote.security.code for quote in moves] == ["00700", "AAPL"] * 3
        times = [quote.updateTimestamp for quote in moves[::2]]
        assert [later - earlier for earlier, later in itertools.pairwise(times)] == [0.5, 0.5]
        volumes = [quote.volume for quote in moves[::2]]
        assert volumes == sorted(volumes)
        assert volumes[0] > first[0].volume

    async def test_replies_and_pushes_interleave_and_every_reply_finds_its_request(
        self,
    ) -> None:
        async with Simulator(quote_rate=20) as sim, ready_client(sim.host, sim.port) as raw:
            client = QuoteClient(raw)
            await client.sub([TENCENT, APPLE], [QUOTE, ORDER_BOOK], first_push=False)
            replies = []
            for _ in range(40):
                replies.append(await client.basic_qot([TENCENT]))
                await anyio.sleep(0.05)
            pushes = list(client.pushes)
        assert all(reply.retType == 0 for reply in replies)
        assert {frame.proto_id for frame in pushes} == {UPDATE_BASIC_QOT, UPDATE_ORDER_BOOK}
        books = [
            Qot_UpdateOrderBook_pb2.Response.FromString(frame.body)
            for frame in pushes
            if frame.proto_id == UPDATE_ORDER_BOOK
        ]
        assert len(books) >= 30  # two moves a security between requests, less jitter
        # The replies saw the market move too.
        assert len({reply.s2c.basicQotList[0].updateTimestamp for reply in replies}) > 30

    async def test_a_rate_of_zero_moves_nothing_by_itself(self) -> None:
        async with Simulator(quote_rate=0) as sim, ready_client(sim.host, sim.port) as raw:
            client = QuoteClient(raw)
            await client.sub([TENCENT], [QUOTE])
            before = await client.quote_push()
            await anyio.sleep(3600)
            assert await client.pushed_since() == []
            assert sim.market.quote(TENCENT).moves == 0
        assert before.volume == 0


class TestTheClockStart:
    """``clock_start``: the market starts at a chosen moment, then runs on (virtual time)."""

    # 08:00 New York time on a Monday: pre-market.
    START = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))

    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_trades_and_the_gateways_time_start_at_it_and_run_on(self) -> None:
        start = self.START.timestamp()
        async with (
            Simulator(quote_rate=0, clock_start=self.START) as sim,
            ready_client(sim.host, sim.port) as raw,
        ):
            first = sim.market.trade(APPLE, 250.0, 10)
            state = await raw.global_state()
            await anyio.sleep(90 * 60)  # into the regular session, 09:30
            later = sim.market.trade(APPLE, 250.0, 10)
            later_state = await raw.global_state()
        assert (first.time, state.time, state.localTime) == (start, int(start), start)
        assert (later.time, later_state.time) == (start + 5400, int(start) + 5400)
        parts = [trading_part(trade.time, 11) for trade in (first, later)]
        assert parts == [UsTradingPart.PRE, UsTradingPart.REGULAR]

    async def test_a_market_moving_at_a_rate_counts_its_moves_from_it(self) -> None:
        start = 1_767_618_000.0  # epoch seconds work too: 2026-01-05 13:00 UTC
        async with Simulator(quote_rate=2, clock_start=start) as sim:
            await anyio.sleep(1.25)
            assert sim.market.quote(TENCENT).update_time == start + 1.0
            assert [t.time for t in sim.market.tickers(TENCENT)][-2:] == [start + 0.5, start + 1]

    async def test_serve_passes_it_on(self) -> None:
        started: list[Simulator] = []
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(
                functools.partial(
                    serve, port=0, quote_rate=0, clock_start=self.START, ready=started.append
                )
            )
            await anyio.sleep(1)
            assert started[0].market.trade(APPLE, 250.0, 10).time == self.START.timestamp() + 1
            tasks.cancel_scope.cancel()
