"""Fault injection: ways the simulator can misbehave on purpose, to test clients.

:class:`Faults` gathers every option in one frozen value, passed to the
simulator as ``faults=`` (or ``asyncquote sim --fault NAME[=VALUE]``, parsed
by :func:`parse_fault_spec`). Every option defaults to "off", and a connection
with no option on has no fault pipeline at all (see :mod:`._fault_pipeline`).

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

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields

from .._base.args import check_duration, check_flag, check_int
from .._base.errors import InvalidArgumentError

__all__ = [
    "FAULT_NAMES",
    "FAULT_USAGE",
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
    return float(check_duration(what, value, finite=True))


def _check_count(value: object, what: str, minimum: int = 0) -> None:
    if value is not None:
        check_int(what, value, minimum=minimum)


def _check_selector(value: object, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(
            f"{what} must be an int n (every nth reply) or a float p (probability), not {value!r}"
        )
    if isinstance(value, int):
        if value < 1:
            raise InvalidArgumentError(
                f"{what} must be >= 1 to pick every nth reply, not {value!r}"
            )
    elif not 0 < value <= 1:
        raise InvalidArgumentError(f"{what} as a probability must be in (0, 1], not {value!r}")


def _check_flag(value: object, what: str) -> None:
    check_flag(what, value)


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


def _check_delay(value: object, what: str) -> None:
    if isinstance(value, tuple):
        if len(value) != 2:
            raise InvalidArgumentError(f"{what} range must be (low, high), not {value!r}")
        low = _check_seconds(value[0], f"{what} low")
        high = _check_seconds(value[1], f"{what} high")
        if low > high:
            raise InvalidArgumentError(f"{what} range {value!r} has low > high")
    elif value is not None:
        _check_seconds(value, what)


def _check_optional_seconds(value: object, what: str) -> None:
    if value is not None:
        _check_seconds(value, what)


def _delays(value: object) -> bool:
    if isinstance(value, tuple):
        return bool(value[1] > 0)
    return bool(value)


def _is_set(value: object) -> bool:
    return value is not None


def _never(value: object) -> bool:
    return False


@dataclass(frozen=True)
class _Kind:
    """One kind of fault option: how ``--fault`` reads it, checks it and shows it.

    Attributes:
        parse: text after ``NAME=`` to a value; ``None`` for a flag, which
            takes no value.
        expected: what a value must be, for error messages.
        metavar: what ``--help`` shows after the name(s), e.g. ``"=N"``.
        check: raises ``TypeError``/``ValueError`` for a bad value.
        misbehaves: whether a value switches misbehaviour on (see
            :attr:`Faults.active`).
        bare: the value of ``NAME`` given without ``=VALUE``; ``None``: a
            value is required.
        note: said after the option(s) in ``--help``.
    """

    parse: Callable[[str], object] | None
    expected: str
    metavar: str
    check: Callable[[object, str], object]
    misbehaves: Callable[[object], bool]
    bare: object = None
    note: str = ""

    @property
    def metadata(self) -> Mapping[str, _Kind]:
        """The metadata of a :class:`Faults` field of this kind."""
        return {_KIND: self}


#: Where a :class:`Faults` field's metadata holds its :class:`_Kind`.
_KIND = "fault kind"


_DELAY = _Kind(
    _seconds_or_range, "seconds, or LOW:HIGH seconds", "=SECONDS|LOW:HIGH", _check_delay, _delays
)
_SECONDS = _Kind(float, "a number of seconds", "=SECONDS", _check_optional_seconds, bool)
_WAIT = _Kind(float, "a number of seconds", "=SECONDS", _check_seconds, _never)
_BATCH = _Kind(
    int, "a whole number", "=N", lambda value, what: _check_count(value, what, minimum=2), _is_set
)
_FLAG = _Kind(None, "", "", _check_flag, bool)
_SELECTOR = _Kind(
    _selector,
    "N (every Nth reply) or P (a probability, with a '.')",
    "[=N|P]",
    _check_selector,
    _is_set,
    bare=1,  # per-reply faults given without a value hit every reply
    note="(every Nth reply, or with probability P; default every reply)",
)
_COUNT = _Kind(
    int, "a whole number of requests", "=N", _check_count, _is_set, note="(requests answered first)"
)


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
        InvalidArgumentError: for an option of the wrong type or out of range,
            or ``reorder`` with ``reply_delay``, or ``shuffle`` without
            ``reorder`` (checked by :mod:`asyncquote._base.args`, as the client's
            arguments are; it is a ``ValueError`` and a ``TypeError`` too).
    """

    # The one list of options: --fault, FAULT_NAMES, --help, the checks,
    # ``active`` and ``describe()`` all derive from these fields and kinds.
    reply_delay: float | tuple[float, float] | None = field(default=None, metadata=_DELAY.metadata)
    reorder: int | None = field(default=None, metadata=_BATCH.metadata)
    shuffle: bool = field(default=False, metadata=_FLAG.metadata)
    reorder_wait: float = field(default=0.05, metadata=_WAIT.metadata)
    corrupt_sha1: Selector | None = field(default=None, metadata=_SELECTOR.metadata)
    garbage: Selector | None = field(default=None, metadata=_SELECTOR.metadata)
    unknown_serial: Selector | None = field(default=None, metadata=_SELECTOR.metadata)
    duplicate: Selector | None = field(default=None, metadata=_SELECTOR.metadata)
    drop_after: int | None = field(default=None, metadata=_COUNT.metadata)
    truncate_after: int | None = field(default=None, metadata=_COUNT.metadata)
    oversize_after: int | None = field(default=None, metadata=_COUNT.metadata)
    silence_after: int | None = field(default=None, metadata=_COUNT.metadata)
    handshake_delay: float | None = field(default=None, metadata=_SECONDS.metadata)
    refuse_handshake: bool = field(default=False, metadata=_FLAG.metadata)
    seed: int | None = None  # not a fault: ``--seed``

    def __post_init__(self) -> None:
        for name, kind in _KINDS.items():
            kind.check(getattr(self, name), name)
        seed = self.seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InvalidArgumentError(f"seed must be an int or None, not {self.seed!r}")
        if self.reorder is not None and self.delays_replies:
            raise InvalidArgumentError(
                "reorder and reply_delay cannot be combined: random delays already reorder"
            )
        if self.shuffle and self.reorder is None:
            raise InvalidArgumentError("shuffle needs reorder (the batch size to shuffle within)")

    @property
    def delays_replies(self) -> bool:
        """Whether any reply can be held back by ``reply_delay`` at all."""
        return _delays(self.reply_delay)

    @property
    def active(self) -> bool:
        """Whether any misbehaviour is switched on (``seed`` alone is not)."""
        return any(kind.misbehaves(getattr(self, name)) for name, kind in _KINDS.items())

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
        for option in fields(self):
            value = getattr(self, option.name)
            if value == option.default:
                continue
            name = option.name.replace("_", "-")
            if value is True:
                parts.append(name)
            elif isinstance(value, tuple):
                parts.append(f"{name}={value[0]:g}:{value[1]:g}")
            else:
                parts.append(f"{name}={value}")
        return " ".join(parts) or "none"


# Field name → kind, in declaration order; the seed is not a fault.
_KINDS: dict[str, _Kind] = {
    f.name: f.metadata[_KIND] for f in fields(Faults) if _KIND in f.metadata
}


#: The names :func:`parse_fault_spec` accepts, in ``--fault`` spelling.
FAULT_NAMES: tuple[str, ...] = tuple(name.replace("_", "-") for name in _KINDS)


def _usage() -> str:
    # Neighbours of one kind share one entry: "drop-after|truncate-after=N".
    parts: list[str] = []
    names: list[str] = []
    kinds = list(_KINDS.values())
    for index, (name, kind) in enumerate(_KINDS.items()):
        names.append(name.replace("_", "-"))
        if index + 1 < len(kinds) and kinds[index + 1] is kind:
            continue
        usage = f"{'|'.join(names)}{kind.metavar}"
        parts.append(f"{usage} {kind.note}" if kind.note else usage)
        names = []
    return ", ".join(parts)


#: The ``--fault`` names and values, for ``--help``:
#: ``"reply-delay=SECONDS|LOW:HIGH, reorder=N, shuffle, ..."``.
FAULT_USAGE: str = _usage()


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
        InvalidArgumentError: (a ``ValueError``) naming the spec and saying what is wrong with it.
    """
    raw_name, has_value, text = spec.partition("=")
    name = raw_name.strip().lower().replace("-", "_")
    kind = _KINDS.get(name)
    if kind is None:
        raise InvalidArgumentError(
            f"unknown fault {raw_name.strip()!r}; expected one of: {', '.join(FAULT_NAMES)}"
        )
    text = text.strip()
    if kind.parse is None:
        if has_value:
            raise InvalidArgumentError(f"fault {spec!r}: {raw_name.strip()} takes no value")
        return name, True
    if not has_value or not text:
        if kind.bare is not None:
            return name, kind.bare
        raise InvalidArgumentError(f"fault {spec!r} needs a value: {kind.expected}")
    try:
        value = kind.parse(text)
    except ValueError:
        raise InvalidArgumentError(f"fault {spec!r}: {text!r} is not {kind.expected}") from None
    try:
        Faults(**{name: value})  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"fault {spec!r}: {exc}") from None
    return name, value
