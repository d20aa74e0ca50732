"""One OpenD connection: handshake, multiplexing by serial number, keepalive.

Any number of tasks may call :meth:`Connection.request` at once. Each request
gets a fresh serial number and an entry in the pending table; the wire (see
:mod:`asyncquote._wire`) hands every received chunk to the connection, which
routes each reply to the entry with its serial, and sends whatever callers
queued, coalescing frames into as few writes as it can.

Routing never awaits user code and never raises: a failure of the wire is
recorded once, every waiter is woken with :class:`ConnectionLostError`
chained to it, and later calls fail the same way.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import anyio.abc
from google.protobuf.message import Message

from ._loop import OneShot, clock, oneshot_factory, running_asyncio_loop
from ._pb import InitConnect_pb2, KeepAlive_pb2
from ._taskgroups import single_errors
from ._text import wire_text
from ._wire import StreamWire, Wire, open_asyncio_wire
from .codec import ProtoId, parse_response
from .crypto import (
    BodyCipher,
    DecryptionError,
    PacketEncAlgo,
    RsaCipher,
    cipher_for_connection,
    decrypt_body,
)
from .errors import (
    AsyncQuoteError,
    ConnectError,
    ConnectionLostError,
    InvalidArgumentError,
    OpenDError,
    ProtocolError,
    RequestTimeoutError,
)
from .framing import DEFAULT_MAX_BODY_LEN, Frame, FrameDecoder, encode_frame

__all__ = [
    "DEFAULT_CLIENT_VERSION",
    "DEFAULT_DEAD_PEER_FACTOR",
    "DEFAULT_REQUEST_TIMEOUT",
    "KEEPALIVE_RANGE",
    "Connection",
    "ConnectionInfo",
    "PushHandler",
    "open_connection",
]

logger = logging.getLogger("asyncquote.connection")

DEFAULT_REQUEST_TIMEOUT = 12.0
#: A connection whose peer answered no keepalive, or read nothing we sent,
#: for this many keepalive intervals is treated as lost.
DEFAULT_DEAD_PEER_FACTOR = 3.0
#: The keepalive interval a gateway announces is clamped to this range (in
#: seconds); a value of 0 or less means OpenD's default, 10 s.
KEEPALIVE_RANGE = (1.0, 60.0)
_DEFAULT_KEEPALIVE = 10.0
#: The client version the official SDKs announce; OpenD may refuse clients it
#: considers too old, so we announce the same.
DEFAULT_CLIENT_VERSION = 300

_U32_MAX = 0xFFFF_FFFF
# Serials of calls that finished or gave up, remembered so that late or
# duplicate replies to them are dropped instead of being taken for pushes.
_RECENT_MEMORY = 4096

PushHandler = Callable[[Frame], None]
"""Called synchronously, as frames arrive, for every frame that is not a reply.

It must return quickly and must not block: it is not awaited, and every reply
waits behind it. Hand work off (e.g. to a memory object stream).
"""

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class ConnectionInfo:
    """What the gateway told us in its InitConnect reply."""

    conn_id: int
    login_user_id: int
    server_version: int
    keepalive_interval: float
    """Seconds between keepalives: as announced, clamped to :data:`KEEPALIVE_RANGE`."""
    client_id: str
    conn_aes_key: str = field(repr=False)
    aes_cbc_iv: str | None = field(default=None, repr=False)


class _Pending:
    """One call waiting for its reply, until ``deadline`` (in :func:`anyio.current_time`)."""

    __slots__ = ("deadline", "proto_id", "reply", "woken", "wrong_reply")

    def __init__(self, proto_id: int, deadline: float, woken: OneShot) -> None:
        self.proto_id = proto_id
        self.deadline = deadline
        self.woken = woken
        self.reply: Frame | None = None
        self.wrong_reply: Frame | None = None


class Connection:
    """A live, handshaken connection to OpenD. Create it with :func:`open_connection`.

    Safe to share between any number of tasks of one event loop.
    """

    _wire: Wire

    def __init__(
        self,
        *,
        address: str,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        push_handler: PushHandler | None = None,
        max_body_len: int = DEFAULT_MAX_BODY_LEN,
        handshake_cipher: BodyCipher | None = None,
    ) -> None:
        # The wire is attached by open_connection once connected.
        self._address = address
        self._default_timeout = request_timeout
        self._push_handler = push_handler
        # On an encrypted connection the header's SHA-1 is of the plaintext,
        # so it is checked after decryption instead (crypto.decrypt_body).
        self._cipher = handshake_cipher
        self._decoder = FrameDecoder(
            max_body_len=max_body_len, verify_sha1=handshake_cipher is None
        )
        self._pending: dict[int, _Pending] = {}
        self._now = clock()
        self._new_oneshot = oneshot_factory()
        self._recent: OrderedDict[int, None] = OrderedDict()
        # on_settled callbacks of requests whose callers gave up: called when
        # the late reply arrives or the connection closes.
        self._unsettled: dict[int, Callable[[], None]] = {}
        # Start somewhere arbitrary so that serials from two consecutive
        # connections are unlikely to be confused in a capture.
        self._next_serial = int.from_bytes(os.urandom(2), "little") + 1
        self._lost = False
        # The alarm for the earliest deadline of a waiting call; see
        # _alarm_loop. None while no alarm task is in it.
        self._alarm: anyio.CancelScope | None = None
        self._lost_event = anyio.Event()
        # When the gateway last answered a keepalive (or the connection
        # opened): liveness comes from answers, not from bytes.
        self._last_answer = self._now()
        self._lost_cause: BaseException | None = None
        self._lost_reason = ""
        self.info: ConnectionInfo | None = None
        self.on_lost: Callable[[Connection], None] | None = None
        """Called synchronously, once, when the connection fails or is closed."""

    # -- public -----------------------------------------------------------

    @property
    def address(self) -> str:
        """``host:port`` of the gateway."""
        return self._address

    @property
    def is_open(self) -> bool:
        """False once the connection failed or was closed."""
        return not self._lost

    @property
    def pending_count(self) -> int:
        """Calls currently waiting for a reply."""
        return len(self._pending)

    @property
    def lost_reason(self) -> str:
        """Why the connection is unusable (empty while it is open)."""
        return self._lost_reason

    @property
    def lost_cause(self) -> BaseException | None:
        """The exception that ended the connection, if any."""
        return self._lost_cause

    async def wait_lost(self) -> None:
        """Return once the connection has failed or been closed."""
        await self._lost_event.wait()

    async def request(
        self,
        proto_id: int,
        body: bytes,
        *,
        timeout: float | None = None,
        deadline: float | None = None,
        on_settled: Callable[[], None] | None = None,
    ) -> Frame:
        """Send one request and return its reply frame.

        Args:
            proto_id: protocol id of the request.
            body: serialised request message.
            timeout: seconds to wait for the reply; ``None`` uses the
                connection's default, ``math.inf`` waits forever.
            deadline: when to give up instead, on the event loop's clock
                (:func:`anyio.current_time`): a caller that already spent
                part of its ``timeout`` (named in the error) waiting.
            on_settled: called once, when the request is settled: its reply
                arrived (even after this call gave up on it), or the
                connection closed, or it was never sent. A request written to
                the socket may still reach the gateway after its caller gave
                up: a quota slot is released here, not when the caller stops
                waiting.

        Raises:
            ConnectionLostError: the connection is (or became) unusable.
            RequestTimeoutError: no reply in time; a late reply is dropped.
            ProtocolError: the gateway replied with a different protocol id.
        """
        if self._lost:
            if on_settled is not None:
                on_settled()
            self._raise_if_lost()
        limit = self._default_timeout if timeout is None else timeout
        serial = self._allocate_serial()
        cipher = self._cipher
        if cipher is None:
            data = encode_frame(proto_id, serial, body)
        else:
            try:
                data = encode_frame(proto_id, serial, cipher.encrypt(body), plaintext=body)
            except BaseException:
                if on_settled is not None:
                    on_settled()
                raise
        entry = _Pending(
            proto_id, self._now() + limit if deadline is None else deadline, self._new_oneshot()
        )
        self._pending[serial] = entry
        # Timeouts are the alarm task's job (see _alarm_loop): a cancel scope
        # per call would cost a timer and several microseconds for every call.
        alarm = self._alarm
        if alarm is not None and entry.deadline < alarm.deadline:
            alarm.deadline = entry.deadline
        try:
            self._wire.send(data)
            del data  # not kept alive while the call waits: memory per call in flight
            await entry.woken
        finally:
            if self._pending.pop(serial, None) is not None:
                # Gave up (timeout or cancellation) before a reply arrived.
                self._remember(serial)
                if on_settled is not None:
                    if self._lost:
                        on_settled()
                    else:
                        self._unsettled[serial] = on_settled  # see _dispatch
            elif on_settled is not None:
                on_settled()
        if entry.reply is not None:
            if cipher is not None:
                return _decrypted(cipher, entry.reply)
            return entry.reply
        if entry.wrong_reply is not None:
            raise ProtocolError(
                f"reply to serial {serial} has protocol {entry.wrong_reply.proto_id}, "
                f"expected {proto_id}"
            )
        self._raise_if_lost()
        raise RequestTimeoutError(
            f"no reply from OpenD at {self._address} to protocol {proto_id} "
            f"(serial {serial}) within {limit:g} s"
        )

    async def call(
        self,
        proto_id: int,
        request: Message,
        response_type: type[M],
        *,
        timeout: float | None = None,
    ) -> M:
        """Send a protobuf request and return the parsed, successful response.

        Raises:
            OpenDError: the response's ``retType`` is not 0.
            ProtocolError: the reply is not a valid ``response_type``.
            plus everything :meth:`request` raises.
        """
        frame = await self.request(proto_id, request.SerializeToString(), timeout=timeout)
        return parse_response(response_type, frame.body, proto_id=proto_id)

    async def aclose(self) -> None:
        """Close the connection; waiting calls get :class:`ConnectionLostError`."""
        self._mark_lost(None, "the connection was closed by the client")
        await self._wire.aclose()

    # -- internals ----------------------------------------------------------

    def _raise_if_lost(self) -> None:
        if self._lost:
            raise ConnectionLostError(
                f"connection to OpenD at {self._address} is unusable: {self._lost_reason}"
            ) from self._lost_cause

    def _allocate_serial(self) -> int:
        # Wraps within u32 (0 is skipped: some peers treat it as "no serial") and
        # never hands out a serial still in flight or recently abandoned.
        while True:
            serial = self._next_serial
            self._next_serial = serial + 1 if serial < _U32_MAX else 1
            if (
                serial not in self._pending
                and serial not in self._recent
                and serial not in self._unsettled
            ):
                return serial

    def _remember(self, serial: int) -> None:
        recent = self._recent
        recent[serial] = None
        if len(recent) > _RECENT_MEMORY:
            recent.popitem(last=False)

    def _mark_lost(self, cause: BaseException | None, reason: str) -> None:
        if self._lost:
            return
        self._lost = True
        self._lost_cause = cause
        self._lost_reason = reason
        self._lost_event.set()
        try:
            if self.on_lost is not None:
                # Before any waiter wakes: whoever catches the ConnectionLostError
                # already sees the owner's new state.
                self.on_lost(self)
        except Exception as exc:
            # A bug in the owner's handler: every waiter is still woken, and
            # the reason they are given says what happened.
            logger.error("the connection's loss handler raised", exc_info=exc)
            self._lost_reason = f"{reason}; then the loss handler raised {exc!r}"
        finally:
            pending = list(self._pending.values())
            for entry in pending:
                entry.woken.set()  # no reply attached: the waiter raises ConnectionLostError
            if pending:
                logger.debug("woke %d pending calls: %s", len(pending), reason)
            unsettled = list(self._unsettled.values())
            self._unsettled.clear()
            for settle in unsettled:
                settle()

    def _dispatch(self, frame: Frame) -> None:
        entry = self._pending.get(frame.serial_no)
        if entry is not None and frame.proto_id != ProtoId.NOTIFY:
            del self._pending[frame.serial_no]
            self._remember(frame.serial_no)
            if frame.proto_id == entry.proto_id:
                entry.reply = frame
            else:
                entry.wrong_reply = frame
            entry.woken.set()
            return
        if frame.proto_id != ProtoId.NOTIFY and (
            frame.serial_no in self._recent or frame.serial_no in self._unsettled
        ):
            settle = self._unsettled.pop(frame.serial_no, None)
            if settle is not None:
                settle()  # the reply its caller gave up on: the request is settled
            logger.debug(
                "dropped a late or duplicate reply: protocol %d serial %d",
                frame.proto_id,
                frame.serial_no,
            )
            return
        if self._push_handler is None:
            logger.debug("no push handler; dropped push of protocol %d", frame.proto_id)
            return
        try:
            if self._cipher is not None:
                frame = _decrypted(self._cipher, frame)
            self._push_handler(frame)
        except DecryptionError as exc:
            logger.warning("dropped an undecryptable push of protocol %d: %s", frame.proto_id, exc)
        except Exception:
            logger.exception("push handler raised on protocol %d; push dropped", frame.proto_id)

    def _wake_overdue(self) -> float:
        """Wake the calls past their deadline; return the earliest deadline of the rest."""
        now = self._now()
        earliest = math.inf
        for entry in self._pending.values():
            if entry.deadline <= now:
                # No reply attached: the call raises RequestTimeoutError.
                entry.woken.set()
            elif entry.deadline < earliest:
                earliest = entry.deadline
        return earliest

    # -- driven by the wire (asyncquote._wire.WireSink) ------------------------

    def _on_data(self, data: bytes) -> None:
        """Route every frame in ``data``; raises :class:`ProtocolError` on garbage."""
        decoder = self._decoder
        for frame in decoder.feed(data):
            self._dispatch(frame)
        # A fault behind good frames is held back by feed(); know it now.
        decoder.check()

    def _on_eof(self) -> None:
        """The gateway closed its side: lost, as a truncated stream if mid-frame."""
        try:
            self._decoder.close()
        except ProtocolError as truncated:
            self._mark_lost(truncated, f"{truncated}")
        else:
            self._mark_lost(anyio.EndOfStream(), "the gateway closed the connection")

    async def _alarm_loop(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        # One alarm serves every waiting call: it goes off at the earliest
        # deadline (request() brings it forward), wakes the calls that are
        # overdue, and is set again for the rest. A reply does not push it
        # back, so it may go off with nothing due, at most once per timeout.
        task_status.started()
        while not self._lost:
            with anyio.CancelScope(deadline=self._wake_overdue()) as self._alarm:
                await self._lost_event.wait()
        self._alarm = None

    async def _keepalive_loop(self, interval: float) -> None:
        while self.is_open:
            await anyio.sleep(interval)
            request = KeepAlive_pb2.Request()
            request.c2s.time = int(time.time())
            try:
                await self.call(ProtoId.KEEP_ALIVE, request, KeepAlive_pb2.Response)
            except (ConnectionLostError, anyio.ClosedResourceError):
                return
            except OpenDError as exc:
                self._last_answer = self._now()  # a refusal is an answer too
                logger.warning("keepalive to %s refused: %s", self._address, exc)
            except AsyncQuoteError as exc:
                logger.warning("keepalive to %s failed: %s", self._address, exc)
            else:
                self._last_answer = self._now()

    async def _watchdog(self, limit: float, keepalive: bool) -> None:
        # A peer is dead when it leaves keepalives unanswered for `limit`
        # seconds, whatever else arrives (pushes, or a huge reply trickling
        # in byte by byte), or when it has read nothing we sent for as long.
        while self.is_open:
            now = self._now()
            reason = ""
            next_check = limit / 4  # a write may block meanwhile
            if keepalive:
                if now - self._last_answer >= limit:
                    reason = f"OpenD answered no keepalive for {limit:g} s"
                next_check = min(next_check, self._last_answer + limit - now)
            blocked_since = self._wire.write_blocked_since
            if blocked_since is not None:
                if now - blocked_since >= limit:
                    reason = (
                        f"OpenD is not reading: nothing more could be sent to it for {limit:g} s"
                    )
                next_check = min(next_check, blocked_since + limit - now)
            if reason:
                self._mark_lost(None, reason)
                await self._wire.aclose()
                return
            await anyio.sleep(max(next_check, 0.001))

    async def _handshake(self, *, client_id: str, client_version: int, timeout: float) -> None:
        encrypted = self._cipher is not None
        request = InitConnect_pb2.Request()
        c2s = request.c2s
        c2s.clientVer = client_version
        c2s.clientID = client_id
        c2s.recvNotify = True
        # Like the official SDK, ask for AES-CBC when encrypting; a gateway
        # that sends no IV gets FTAES_ECB instead (see below).
        c2s.packetEncAlgo = PacketEncAlgo.AES_CBC if encrypted else PacketEncAlgo.NONE
        c2s.programmingLanguage = "Python"
        try:
            response = await self.call(
                ProtoId.INIT_CONNECT, request, InitConnect_pb2.Response, timeout=timeout
            )
        except RequestTimeoutError as exc:
            raise ConnectError(
                f"OpenD at {self._address} did not answer the handshake within {timeout:g} s"
            ) from exc
        except OpenDError as exc:
            raise ConnectError(
                f"OpenD at {self._address} refused the handshake: {exc.message}"
            ) from exc
        except (ConnectionLostError, ProtocolError) as exc:
            hint = (
                " (is the RSA key the one OpenD is configured with?)"
                if encrypted and isinstance(exc, (DecryptionError, ConnectionLostError))
                else ""
            )
            raise ConnectError(
                f"handshake with OpenD at {self._address} failed: {exc}{hint}"
            ) from exc
        s2c = response.s2c
        if not response.HasField("s2c"):
            raise ConnectError(f"OpenD at {self._address} sent a handshake reply without s2c")
        self.info = ConnectionInfo(
            conn_id=s2c.connID,
            login_user_id=s2c.loginUserID,
            server_version=s2c.serverVer,
            keepalive_interval=_sane_keepalive(s2c.keepAliveInterval, self._address),
            client_id=client_id,
            # Text fields come back as bytes when they are not UTF-8.
            conn_aes_key=wire_text(s2c.connAESKey),
            aes_cbc_iv=wire_text(s2c.aesCBCiv) if s2c.HasField("aesCBCiv") else None,
        )
        if encrypted:
            iv = self.info.aes_cbc_iv
            algo = PacketEncAlgo.AES_CBC if iv else PacketEncAlgo.FTAES_ECB
            try:
                self._cipher = cipher_for_connection(algo, self.info.conn_aes_key, iv)
            except InvalidArgumentError as exc:
                raise ConnectError(
                    f"OpenD at {self._address} sent an unusable session key: {exc}"
                ) from exc


def _sane_keepalive(announced: float, address: str) -> float:
    """The gateway's keepAliveInterval, clamped to :data:`KEEPALIVE_RANGE` with a log line.

    0 or less would turn keepalive and liveness off, a huge value make them
    meaningless: neither is a reason to stop noticing a dead peer.
    """
    low, high = KEEPALIVE_RANGE
    used = min(max(float(announced), low), high) if announced > 0 else _DEFAULT_KEEPALIVE
    if used != announced:
        logger.warning(
            "OpenD at %s announced keepAliveInterval=%s; using %g s instead",
            address,
            announced,
            used,
        )
    return used


def _decrypted(cipher: BodyCipher, frame: Frame) -> Frame:
    plaintext = decrypt_body(cipher, frame.body, frame.body_sha1)
    return Frame(
        frame.proto_id,
        frame.serial_no,
        plaintext,
        frame.body_sha1,
        frame.proto_fmt,
        frame.proto_ver,
    )


def _new_client_id() -> str:
    return f"asyncquote-{os.getpid()}-{os.urandom(6).hex()}"


@asynccontextmanager
async def open_connection(
    host: str = "127.0.0.1",
    port: int = 11111,
    *,
    connect_timeout: float = 10.0,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    client_id: str | None = None,
    client_version: int = DEFAULT_CLIENT_VERSION,
    push_handler: PushHandler | None = None,
    max_body_len: int = DEFAULT_MAX_BODY_LEN,
    keepalive: bool = True,
    dead_peer_after: float | None = DEFAULT_DEAD_PEER_FACTOR,
    rsa_key: RsaCipher | None = None,
) -> AsyncIterator[Connection]:
    """Connect, handshake, and yield a ready :class:`Connection`.

    The connection's tasks live in a task group owned by this context
    manager; leaving the block closes the socket and ends them all.

    Raises:
        ConnectError: refused, unreachable, or the handshake failed or timed
            out. The message names ``host:port``.
    """
    address = f"{host}:{port}"
    connection = Connection(
        address=address,
        request_timeout=request_timeout,
        push_handler=push_handler,
        max_body_len=max_body_len,
        handshake_cipher=rsa_key,
    )
    stream_wire: StreamWire | None = None
    try:
        with anyio.fail_after(connect_timeout):
            if running_asyncio_loop() is not None:
                connection._wire = await open_asyncio_wire(host, port, connection)
            else:
                stream = await anyio.connect_tcp(host, port)
                connection._wire = stream_wire = StreamWire(stream, connection)
    except TimeoutError as exc:
        raise ConnectError(
            f"cannot connect to OpenD at {address}: no answer within {connect_timeout:g} s"
        ) from exc
    except OSError as exc:
        raise ConnectError(f"cannot connect to OpenD at {address}: {exc}") from exc

    try:
        async with single_errors(), anyio.create_task_group() as tg:
            if stream_wire is not None:
                await tg.start(stream_wire.read_loop)
                await tg.start(stream_wire.write_loop)
            await tg.start(connection._alarm_loop)
            try:
                await connection._handshake(
                    client_id=client_id or _new_client_id(),
                    client_version=client_version,
                    timeout=connect_timeout,
                )
                assert connection.info is not None
                connection._last_answer = connection._now()  # the handshake's answer
                interval = connection.info.keepalive_interval
                if keepalive:
                    tg.start_soon(connection._keepalive_loop, interval * 0.8)
                if dead_peer_after is not None:
                    tg.start_soon(connection._watchdog, interval * dead_peer_after, keepalive)
                yield connection
            finally:
                await connection.aclose()
                tg.cancel_scope.cancel()
    finally:
        # Covers a failure before the task group started.
        await connection.aclose()
