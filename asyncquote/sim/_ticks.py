"""Tick sizes: the prices each market allows, as ladders of bands.

One job: say which prices are valid in a market and step between them, for
the simulator's market (:mod:`._market`). Pure functions and data.

Prices are whole numbers of *thousandths* (:data:`PRICE_SCALE`): every tick
of every ladder here is a whole number of thousandths (Hong Kong's smallest
is 0.001), so price arithmetic is exact and a price becomes a float only
when it is sent (``thousandths / 1000`` is the double nearest the decimal).

The ladders, one definition each:

* Hong Kong (:data:`HK_LADDER`): the HKEX spread table for securities
  (Part A of the Eighth Schedule to the Rules of the Exchange): 0.001 from
  0.01 up to 0.25, 0.005 over 0.25 up to 0.50, 0.01 up to 10, 0.02 up to 20,
  0.05 up to 100, 0.10 up to 200, 0.20 up to 500, 0.50 up to 1,000, 1.00 up
  to 2,000, 2.00 up to 5,000, 5.00 over 5,000. The table ends at 9,995; the
  simulator keeps the 5.00 step above it, and applies the table to every
  Hong Kong security it lists (indexes and futures included), a
  simplification.
* United States and China A-shares (:data:`CENT_LADDER`): 0.01 throughout.
  The simulator's other markets use it too (see :func:`ladder_for`).

Band boundaries belong to the band below them: at 10.00 exactly the tick
down is 0.01 (to 9.99) and the tick up is 0.02 (to 10.02).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .._opend.vocabulary import Market

__all__ = [
    "CENT_LADDER",
    "HK_LADDER",
    "PRICE_SCALE",
    "TickLadder",
    "format_price",
    "from_thousandths",
    "ladder_for",
    "to_thousandths",
]

#: Prices are kept as whole numbers of 1/PRICE_SCALE (thousandths).
PRICE_SCALE = 1000

# How far a float may be from a whole number of thousandths and still be
# taken as that number: 0.1 + 0.2 is 0.3 here, 0.3004 is not.
_TOLERANCE = 1e-9


def to_thousandths(price: float) -> int | None:
    """``price`` as a whole number of thousandths, or ``None`` if it has finer digits."""
    scaled = price * PRICE_SCALE
    nearest = round(scaled)
    if abs(scaled - nearest) > _TOLERANCE * max(1.0, abs(scaled)):
        return None
    return int(nearest)


def from_thousandths(price: int) -> float:
    """The float sent for ``price`` thousandths (the double nearest the decimal)."""
    return price / PRICE_SCALE


def format_price(price: int) -> str:
    """``price`` thousandths as the shortest decimal: ``400200`` is ``"400.2"``."""
    text = str(Decimal(price) / PRICE_SCALE)
    return text if "E" not in text else f"{Decimal(price) / PRICE_SCALE:f}"


@dataclass(frozen=True, slots=True)
class TickLadder:
    """The valid prices of one market, in thousandths.

    Attributes:
        bounds: the inclusive upper bound of every band but the last, ascending.
        ticks: each band's tick; one more than ``bounds`` (the last band is
            unbounded). Each bound is a multiple of the tick above it, so
            every valid price is a multiple of its own band's tick.
        minimum: the lowest valid price.
    """

    bounds: tuple[int, ...]
    ticks: tuple[int, ...]
    minimum: int

    def __post_init__(self) -> None:
        if len(self.ticks) != len(self.bounds) + 1:
            raise ValueError("a ladder needs one tick more than it has bounds")

    def tick_at(self, price: int) -> int:
        """The tick of the band holding ``price``: the step down from it."""
        return self.ticks[bisect.bisect_left(self.bounds, price)]

    def tick_above(self, price: int) -> int:
        """The step up from ``price`` (the next band's tick at a boundary)."""
        return self.ticks[bisect.bisect_right(self.bounds, price)]

    def is_valid(self, price: int) -> bool:
        """Whether ``price`` is on the ladder."""
        return price >= self.minimum and price % self.tick_at(price) == 0

    def up(self, price: int, steps: int = 1) -> int:
        """The valid price ``steps`` ticks above the valid ``price``."""
        for _ in range(steps):
            price += self.tick_above(price)
        return price

    def down(self, price: int, steps: int = 1) -> int | None:
        """The valid price ``steps`` ticks below the valid ``price``; ``None`` below the minimum."""
        for _ in range(steps):
            price -= self.tick_at(price)
            if price < self.minimum:
                return None
        return price

    def neighbours(self, price: int) -> tuple[int | None, int]:
        """The valid prices nearest ``price`` (any positive number): at or below, and above.

        The first is ``None`` when ``price`` is below the minimum.
        """
        if price < self.minimum:
            return None, self.minimum
        tick = self.tick_at(price)
        below = price - price % tick
        if below == price:
            return price, self.up(price)
        # ``below`` is a multiple of the band's tick at or above the band's
        # lower bound, which is itself a valid price: it is on the ladder.
        return below, self.up(below)

    def snap(self, price: int) -> int:
        """The valid price nearest ``price``; halfway between two, the lower one."""
        below, above = self.neighbours(price)
        if below is None:
            return above
        return below if price - below <= above - price else above


def _ladder(bands: Sequence[tuple[float, float]], last_tick: float, minimum: float) -> TickLadder:
    def scaled(value: float) -> int:
        thousandths = to_thousandths(value)
        assert thousandths is not None
        return thousandths

    return TickLadder(
        bounds=tuple(scaled(bound) for bound, _ in bands),
        ticks=(*(scaled(tick) for _, tick in bands), scaled(last_tick)),
        minimum=scaled(minimum),
    )


#: The HKEX spread table: (upper bound, tick) per band, then 5.00 above 5,000.
HK_LADDER = _ladder(
    [
        (0.25, 0.001),
        (0.50, 0.005),
        (10.00, 0.010),
        (20.00, 0.020),
        (100.00, 0.050),
        (200.00, 0.100),
        (500.00, 0.200),
        (1_000.00, 0.500),
        (2_000.00, 1.000),
        (5_000.00, 2.000),
    ],
    last_tick=5.000,
    minimum=0.01,
)

#: One cent throughout: US stocks (at or above $1) and China A-shares.
CENT_LADDER = _ladder([], last_tick=0.01, minimum=0.01)

_LADDERS: Mapping[int, TickLadder] = {
    Market.HK: HK_LADDER,
    Market.HK_FUTURE: HK_LADDER,
    Market.US: CENT_LADDER,
    Market.SH: CENT_LADDER,
    Market.SZ: CENT_LADDER,
}


def ladder_for(market: int) -> TickLadder:
    """The tick ladder of ``market``: Hong Kong's, or one cent for every other market."""
    return _LADDERS.get(market, CENT_LADDER)
