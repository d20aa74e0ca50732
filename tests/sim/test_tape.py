"""The market's one story: every quote, K-line, time-share point and book agrees with its trades.

A property test over random seeds and random scripts of steps (short and
long: across minutes, days, months and years) and scripted trades: the
trades are collected as they happen, regrouped here by an independent
reading of the calendar (see :mod:`asyncquote.sim._market_calendar`), and
compared with what the market says.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import zoneinfo
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncquote._base.errors import InvalidArgumentError
from asyncquote._opend.quotes import SubType
from asyncquote.sim._market import Exchange, Listing, MarketTicker, PriceError
from asyncquote.sim._tape import KLINE_HISTORY, TICKER_HISTORY
from asyncquote.sim._ticks import from_thousandths, ladder_for, to_thousandths

TENCENT = (1, "00700")
APPLE = (11, "AAPL")
MOUTAI = (21, "600519")
LISTINGS = [
    Listing(TENCENT, "Tencent", 3, 100, "2004-06-16"),
    Listing(APPLE, "Apple", 3, 1, "1980-12-12"),
    Listing(MOUTAI, "Moutai", 3, 100, "2001-08-27"),
]
ZONES = {1: "Asia/Hong_Kong", 11: "America/New_York", 21: "Asia/Shanghai"}
START = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
LOT = {listing.key: listing.lot_size for listing in LISTINGS}


@functools.cache
def local(time: float, key: tuple[int, str]) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(time, zoneinfo.ZoneInfo(ZONES[key[0]])).replace(
        tzinfo=None
    )


def minutes_start(n: int) -> Callable[[datetime.datetime], datetime.datetime]:
    def start(moment: datetime.datetime) -> datetime.datetime:
        floor = moment.replace(second=0, microsecond=0)
        return floor - datetime.timedelta(minutes=(moment.hour * 60 + moment.minute) % n)

    return start


def midnight(moment: datetime.datetime) -> datetime.datetime:
    return datetime.datetime(moment.year, moment.month, moment.day)


# Each period's bar start, read off the calendar independently of the market.
BAR_START: dict[SubType, Callable[[datetime.datetime], datetime.datetime]] = {
    SubType.K_1M: minutes_start(1),
    SubType.K_3M: minutes_start(3),
    SubType.K_5M: minutes_start(5),
    SubType.K_10M: minutes_start(10),
    SubType.K_15M: minutes_start(15),
    SubType.K_30M: minutes_start(30),
    SubType.K_60M: minutes_start(60),
    SubType.K_120M: minutes_start(120),
    SubType.K_180M: minutes_start(180),
    SubType.K_240M: minutes_start(240),
    SubType.K_DAY: midnight,
    SubType.K_WEEK: lambda m: midnight(m) - datetime.timedelta(days=m.weekday()),
    SubType.K_MON: lambda m: datetime.datetime(m.year, m.month, 1),
    SubType.K_QUARTER: lambda m: datetime.datetime(m.year, (m.month - 1) // 3 * 3 + 1, 1),
    SubType.K_YEAR: lambda m: datetime.datetime(m.year, 1, 1),
}


def thousandths(price: float) -> int:
    value = to_thousandths(price)
    assert value is not None
    return value


def aggregate(trades: Iterable[MarketTicker]) -> tuple[float, float, float, float, int, float]:
    trades = list(trades)
    prices = [t.price for t in trades]
    turnover = sum(thousandths(t.price) * t.volume for t in trades)
    volume = sum(t.volume for t in trades)
    return prices[0], max(prices), min(prices), prices[-1], volume, from_thousandths(turnover)


def groups(
    trades: list[MarketTicker], start_of: Callable[[datetime.datetime], datetime.datetime]
) -> list[tuple[datetime.datetime, list[MarketTicker]]]:
    """Trades grouped by bar, in order; a bar starting before the open one (a clock
    going back) joins the open one, as the calendar module says."""
    found: list[tuple[datetime.datetime, list[MarketTicker]]] = []
    for trade in trades:
        start = start_of(local(trade.time, trade.key))
        if found and start <= found[-1][0]:
            found[-1][1].append(trade)
        else:
            found.append((start, [trade]))
    return found


def check_story(m: Exchange, key: tuple[int, str], trades: list[MarketTicker]) -> None:
    # The tape: sequences count every trade, the opening print is 0.
    assert [t.sequence for t in trades] == list(range(len(trades)))
    for before, trade in itertools.pairwise(trades):
        assert trade.time >= before.time
        expected = 1 if trade.price > before.price else 2 if trade.price < before.price else 3
        assert trade.direction == expected
    for trade in trades:
        assert trade.turnover == from_thousandths(thousandths(trade.price) * trade.volume)
        assert trade.volume % LOT[key] == 0
        assert trade.extended == (
            key == APPLE
            and not (570 <= local(trade.time, key).hour * 60 + local(trade.time, key).minute < 960)
        )
    # K-lines of every period.
    for period, start_of in BAR_START.items():
        expected = groups(trades, start_of)[-KLINE_HISTORY:]
        klines = m.klines(key, period, KLINE_HISTORY)
        assert len(klines) == len(expected), period
        previous_close = None
        for kline, (start, members) in zip(klines, expected, strict=True):
            assert local(kline.start, key) == start, period
            assert (
                kline.open_price,
                kline.high_price,
                kline.low_price,
                kline.close_price,
                kline.volume,
                kline.turnover,
            ) == aggregate(members), period
            assert kline.trades == len(members)
            if previous_close is not None:
                assert kline.last_close_price == previous_close
            previous_close = kline.close_price
    # The quote: the trading day's trades.
    last_day = local(trades[-1].time, key).date()
    day = [t for t in trades if local(t.time, key).date() == last_day]
    before = [t for t in trades if local(t.time, key).date() != last_day]
    quote = m.quote(key)
    assert (
        quote.open_price,
        quote.high_price,
        quote.low_price,
        quote.cur_price,
        quote.volume,
        quote.turnover,
    ) == aggregate(day)
    assert quote.update_time == trades[-1].time
    if before:
        assert quote.last_close_price == before[-1].price
    # Time-share: one point per minute of the day, made of its trades.
    points = m.time_share(key)
    minutes = groups(day, BAR_START[SubType.K_1M])
    assert [p.minute for p in points] == [start.hour * 60 + start.minute for start, _ in minutes]
    for point, (_, members) in zip(points, minutes, strict=True):
        _, _, _, close, volume, turnover = aggregate(members)
        assert (point.price, point.volume, point.turnover) == (close, volume, turnover)
        upto = day[: day.index(members[-1]) + 1]
        day_volume = sum(t.volume for t in upto)
        day_turnover = sum(thousandths(t.price) * t.volume for t in upto)
        average = day_turnover / day_volume / 1000 if day_volume else members[-1].price
        assert point.average_price == pytest.approx(average, rel=1e-12)
        assert point.last_close_price == quote.last_close_price
    # The book straddles the last price, one tick either side.
    ladder = ladder_for(key[0])
    book = m.order_book(key)
    price = thousandths(quote.cur_price)
    assert thousandths(book.asks[0].price) == ladder.up(price)
    if book.bids:
        assert thousandths(book.bids[0].price) == ladder.down(price)


prices = st.floats(min_value=0.01, max_value=2_000.0).map(lambda p: round(p, 2))
pauses = st.one_of(
    st.floats(min_value=0, max_value=600),
    st.floats(min_value=0, max_value=120 * 86_400),
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("step"), pauses),
        st.tuples(
            st.just("trade"),
            st.sampled_from([TENCENT, APPLE, MOUTAI]),
            prices,
            st.integers(min_value=1, max_value=50),
        ),
    ),
    max_size=12,
)


@settings(deadline=None, max_examples=25)
@given(actions, st.integers(min_value=0, max_value=2**32), st.sampled_from([0.0, 0.02, 1.0]))
def test_quotes_klines_time_share_and_books_agree_with_the_trades(
    script: list[tuple[object, ...]], seed: int, rate: float
) -> None:
    m = Exchange(LISTINGS, seed=seed, rate=rate, start=START)
    trades = {key: list(m.tickers_after(key)) for key in m.keys}
    now = START
    for action in script:
        if action[0] == "step":
            now += float(action[1])  # type: ignore[arg-type]
            m.step(now)
        else:
            _, key, price, lots = action
            assert isinstance(key, tuple)
            assert isinstance(price, float)
            assert isinstance(lots, int)
            snapped = ladder_for(key[0]).snap(round(price * 1000)) / 1000
            m.trade(key, snapped, lots * LOT[key], now)  # type: ignore[arg-type]
        for key in m.keys:
            # At most one step's trades (1,000 ticks) arrive at once: none is lost.
            new = m.tickers_after(key, trades[key][-1].sequence)
            assert len(new) <= TICKER_HISTORY
            trades[key].extend(new)
    for key in m.keys:
        check_story(m, key, trades[key])


def test_a_scripted_trade_flows_into_every_kind() -> None:
    m = Exchange(LISTINGS, seed=1, rate=0, start=START)
    ticker = m.trade(TENCENT, 400.2, 500, START + 61)
    assert (ticker.price, ticker.volume, ticker.turnover, ticker.sequence) == (
        400.2,
        500,
        200_100.0,
        1,
    )
    assert ticker.direction == 1
    assert ticker.type == 1
    assert not ticker.extended
    quote = m.quote(TENCENT)
    assert (quote.cur_price, quote.volume, quote.turnover, quote.moves) == (
        400.2,
        500,
        200_100.0,
        1,
    )
    for period in BAR_START:
        kline = m.klines(TENCENT, period, 1)[-1]
        assert kline.close_price == kline.high_price == 400.2
        assert kline.volume == 500
    assert m.time_share(TENCENT)[-1].price == 400.2
    assert m.order_book(TENCENT).asks[0].price == 400.4
    assert m.order_book(TENCENT).bids[0].price == 400.0


def test_the_opening_print_is_an_auction_of_no_volume() -> None:
    m = Exchange(LISTINGS, seed=3, rate=0, start=START)
    (opening,) = m.tickers_after(TENCENT)
    quote = m.quote(TENCENT)
    assert (opening.sequence, opening.volume, opening.type) == (0, 0, 7)
    assert opening.price == quote.open_price == quote.cur_price
    assert m.klines(TENCENT, SubType.K_DAY, 5)[-1].volume == 0
    assert m.time_share(TENCENT)[0].average_price == opening.price


@pytest.mark.parametrize("volume", [0, -100, 150, 1.5, True, "100", 10**13])
def test_a_trade_of_a_bad_volume_is_a_typed_error(volume: object) -> None:
    m = Exchange(LISTINGS, seed=1, rate=0, start=START)
    with pytest.raises(InvalidArgumentError, match="volume"):
        m.trade(TENCENT, 400.2, volume, START)  # type: ignore[arg-type]
    with pytest.raises(PriceError):
        m.trade(TENCENT, 400.1, 100, START)
    assert m.quote(TENCENT).moves == 0


def test_a_trade_stamped_before_the_last_takes_the_last_time() -> None:
    m = Exchange(LISTINGS, seed=1, rate=0, start=START)
    m.trade(TENCENT, 400.2, 100, START + 100)
    assert m.trade(TENCENT, 400.4, 100, START + 50).time == START + 100


def test_a_new_trading_day_restarts_the_quote_and_the_time_share() -> None:
    m = Exchange(LISTINGS, seed=1, rate=0, start=START)
    m.trade(TENCENT, 400.2, 100, START)
    m.trade(TENCENT, 401.0, 300, START + 86_400)
    quote = m.quote(TENCENT)
    assert (quote.open_price, quote.last_close_price, quote.volume) == (401.0, 400.2, 300)
    assert [p.volume for p in m.time_share(TENCENT)] == [300]
    days = m.klines(TENCENT, SubType.K_DAY, 10)
    assert [d.volume for d in days] == [100, 300]
    assert days[-1].last_close_price == 400.2
