"""The simulator's market: a deterministic quote and order book for every security.

One job: keep, for each listed security, a price on its market's tick
ladder (:mod:`._ticks`), the day's open, high, low and last close, volume
and turnover that accumulate, and a ten-level order book around the price;
move them forward in time (:meth:`Exchange.step`) and on demand
(:meth:`Exchange.set_price`). Pure and sans-I/O: it reads no clock (the time
is always an argument, in epoch seconds) and draws randomness only from
generators seeded by the market's seed.

Invariants:

* A security's price is always on its ladder, and
  ``low <= price <= high`` and ``low <= open <= high``; volume and turnover
  never decrease (each move is a trade of whole lots at the new price).
* The order book has up to ten bid levels below the price and ten ask
  levels above it, one tick apart and on the ladder (fewer bids near the
  ladder's minimum); each level's volume is whole lots and its order count
  is between 1 and its number of lots.
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

import hashlib
import math
import random
from collections.abc import Iterable, Sequence

from .._base.errors import InvalidArgumentError
from .._opend.vocabulary import SecurityKey, SecurityType, format_code
from ._market_models import BookLevel, Listing, MarketBook, MarketQuote, NotListedError, PriceError
from ._ticks import (
    PRICE_SCALE,
    TickLadder,
    format_price,
    from_thousandths,
    ladder_for,
    to_thousandths,
)

__all__ = [
    "BOOK_DEPTH",
    "MAX_CATCH_UP",
    "MAX_PRICE",
    "BookLevel",
    "Exchange",
    "Listing",
    "MarketBook",
    "MarketQuote",
    "NotListedError",
    "PriceError",
]

#: Levels on each side of an order book.
BOOK_DEPTH = 10

#: The most ticks one :meth:`Exchange.step` plays; older ones due are skipped.
MAX_CATCH_UP = 1_000

#: The highest price :meth:`Exchange.set_price` accepts.
MAX_PRICE = 10_000_000.0

# The walk: the chance of a tick down and of a tick up, and how far (as a
# fraction of the anchor) the price may stray before the walk leans back.
_STEP_CHANCE = 0.3
_LEAN = 0.1
_STRAY = 0.02
# Lots traded per tick, and lots and orders per book level.
_MAX_LOTS_PER_TRADE = 20
_MAX_LOTS_PER_LEVEL = 100
_MAX_ORDERS_PER_LEVEL = 20
# Seeded starting prices: log10 ranges by kind of security.
_INDEX_LIKE = frozenset({SecurityType.IDX, SecurityType.FUTURE})
_INDEX_DECADES = (4.2, 4.45)
_OTHER_DECADES = (0.3, 2.7)
_MAX_OPENING_GAP = 5  # ticks between last close and open
# Fractions of a tick lost to float rounding (epoch seconds have ~1e-7 s ulps).
_ROUNDING = 1e-6


def _seed_of(seed: int, key: SecurityKey, purpose: str) -> int:
    """A 64-bit seed for one security and purpose; stable across runs and platforms."""
    market, code = key
    text = f"{seed}\x00{market}\x00{code}\x00{purpose}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


class _Security:
    """One security's mutable state; prices in thousandths."""

    __slots__ = (
        "anchor",
        "book",
        "book_seed",
        "high",
        "ladder",
        "last_close",
        "listing",
        "lot",
        "low",
        "moves",
        "open",
        "price",
        "turnover",
        "updated",
        "volume",
        "walk",
    )

    def __init__(self, listing: Listing, seed: int, start: float) -> None:
        self.listing = listing
        self.ladder = ladder = ladder_for(listing.key[0])
        self.lot = max(listing.lot_size, 1)
        opening = random.Random(_seed_of(seed, listing.key, "open"))
        low, high = _INDEX_DECADES if listing.sec_type in _INDEX_LIKE else _OTHER_DECADES
        close = ladder.snap(round(10 ** opening.uniform(low, high) * 1000))
        gap = opening.randint(-_MAX_OPENING_GAP, _MAX_OPENING_GAP)
        price = ladder.up(close, gap) if gap >= 0 else ladder.down(close, -gap) or close
        self.last_close = self.anchor = close
        self.open = self.high = self.low = self.price = price
        self.volume = 0
        self.turnover = 0  # thousandths
        self.updated = start
        self.moves = 0
        self.walk = random.Random(_seed_of(seed, listing.key, "walk"))
        self.book_seed = _seed_of(seed, listing.key, "book")
        self.book: MarketBook | None = None

    def tick(self, time: float) -> None:
        """One tick: a step of the walk and a trade at the new price."""
        walk = self.walk
        draw = walk.random()
        down = up = _STEP_CHANCE
        stray = (self.price - self.anchor) / self.anchor
        if stray > _STRAY:
            down, up = down + _LEAN, up - _LEAN
        elif stray < -_STRAY:
            down, up = down - _LEAN, up + _LEAN
        price = self.price
        if draw < down:
            price = self.ladder.down(price) or price
        elif draw < down + up:
            price = self.ladder.up(price)
        self.trade(price, walk.randint(1, _MAX_LOTS_PER_TRADE), time)

    def trade(self, price: int, lots: int, time: float) -> None:
        volume = lots * self.lot
        self.price = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += volume
        self.turnover += volume * price
        self.updated = time
        self.moves += 1
        self.book = None

    def quote(self) -> MarketQuote:
        listing = self.listing
        return MarketQuote(
            key=listing.key,
            name=listing.name,
            list_time=listing.list_time,
            cur_price=from_thousandths(self.price),
            open_price=from_thousandths(self.open),
            high_price=from_thousandths(self.high),
            low_price=from_thousandths(self.low),
            last_close_price=from_thousandths(self.last_close),
            price_spread=from_thousandths(self.ladder.tick_above(self.price)),
            volume=self.volume,
            turnover=from_thousandths(self.turnover),
            update_time=self.updated,
            moves=self.moves,
        )

    def order_book(self) -> MarketBook:
        book = self.book
        if book is None:
            # A function of the seed, the security, its price and its moves.
            draws = random.Random(self.book_seed ^ self.moves)
            ladder, price = self.ladder, self.price
            bids: list[BookLevel] = []
            bid = ladder.down(price)
            while bid is not None and len(bids) < BOOK_DEPTH:
                bids.append(self._level(bid, draws))
                bid = ladder.down(bid)
            asks = []
            ask = price
            for _ in range(BOOK_DEPTH):
                ask = ladder.up(ask)
                asks.append(self._level(ask, draws))
            book = self.book = MarketBook(self.listing.key, tuple(bids), tuple(asks), self.updated)
        return book

    def _level(self, price: int, draws: random.Random) -> BookLevel:
        lots = draws.randint(1, _MAX_LOTS_PER_LEVEL)
        orders = draws.randint(1, min(lots, _MAX_ORDERS_PER_LEVEL))
        return BookLevel(from_thousandths(price), lots * self.lot, orders)


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
        self._securities: dict[SecurityKey, _Security] = {}
        for listing in listings:
            if listing.key in self._securities:
                raise InvalidArgumentError(f"{format_code(listing.key)} is listed twice")
            self._securities[listing.key] = _Security(listing, seed, start)

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
        self._securities[listing.key] = _Security(listing, self._seed, now)
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

    def step(self, now: float) -> list[MarketQuote]:
        """Play the ticks due by ``now``; return the quote of each security that moved.

        Every security moves at every tick, so the list is empty (no tick
        was due) or holds one quote per security, in listing order. A quote
        is stamped with the time of its last tick, ``start + n / rate``.
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
        if isinstance(price, bool) or not isinstance(price, int | float):
            raise PriceError(f"price must be a number, not {type(price).__name__} {price!r}", price)
        if not (math.isfinite(price) and 0 < price <= MAX_PRICE):
            raise PriceError(
                f"price must be positive and at most {MAX_PRICE:,.0f}, not {price!r}", price
            )
        ladder = security.ladder
        thousandths = to_thousandths(price)
        if thousandths is None or not ladder.is_valid(thousandths):
            raise _off_tick(key, price, ladder)
        security.anchor = thousandths
        security.trade(thousandths, 1, now)
        return security.quote()

    def _security(self, key: SecurityKey) -> _Security:
        security = self._securities.get(key)
        if security is None:
            raise NotListedError(key)
        return security


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
