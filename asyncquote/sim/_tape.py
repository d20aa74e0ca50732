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

from .._opend.quotes import SubType
from .._opend.vocabulary import SecurityKey
from ._market_calendar import PERIODS, Period, bar_key, bar_span, epoch_of, is_extended, local_time
from ._market_models import MarketKLine, MarketTicker, MarketTimeShare
from ._ticks import from_thousandths

__all__ = ["BUY", "KLINE_HISTORY", "NEUTRAL", "SELL", "TICKER_HISTORY", "Tape"]

#: Trades kept per security.
TICKER_HISTORY = 1_000
#: K-lines kept per security and period.
KLINE_HISTORY = 1_000

# TickerDirect and TickerType values (Qot_Common.TickerDirection, TickerType).
BUY, SELL, NEUTRAL = 1, 2, 3
_AUTO_MATCH, _AUCTION = 1, 7


class _Bar:
    """A K-line being built: prices in thousandths."""

    __slots__ = (
        "close",
        "end",
        "high",
        "key",
        "last_close",
        "low",
        "open",
        "start",
        "trades",
        "turnover",
        "volume",
    )

    def __init__(self, key: int, start: float, end: float, price: int, last_close: int) -> None:
        self.key, self.start, self.end = key, start, end
        self.open = self.high = self.low = self.close = price
        self.last_close = last_close
        self.volume = self.turnover = self.trades = 0

    def add(self, price: int, volume: int) -> None:
        self.close = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += volume
        self.turnover += price * volume
        self.trades += 1


class Tape:
    """A security's trades since it was listed, and their aggregates.

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
        self._bars: dict[SubType, deque[_Bar]] = {
            period: deque(maxlen=KLINE_HISTORY) for period in PERIODS
        }
        # The day's time-share: its minute's key -> [start, minute, price,
        # average (thousandths), volume, turnover (thousandths)].
        self._minutes: dict[int, list[float]] = {}

    def record(
        self, time: float, price: int, volume: int, *, opening: bool = False
    ) -> MarketTicker:
        """Record a trade of ``volume`` shares at ``price`` (thousandths) at ``time``.

        ``opening`` marks the opening print (an auction trade of no volume).
        """
        market = self.key[0]
        time = max(time, self.time)
        local = local_time(time, market)
        day = local.toordinal()
        previous = self.price
        if day != self.day:
            if self.day >= 0:
                self.last_close = previous
            self.day = day
            self.open = self.high = self.low = price
            self.volume = self.turnover = 0
            self._minutes.clear()
        self.time = time
        self.price = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += volume
        self.turnover += price * volume
        for period, bars in self._bars.items():
            self._add_to_bar(bars, PERIODS[period], local, price, volume)
        self._add_to_minute(local, price, volume)
        sequence = self.trades
        self.trades += 1
        direction = BUY if price > previous else SELL if price < previous else NEUTRAL
        ticker = MarketTicker(
            key=self.key,
            time=time,
            price=from_thousandths(price),
            volume=volume,
            turnover=from_thousandths(price * volume),
            direction=direction,
            sequence=sequence,
            type=_AUCTION if opening else _AUTO_MATCH,
            extended=is_extended(local, market),
        )
        self.tickers.append(ticker)
        return ticker

    def _add_to_bar(
        self, bars: deque[_Bar], period: Period, local: datetime.datetime, price: int, volume: int
    ) -> None:
        key = bar_key(local, period)
        bar = bars[-1] if bars else None
        # A key below the open bar's is the repeated hour of a clock going back.
        if bar is None or key > bar.key:
            start, end = bar_span(local, period)
            market = self.key[0]
            last_close = self.last_close if bar is None else bar.close
            bar = _Bar(key, epoch_of(start, market), epoch_of(end, market), price, last_close)
            bars.append(bar)
        bar.add(price, volume)

    def _add_to_minute(self, local: datetime.datetime, price: int, volume: int) -> None:
        minute = local.hour * 60 + local.minute
        point = self._minutes.get(minute)
        if point is None:
            start = epoch_of(local.replace(second=0, microsecond=0), self.key[0])
            point = self._minutes[minute] = [start, minute, price, price, 0, 0]
        point[2] = price
        point[3] = self.turnover / self.volume if self.volume else price
        point[4] += volume
        point[5] += price * volume

    def klines(self, period: SubType, num: int) -> list[MarketKLine]:
        """The last ``num`` K-lines of ``period`` (a K-line ``SubType``), oldest first."""
        bars = self._bars[period]
        chosen = list(bars)[-num:] if num > 0 else []
        return [self._kline(period, bar) for bar in chosen]

    def klines_since(self, period: SubType, time: float) -> list[MarketKLine]:
        """The K-lines of ``period`` that end after ``time``, oldest first."""
        chosen: list[_Bar] = []
        for bar in reversed(self._bars[period]):
            if bar.end <= time:
                break
            chosen.append(bar)
        return [self._kline(period, bar) for bar in reversed(chosen)]

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
        return [
            MarketTimeShare(
                key=self.key,
                start=start,
                minute=int(minute),
                price=from_thousandths(int(price)),
                last_close_price=last_close,
                average_price=average / 1000,
                volume=int(volume),
                turnover=from_thousandths(int(turnover)),
            )
            for start, minute, price, average, volume, turnover in self._minutes.values()
            if start + 60 > since
        ]

    def tickers_after(self, sequence: int) -> Sequence[MarketTicker]:
        """The trades kept whose sequence is above ``sequence``, oldest first."""
        found: list[MarketTicker] = []
        for ticker in reversed(self.tickers):
            if ticker.sequence <= sequence:
                break
            found.append(ticker)
        found.reverse()
        return found
