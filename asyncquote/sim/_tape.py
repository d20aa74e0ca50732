"""One security's trades and what they add up to: its day, K-lines and time-share.

One job: record each trade of a security (:meth:`Tape.record`) and keep,
made of those trades alone, the trading day's open, high, low, volume and
turnover, a K-line of every period (:data:`._market_calendar.PERIODS`) and
the day's time-share points; hand them out as :mod:`._market_models`'
frozen values. Pure: times are arguments, prices whole thousandths.

Invariants:

* Every K-line's open is its first trade's price, its close its last's,
  its high and low their extremes, its volume and turnover their sums;
  likewise the day's totals and each time-share minute.
* Trades are recorded in time order: one stamped before the last is
  stamped with the last's time (a market never trades in the past).
* A trade on a later trading day starts a new day: its last close is the
  last price before it, and open, high, low, volume and turnover restart.
* Bounded: the last :data:`TICKER_HISTORY` trades and
  :data:`KLINE_HISTORY` K-lines of each period are kept (OpenD serves at
  most 1,000 of either), and the time-share of the current day only.
"""

from __future__ import annotations

import datetime
from collections import deque
from collections.abc import Sequence

from .._opend.quotes import SubType, TickerDirect, TickerType
from .._opend.vocabulary import SecurityKey
from ._market_calendar import PERIODS, Period, bar_key, bar_span, epoch_of, is_extended, local_time
from ._market_models import MarketKLine, MarketTicker, MarketTimeShare
from ._ticks import from_thousandths

__all__ = ["KLINE_HISTORY", "TICKER_HISTORY", "Tape"]

#: Trades kept per security.
TICKER_HISTORY = 1_000
#: K-lines kept per security and period.
KLINE_HISTORY = 1_000

# More than a day of minutes (1,440; 1,500 on the day clocks go back).
_MINUTE_HISTORY = 1_500
_MINUTE = PERIODS[SubType.K_1M]


class _Bar:
    """A K-line being built: prices in thousandths; ``local`` its naive local start."""

    __slots__ = (
        "average",
        "close",
        "day",
        "end",
        "extended",
        "high",
        "key",
        "last_close",
        "local",
        "low",
        "open",
        "start",
        "trades",
        "turnover",
        "volume",
    )

    def __init__(
        self, key: int, local: datetime.datetime, span: tuple[float, float], last_close: int
    ) -> None:
        self.key, self.local, (self.start, self.end) = key, local, span
        self.day = local.toordinal()
        self.open = self.high = self.low = self.close = -1
        self.average = -1.0
        self.last_close = last_close
        self.volume = self.turnover = self.trades = 0
        self.extended = False

    def merge(self, other: _Bar) -> None:
        """Take in ``other``'s trades, which come after this bar's."""
        if self.trades == 0:
            self.open, self.high, self.low = other.open, other.high, other.low
        else:
            self.high = max(self.high, other.high)
            self.low = min(self.low, other.low)
        self.close = other.close
        self.volume += other.volume
        self.turnover += other.turnover
        self.trades += other.trades

    def copy(self) -> _Bar:
        twin = _Bar(self.key, self.local, (self.start, self.end), self.last_close)
        twin.merge(self)
        return twin


class Tape:
    """A security's trades since it was listed, and their aggregates.

    Only the minute bar of a trade is updated as it is recorded; a minute
    bar is folded into the bars of the longer periods once the next minute
    starts (and merged into a copy of them when they are read), so a trade
    costs the same whatever the number of periods. Every period's
    boundaries are on whole minutes, so a minute bar lies in one bar of each.

    Args:
        key: the security.
        last_close: the close of the day before the first trade, in thousandths.
    """

    def __init__(self, key: SecurityKey, last_close: int) -> None:
        self.key = key
        self.last_close = last_close
        self.price = last_close
        self.day = -1  # the trading day's ordinal; none yet
        self.open = self.high = self.low = last_close
        self.volume = self.turnover = 0  # the day's; turnover in thousandths
        self.time = -float("inf")
        self.trades = 0  # every trade recorded, the opening print included
        self.tickers: deque[MarketTicker] = deque(maxlen=TICKER_HISTORY)
        # A day of minutes at least, for the time-share; the last one is
        # not folded into the longer periods yet.
        self._minutes: deque[_Bar] = deque(maxlen=_MINUTE_HISTORY)
        self._bars: dict[SubType, deque[_Bar]] = {
            period: deque(maxlen=KLINE_HISTORY) for period in PERIODS if period != SubType.K_1M
        }

    def record(
        self, time: float, price: int, volume: int, *, opening: bool = False
    ) -> MarketTicker:
        """Record a trade of ``volume`` shares at ``price`` (thousandths) at ``time``.

        ``opening`` marks the opening print (an auction trade of no volume).
        """
        time = max(time, self.time)
        minute = self._minutes[-1] if self._minutes else None
        if minute is None or time >= minute.end:
            minute = self._minute_of(time, price, minute)
        previous = self.price
        self.time = time
        self.price = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += volume
        self.turnover += price * volume
        if minute.trades == 0:
            minute.open = minute.high = minute.low = price
        else:
            minute.high = max(minute.high, price)
            minute.low = min(minute.low, price)
        minute.close = price
        minute.volume += volume
        minute.turnover += price * volume
        minute.trades += 1
        minute.average = self.turnover / self.volume if self.volume else price
        sequence = self.trades
        self.trades += 1
        direction = (
            TickerDirect.BUY
            if price > previous
            else TickerDirect.SELL
            if price < previous
            else TickerDirect.NEUTRAL
        )
        ticker = MarketTicker(
            key=self.key,
            time=time,
            price=from_thousandths(price),
            volume=volume,
            turnover=from_thousandths(price * volume),
            direction=direction,
            sequence=sequence,
            type=TickerType.AUCTION if opening else TickerType.AUTO_MATCH,
            extended=minute.extended,
        )
        self.tickers.append(ticker)
        return ticker

    def _minute_of(self, time: float, price: int, minute: _Bar | None) -> _Bar:
        """The minute bar a trade at ``time`` (past the open one's end) at ``price`` goes into."""
        market = self.key[0]
        local = local_time(time, market)
        key = bar_key(local, _MINUTE)
        # A key below the open bar's is the repeated hour of a clock going back.
        if minute is not None and key <= minute.key:
            return minute
        day = local.toordinal()
        if day != self.day:
            if self.day >= 0:
                self.last_close = self.price
            self.day = day
            self.open = self.high = self.low = price
            self.volume = self.turnover = 0
        if minute is not None:
            self._fold(minute)
        start, end = bar_span(local, _MINUTE)
        last_close = self.last_close if minute is None else minute.close
        span = (epoch_of(start, market), epoch_of(end, market))
        fresh = _Bar(key, start, span, last_close)
        fresh.extended = is_extended(local, market)
        self._minutes.append(fresh)
        return fresh

    def _fold(self, minute: _Bar) -> None:
        for period, bars in self._bars.items():
            _merge_into(bars, PERIODS[period], minute, self.key[0])

    def klines(self, period: SubType, num: int) -> list[MarketKLine]:
        """The last ``num`` K-lines of ``period`` (a K-line ``SubType``), oldest first."""
        bars = self._current(period)
        chosen = bars[-num:] if num > 0 else []
        return [self._kline(period, bar) for bar in chosen]

    def klines_since(self, period: SubType, time: float) -> list[MarketKLine]:
        """The K-lines of ``period`` that end after ``time``, oldest first."""
        bars = self._current(period)
        first = len(bars)
        while first and bars[first - 1].end > time:
            first -= 1
        return [self._kline(period, bar) for bar in bars[first:]]

    def _current(self, period: SubType) -> list[_Bar]:
        """The bars kept of ``period``, the open minute merged into (a copy of) the last."""
        if period == SubType.K_1M:
            return list(self._minutes)[-KLINE_HISTORY:]
        bars = self._bars[period]
        if not self._minutes:
            return list(bars)
        kept = list(bars)
        scratch = deque(kept[-1:])
        if scratch:
            scratch[0] = scratch[0].copy()
        _merge_into(scratch, PERIODS[period], self._minutes[-1], self.key[0])
        return [*kept[: len(kept) - 1 if kept else 0], *scratch][-KLINE_HISTORY:]

    def _kline(self, period: SubType, bar: _Bar) -> MarketKLine:
        t = from_thousandths
        return MarketKLine(
            key=self.key,
            period=period,
            start=bar.start,
            end=bar.end,
            open_price=t(bar.open),
            high_price=t(bar.high),
            low_price=t(bar.low),
            close_price=t(bar.close),
            last_close_price=t(bar.last_close),
            volume=bar.volume,
            turnover=t(bar.turnover),
            trades=bar.trades,
        )

    def time_share(self, since: float = -float("inf")) -> list[MarketTimeShare]:
        """The trading day's time-share points (those of minutes ending after ``since``)."""
        last_close = from_thousandths(self.last_close)
        points = []
        for minute in reversed(self._minutes):
            if minute.day != self.day or minute.end <= since:
                break
            points.append(
                MarketTimeShare(
                    key=self.key,
                    start=minute.start,
                    minute=minute.local.hour * 60 + minute.local.minute,
                    price=from_thousandths(minute.close),
                    last_close_price=last_close,
                    average_price=minute.average / 1000,
                    volume=minute.volume,
                    turnover=from_thousandths(minute.turnover),
                )
            )
        points.reverse()
        return points

    def tickers_after(self, sequence: int) -> Sequence[MarketTicker]:
        """The trades kept whose sequence is above ``sequence``, oldest first."""
        found: list[MarketTicker] = []
        for ticker in reversed(self.tickers):
            if ticker.sequence <= sequence:
                break
            found.append(ticker)
        found.reverse()
        return found


def _merge_into(bars: deque[_Bar], period: Period, minute: _Bar, market: int) -> None:
    """Fold a minute bar into the bars of ``period``: into the open one, or a new one."""
    key = bar_key(minute.local, period)
    bar = bars[-1] if bars else None
    if bar is None or key > bar.key:
        start, end = bar_span(minute.local, period)
        last_close = minute.last_close if bar is None else bar.close
        bar = _Bar(key, start, (epoch_of(start, market), epoch_of(end, market)), last_close)
        bars.append(bar)
    bar.merge(minute)
