"""Streams of tickers, time-share, K-lines and broker queues from the hostile peer's
desk (``tests/hostile_market_data.py``), on every runner: each kind delivered, trades
never conflated (a full buffer drops the oldest, counted and reported in-band), K-line
closes never conflated away, a reconnect's gap reported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import (
    BrokerQueue,
    KLineUpdate,
    StreamDropped,
    StreamGap,
    SubType,
    Ticker,
    TimeSharePoint,
)
from asyncquote._quotes.batches import DEFAULT_WANT, Want
from asyncquote._quotes.market_data_pushes import wanted

from ..conftest import Runner
from ..hostile_market_data import MarketDataDesk
from ..hostile_peer import HostileGateway, hostile_gateway
from .test_client import FAST, next_update

pytestmark = pytest.mark.anyio

TENCENT = (1, "00700")
TICKER, RT_DATA, K_1M, BROKER = 4, 5, 11, 14


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@asynccontextmanager
async def desk_and_client() -> AsyncIterator[tuple[MarketDataDesk, asyncquote.QuoteClient]]:
    gateway = HostileGateway()
    desk = MarketDataDesk(gateway)
    async with (
        hostile_gateway(gateway),
        asyncquote.connect("127.0.0.1", gateway.port, keepalive=False, reconnect=FAST) as client,
    ):
        with anyio.fail_after(20):
            yield desk, client


async def settled(client: asyncquote.QuoteClient) -> None:
    """Every push the desk sent so far has been routed: a reply comes after them."""
    await client.get_rt_ticker("HK.00700", 1)


async def test_each_kind_is_delivered_as_its_model(runner: Runner) -> None:
    kinds = [SubType.TICKER, SubType.RT_DATA, SubType.K_1M, SubType.BROKER]
    async with desk_and_client() as (desk, client), client.subscribe(["HK.00700"], kinds) as s:
        seen: dict[type, list[Any]] = {}
        while len(seen) < 4 or len(seen.get(TimeSharePoint, [])) < 5:
            update = await next_update(s)
            seen.setdefault(type(update), []).append(update)
        (trade,) = seen[Ticker]
        assert (trade.security.code, trade.sequence, trade.volume) == ("00700", 2199, 120000)
        assert [p.minute for p in seen[TimeSharePoint]] == [570, 571, 572, 573, 574]
        (bar,) = seen[KLineUpdate]
        assert (bar.closed, bar.kline.time, bar.kline.close_price) == (
            False, "2026-01-02 00:00:00", desk.price(TENCENT) + 29.5,
        )  # fmt: skip
        (queue,) = seen[BrokerQueue]
        assert [b.id for b in queue.bids] == [8000, 8001]
        assert [b.id for b in queue.asks] == [9000, 9001]
        await desk.push((TENCENT, RT_DATA), 200.0)  # each minute's newest, none lost
        points = [await next_update(s) for _ in range(5)]
        assert [(p.minute, p.price) for p in points] == [(570 + m, 200.0 + m) for m in range(5)]


async def test_a_ticker_flood_with_a_stopped_reader_drops_the_oldest_and_says_so(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.TICKER], buffer=8) as trades,
    ):
        for n in range(50):  # nobody reads meanwhile; one new trade a push
            desk.ticker_count = 1201 + n
            await desk.push((TENCENT, TICKER))
        await settled(client)
        # The first push's trade and 50 more: 51, of which the 8 newest wait.
        assert (trades.dropped, trades.superseded, trades.pending) == (43, 0, 8)
        assert await next_update(trades) == StreamDropped(count=43)
        kept = [await next_update(trades) for _ in range(8)]
        assert [t.sequence for t in kept] == list(range(2242, 2250))  # in order, none skipped
        desk.ticker_count += 1
        await desk.push((TENCENT, TICKER))
        update = await next_update(trades)  # no second marker: nothing dropped since
        assert isinstance(update, Ticker)
        assert (update.sequence, trades.dropped) == (2250, 43)


async def test_a_k_line_close_is_never_conflated_away(runner: Runner) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.K_1M, SubType.TICKER]) as bars,
    ):
        pair = (TENCENT, K_1M)
        for price in (101.0, 102.0):  # the open bar (index 29) updated, nobody reading
            await desk.push(pair, price)
        desk.bars = 31  # bar 30 begins: bar 29 has closed
        await desk.push(pair, 103.0)
        await desk.push(pair, 104.0)
        await settled(client)
        seen = [await next_update(bars) for _ in range(bars.pending)]
        got = [
            (u.kline.time[:10], u.closed, u.kline.close_price)
            for u in seen
            if isinstance(u, KLineUpdate)
        ]
        assert got == [("2026-01-02", True, 102.0 + 29.5), ("2026-01-03", False, 104.0 + 30.5)]
        # A close after its open update was read: queued anew, never lost.
        desk.bars = 32
        await desk.push(pair, 105.0)
        closed, opened = await next_update(bars), await next_update(bars)
        assert isinstance(closed, KLineUpdate)
        assert isinstance(opened, KLineUpdate)
        assert (closed.closed, closed.kline.time[:10], closed.kline.close_price) == (
            True, "2026-01-03", 104.0 + 30.5,
        )  # fmt: skip
        assert (opened.closed, opened.kline.time[:10]) == (False, "2026-01-04")
        assert bars.dropped == 0


async def test_a_reconnect_is_reported_and_the_open_bar_not_closed_across_it(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.K_1M]) as bars,
        client.subscribe(["HK.00700"], [SubType.TICKER, SubType.BROKER]) as others,
    ):
        await next_update(bars)
        for _ in range(2):
            await next_update(others)
        desk.bars = 31  # the bar that follows arrives only on the new connection
        await desk.gateway.drop_all()
        assert await next_update(bars) == StreamGap(reconnects=1)
        first = await next_update(bars)
        assert isinstance(first, KLineUpdate)
        # Not a close of bar 29: its last state before the loss is not known to be final.
        assert (first.closed, first.kline.time[:10]) == (False, "2026-01-03")
        assert await next_update(others) == StreamGap(reconnects=1)
        again = {type(await next_update(others)) for _ in range(2)}
        assert again == {Ticker, BrokerQueue}


async def test_a_late_joiner_gets_the_open_bar_and_no_old_trade(runner: Runner) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.K_1M, SubType.TICKER]) as first,
    ):
        for _ in range(2):
            await next_update(first)
        desk.bars = 29  # OpenD sends an earlier bar again: it is closed
        await desk.push((TENCENT, K_1M))
        earlier = await next_update(first)
        assert isinstance(earlier, KLineUpdate)
        assert (earlier.closed, earlier.kline.time[:10]) == (True, "2026-01-01")
        async with client.subscribe(["HK.00700"], [SubType.K_1M, SubType.TICKER]) as late:
            joined = await next_update(late)  # the open bar, from what the client kept
            assert isinstance(joined, KLineUpdate)
            assert (joined.closed, joined.kline.time[:10]) == (False, "2026-01-02")
            desk.ticker_count += 1
            await desk.push((TENCENT, TICKER))
            trade = await next_update(late)  # the new trade, not the one before it joined
            assert isinstance(trade, Ticker)
            assert trade.sequence == 2200


def _trade(code: str, time: str) -> Ticker:
    return Ticker(
        security=asyncquote.Security.parse(code),
        time=time,
        sequence=1,
        direction=1,
        price=1.0,
        volume=1,
        turnover=1.0,
    )


def _bar(code: str, time: str, k_type: int, au_type: int) -> KLineUpdate:
    bar = asyncquote.KLine(
        security=asyncquote.Security.parse(code),
        k_type=k_type,
        au_type=au_type,
        time=time,
        is_blank=False,
    )
    return KLineUpdate(kline=bar, closed=False)


def test_a_stream_is_handed_only_the_parts_of_the_us_day_and_the_adjustment_it_asked() -> None:
    extended = Want.of(extended_time=True, session=0, au_type=1)
    overnight = Want.of(extended_time=True, session=asyncquote.Session.OVERNIGHT, au_type=2)
    times = {
        "2026-01-05 03:59:59": "overnight",
        "2026-01-05 04:00:00": "pre",
        "2026-01-05 09:29:00": "pre",
        "2026-01-05 09:30:00": "regular",
        "2026-01-05 15:59:00": "regular",
        "2026-01-05 16:00:00": "after",
        "2026-01-05 19:59:00": "after",
        "2026-01-05 20:00:00": "overnight",
    }
    for time, part in times.items():
        assert wanted(DEFAULT_WANT, _trade("US.AAPL", time)) is (part == "regular"), time
        assert wanted(extended, _trade("US.AAPL", time)) is (part != "overnight"), time
        assert wanted(overnight, _trade("US.AAPL", time)) is (part == "overnight"), time
        assert wanted(DEFAULT_WANT, _trade("HK.00700", time))  # not a US security
    # K-lines: the stream's adjustment only; day bars whatever their time.
    assert wanted(DEFAULT_WANT, _bar("US.AAPL", "2026-01-05 10:00:00", 1, 1))
    assert not wanted(DEFAULT_WANT, _bar("US.AAPL", "2026-01-05 10:00:00", 1, 2))
    assert not wanted(DEFAULT_WANT, _bar("US.AAPL", "2026-01-05 08:00:00", 1, 1))
    assert wanted(DEFAULT_WANT, _bar("US.AAPL", "2026-01-05 00:00:00", 2, 1))
    assert wanted(overnight, _bar("US.AAPL", "2026-01-05 00:00:00", 2, 2))
