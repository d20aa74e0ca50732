"""What the simulator's market lists and tells: listings, quotes, order books, and its errors.

One job: the plain, frozen values (quotes, books, tickers, K-lines,
time-share points, broker queues) :class:`~._market.Exchange` takes and hands
out, and the typed errors of its controls, apart from the market itself so
that either stays readable. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._base.errors import InvalidArgumentError
from .._opend.quotes import TickerDirect, TickerType
from .._opend.vocabulary import SecurityKey, SecurityType, format_code

__all__ = [
    "BookLevel",
    "Broker",
    "BrokerQueue",
    "Listing",
    "MarketBook",
    "MarketKLine",
    "MarketQuote",
    "MarketTicker",
    "MarketTimeShare",
    "NotListedError",
    "PriceError",
]


class PriceError(InvalidArgumentError):
    """A price the market cannot take: not a positive number, or not on the security's ladder.

    Attributes:
        price: the price given.
        nearest: the valid prices nearest it, below and above (``None``
            where there is none), or ``None`` when it is not a positive
            number at all.
    """

    def __init__(
        self, message: str, price: object, nearest: tuple[float | None, float] | None = None
    ) -> None:
        super().__init__(message)
        self.price = price
        self.nearest = nearest

    def __reduce__(self) -> tuple[type[PriceError], tuple[str, object, Any]]:
        # Pickle (a process pool, a multiprocessing queue) calls __init__ again.
        return (type(self), (str(self), self.price, self.nearest))


class NotListedError(InvalidArgumentError):
    """The market lists no such security.

    Attributes:
        key: the security asked for, as ``(market, code)``.
    """

    def __init__(self, key: SecurityKey) -> None:
        super().__init__(f"{format_code(key)} is not listed in the simulator's market")
        self.key = key

    def __reduce__(self) -> tuple[type[NotListedError], tuple[SecurityKey]]:
        return (type(self), (self.key,))


@dataclass(frozen=True, slots=True)
class Listing:
    """A security the market trades: what it needs to know of its static info.

    Attributes:
        key: ``(market, code)``.
        name: the security's name.
        sec_type: its ``SecurityType`` value (indexes and futures start
            near 20,000, everything else between 2 and 500).
        lot_size: shares per lot; trades and book levels are whole lots
            (0, as indexes have, counts as 1).
        list_time: its listing date, ``"yyyy-MM-dd"``, as OpenD sends it.
    """

    key: SecurityKey
    name: str = ""
    sec_type: int = SecurityType.STOCK
    lot_size: int = 100
    list_time: str = ""


@dataclass(frozen=True, slots=True)
class MarketQuote:
    """One security's basic quote at one moment (what Qot_UpdateBasicQot 3005 carries).

    Prices are floats on the security's ladder.

    Attributes:
        key: ``(market, code)``.
        name: the security's name.
        list_time: its listing date, ``"yyyy-MM-dd"``.
        cur_price: the last trade's price.
        open_price: the first price of the day (the market's start).
        high_price: the highest price since the start.
        low_price: the lowest price since the start.
        last_close_price: the previous day's close.
        price_spread: the tick up from the current price.
        volume: shares traded since the start.
        turnover: their value, the sum of volume times price.
        update_time: epoch seconds of the last trade.
        moves: how many trades the security has had since the start.
    """

    key: SecurityKey
    name: str
    list_time: str
    cur_price: float
    open_price: float
    high_price: float
    low_price: float
    last_close_price: float
    price_spread: float
    volume: int
    turnover: float
    update_time: float
    moves: int

    @property
    def amplitude(self) -> float:
        """``(high - low) / last close``, in percent, as OpenD reports it."""
        return (self.high_price - self.low_price) / self.last_close_price * 100


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of an order book."""

    price: float
    volume: int
    order_count: int


@dataclass(frozen=True, slots=True)
class MarketBook:
    """One security's order book: best bid and best ask first.

    ``order_book_type`` is ``Qot_Common.OrderBookType``: 0 for the board-lot
    book (whole lots), 1 for the odd-lot one (orders of fewer shares than a lot).
    """

    key: SecurityKey
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    update_time: float
    order_book_type: int = 0


@dataclass(frozen=True, slots=True)
class MarketTicker:
    """One trade (what Qot_GetTicker 3010 answers and Qot_UpdateTicker 3011 pushes).

    Every move of the market is a trade; quotes, K-lines and time-share
    points are made of them.

    Attributes:
        key: ``(market, code)``.
        time: epoch seconds.
        price: on the security's ladder.
        volume: shares, whole lots (``0`` for the opening print).
        turnover: ``price * volume``.
        direction: ``BUY`` when the price rose (the buyer took the ask),
            ``SELL`` when it fell, ``NEUTRAL`` when it stayed.
        sequence: the security's trade count, ``0`` for the opening print;
            it equals :attr:`MarketQuote.moves` after this trade.
        type: ``AUCTION`` for the opening print, ``AUTO_MATCH`` for the others.
        extended: traded outside the US regular session (see
            :mod:`._market_calendar`).
    """

    key: SecurityKey
    time: float
    price: float
    volume: int
    turnover: float
    direction: TickerDirect
    sequence: int
    type: TickerType
    extended: bool


@dataclass(frozen=True, slots=True)
class MarketKLine:
    """One K-line: the trades of one bar of one period (Qot_GetKL 3006, Qot_UpdateKL 3007).

    Attributes:
        key: ``(market, code)``.
        period: its ``SubType`` (``K_1M`` ... ``K_YEAR``).
        start: epoch seconds of the bar's first instant (local time, see
            :mod:`._market_calendar`).
        end: epoch seconds of the first instant after it.
        open_price: the first trade's price; ``close_price`` the last's.
        high_price, low_price: the extremes of its trades.
        last_close_price: the close of the bar before (the security's last
            close for its first bar).
        volume: the sum of its trades' volumes; ``turnover`` of their turnovers.
        trades: how many trades it holds.
    """

    key: SecurityKey
    period: int
    start: float
    end: float
    open_price: float
    high_price: float
    low_price: float
    close_price: float
    last_close_price: float
    volume: int
    turnover: float
    trades: int


@dataclass(frozen=True, slots=True)
class MarketTimeShare:
    """One minute of the trading day's time-share (RT) chart (Qot_GetRT 3008, Qot_UpdateRT 3009).

    Attributes:
        key: ``(market, code)``.
        start: epoch seconds of the minute's first instant.
        minute: minutes after local midnight.
        price: the minute's last trade's price.
        last_close_price: the day's last close.
        average_price: the day's turnover over its volume up to the
            minute's last trade (its price while no share has traded).
        volume: the minute's volume; ``turnover`` its turnover.
    """

    key: SecurityKey
    start: float
    minute: int
    price: float
    last_close_price: float
    average_price: float
    volume: int
    turnover: float


@dataclass(frozen=True, slots=True)
class Broker:
    """A broker with orders queued at a level of a Hong Kong book (``position`` 1 is the best)."""

    broker_id: int
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class BrokerQueue:
    """The brokers queued on each side of a Hong Kong security's book (Qot_GetBroker 3014)."""

    key: SecurityKey
    bids: tuple[Broker, ...]
    asks: tuple[Broker, ...]
    update_time: float
