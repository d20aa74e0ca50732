"""One security of the simulator's market: its walk, its trades, its books and its brokers.

One job: the state :class:`~._market.Exchange` keeps per security. Each
move is a trade recorded on the security's :class:`~._tape.Tape`, from
which its quote, K-lines and time-share are read; the order book sits
around the last trade's price and the broker queue on the book's levels.

The odd-lot book (orders of fewer shares than a lot, HK's odd-lot market)
sits at the board-lot book's prices: each of its ``BOOK_DEPTH`` bid and ask
prices (one tick apart from the last trade's price outwards) holds an
odd-lot level or not, one chance in two, with between 1 and ``lot - 1``
shares in 1 to :data:`MAX_ODD_LOT_ORDERS` orders (no more than shares). So
its best bid is at most the board-lot book's and its best ask at least the
board-lot book's. It is a function of the seed, the security and the last
trade's price alone: it changes only when the price does, and it is stamped
with the time of the trade that moved the price there. A security whose lot
is one share has no odd lots: its odd-lot book is empty.
Pure: times are arguments, randomness comes from generators seeded by the
market's seed and the security.
"""

from __future__ import annotations

import hashlib
import random

from .._opend.quotes import OrderBookType
from .._opend.vocabulary import SecurityKey, SecurityType
from ._market_models import (
    BookLevel,
    Broker,
    BrokerQueue,
    Listing,
    MarketBook,
    MarketQuote,
    MarketTicker,
)
from ._tape import Tape
from ._ticks import from_thousandths, ladder_for

__all__ = ["BOOK_DEPTH", "MAX_ODD_LOT_ORDERS", "MAX_QUEUED_BROKERS", "SecurityState", "seed_of"]

#: Levels on each side of an order book.
BOOK_DEPTH = 10
#: Brokers listed on each side of a broker queue, at most (OpenD's SDK shows up to 40).
MAX_QUEUED_BROKERS = 40
#: Orders at one level of an odd-lot book, at most.
MAX_ODD_LOT_ORDERS = 5

# The walk: the chance of a tick down and of a tick up, and how far (as a
# fraction of the anchor) the price may stray before the walk leans back.
_STEP_CHANCE = 0.3
_LEAN = 0.1
_STRAY = 0.02
# Lots traded per tick, and lots and orders per book level.
_MAX_LOTS_PER_TRADE = 20
_MAX_LOTS_PER_LEVEL = 100
_MAX_ORDERS_PER_LEVEL = 20
# The chance that a price of the board-lot book has odd lots waiting too.
_ODD_LOT_CHANCE = 0.5
# Brokers queued per book level, and the simulator's made-up broker ids.
_MAX_BROKERS_PER_LEVEL = 4
_BROKER_IDS = (1000, 9999)
# Seeded starting prices: log10 ranges by kind of security.
_INDEX_LIKE = frozenset({SecurityType.IDX, SecurityType.FUTURE})
_INDEX_DECADES = (4.2, 4.45)
_OTHER_DECADES = (0.3, 2.7)
_MAX_OPENING_GAP = 5  # ticks between last close and open


def seed_of(seed: int, key: SecurityKey, purpose: str) -> int:
    """A 64-bit seed for one security and purpose; stable across runs and platforms."""
    market, code = key
    text = f"{seed}\x00{market}\x00{code}\x00{purpose}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def broker_name(broker_id: int) -> str:
    """The simulator's name for broker ``broker_id`` (made up, the same for every security)."""
    return f"Simulated Broker {broker_id}"


class SecurityState:
    """One security's mutable state; prices in thousandths.

    It opens, at ``start``, with an opening print: a trade of no volume at
    its seeded opening price (the open of its first day), so that the
    day's open, high and low are made of trades like everything else.
    """

    __slots__ = (
        "anchor",
        "book",
        "book_seed",
        "ladder",
        "listing",
        "lot",
        "moves",
        "odd_book",
        "odd_seed",
        "odd_since",
        "tape",
        "walk",
    )

    def __init__(self, listing: Listing, seed: int, start: float) -> None:
        self.listing = listing
        self.ladder = ladder = ladder_for(listing.key[0])
        self.lot = max(listing.lot_size, 1)
        opening = random.Random(seed_of(seed, listing.key, "open"))
        low, high = _INDEX_DECADES if listing.sec_type in _INDEX_LIKE else _OTHER_DECADES
        close = ladder.snap(round(10 ** opening.uniform(low, high) * 1000))
        gap = opening.randint(-_MAX_OPENING_GAP, _MAX_OPENING_GAP)
        price = ladder.up(close, gap) if gap >= 0 else ladder.down(close, -gap) or close
        self.anchor = close
        self.tape = Tape(listing.key, close)
        self.tape.record(start, price, 0, opening=True)
        self.moves = 0
        self.walk = random.Random(seed_of(seed, listing.key, "walk"))
        self.book_seed = seed_of(seed, listing.key, "book")
        self.book: MarketBook | None = None
        self.odd_seed = seed_of(seed, listing.key, "odd lots")
        self.odd_book: MarketBook | None = None
        self.odd_since = start  # when the price became what it is

    @property
    def price(self) -> int:
        return self.tape.price

    def tick(self, time: float) -> MarketTicker:
        """One tick: a step of the walk and a trade at the new price."""
        walk = self.walk
        draw = walk.random()
        down = up = _STEP_CHANCE
        price = self.price
        stray = (price - self.anchor) / self.anchor
        if stray > _STRAY:
            down, up = down + _LEAN, up - _LEAN
        elif stray < -_STRAY:
            down, up = down - _LEAN, up + _LEAN
        if draw < down:
            price = self.ladder.down(price) or price
        elif draw < down + up:
            price = self.ladder.up(price)
        return self.trade(price, walk.randint(1, _MAX_LOTS_PER_TRADE) * self.lot, time)

    def trade(self, price: int, volume: int, time: float) -> MarketTicker:
        """A trade of ``volume`` shares at ``price`` (thousandths) at ``time``."""
        before = self.tape.price
        ticker = self.tape.record(time, price, volume)
        self.moves += 1
        self.book = None
        if self.tape.price != before:
            self.odd_book = None
            self.odd_since = time
        return ticker

    def quote(self) -> MarketQuote:
        listing, tape = self.listing, self.tape
        return MarketQuote(
            key=listing.key,
            name=listing.name,
            list_time=listing.list_time,
            cur_price=from_thousandths(tape.price),
            open_price=from_thousandths(tape.open),
            high_price=from_thousandths(tape.high),
            low_price=from_thousandths(tape.low),
            last_close_price=from_thousandths(tape.last_close),
            price_spread=from_thousandths(self.ladder.tick_above(tape.price)),
            volume=tape.volume,
            turnover=from_thousandths(tape.turnover),
            update_time=tape.time,
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
            key = self.listing.key
            book = self.book = MarketBook(key, tuple(bids), tuple(asks), self.tape.time)
        return book

    def odd_lot_book(self) -> MarketBook:
        """The odd-lot book (see the module docstring): made once per price, then shared."""
        book = self.odd_book
        if book is None:
            draws = random.Random(self.odd_seed ^ self.price)
            ladder, price, lot = self.ladder, self.price, self.lot
            sides: list[tuple[BookLevel, ...]] = []
            for step in (ladder.down, ladder.up):
                levels: list[BookLevel] = []
                at = price
                for _ in range(BOOK_DEPTH):
                    after = step(at)
                    if after is None:  # the ladder's minimum
                        break
                    at = after
                    if draws.random() < _ODD_LOT_CHANCE and lot > 1:
                        shares = draws.randint(1, lot - 1)
                        orders = draws.randint(1, min(shares, MAX_ODD_LOT_ORDERS))
                        levels.append(BookLevel(from_thousandths(at), shares, orders))
                sides.append(tuple(levels))
            key = self.listing.key
            odd = OrderBookType.ODD
            book = self.odd_book = MarketBook(key, sides[0], sides[1], self.odd_since, odd)
        return book

    def _level(self, price: int, draws: random.Random) -> BookLevel:
        lots = draws.randint(1, _MAX_LOTS_PER_LEVEL)
        orders = draws.randint(1, min(lots, _MAX_ORDERS_PER_LEVEL))
        return BookLevel(from_thousandths(price), lots * self.lot, orders)

    def broker_queue(self) -> BrokerQueue:
        """The brokers queued at the book's levels: a function of the seed, security and moves."""
        book = self.order_book()
        draws = random.Random(self.book_seed ^ ~self.moves)
        sides = []
        for levels in (book.bids, book.asks):
            brokers: list[Broker] = []
            for position, level in enumerate(levels, start=1):
                count = min(level.order_count, _MAX_BROKERS_PER_LEVEL)
                for _ in range(count):
                    if len(brokers) == MAX_QUEUED_BROKERS:
                        break
                    broker_id = draws.randint(*_BROKER_IDS)
                    brokers.append(Broker(broker_id, broker_name(broker_id), position))
            sides.append(tuple(brokers))
        return BrokerQueue(self.listing.key, sides[0], sides[1], book.update_time)
