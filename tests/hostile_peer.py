"""A deliberately hostile OpenD stand-in, written independently of the library.

The simulator (``asyncquote.sim``) and the client were written by the same
people, so a mistake they share can pass every test that pits one against the
other. This peer shares nothing with the library's wire code: it packs and
parses frame headers itself and writes reply bodies with its own protobuf
encoder, so it can put any bytes in any string field (the protobuf runtime
refuses to serialise invalid UTF-8).

It plays a small gateway (handshake, keepalive, 3213/3222/3214 over in-memory
groups) whose manners each test sets:

* ``reply_delay[proto_id]``: reply that many seconds late. A 3213 reply is
  built from the group as it was when the request *arrived* (a snapshot), as
  a slow OpenD would.
* ``never_reply``: protocols it swallows without answering.
* ``answer_keepalive``, ``keepalive_interval``: liveness games.
* ``stall_reading(seconds)``: stop reading every connection for a while.
* ``flap``: complete the handshake, then hang up at once.
* ``on_request``: a hook that may answer (or not) any request itself.
* ``global_state``: the GetGlobalState (1002) reply body (by default a
  ready OpenD, see :func:`global_state_body`).
* helpers to trickle bytes, push (:meth:`HostileGateway.push`, with bodies
  from :func:`notify_body` and friends), and send raw garbage.

A second mode, :func:`scripted_server`, hands each accepted connection to a
test's own script as a :class:`Peer` (receive frames, reply out of order, late,
twice, never, with garbage), for tests that need a behaviour no knob gives.

``arrivals`` records ``(time, proto_id, serial)`` for every request the moment
its frame was read, which is where a quota is really measured;
``wait_for_arrivals()`` waits for some.
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.abc
from google.protobuf.message import Message

from asyncquote._pb import (
    InitConnect_pb2,
    Qot_GetUserSecurity_pb2,
    Qot_ModifyUserSecurity_pb2,
)

__all__ = [
    "HostileConnection",
    "HostileGateway",
    "Peer",
    "RawFrame",
    "Stock",
    "conn_status_notify",
    "full_entry",
    "global_state_body",
    "gtw_event_notify",
    "hostile_gateway",
    "notify_body",
    "pack_frame",
    "pb_message",
    "program_status_notify",
    "qot_right_notify",
    "response_body",
    "scripted_server",
    "stock_entry",
]

_HEADER = struct.Struct("<2sIBBII20s8s")
HEADER_LEN = _HEADER.size  # 44


# -- an independent frame writer and reader ---------------------------------


def pack_frame(proto_id: int, serial: int, body: bytes, *, sha1: bytes | None = None) -> bytes:
    """Header + body, packed here rather than by the library's framing module."""
    digest = hashlib.sha1(body).digest() if sha1 is None else sha1
    return _HEADER.pack(b"FT", proto_id, 0, 0, serial, len(body), digest, bytes(8)) + body


@dataclass
class RawFrame:
    proto_id: int
    serial: int
    body: bytes
    sha1: bytes = bytes(20)

    # The names the library's own frames use, so scripts read naturally.
    @property
    def serial_no(self) -> int:
        return self.serial

    @property
    def body_sha1(self) -> bytes:
        return self.sha1


class _Reader:
    """Splits a byte stream into frames; ``verify_sha1`` checks each body's digest."""

    def __init__(self, *, verify_sha1: bool = False) -> None:
        self._buffer = bytearray()
        self._verify_sha1 = verify_sha1

    def feed(self, data: bytes) -> list[RawFrame]:
        self._buffer += data
        frames: list[RawFrame] = []
        while len(self._buffer) >= HEADER_LEN:
            magic, proto_id, _, _, serial, length, sha1, _ = _HEADER.unpack_from(self._buffer)
            if magic != b"FT":
                raise ValueError(f"client sent bad magic {magic!r}")
            if len(self._buffer) < HEADER_LEN + length:
                break
            body = bytes(self._buffer[HEADER_LEN : HEADER_LEN + length])
            del self._buffer[: HEADER_LEN + length]
            if self._verify_sha1 and hashlib.sha1(body).digest() != sha1:
                raise ValueError(f"client sent a body whose digest is not {sha1.hex()}")
            frames.append(RawFrame(proto_id, serial, body, sha1))
        return frames


# -- an independent protobuf encoder (proto2 wire format) ---------------------


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int32/int64 negatives are ten-byte varints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


FieldValue = int | bool | float | str | bytes


def pb_message(*fields: tuple[int, FieldValue | None]) -> bytes:
    """Encode ``(number, value)`` pairs: ints as varints, str/bytes as length-delimited.

    A float is encoded as a double; ``None`` values are skipped. Nested
    messages are passed as the ``bytes`` of another ``pb_message``.
    """
    out = bytearray()
    for number, value in fields:
        if value is None:
            continue
        if isinstance(value, float):
            out += _varint(number << 3 | 1) + struct.pack("<d", value)
        elif isinstance(value, (bool, int)):
            out += _varint(number << 3) + _varint(int(value))
        else:
            raw = value.encode() if isinstance(value, str) else value
            out += _varint(number << 3 | 2) + _varint(len(raw)) + raw
    return bytes(out)


def response_body(
    s2c: bytes | None = None, *, ret_type: int = 0, ret_msg: str | bytes | None = None
) -> bytes:
    """A ``Response`` (retType 1, retMsg 2, errCode 3, s2c 4)."""
    return pb_message((1, ret_type), (2, ret_msg), (3, 0 if ret_type else None), (4, s2c))


@dataclass(frozen=True)
class Stock:
    """One watchlist entry; ``code`` and ``name`` may be any bytes."""

    market: int
    code: str | bytes
    name: str | bytes = "Some Co"
    id: int = 1
    list_time: str | bytes = "2020-01-02"


def stock_entry(stock: Stock) -> bytes:
    """A ``SecurityStaticInfo`` with just its ``basic`` part."""
    security = pb_message((1, stock.market), (2, stock.code))
    basic = pb_message(
        (1, security), (2, stock.id), (3, 100), (4, 3), (5, stock.name), (6, stock.list_time)
    )
    return pb_message((1, basic))


def full_entry(
    stock: Stock,
    *,
    warrant_owner: tuple[int, str | bytes] | None = None,
    option: tuple[tuple[int, str | bytes], str | bytes, str | bytes] | None = None,
    future_last_trade_time: str | bytes | None = None,
) -> bytes:
    """A ``SecurityStaticInfo`` with its ex data too, every string field as given.

    ``option`` is ``((owner market, owner code), strikeTime, market)``.
    """
    security = pb_message((1, stock.market), (2, stock.code))
    basic = pb_message(
        (1, security), (2, stock.id), (3, 100), (4, 3), (5, stock.name), (6, stock.list_time)
    )
    warrant = None
    if warrant_owner is not None:
        owner = pb_message((1, warrant_owner[0]), (2, warrant_owner[1]))
        warrant = pb_message((1, 1), (2, owner))
    option_ex = None
    if option is not None:
        (owner_market, owner_code), strike_time, market = option
        owner = pb_message((1, owner_market), (2, owner_code))
        option_ex = pb_message(
            (1, 1), (2, owner), (3, strike_time), (4, 1.5), (5, False), (6, market)
        )
    future = None
    if future_last_trade_time is not None:
        future = pb_message((1, future_last_trade_time), (3, True))
    return pb_message((1, basic), (2, warrant), (3, option_ex), (4, future))


# -- OpenD's health: Notify (1003) pushes and GetGlobalState (1002) replies ----


def notify_body(notify_type: int, part: int | None = None, payload: bytes | None = None) -> bytes:
    """A Notify ``Response`` whose s2c has ``type`` and, as field ``part``, ``payload``."""
    s2c = pb_message((1, notify_type), *([] if part is None else [(part, payload)]))
    return response_body(s2c)


def gtw_event_notify(event_type: int, desc: str | bytes = "") -> bytes:
    return notify_body(1, 2, pb_message((1, event_type), (2, desc)))


def program_status_notify(status: int, desc: str | bytes | None = None) -> bytes:
    return notify_body(2, 3, pb_message((1, pb_message((1, status), (2, desc)))))


def conn_status_notify(quote: bool, trade: bool = True) -> bytes:
    return notify_body(3, 4, pb_message((1, quote), (2, trade)))


def qot_right_notify(hk: int, us: int, cn: int, *extra: tuple[int, int | bool]) -> bytes:
    """QotRight with the three required markets and any ``(field number, value)`` more."""
    return notify_body(4, 5, pb_message((4, hk), (5, us), (6, cn), *extra))


def global_state_body(
    *,
    quote_logged_in: bool = True,
    trade_logged_in: bool = True,
    program_status: int | None = 10,
    desc: str | bytes | None = None,
    ret_type: int = 0,
    ret_msg: str | bytes | None = None,
) -> bytes:
    """A GetGlobalState reply: HK afternoon, US closed, build 904/4708, as told for the rest."""
    if ret_type:
        return response_body(ret_type=ret_type, ret_msg=ret_msg)
    status = None if program_status is None else pb_message((1, program_status), (2, desc))
    s2c = pb_message(
        (1, 5), (2, 6), (3, 5), (4, 5), (5, 15),
        (6, quote_logged_in), (7, trade_logged_in),
        (8, 904), (9, 4708), (10, 1_700_000_000), (12, status),
    )  # fmt: skip
    return response_body(s2c)


# -- the gateway ----------------------------------------------------------------

OnRequest = Callable[["HostileConnection", RawFrame], Awaitable[bool]]


@dataclass
class HostileGateway:
    """Knobs and state shared by every connection; see the module docstring."""

    groups: dict[str, list[Stock]] = field(default_factory=dict)
    group_types: dict[str, int] = field(default_factory=dict)  # 1 custom (default), 2 system
    reply_delay: dict[int, float] = field(default_factory=dict)
    never_reply: set[int] = field(default_factory=set)
    keepalive_interval: int = 10
    answer_keepalive: bool = True
    flap: bool = False
    on_request: OnRequest | None = None
    global_state: bytes = field(default_factory=global_state_body)
    arrivals: list[tuple[float, int, int]] = field(default_factory=list)
    connections: list[HostileConnection] = field(default_factory=list)
    handshakes: int = 0
    port: int = 0
    _reading: anyio.Event | None = None
    _arrived: anyio.Event | None = None

    def stall_reading(self) -> None:
        """Stop reading every connection (until :meth:`resume_reading`)."""
        self._reading = anyio.Event()

    def resume_reading(self) -> None:
        if self._reading is not None:
            self._reading.set()
            self._reading = None

    def arrivals_of(self, proto_id: int) -> list[float]:
        return [at for at, proto, _ in self.arrivals if proto == proto_id]

    async def wait_for_arrivals(self, proto_id: int, count: int = 1) -> None:
        """Return once ``count`` requests of ``proto_id`` have arrived in all."""
        while len(self.arrivals_of(proto_id)) < count:
            self._arrived = self._arrived or anyio.Event()
            await self._arrived.wait()

    async def drop_all(self) -> None:
        for connection in list(self.connections):
            await connection.close()

    async def push(self, body: bytes, *, proto_id: int = 1003) -> None:
        """Send ``body`` as a push (serial 0) on every open connection."""
        for connection in list(self.connections):
            if not connection.closed:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await connection.send(proto_id, 0, body)


class HostileConnection:
    """The server side of one client connection."""

    def __init__(self, gateway: HostileGateway, stream: anyio.abc.SocketStream) -> None:
        self.gateway = gateway
        self.stream = stream
        self._reader = _Reader()
        self._send_lock = anyio.Lock()
        self.closed = False

    async def send_raw(self, data: bytes) -> None:
        async with self._send_lock:
            await self.stream.send(data)

    async def send(self, proto_id: int, serial: int, body: bytes) -> None:
        await self.send_raw(pack_frame(proto_id, serial, body))

    async def trickle(self, data: bytes, *, every: float) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart."""
        for i in range(len(data)):
            await self.send_raw(data[i : i + 1])
            await anyio.sleep(every)

    async def close(self) -> None:
        self.closed = True
        await self.stream.aclose()

    async def serve(self, tg: anyio.abc.TaskGroup) -> None:
        gateway = self.gateway
        while True:
            if gateway._reading is not None:
                await gateway._reading.wait()
            data = await self.stream.receive()
            for frame in self._reader.feed(data):
                gateway.arrivals.append((anyio.current_time(), frame.proto_id, frame.serial))
                if gateway._arrived is not None:
                    gateway._arrived.set()
                    gateway._arrived = None
                if gateway.on_request is not None and await gateway.on_request(self, frame):
                    continue
                if frame.proto_id in gateway.never_reply:
                    continue
                body = self.answer(frame)
                if body is None:
                    continue
                if frame.proto_id == 1001 and gateway.flap:
                    await self.send(frame.proto_id, frame.serial, body)
                    await self.close()
                    return
                delay = gateway.reply_delay.get(frame.proto_id, 0.0)
                if delay:
                    tg.start_soon(self._send_later, delay, frame, body)
                else:
                    await self.send(frame.proto_id, frame.serial, body)

    async def _send_later(self, delay: float, frame: RawFrame, body: bytes) -> None:
        await anyio.sleep(delay)
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self.send(frame.proto_id, frame.serial, body)

    def answer(self, frame: RawFrame) -> bytes | None:
        """The reply body to ``frame``, computed now (a snapshot of the state); None: no reply."""
        gateway = self.gateway
        if frame.proto_id == 1001:
            InitConnect_pb2.Request.FromString(frame.body)
            gateway.handshakes += 1
            s2c = pb_message(
                (1, 1003),
                (2, 42),
                (3, gateway.handshakes),
                (4, "0123456789ABCDEF"),
                (5, gateway.keepalive_interval),
            )
            return response_body(s2c)
        if frame.proto_id == 1002:
            return gateway.global_state
        if frame.proto_id == 1004:
            if not gateway.answer_keepalive:
                return None
            return response_body(pb_message((1, 0)))
        if frame.proto_id == 3213:
            name = Qot_GetUserSecurity_pb2.Request.FromString(frame.body).c2s.groupName
            if name not in gateway.groups:
                return response_body(ret_type=-1, ret_msg="Unknown watchlists")
            entries = [(1, stock_entry(stock)) for stock in gateway.groups[name]]
            return response_body(pb_message(*entries))
        if frame.proto_id == 3222:
            groups = [
                (1, pb_message((1, name), (2, gateway.group_types.get(name, 1))))
                for name in gateway.groups
            ]
            return response_body(pb_message(*groups))
        if frame.proto_id == 3214:
            c2s = Qot_ModifyUserSecurity_pb2.Request.FromString(frame.body).c2s
            group = gateway.groups.setdefault(c2s.groupName, [])
            wanted = [Stock(s.market, s.code) for s in c2s.securityList]
            if c2s.op == 1:
                known = {(s.market, s.code) for s in group}
                group.extend(s for s in wanted if (s.market, s.code) not in known)
            else:
                gone = {(s.market, s.code) for s in wanted}
                group[:] = [s for s in group if (s.market, s.code) not in gone]
            return response_body(b"")
        return response_body(ret_type=-1, ret_msg=f"unknown protocol {frame.proto_id}")


@asynccontextmanager
async def hostile_gateway(gateway: HostileGateway | None = None) -> AsyncIterator[HostileGateway]:
    """Serve ``gateway`` on an ephemeral loopback port (``gateway.port``)."""
    gateway = gateway or HostileGateway()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)

    async with listener, anyio.create_task_group() as tg:

        async def handle(stream: anyio.abc.SocketStream) -> None:
            connection = HostileConnection(gateway, stream)
            gateway.connections.append(connection)
            async with stream, anyio.create_task_group() as replies:
                with contextlib.suppress(
                    anyio.EndOfStream,
                    anyio.BrokenResourceError,
                    anyio.ClosedResourceError,
                ):
                    await connection.serve(replies)
                connection.closed = True  # the client hung up: its subscriptions are gone
                replies.cancel_scope.cancel()

        tg.start_soon(listener.serve, handle)
        gateway.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        try:
            yield gateway
        finally:
            tg.cancel_scope.cancel()


# -- scripted mode: each connection runs a test's own script ------------------

Script = Callable[["Peer"], Awaitable[None]]


class Peer:
    """The server side of one accepted connection, driven by a test's script."""

    def __init__(self, stream: anyio.abc.ByteStream, *, verify_sha1: bool = True) -> None:
        self.stream = stream
        self._reader = _Reader(verify_sha1=verify_sha1)
        self._ready: list[RawFrame] = []
        self.received: list[RawFrame] = []

    async def receive_frame(self) -> RawFrame:
        while not self._ready:
            self._ready.extend(self._reader.feed(await self.stream.receive()))
        frame = self._ready.pop(0)
        self.received.append(frame)
        return frame

    async def receive_frames(self, count: int, *, proto_id: int | None = None) -> list[RawFrame]:
        """Receive ``count`` frames, skipping (but recording) other protocols."""
        frames: list[RawFrame] = []
        while len(frames) < count:
            frame = await self.receive_frame()
            if proto_id is None or frame.proto_id == proto_id:
                frames.append(frame)
        return frames

    async def send(self, proto_id: int, serial_no: int, message: Message | bytes) -> None:
        body = message if isinstance(message, bytes) else message.SerializeToString()
        await self.stream.send(pack_frame(proto_id, serial_no, body))

    async def reply(self, request: RawFrame, message: Message | bytes) -> None:
        await self.send(request.proto_id, request.serial, message)

    async def answer_handshake(
        self, *, keepalive_interval: int = 10, ret_type: int = 0
    ) -> RawFrame:
        request = await self.receive_frame()
        assert request.proto_id == 1001, request
        response = InitConnect_pb2.Response(retType=ret_type)
        if ret_type == 0:
            s2c = response.s2c
            s2c.serverVer = 1003
            s2c.loginUserID = 42
            s2c.connID = 7
            s2c.connAESKey = "0123456789ABCDEF"
            s2c.keepAliveInterval = keepalive_interval
        else:
            response.retMsg = "handshake refused by script"
            response.errCode = 1
        await self.reply(request, response)
        return request


@asynccontextmanager
async def scripted_server(
    script: Script, *, verify_sha1: bool = True
) -> AsyncIterator[tuple[str, int]]:
    """Serve ``script`` on an ephemeral loopback port; yield ``(host, port)``.

    Pass ``verify_sha1=False`` for encrypted traffic, whose header digests are
    of the plaintext.
    """
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            # The client hanging up is how most scripts end.
            with contextlib.suppress(
                anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError
            ):
                await script(Peer(stream, verify_sha1=verify_sha1))

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        try:
            yield "127.0.0.1", port
        finally:
            tg.cancel_scope.cancel()
