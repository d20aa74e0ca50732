"""The simulator's market: one consistent, deterministic story for every security.

One job: keep, for each listed security, a price on its market's tick
ladder (:mod:`._ticks`) and move it forward in time (:meth:`Exchange.step`)
and on demand (:meth:`Exchange.set_price`, :meth:`Exchange.trade`). Every
move is a trade (a ticker), and everything else is made of the trades
(:mod:`._tape`): the day's open, high, low, last close, volume and
turnover, the K-lines of every period, the time-share points; the
ten-level order book sits around the last trade's price and a Hong Kong
security's broker queue on the book's levels (:mod:`._security`). Pure
and sans-I/O: it reads no clock (the time is always an argument, in epoch
seconds) and draws randomness only from generators seeded by the market's
seed.

Invariants:

* A security's price is always on its ladder, and
  ``low <= price <= high`` and ``low <= open <= high``; within a trading
  day volume and turnover never decrease (each move is a trade at the new
  price). A security opens with an opening print, a trade of no volume at
  its seeded open.
* A quote's open, high, low, volume and turnover, every K-line's OHLCV and
  every time-share point are the aggregation of the trades in their
  interval (see :mod:`._market_calendar` for days and bars).
* The order book has up to ten bid levels below the price and ten ask
  levels above it, one tick apart and on the ladder (fewer bids near the
  ladder's minimum); each level's volume is whole lots and its order count
  is between 1 and its number of lots. The odd-lot book's levels are at
  some of those prices, each with fewer shares than a lot.
* Deterministic: the same listings, seed and calls give the same quotes and
  books. Each security walks on a generator of its own, one set of draws
  per tick, and its book is a function of the seed, the security, its price
  and how many times it has moved; so how the ticks due are grouped into
  :meth:`Exchange.step` calls does not change what they reach.
* ``rate`` ticks per second, counted from ``start``: at each tick every
  security trades once. A step that finds more than :data:`MAX_CATCH_UP`
  ticks due (the clock jumped, or nobody stepped for a long time) plays
  only the last :data:`MAX_CATCH_UP` of them, so one step stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .._base.errors import InvalidArgumentError
from .._opend.quotes import SubType
from .._opend.vocabulary import SecurityKey, format_code
from ._market_models import (
    BookLevel,
    Broker,
    BrokerQueue,
    Listing,
    MarketBook,
    MarketKLine,
    MarketQuote,
    MarketTicker,
    MarketTimeShare,
    NotListedError,
    PriceError,
)
from ._security import BOOK_DEPTH, SecurityState
from ._ticks import (
    PRICE_SCALE,
    TickLadder,
    format_price,
    from_thousandths,
    to_thousandths,
)

__all__ = [
    "BOOK_DEPTH",
    "MAX_CATCH_UP",
    "MAX_PRICE",
    "MAX_TRADE_VOLUME",
    "BookLevel",
    "Broker",
    "BrokerQueue",
    "Exchange",
    "Listing",
    "MarketBook",
    "MarketKLine",
    "MarketQuote",
    "MarketTicker",
    "MarketTimeShare",
    "NotListedError",
    "PriceError",
]

#: The most ticks one :meth:`Exchange.step` plays; older ones due are skipped.
MAX_CATCH_UP = 1_000

#: The highest price :meth:`Exchange.set_price` accepts.
MAX_PRICE = 10_000_000.0

#: The most shares one :meth:`Exchange.trade` takes.
MAX_TRADE_VOLUME = 10**12

# Fractions of a tick lost to float rounding (epoch seconds have ~1e-7 s ulps).
_ROUNDING = 1e-6


def _check_rate(rate: object) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise InvalidArgumentError(
            f"rate must be a number of updates per second, not {type(rate).__name__} {rate!r}"
        )
    if not (math.isfinite(rate) and rate >= 0):
        raise InvalidArgumentError(f"rate must be a finite number >= 0, not {rate!r}")
    return float(rate)


class Exchange:
    """A deterministic market over ``listings``.

    Args:
        listings: the securities traded; each key once.
        seed: picks every starting price and every move; the same seed gives
            the same market.
        rate: ticks per second (each security trades once a tick); ``0``
            moves prices only through :meth:`set_price`.
        start: the epoch time of the opening state, from which ticks are counted.

    Raises:
        InvalidArgumentError: ``rate`` is not a finite number >= 0, or a key
            is listed twice.
    """

    def __init__(
        self, listings: Iterable[Listing], *, seed: int = 0, rate: float = 1.0, start: float = 0.0
    ) -> None:
        self._rate = _check_rate(rate)
        self._seed = seed
        self._start = start
        self._ticks = 0
        self._securities: dict[SecurityKey, SecurityState] = {}
        for listing in listings:
            if listing.key in self._securities:
                raise InvalidArgumentError(f"{format_code(listing.key)} is listed twice")
            self._securities[listing.key] = SecurityState(listing, seed, start)

    @property
    def seed(self) -> int:
        """The seed the market was made from."""
        return self._seed

    @property
    def rate(self) -> float:
        """Ticks per second; ``0`` when prices move only on :meth:`set_price`."""
        return self._rate

    @property
    def keys(self) -> Sequence[SecurityKey]:
        """The securities listed, as ``(market, code)``, in listing order."""
        return tuple(self._securities)

    @property
    def next_step_at(self) -> float:
        """The epoch time at which the next tick is due; ``math.inf`` at rate 0."""
        if self._rate == 0:
            return math.inf
        return self._start + (self._ticks + 1) / self._rate

    def __contains__(self, key: object) -> bool:
        return key in self._securities

    def add(self, listing: Listing, now: float) -> bool:
        """List ``listing`` from ``now`` on, unless its key is listed; return whether it was new.

        Its opening state is its seeded one, and it moves with the next tick.
        """
        if listing.key in self._securities:
            return False
        self._securities[listing.key] = SecurityState(listing, self._seed, now)
        return True

    def ladder(self, key: SecurityKey) -> TickLadder:
        """The tick ladder of ``key``'s market.

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).ladder

    def quote(self, key: SecurityKey) -> MarketQuote:
        """``key``'s quote now.

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).quote()

    def order_book(self, key: SecurityKey) -> MarketBook:
        """``key``'s order book now (made once per move, then shared).

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).order_book()

    def odd_lot_book(self, key: SecurityKey) -> MarketBook:
        """``key``'s odd-lot order book now: orders of fewer shares than a lot, at the
        board-lot book's prices; it changes only with the price (see :mod:`._security`).

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).odd_lot_book()

    def step(self, now: float) -> list[MarketQuote]:
        """Play the ticks due by ``now``; return the quote of each security that moved.

        Every security moves at every tick, so the list is empty (no tick
        was due) or holds one quote per security, in listing order. A quote
        is stamped with the time of its last tick, ``start + n / rate``.
        The trades are on the securities' tapes (:meth:`tickers_after`).
        """
        if self._rate == 0:
            return []
        # A step at a tick's own time (start + n / rate) plays it, whatever
        # the rounding of that sum and of this product.
        due = math.floor((now - self._start) * self._rate + _ROUNDING)
        if due <= self._ticks:
            return []
        first = max(self._ticks + 1, due - MAX_CATCH_UP + 1)
        securities = self._securities.values()
        for tick in range(first, due + 1):
            time = self._start + tick / self._rate
            for security in securities:
                security.tick(time)
        self._ticks = due
        return [security.quote() for security in securities]

    def set_price(self, key: SecurityKey, price: float, now: float) -> MarketQuote:
        """Trade one lot of ``key`` at ``price`` at ``now``; the walk goes on from there.

        The price must be on the security's tick ladder (HK 400.2 is, 400.1
        is not): an off-tick price is refused rather than rounded, so what
        is pushed is exactly what was asked for. ``high`` and ``low`` widen
        to take it in.

        Returns:
            The quote after the trade.

        Raises:
            NotListedError: the market does not list ``key``.
            PriceError: ``price`` is not a positive finite number up to
                :data:`MAX_PRICE`, or is not on the ladder; ``nearest``
                names the valid prices either side.
        """
        security = self._security(key)
        self.trade(key, price, security.lot, now)
        return security.quote()

    def trade(self, key: SecurityKey, price: float, volume: int, now: float) -> MarketTicker:
        """Trade ``volume`` shares of ``key`` at ``price`` at ``now``; the walk goes on from there.

        The trade flows into everything: the quote, the K-lines of every
        period, the time-share, the book and the broker queue. ``price``
        is checked as :meth:`set_price` checks it; ``volume`` is a positive
        whole number of lots (up to :data:`MAX_TRADE_VOLUME` shares).

        Returns:
            The trade, as its ticker.

        Raises:
            NotListedError: the market does not list ``key``.
            PriceError: ``price`` is not a positive number on the ladder.
            InvalidArgumentError: ``volume`` is not a positive multiple of
                the lot size.
        """
        security = self._security(key)
        thousandths = _check_price(key, price, security.ladder)
        lot = security.lot
        if isinstance(volume, bool) or not isinstance(volume, int):
            raise InvalidArgumentError(
                f"volume must be a whole number of shares, not {type(volume).__name__} {volume!r}"
            )
        if not 0 < volume <= MAX_TRADE_VOLUME or volume % lot:
            raise InvalidArgumentError(
                f"volume must be a positive multiple of {format_code(key)}'s lot of {lot} "
                f"shares, up to {MAX_TRADE_VOLUME:,}, not {volume!r}"
            )
        security.anchor = thousandths
        return security.trade(thousandths, volume, now)

    def tickers_after(self, key: SecurityKey, sequence: int = -1) -> Sequence[MarketTicker]:
        """``key``'s trades kept (the last 1,000) with a sequence above ``sequence``, oldest first.

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).tape.tickers_after(sequence)

    def klines(self, key: SecurityKey, period: SubType, num: int) -> list[MarketKLine]:
        """``key``'s last ``num`` K-lines of ``period`` (a K-line ``SubType``), oldest first.

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).tape.klines(period, num)

    def klines_since(self, key: SecurityKey, period: SubType, time: float) -> list[MarketKLine]:
        """``key``'s K-lines of ``period`` that end after ``time``: those a trade since touched.

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).tape.klines_since(period, time)

    def time_share(self, key: SecurityKey, since: float = -math.inf) -> list[MarketTimeShare]:
        """``key``'s time-share points of its trading day (minutes ending after ``since``).

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).tape.time_share(since)

    def broker_queue(self, key: SecurityKey) -> BrokerQueue:
        """``key``'s broker queue, on its book's levels (OpenD has them for Hong Kong only).

        Raises:
            NotListedError: the market does not list ``key``.
        """
        return self._security(key).broker_queue()

    def _security(self, key: SecurityKey) -> SecurityState:
        security = self._securities.get(key)
        if security is None:
            raise NotListedError(key)
        return security


def _check_price(key: SecurityKey, price: float, ladder: TickLadder) -> int:
    """``price`` in thousandths, if it is a positive number on ``ladder``."""
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise PriceError(f"price must be a number, not {type(price).__name__} {price!r}", price)
    if not (math.isfinite(price) and 0 < price <= MAX_PRICE):
        raise PriceError(
            f"price must be positive and at most {MAX_PRICE:,.0f}, not {price!r}", price
        )
    thousandths = to_thousandths(price)
    if thousandths is None or not ladder.is_valid(thousandths):
        raise _off_tick(key, price, ladder)
    return thousandths


def _off_tick(key: SecurityKey, price: float, ladder: TickLadder) -> PriceError:
    # Both neighbours of a price between two valid ones are those of its floor.
    below, above = ladder.neighbours(math.floor(price * PRICE_SCALE))
    nearest = (None if below is None else from_thousandths(below), from_thousandths(above))
    around = " or ".join(format_price(p) for p in (below, above) if p is not None)
    return PriceError(
        f"{price!r} is not a valid price for {format_code(key)}: the nearest are {around}",
        price,
        nearest,
    )
