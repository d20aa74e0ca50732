"""What the simulator's market lists and tells: listings, quotes, order books, and its errors.

One job: the plain, frozen values :class:`~._market.Exchange` takes and hands
out, and the typed errors of its controls, apart from the market itself so
that either stays readable. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._base.errors import InvalidArgumentError
from .._opend.vocabulary import SecurityKey, SecurityType, format_code

__all__ = ["BookLevel", "Listing", "MarketBook", "MarketQuote", "NotListedError", "PriceError"]


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
    """One security's order book: best bid and best ask first."""

    key: SecurityKey
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    update_time: float
