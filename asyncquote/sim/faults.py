"""Fault injection: ways the simulator can misbehave on purpose, to test clients.

:class:`Faults` gathers every option in one frozen value, passed to the
simulator as ``faults=`` (or ``asyncquote sim --fault NAME[=VALUE]``, parsed
by :func:`parse_fault_spec`). Every option defaults to "off", and a simulator
with no option on serves connections on its fast path.

Faults change only what goes back on the wire, and when: every request that
arrives is still handled and recorded as usual (it changes the watchlists,
counts against its quota and appears in ``Simulator.requests``) even when its
reply is held back, mangled or never sent.

Unless its description says otherwise, a fault touches only the replies to
requests that arrive *after* a successful InitConnect, and not InitConnect's
own replies, so a client can connect before things go wrong. Those requests
are numbered 1, 2, 3, ... per connection, whatever their protocol (KeepAlive
too); the ``*_after`` options and the "every Nth reply" choices count them.

Per-reply faults (``corrupt_sha1``, ``garbage``, ``unknown_serial``,
``duplicate``) choose their replies in one of two ways:

* an ``int`` ``n >= 1``: every nth reply (1 = every reply, 3 = replies to
  requests 3, 6, 9, ...);
* a ``float`` ``0 < p <= 1``: each reply independently with probability ``p``.

Random choices (probabilities, delays drawn from a range, shuffles) come from
one :class:`random.Random` per connection, seeded from ``seed`` and the
connection's id, so a run is reproducible even when connections interleave.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, fields

__all__ = [
    "FAULT_NAMES",
    "GARBAGE_SIZE",
    "OVERSIZE_BODY_LEN",
    "Faults",
    "Selector",
    "parse_fault_spec",
]

Selector = int | float
"""Which replies a per-reply fault hits: every nth (``int``) or with probability p (``float``)."""

#: The body length the header sent by ``oversize_after`` claims: 2 GiB.
OVERSIZE_BODY_LEN = 2**31

#: Bytes of garbage sent in place of a reply chosen by ``garbage``.
GARBAGE_SIZE = 64


def _check_seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {value!r}")
    if not 0 <= value < math.inf:
        raise ValueError(f"{what} must be a finite number of seconds >= 0, not {value!r}")
    return float(value)


def _check_count(value: object, what: str, minimum: int = 0) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a whole number, not {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, not {value!r}")


def _check_selector(value: object, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{what} must be an int n (every nth reply) or a float p (probability), not {value!r}"
        )
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"{what} must be >= 1 to pick every nth reply, not {value!r}")
    elif not 0 < value <= 1:
        raise ValueError(f"{what} as a probability must be in (0, 1], not {value!r}")


def _check_flag(value: object, what: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, not {value!r}")


def picks(selector: Selector | None, number: int, rng: random.Random) -> bool:
    """Whether a per-reply fault set to ``selector`` hits the reply to request ``number``.

    Draws from ``rng`` only for a probability, so "every nth" choices leave
    the random sequence alone.
    """
    if selector is None:
        return False
    if isinstance(selector, int):
        return number % selector == 0
    return rng.random() < selector


@dataclass(frozen=True, slots=True)
class Faults:
    """Misbehaviour for the simulator to inject; the default injects none.

    See the module documentation for which replies are affected and how
    requests are numbered. Options that end the connection (``drop_after``,
    ``truncate_after``) discard replies still held back by ``reply_delay`` or
    ``reorder``.

    Attributes:
        reply_delay: hold every reply back before sending it: a fixed number
            of seconds, or ``(low, high)`` for a delay drawn uniformly from
            that range for each reply (so replies overtake one another).
            Each reply waits in its own task, so the delay does not hold up
            reading further requests: a request still *arrives* (and counts
            against its quota) when it is read.
        reorder: hold replies back in batches of this many (>= 2) and send
            each full batch at once, in reverse order (or shuffled, see
            ``shuffle``). A batch that has not filled up goes out, permuted
            the same way, ``reorder_wait`` seconds after its first reply was
            held, or as soon as the client stops sending. Cannot be combined
            with ``reply_delay``.
        shuffle: with ``reorder``, shuffle each batch (seeded) instead of
            reversing it.
        reorder_wait: seconds a partial ``reorder`` batch waits for more replies.
        corrupt_sha1: send the chosen replies with every bit of their header's
            SHA-1 flipped (the body is intact).
        garbage: send :data:`GARBAGE_SIZE` random bytes, which never start
            with the ``FT`` magic, instead of each chosen reply.
        unknown_serial: send each chosen reply with a serial number the client
            has not used on this connection, instead of its own; the request
            it answers is left unanswered.
        duplicate: send each chosen reply twice, back to back.
        drop_after: answer this many requests, then close the connection as
            soon as the next request arrives (so it is left unanswered).
        truncate_after: answer this many requests; in place of the next reply
            send its header and half its body (half the header if the body is
            empty), then close the connection.
        oversize_after: answer this many requests; in place of the next
            reply send only a header claiming a body of
            :data:`OVERSIZE_BODY_LEN` bytes, then fall silent as with
            ``silence_after``.
        silence_after: answer this many requests (0: none), then answer
            nothing more, keeping the connection open until the client
            closes it; requests are still read, handled and recorded.
        handshake_delay: hold every InitConnect reply back this many seconds.
        refuse_handshake: answer every InitConnect with a failure (retType
            -1), leaving the connection open but not initialised.
        seed: seeds the random choices; ``None`` seeds from the OS.

    Raises:
        TypeError, ValueError: for an option of the wrong type or out of range,
            or ``reorder`` with ``reply_delay``, or ``shuffle`` without ``reorder``.
    """

    reply_delay: float | tuple[float, float] | None = None
    reorder: int | None = None
    shuffle: bool = False
    reorder_wait: float = 0.05
    corrupt_sha1: Selector | None = None
    garbage: Selector | None = None
    unknown_serial: Selector | None = None
    duplicate: Selector | None = None
    drop_after: int | None = None
    truncate_after: int | None = None
    oversize_after: int | None = None
    silence_after: int | None = None
    handshake_delay: float | None = None
    refuse_handshake: bool = False
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
        _check_count(self.reorder, "reorder", minimum=2)
        _check_flag(self.shuffle, "shuffle")
        _check_seconds(self.reorder_wait, "reorder_wait")
        for name in ("corrupt_sha1", "garbage", "unknown_serial", "duplicate"):
            _check_selector(getattr(self, name), name)
        for name in ("drop_after", "truncate_after", "oversize_after", "silence_after"):
            _check_count(getattr(self, name), name)
        if self.handshake_delay is not None:
            _check_seconds(self.handshake_delay, "handshake_delay")
        _check_flag(self.refuse_handshake, "refuse_handshake")
        seed = self.seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, not {self.seed!r}")
        if self.reorder is not None and self.delays_replies:
            raise ValueError(
                "reorder and reply_delay cannot be combined: random delays already reorder"
            )
        if self.shuffle and self.reorder is None:
            raise ValueError("shuffle needs reorder (the batch size to shuffle within)")

    @property
    def delays_replies(self) -> bool:
        """Whether any reply can be held back by ``reply_delay`` at all."""
        delay = self.reply_delay
        if isinstance(delay, tuple):
            return delay[1] > 0
        return bool(delay)

    @property
    def active(self) -> bool:
        """Whether any misbehaviour is switched on (``seed`` alone is not)."""
        return (
            self.delays_replies
            or self.reorder is not None
            or self.refuse_handshake
            or bool(self.handshake_delay)
            or any(
                getattr(self, name) is not None
                for name in (
                    "corrupt_sha1",
                    "garbage",
                    "unknown_serial",
                    "duplicate",
                    "drop_after",
                    "truncate_after",
                    "oversize_after",
                    "silence_after",
                )
            )
        )

    def new_rng(self) -> random.Random:
        """A fresh generator seeded with :attr:`seed` alone."""
        return random.Random(self.seed)

    def rng_for(self, conn_id: int) -> random.Random:
        """The generator for connection ``conn_id``: seeded by :attr:`seed` and the id."""
        if self.seed is None:
            return random.Random()
        # A str seed is hashed with SHA-512, so it is stable across runs and
        # independent of PYTHONHASHSEED.
        return random.Random(f"{self.seed}/{conn_id}")

    def reply_delay_from(self, rng: random.Random) -> float:
        """Seconds to hold one reply back, drawing from ``rng`` for a range."""
        delay = self.reply_delay
        if isinstance(delay, tuple):
            return rng.uniform(*delay)
        return delay or 0.0

    def describe(self) -> str:
        """The options switched on, in ``--fault`` syntax, e.g. ``"reorder=4 shuffle seed=3"``."""
        parts: list[str] = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value == field.default:
                continue
            name = field.name.replace("_", "-")
            if value is True:
                parts.append(name)
            elif isinstance(value, tuple):
                parts.append(f"{name}={value[0]:g}:{value[1]:g}")
            else:
                parts.append(f"{name}={value}")
        return " ".join(parts) or "none"


def _seconds_or_range(text: str) -> float | tuple[float, float]:
    low, sep, high = text.partition(":")
    if sep:
        return (float(low), float(high))
    return float(text)


def _selector(text: str) -> Selector:
    # A decimal point or exponent makes it a probability; digits alone, a count.
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)


# Attribute → (parser, what a value must be); None marks a flag that takes no value.
_PARSERS: dict[str, tuple[Callable[[str], object], str] | None] = {
    "reply_delay": (_seconds_or_range, "seconds, or LOW:HIGH seconds"),
    "reorder": (int, "a whole number"),
    "shuffle": None,
    "reorder_wait": (float, "a number of seconds"),
    "corrupt_sha1": (_selector, "N (every Nth reply) or P (a probability, with a '.')"),
    "garbage": (_selector, "N (every Nth reply) or P (a probability, with a '.')"),
    "unknown_serial": (_selector, "N (every Nth reply) or P (a probability, with a '.')"),
    "duplicate": (_selector, "N (every Nth reply) or P (a probability, with a '.')"),
    "drop_after": (int, "a whole number of requests"),
    "truncate_after": (int, "a whole number of requests"),
    "oversize_after": (int, "a whole number of requests"),
    "silence_after": (int, "a whole number of requests"),
    "handshake_delay": (float, "a number of seconds"),
    "refuse_handshake": None,
}
# Per-reply faults given without a value hit every reply.
_BARE_DEFAULTS: dict[str, object] = {
    "corrupt_sha1": 1,
    "garbage": 1,
    "unknown_serial": 1,
    "duplicate": 1,
}

#: The names :func:`parse_fault_spec` accepts, in ``--fault`` spelling.
FAULT_NAMES: tuple[str, ...] = tuple(name.replace("_", "-") for name in _PARSERS)


def parse_fault_spec(spec: str) -> tuple[str, object]:
    """Parse one ``NAME[=VALUE]`` fault spec, as given to ``asyncquote sim --fault``.

    Names are the :class:`Faults` attributes with ``-`` or ``_``; values are
    checked as :class:`Faults` checks them. For example ``"reorder=4"`` gives
    ``("reorder", 4)``, ``"reply-delay=0.01:0.2"`` gives
    ``("reply_delay", (0.01, 0.2))``, ``"corrupt-sha1=0.1"`` gives
    ``("corrupt_sha1", 0.1)`` and a bare ``"garbage"`` gives ``("garbage", 1)``.

    Returns:
        ``(attribute name, value)``, ready for ``Faults(**{name: value})``.

    Raises:
        ValueError: naming the spec and saying what is wrong with it.
    """
    raw_name, has_value, text = spec.partition("=")
    name = raw_name.strip().lower().replace("-", "_")
    if name not in _PARSERS:
        raise ValueError(
            f"unknown fault {raw_name.strip()!r}; expected one of: {', '.join(FAULT_NAMES)}"
        )
    parser = _PARSERS[name]
    text = text.strip()
    if parser is None:
        if has_value:
            raise ValueError(f"fault {spec!r}: {raw_name.strip()} takes no value")
        return name, True
    parse, expected = parser
    if not has_value or not text:
        if name in _BARE_DEFAULTS:
            return name, _BARE_DEFAULTS[name]
        raise ValueError(f"fault {spec!r} needs a value: {expected}")
    try:
        value = parse(text)
    except ValueError:
        raise ValueError(f"fault {spec!r}: {text!r} is not {expected}") from None
    try:
        Faults(**{name: value})  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fault {spec!r}: {exc}") from None
    return name, value
