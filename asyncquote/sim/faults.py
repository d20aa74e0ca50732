"""Fault injection: ways the simulator can misbehave on purpose, to test clients.

:class:`Faults` gathers every option in one frozen value, passed to the
simulator as ``faults=``; more kinds of misbehaviour will join
``reply_delay`` here as fields that default to "off". Random choices come
from one :class:`random.Random` per simulator, seeded by ``seed``, so a
single-connection run is reproducible.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["Faults"]


def _check_seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {value!r}")
    if not 0 <= value < math.inf:
        raise ValueError(f"{what} must be a finite number of seconds >= 0, not {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Faults:
    """Misbehaviour for the simulator to inject; the default injects none.

    Attributes:
        reply_delay: hold every reply back before sending it: a fixed number
            of seconds, or ``(low, high)`` for a delay drawn uniformly from
            that range for each reply (so replies overtake one another).
            Each reply waits in its own task, so the delay does not hold up
            reading further requests: a request still *arrives* (and counts
            against its quota) when it is read. InitConnect replies are never
            delayed, so handshakes stay prompt.
        seed: seeds the simulator's random choices; ``None`` seeds from the OS.
    """

    reply_delay: float | tuple[float, float] | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        delay = self.reply_delay
        if isinstance(delay, tuple):
            if len(delay) != 2:
                raise ValueError(f"reply_delay range must be (low, high), not {delay!r}")
            low = _check_seconds(delay[0], "reply_delay low")
            high = _check_seconds(delay[1], "reply_delay high")
            if low > high:
                raise ValueError(f"reply_delay range {delay!r} has low > high")
        elif delay is not None:
            _check_seconds(delay, "reply_delay")

    @property
    def delays_replies(self) -> bool:
        """Whether any reply can be held back at all."""
        delay = self.reply_delay
        if isinstance(delay, tuple):
            return delay[1] > 0
        return bool(delay)

    def new_rng(self) -> random.Random:
        """A fresh generator for the random choices, seeded with :attr:`seed`."""
        return random.Random(self.seed)

    def reply_delay_from(self, rng: random.Random) -> float:
        """Seconds to hold one reply back, drawing from ``rng`` for a range."""
        delay = self.reply_delay
        if isinstance(delay, tuple):
            return rng.uniform(*delay)
        return delay or 0.0
