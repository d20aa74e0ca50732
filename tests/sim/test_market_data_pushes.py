"""Pushes of tickers, K-lines, time-share and broker queues (3011, 3007, 3009, 3015)."""

from __future__ import annotations

import datetime
import zoneinfo

import anyio
import pytest

from asyncquote._opend.quotes import UsTradingPart
from asyncquote._pb import (
    Qot_UpdateBroker_pb2,
    Qot_UpdateKL_pb2,
    Qot_UpdateRT_pb2,
    Qot_UpdateTicker_pb2,
)
from asyncquote.sim import Simulator, WatchlistStore
from asyncquote.sim._market import Exchange, Listing
from asyncquote.sim._market_data_pushes import MarketDataPushes
from asyncquote.sim._state import ServerState

from .market_data import (
    BROKER,
    K_1M,
    K_DAY,
    KL_1M,
    RT_DATA,
    TICKER,
    UPDATE_BROKER,
    UPDATE_KL,
    UPDATE_RT,
    UPDATE_TICKER,
    MarketDataClient,
)
from .rawclient import ready_client

TENCENT, APPLE = "HK.00700", "US.AAPL"
HK, US = (1, "00700"), (11, "AAPL")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
BODIES = {
    UPDATE_TICKER: Qot_UpdateTicker_pb2.Response,
    UPDATE_KL: Qot_UpdateKL_pb2.Response,
    UPDATE_RT: Qot_UpdateRT_pb2.Response,
    UPDATE_BROKER: Qot_UpdateBroker_pb2.Response,
}


def new_york(hour: int, minute: int, second: int = 0) -> float:
    """An epoch time on a Monday (2026-03-02) in New York."""
    return datetime.datetime(2026, 3, 2, hour, minute, second, tzinfo=NEW_YORK).timestamp()


class Recorder:
    """A market and its pushes, with connections subscribed by hand; pushes are recorded."""

    def __init__(self) -> None:
        listings = [Listing(HK, "Tencent", 3, 100), Listing(US, "Apple", 3, 1)]
        self.state = ServerState(WatchlistStore({}, []))
        self.state.market = Exchange(listings, rate=0, start=new_york(4, 0))
        self.sent: list[tuple[list[int], int, object]] = []
        self.pushes = MarketDataPushes(self.state, self.record)

    def record(self, conns: object, proto_id: int, body: bytes) -> int:
        message = BODIES[proto_id].FromString(body).s2c  # type: ignore[attr-defined]
        self.sent.append((list(conns), proto_id, message))  # type: ignore[call-overload]
        return len(conns)  # type: ignore[arg-type]

    def subscribe(
        self,
        conn: int,
        key: tuple[int, str],
        kinds: list[int],
        extended: bool,
        session: int = 0,
        rehab_types: tuple[int, ...] = (),
    ) -> None:
        pairs = [(key, kind) for kind in kinds]
        subscriptions = self.state.subscriptions
        subscriptions.subscribe(conn, pairs, 0.0)
        subscriptions.register(conn, pairs, True)
        subscriptions.set_options(
            conn, pairs, extended=extended, session=session, rehab_types=rehab_types
        )

    def trade(self, key: tuple[int, str], price: float, volume: int, time: float) -> None:
        self.state.market.trade(key, price, volume, time)
        self.pushes.publish(key, "name", send=True)

    def take(self) -> list[tuple[list[int], int, object]]:
        sent, self.sent = self.sent, []
        return sent


def test_every_trade_since_the_last_push_is_pushed_once_in_order() -> None:
    r = Recorder()
    r.subscribe(1, HK, [TICKER], extended=False)
    market = r.state.market
    for second, price in enumerate([400.2, 400.4, 400.0]):
        market.trade(HK, price, 100, new_york(22, 0, second))
    r.pushes.publish(HK, "name", send=True)
    r.trade(HK, 400.6, 200, new_york(22, 0, 5))
    first, second = r.take()
    assert [(t.sequence, t.price) for t in first[2].tickerList] == [  # type: ignore[attr-defined]
        (1, 400.2),
        (2, 400.4),
        (3, 400.0),
    ]
    assert [(t.sequence, t.volume) for t in second[2].tickerList] == [(4, 200)]  # type: ignore[attr-defined]
    r.pushes.publish(HK, "name", send=True)  # nothing new
    assert r.take() == []


def test_a_bar_that_closes_is_pushed_once_more_with_the_new_open_bar() -> None:
    r = Recorder()
    r.subscribe(1, HK, [K_1M, K_DAY, RT_DATA], extended=False)
    r.trade(HK, 400.2, 100, new_york(22, 0, 10))
    r.trade(HK, 400.4, 100, new_york(22, 0, 50))
    r.trade(HK, 400.0, 300, new_york(22, 1, 5))  # the 22:00 bar closes
    pushed = r.take()[-3:]
    by_id = {proto_id: message for _, proto_id, message in pushed}
    assert [proto_id for _, proto_id, _ in pushed] == [UPDATE_KL, UPDATE_KL, UPDATE_RT]
    minute = next(m for _, p, m in pushed if p == UPDATE_KL and m.klType == KL_1M)  # type: ignore[attr-defined]
    closed, open_bar = minute.klList
    assert (closed.openPrice, closed.closePrice, closed.volume) == (400.2, 400.4, 200)
    assert (open_bar.openPrice, open_bar.volume) == (400.0, 300)
    assert open_bar.timestamp - closed.timestamp == 60
    day = [m for _, p, m in pushed if p == UPDATE_KL and m.klType != KL_1M]  # type: ignore[attr-defined]
    assert [bar.volume for bar in day[0].klList] == [500]  # type: ignore[attr-defined]
    assert [point.volume for point in by_id[UPDATE_RT].rtList] == [200, 300]  # type: ignore[attr-defined]


def test_us_pre_market_trades_reach_only_extended_time_subscriptions() -> None:
    r = Recorder()
    r.subscribe(1, US, [TICKER, K_1M, RT_DATA], extended=True)
    r.subscribe(2, US, [TICKER, K_1M, RT_DATA], extended=False)
    r.trade(US, 250.01, 10, new_york(8, 0))  # pre-market
    assert {tuple(conns) for conns, _, _ in r.take()} == {(1,)}
    r.trade(US, 250.02, 5, new_york(10, 0))  # regular session
    sent = r.take()
    tickers = {tuple(conns): m for conns, p, m in sent if p == UPDATE_TICKER}
    assert [t.volume for t in tickers[(1,)].tickerList] == [5]  # type: ignore[attr-defined]
    assert [t.volume for t in tickers[(2,)].tickerList] == [5]  # type: ignore[attr-defined]
    assert all(conns == [1, 2] for conns, p, _ in sent if p != UPDATE_TICKER)


def test_a_broker_queue_is_pushed_only_when_it_changed() -> None:
    r = Recorder()
    r.subscribe(1, HK, [BROKER], extended=False)
    r.trade(HK, 400.2, 100, new_york(22, 0))
    ((_, proto_id, first),) = r.take()
    queue = r.state.market.broker_queue(HK)
    assert proto_id == UPDATE_BROKER
    assert [b.id for b in first.brokerBidList] == [b.broker_id for b in queue.bids]  # type: ignore[attr-defined]
    r.pushes.publish(HK, "name", send=True)
    assert r.take() == []


def test_while_logged_out_the_cursor_moves_without_pushing() -> None:
    r = Recorder()
    r.subscribe(1, HK, [TICKER], extended=False)
    r.state.market.trade(HK, 400.2, 100, new_york(22, 0))
    r.pushes.publish(HK, "name", send=False)
    r.trade(HK, 400.4, 100, new_york(22, 0, 1))
    ((_, _, message),) = r.take()
    assert [t.price for t in message.tickerList] == [400.4]  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_scripted_trade_is_pushed_only_to_the_connections_registered() -> None:
    with anyio.fail_after(10):
        async with (
            Simulator(quote_rate=0) as sim,
            ready_client(sim.host, sim.port) as raw_tickers,
            ready_client(sim.host, sim.port) as raw_klines,
            ready_client(sim.host, sim.port) as raw_silent,
        ):
            tickers, klines = MarketDataClient(raw_tickers), MarketDataClient(raw_klines)
            silent = MarketDataClient(raw_silent)
            assert (await tickers.sub([TENCENT], [TICKER, BROKER])).retType == 0
            first = await tickers.data_pushes()  # the last trade and the queue, at once
            assert [p for p, _ in first] == [UPDATE_TICKER, UPDATE_BROKER]
            await klines.sub([TENCENT], [K_1M, RT_DATA], first_push=False)
            await silent.sub([TENCENT], [TICKER, K_1M, RT_DATA, BROKER], push=None)
            trade = sim.market.trade(TENCENT, 400.2, 500)
            got_tickers = await tickers.data_pushes()
            got_klines = await klines.data_pushes()
            assert await silent.data_pushes() == []
    assert [p for p, _ in got_tickers] == [UPDATE_TICKER, UPDATE_BROKER]
    (ticker,) = got_tickers[0][1].tickerList  # type: ignore[attr-defined]
    assert (ticker.price, ticker.volume, ticker.sequence) == (400.2, 500, trade.sequence)
    assert ticker.timestamp == trade.time
    assert [p for p, _ in got_klines] == [UPDATE_KL, UPDATE_RT]
    bar = got_klines[0][1].klList[-1]  # type: ignore[attr-defined]
    assert (bar.closePrice, bar.volume) == (400.2, 500)
    assert got_klines[1][1].rtList[-1].price == 400.2  # type: ignore[attr-defined]


def test_k_lines_are_pushed_once_per_adjustment_registered_with_equal_values() -> None:
    r = Recorder()
    r.subscribe(1, HK, [K_1M], extended=False, rehab_types=(0, 2, 1, 99))  # 99: no adjustment
    r.subscribe(2, HK, [K_1M], extended=False)  # none named: forward
    r.trade(HK, 400.2, 100, new_york(22, 0, 10))
    pushed = [(conns, message) for conns, p, message in r.take() if p == UPDATE_KL]
    rehab = {(tuple(conns), m.rehabType) for conns, m in pushed}  # type: ignore[attr-defined]
    assert rehab == {((1,), 0), ((1,), 2), ((1, 2), 1)}
    bars = {m.rehabType: [(b.closePrice, b.volume) for b in m.klList] for _, m in pushed}  # type: ignore[attr-defined]
    assert bars[0] == bars[1] == bars[2] == [(400.2, 100)]  # no corporate actions


@pytest.mark.parametrize(
    ("session", "extended", "parts"),
    [
        (0, False, {"regular"}),
        (0, True, {"pre", "regular", "after"}),
        (1, True, {"regular"}),  # a session decides over extendedTime
        (2, False, {"pre", "regular", "after"}),
        (3, False, {"pre", "regular", "after", "overnight"}),
        (4, False, {"overnight"}),
    ],
)
def test_us_trades_reach_the_sessions_that_cover_them(
    session: int, extended: bool, parts: set[str]
) -> None:
    r = Recorder()
    r.subscribe(1, US, [TICKER, K_1M, RT_DATA], extended=extended, session=session)
    times = {"pre": (5, 0), "regular": (10, 0), "after": (17, 0), "overnight": (21, 0)}
    reached = set()
    for part, (hour, minute) in times.items():
        r.trade(US, 250.0, 1, new_york(hour, minute))
        kinds = {proto_id for _, proto_id, _ in r.take()}
        assert kinds in (set(), {UPDATE_TICKER, UPDATE_KL, UPDATE_RT}), part
        if kinds:
            reached.add(part)
    assert reached == parts


@pytest.mark.anyio
async def test_qot_sub_keeps_session_and_adjustments_per_connection() -> None:
    with anyio.fail_after(10):
        async with (
            Simulator(quote_rate=0) as sim,
            ready_client(sim.host, sim.port) as raw_both,
            ready_client(sim.host, sim.port) as raw_plain,
        ):
            both, plain = MarketDataClient(raw_both), MarketDataClient(raw_plain)
            sub = await both.sub([TENCENT], [K_1M], regPushRehabTypeList=[2, 0], session=3)
            assert sub.retType == 0
            first = await both.data_pushes()
            assert [m.rehabType for _, m in first] == [2, 0]  # type: ignore[attr-defined]
            await plain.sub([TENCENT], [K_1M], first_push=False)
            sim.market.trade(TENCENT, 400.2, 500)
            got_both = await both.data_pushes()
            got_plain = await plain.data_pushes()
            subscriptions = sim._state.subscriptions
            conn = subscriptions.connections()[0]
            assert subscriptions.parts(conn, (HK, K_1M)) == frozenset(UsTradingPart)
    assert sorted(m.rehabType for _, m in got_both) == [0, 2]  # type: ignore[attr-defined]
    assert [m.rehabType for _, m in got_plain] == [1]  # type: ignore[attr-defined]
