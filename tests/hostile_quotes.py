"""Live quotes for the hostile peer: subscriptions, quote requests and pushes.

Like :mod:`tests.hostile_peer`, it shares no wire code with the library: it
reads requests with its own protobuf decoder (:func:`pb_fields`) and writes
replies and pushes with the peer's own encoder (:func:`~tests.hostile_peer.pb_message`).
A :class:`QuoteDesk` plugs into a :class:`~tests.hostile_peer.HostileGateway`
as its ``on_request`` hook and answers Qot_Sub (3001), Qot_GetSubInfo
(3003), Qot_GetBasicQot (3004), Qot_GetOrderBook (3012) and
Qot_GetSecuritySnapshot (3203) as OpenD does: subscriptions per connection,
a quota of distinct pairs, the one-minute rule (``min_seconds``), pushes
(3005, 3013) only to connections that registered for the pair, the current
state pushed at once on ``isFirstPush``. Knobs: ``quota``,
``used_elsewhere``, ``refuse_sub`` (refuse every Qot_Sub with that text).

``requests`` records every Qot_Sub as a :class:`SubRequest`.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from .hostile_peer import HostileConnection, HostileGateway, RawFrame, pb_message, response_body

__all__ = [
    "Handler",
    "QuoteDesk",
    "SubRequest",
    "basic_qot",
    "order_book_s2c",
    "pb_fields",
    "snapshot_entry",
]

Key = tuple[int, str]
Pair = tuple[Key, int]
#: A request's answer: the reply body and the pushes to send after it.
Handler = Callable[[HostileConnection, RawFrame], tuple[bytes, list[tuple[int, bytes]]]]

QUOTE, ORDER_BOOK = 1, 2
ORDER_BOOK_ODD = 22  # its pushes and requests say orderBookType 1 (odd lots)


# -- an independent protobuf decoder (proto2 wire format) ---------------------


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def pb_fields(data: bytes) -> dict[int, list[int | bytes]]:
    """Every field of a message, by number: varints as ints, length-delimited as bytes."""
    fields: dict[int, list[int | bytes]] = {}
    at = 0
    while at < len(data):
        tag, at = _read_varint(data, at)
        number, wire_type = tag >> 3, tag & 7
        value: int | bytes
        if wire_type == 0:
            value, at = _read_varint(data, at)
        elif wire_type == 2:
            length, at = _read_varint(data, at)
            value, at = data[at : at + length], at + length
        elif wire_type == 1:
            value, at = struct.unpack_from("<q", data, at)[0], at + 8
        elif wire_type == 5:
            value, at = struct.unpack_from("<i", data, at)[0], at + 4
        else:
            raise ValueError(f"wire type {wire_type} in a request")
        fields.setdefault(number, []).append(value)
    return fields


def _securities(c2s: dict[int, list[int | bytes]], number: int = 1) -> list[Key]:
    keys = []
    for raw in c2s.get(number, []):
        assert isinstance(raw, bytes)
        security = pb_fields(raw)
        code = security[2][0]
        assert isinstance(code, bytes)
        keys.append((int(security[1][0]), code.decode()))
    return keys


def _flag(c2s: dict[int, list[int | bytes]], number: int, default: bool) -> bool:
    values = c2s.get(number)
    return default if not values else bool(values[-1])


def _c2s(frame: RawFrame) -> dict[int, list[int | bytes]]:
    raw = pb_fields(frame.body)[1][0]
    assert isinstance(raw, bytes)
    return pb_fields(raw)


# -- bodies -----------------------------------------------------------------


def _security(key: Key) -> bytes:
    return pb_message((1, key[0]), (2, key[1]))


def basic_qot(key: Key, price: float, *, volume: int = 1000, name: str = "Some Co") -> bytes:
    """A ``Qot_Common.BasicQot`` with every required field."""
    return pb_message(
        (1, _security(key)), (2, False), (3, "2004-06-16"), (4, 0.2), (5, "2026-01-05 10:00:00"),
        (6, price + 1.0), (7, price - 0.5), (8, price - 1.0), (9, price), (10, price - 0.2),
        (11, volume), (12, price * volume), (13, 0.1), (14, 1.5), (24, name),
    )  # fmt: skip


def _level(price: float, depth: int, shares: int = 100) -> bytes:
    return pb_message((1, price), (2, shares * depth), (3, depth))


def order_book_s2c(key: Key, price: float, *, levels: int = 3, odd: bool = False) -> bytes:
    """The S2C of Qot_GetOrderBook and Qot_UpdateOrderBook: ``levels`` a side around ``price``;
    ``odd``: an odd-lot book (``orderBookType`` 1, volumes of 7 shares a depth)."""
    shares = 7 if odd else 100
    asks = [(2, _level(price + 0.2 * depth, depth, shares)) for depth in range(1, levels + 1)]
    bids = [(3, _level(price - 0.2 * depth, depth, shares)) for depth in range(1, levels + 1)]
    kind = [(9, 1)] if odd else []
    return pb_message((1, _security(key)), *asks, *bids, (8, "Some Co"), *kind)


def snapshot_entry(key: Key, price: float) -> bytes:
    """A ``Snapshot`` with the required part of its basic data."""
    basic = pb_message(
        (1, _security(key)), (2, 3), (3, False), (4, "2004-06-16"), (5, 100), (6, 0.2),
        (7, "2026-01-05 10:00:00"), (8, price + 1.0), (9, price - 0.5), (10, price - 1.0),
        (11, price - 0.2), (12, price), (13, 1000), (14, price * 1000), (15, 0.1),
    )  # fmt: skip
    return pb_message((1, basic))


# -- the desk -------------------------------------------------------------------


@dataclass(frozen=True)
class SubRequest:
    """One Qot_Sub as it arrived."""

    connection: int  # index in gateway.connections
    subscribe: bool
    pairs: frozenset[Pair]
    register_push: bool
    first_push: bool
    at: float
    extended_time: bool = False
    session: int = 0  # absent: 0
    rehab_types: tuple[int, ...] = ()


@dataclass
class QuoteDesk:
    """See the module docstring."""

    gateway: HostileGateway
    quota: int = 100
    used_elsewhere: int = 0
    min_seconds: float = 60.0
    refuse_sub: str | None = None
    prices: dict[Key, float] = field(default_factory=dict)
    requests: list[SubRequest] = field(default_factory=list)
    held: dict[HostileConnection, dict[Pair, float]] = field(default_factory=dict)
    pushed_to: dict[HostileConnection, set[Pair]] = field(default_factory=dict)
    #: Each Qot_GetOrderBook's ``orderBookType`` as it arrived (``None``: absent).
    book_types: list[int | None] = field(default_factory=list)
    _changed: anyio.Event | None = None

    def __post_init__(self) -> None:
        self.gateway.on_request = self.on_request

    def price(self, key: Key) -> float:
        return self.prices.get(key, 100.0)

    def used(self) -> int:
        live = set()
        for connection, pairs in self.held.items():
            if not connection.closed:
                live |= set(pairs)
        return len(live) + self.used_elsewhere

    def subscribed(self, connection: int = -1) -> set[Pair]:
        """The pairs a connection (the latest by default) holds."""
        return set(self.held.get(self.gateway.connections[connection], {}))

    def sub_requests(self, *, subscribe: bool) -> list[SubRequest]:
        return [request for request in self.requests if request.subscribe is subscribe]

    async def wait_for(self, predicate: object) -> None:
        """Return once ``predicate()`` is true, re-checked after every request."""
        while not predicate():  # type: ignore[operator]
            self._changed = self._changed or anyio.Event()
            await self._changed.wait()

    def handlers(self) -> dict[int, Handler]:
        """The requests the desk answers, by protocol id (a subclass adds its own)."""
        return {
            3001: self._sub,
            3003: self._sub_info,
            3004: self._basic_qot,
            3012: self._order_book,
            3203: self._snapshot,
        }

    async def on_request(self, connection: HostileConnection, frame: RawFrame) -> bool:
        handler = self.handlers().get(frame.proto_id)
        if handler is None:
            return False
        body, pushes = handler(connection, frame)
        await connection.send(frame.proto_id, frame.serial, body)
        for proto_id, push in pushes:
            await connection.send(proto_id, 0, push)
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        return True

    def _sub(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        c2s = _c2s(frame)
        keys = _securities(c2s)
        types = [int(t) for t in c2s.get(2, [])]
        pairs = frozenset((key, sub_type) for key in keys for sub_type in types)
        subscribe = _flag(c2s, 3, False)
        register = _flag(c2s, 4, False)
        first_push = _flag(c2s, 6, True)
        now = anyio.current_time()
        index = self.gateway.connections.index(connection)
        options = (
            _flag(c2s, 9, False),
            int(c2s.get(10, [0])[-1]),  # type: ignore[arg-type]
            tuple(int(t) for t in c2s.get(5, [])),  # type: ignore[arg-type]
        )
        request = SubRequest(index, subscribe, pairs, register, first_push, now, *options)
        self.requests.append(request)
        held = self.held.setdefault(connection, {})
        pushed = self.pushed_to.setdefault(connection, set())
        if self.refuse_sub is not None:
            return response_body(ret_type=-1, ret_msg=self.refuse_sub), []
        if not subscribe:
            # (1e-6: times on a millisecond clock, such as uvloop's, subtract inexactly)
            young = [p for p in pairs if p in held and now - held[p] < self.min_seconds - 1e-6]
            if young:
                return response_body(ret_type=-1, ret_msg="订阅不足一分钟，不能反订阅"), []
            for pair in pairs:
                held.pop(pair, None)
                pushed.discard(pair)
            return response_body(b""), []
        others = set()
        for other, other_pairs in self.held.items():
            if other is not connection and not other.closed:
                others |= set(other_pairs)
        new = pairs - set(held) - others
        if self.used() + len(new) > self.quota:
            refusal = "订阅额度不足 (subscription quota exceeded)"
            return response_body(ret_type=-1, ret_msg=refusal), []
        for pair in pairs:
            held.setdefault(pair, now)
        pushes = []
        if register:
            pushed |= pairs
            if first_push:
                pushes = [self._push_of(pair) for pair in sorted(pairs)]
        return response_body(b""), pushes

    def _push_of(self, pair: Pair) -> tuple[int, bytes]:
        """The push of ``pair``'s current state (a subclass adds its own kinds)."""
        key, sub_type = pair
        if sub_type == QUOTE:
            return 3005, response_body(pb_message((1, basic_qot(key, self.price(key)))))
        odd = sub_type == ORDER_BOOK_ODD
        return 3013, response_body(order_book_s2c(key, self.price(key), odd=odd))

    def _sub_info(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        held = self.held.get(connection, {})
        by_type: dict[int, list[Key]] = {}
        for key, sub_type in held:
            by_type.setdefault(sub_type, []).append(key)
        infos = [
            (1, pb_message((1, sub_type), *[(2, _security(key)) for key in keys]))
            for sub_type, keys in sorted(by_type.items())
        ]
        own = pb_message(*infos, (2, len(held)), (3, True))
        used = self.used()
        return response_body(pb_message((1, own), (2, used), (3, self.quota - used))), []

    def _lacking(self, connection: HostileConnection, keys: list[Key], sub_type: int) -> bool:
        held = self.held.get(connection, {})
        return any((key, sub_type) not in held for key in keys)

    def _basic_qot(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        keys = _securities(_c2s(frame))
        if self._lacking(connection, keys, QUOTE):
            return response_body(ret_type=-1, ret_msg="请先订阅 (please subscribe first)"), []
        entries = [(1, basic_qot(key, self.price(key))) for key in keys]
        return response_body(pb_message(*entries)), []

    def _order_book(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        c2s = _c2s(frame)
        keys = _securities(c2s)
        book_type = int(c2s[4][-1]) if 4 in c2s else None  # type: ignore[arg-type]
        self.book_types.append(book_type)
        odd = book_type == 1
        if self._lacking(connection, keys, ORDER_BOOK_ODD if odd else ORDER_BOOK):
            return response_body(ret_type=-1, ret_msg="请先订阅 (please subscribe first)"), []
        levels = int(c2s[2][0])  # type: ignore[arg-type]
        book = order_book_s2c(keys[0], self.price(keys[0]), levels=min(levels, 10), odd=odd)
        return response_body(book), []

    def _snapshot(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        keys = _securities(_c2s(frame))
        if len(keys) > 400:
            return response_body(ret_type=-1, ret_msg="too many securities"), []
        # In reverse: the client must restore the order it asked in.
        entries = [(1, snapshot_entry(key, self.price(key))) for key in reversed(keys)]
        return response_body(pb_message(*entries)), []

    # -- pushes --------------------------------------------------------------

    async def push(self, pair: Pair, price: float | None = None) -> int:
        """Push ``pair``'s current state (at ``price``) to every connection registered for it."""
        if price is not None:
            self.prices[pair[0]] = price
        proto_id, body = self._push_of(pair)
        sent = 0
        for connection, pairs in self.pushed_to.items():
            if pair in pairs and not connection.closed:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await connection.send(proto_id, 0, body)
                    sent += 1
        return sent
