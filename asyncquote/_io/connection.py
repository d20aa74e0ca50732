"""One OpenD connection, async: callers await their replies here.

This is the thin layer between the sans-I/O protocol object
(:class:`asyncquote._opend.protocol.ClientProtocol`: serials, pending table,
handshake, cipher, liveness) and a driver (:mod:`asyncquote._io.wire`: bytes on
one I/O backend). It owns what needs an event loop: one waiter per call, the
one alarm task for every call's deadline, the keepalive and watchdog tasks,
and the task group that holds them.

Any number of tasks may call :meth:`Connection.request` at once. Invariants:
routing received bytes never awaits user code and never raises; the
connection is lost once, for one typed :class:`~asyncquote._opend.protocol.Loss`,
and then every waiter is woken with :class:`ConnectionLostError` chained to
its cause, and later calls fail the same way; a request's ``on_settled`` runs
exactly once.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import anyio.abc
from google.protobuf.message import Message

from .._base.args import host_name_error
from .._base.errors import (
    AsyncQuoteError,
    ConnectError,
    ConnectionLostError,
    OpenDError,
    ProtocolError,
    RequestTimeoutError,
)
from .._opend.codec import ProtoId, parse_response
from .._opend.framing import DEFAULT_MAX_BODY_LEN, Frame
from .._opend.handshake import KEEPALIVE_RANGE, ConnectionInfo
from .._opend.loss import Loss, LossKind, with_handler_error
from .._opend.protocol import Call, ClientProtocol, Lost, Settled, decrypted
from .._opend.rsa import RsaCipher
from .._pb import InitConnect_pb2, KeepAlive_pb2

# The options and defaults are re-exported: they were always importable from here.
from .connection_options import (
    DEFAULT_CLIENT_VERSION,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEAD_PEER_FACTOR,
    DEFAULT_REQUEST_TIMEOUT,
    ConnectionOptions,
    PushHandler,
)
from .loop import clock, oneshot_factory
from .taskgroups import single_errors
from .wire import Wire, connect_wire, loss_for

__all__ = [
    "DEFAULT_CLIENT_VERSION",
    "DEFAULT_DEAD_PEER_FACTOR",
    "DEFAULT_REQUEST_TIMEOUT",
    "KEEPALIVE_RANGE",
    "Connection",
    "ConnectionInfo",
    "ConnectionOptions",
    "PushHandler",
    "connect_with",
    "open_connection",
]

logger = logging.getLogger("asyncquote.connection")

M = TypeVar("M", bound=Message)


class Connection:
    """A live, handshaken connection to OpenD. Create it with :func:`open_connection`.

    Safe to share between any number of tasks of one event loop.
    """

    _wire: Wire

    def __init__(self, options: ConnectionOptions) -> None:
        # The wire is attached by open_connection once connected.
        self._protocol = ClientProtocol(
            address=options.address,
            max_body_len=options.max_body_len,
            handshake_cipher=options.rsa_cipher,
            dead_after=options.dead_peer_after,
            keepalive=options.keepalive,
        )
        # Copied: read by every call and every push.
        self._default_timeout = options.request_timeout
        self._push_handler = options.push_handler
        self._now = clock()
        self._new_oneshot = oneshot_factory()
        # The alarm for the earliest deadline of a waiting call; see
        # _alarm_loop. None while no alarm task is in it.
        self._alarm: anyio.CancelScope | None = None
        # The alarm's deadline, kept here too: reading the scope's is a
        # property (a Python call) on every request.
        self._alarm_at = math.inf
        self._lost_event = anyio.Event()
        self.on_lost: Callable[[Connection], None] | None = None
        """Called synchronously, once, when the connection fails or is closed."""

    # -- public -----------------------------------------------------------

    @property
    def address(self) -> str:
        """``host:port`` of the gateway."""
        return self._protocol.address

    @property
    def info(self) -> ConnectionInfo | None:
        """What the gateway told us in its handshake reply (None before it)."""
        return self._protocol.info

    @property
    def is_open(self) -> bool:
        """False once the connection failed or was closed."""
        return self._protocol.loss is None

    @property
    def pending_count(self) -> int:
        """Calls currently waiting for a reply."""
        return self._protocol.pending_count

    @property
    def lost_reason(self) -> str:
        """Why the connection is unusable (empty while it is open)."""
        loss = self._protocol.loss
        return "" if loss is None else str(loss)

    @property
    def lost_cause(self) -> BaseException | None:
        """The exception that ended the connection, if any."""
        loss = self._protocol.loss
        return None if loss is None else loss.cause

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
        protocol = self._protocol
        if protocol.loss is not None:
            if on_settled is not None:
                on_settled()
            raise protocol.lost_error()
        limit = self._default_timeout if timeout is None else timeout
        cipher = protocol.cipher  # the one the request is encrypted with
        try:
            call, data = protocol.send_request(
                proto_id,
                body,
                self._now() + limit if deadline is None else deadline,
                self._new_oneshot(),
            )
        except BaseException:
            if on_settled is not None:
                on_settled()
            raise
        # Timeouts are the alarm task's job (see _alarm_loop): a cancel scope
        # per call would cost a timer and several microseconds for every call.
        alarm = self._alarm
        if alarm is not None and call.deadline < self._alarm_at:
            alarm.deadline = self._alarm_at = call.deadline
        try:
            self._wire.send(data)
            del data  # not kept alive while the call waits: memory per call in flight
            await call.waiter
        finally:
            if call.frame is None:
                # Gave up (timeout, cancellation, loss) before a reply arrived.
                if protocol.abandon(call, on_settled) and on_settled is not None:
                    on_settled()
            elif on_settled is not None:
                on_settled()
        frame = call.frame
        if frame is not None and frame.proto_id == proto_id:
            return frame if cipher is None else decrypted(cipher, frame)
        raise protocol.error_for(call, limit)

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
        self._lose(Loss(LossKind.CLOSED_BY_CLIENT))
        await self._wire.aclose()

    # -- the driver's sink (asyncquote._io.wire.WireSink) -----------------------------

    def data_received(self, data: bytes) -> None:
        handler = self._push_handler
        for event in self._protocol.receive_data(data):
            if event.__class__ is Call:
                event.waiter.set()
            elif event.__class__ is Frame and handler is not None:  # _handle's usual case, inline
                try:
                    handler(event)
                except Exception:
                    _log_handler_error(event)
            else:
                self._handle(event)

    def eof_received(self) -> None:
        self._lose(self._protocol.eof_received() or loss_for(None, "eof_received"))

    def transport_lost(self, loss: Loss) -> None:
        self._lose(loss)

    # -- internals ----------------------------------------------------------

    def _handle(self, event: Frame | Settled | Lost | Call) -> None:
        if isinstance(event, Frame):  # a push
            if self._push_handler is None:
                logger.debug("no push handler; dropped push of protocol %d", event.proto_id)
                return
            try:
                self._push_handler(event)
            except Exception:
                _log_handler_error(event)
        elif isinstance(event, Settled):
            event.token()  # the reply its caller gave up on: the request is settled
        elif isinstance(event, Lost):
            self._lose(event.loss)
            self._wire.abort()

    def _lose(self, loss: Loss) -> None:
        """The connection is lost for ``loss`` (the first loss wins)."""
        woken = self._protocol.connection_lost(loss)
        if woken is None:
            return
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
            self._protocol.loss = with_handler_error(loss, exc)
        finally:
            calls, tokens = woken
            for call in calls:
                call.waiter.set()  # no reply attached: the waiter raises ConnectionLostError
            if calls:
                logger.debug("woke %d pending calls: %s", len(calls), self._protocol.loss)
            for settle in tokens:
                settle()

    async def _alarm_loop(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        # One alarm serves every waiting call: it goes off at the earliest
        # deadline (request() brings it forward), wakes the calls that are
        # overdue, and is set again for the rest. A reply does not push it
        # back, so it may go off with nothing due, at most once per timeout.
        task_status.started()
        protocol = self._protocol
        while protocol.loss is None:
            overdue, earliest = protocol.expire(self._now())
            for call in overdue:
                call.waiter.set()  # no reply attached: the call raises RequestTimeoutError
            self._alarm_at = earliest
            with anyio.CancelScope(deadline=earliest) as self._alarm:
                await self._lost_event.wait()
        self._alarm = None

    async def _keepalive_loop(self, interval: float) -> None:
        protocol = self._protocol
        while protocol.loss is None:
            await anyio.sleep(interval)
            request = protocol.keepalive_request(time.time())
            try:
                await self.call(ProtoId.KEEP_ALIVE, request, KeepAlive_pb2.Response)
            except (ConnectionLostError, anyio.ClosedResourceError):
                return
            except OpenDError as exc:
                protocol.keepalive_answered(self._now())  # a refusal is an answer too
                logger.warning("keepalive to %s refused: %s", self.address, exc)
            except AsyncQuoteError as exc:
                logger.warning("keepalive to %s failed: %s", self.address, exc)
            else:
                protocol.keepalive_answered(self._now())

    async def _watchdog(self) -> None:
        protocol = self._protocol
        while protocol.loss is None:
            verdict = protocol.check_liveness(self._now(), self._wire.write_blocked_since)
            if isinstance(verdict, Loss):
                self._lose(verdict)
                await self._wire.aclose()
                return
            await anyio.sleep(verdict)

    async def _handshake(self, *, client_id: str, client_version: int, timeout: float) -> None:
        protocol = self._protocol
        request = protocol.handshake_request(client_id, client_version)
        try:
            response = await self.call(
                ProtoId.INIT_CONNECT, request, InitConnect_pb2.Response, timeout=timeout
            )
        except (RequestTimeoutError, OpenDError, ConnectionLostError, ProtocolError) as exc:
            raise protocol.handshake_failed(exc, timeout) from exc
        protocol.handshake_reply(response, client_id, self._now())


def _log_handler_error(frame: Frame) -> None:
    logger.exception("push handler raised on protocol %d; push dropped", frame.proto_id)


def _new_client_id() -> str:
    return f"asyncquote-{os.getpid()}-{os.urandom(6).hex()}"


@asynccontextmanager
async def open_connection(
    host: str = "127.0.0.1",
    port: int = 11111,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    client_id: str | None = None,
    client_version: int = DEFAULT_CLIENT_VERSION,
    push_handler: PushHandler | None = None,
    max_body_len: int = DEFAULT_MAX_BODY_LEN,
    keepalive: bool = True,
    dead_peer_after: float | None = DEFAULT_DEAD_PEER_FACTOR,
    rsa_key: RsaCipher | None = None,
) -> AsyncIterator[Connection]:
    """Connect, handshake, and yield a ready :class:`Connection` (the arguments unchecked).

    The low-level way, without a session, quota or client: see
    :func:`connect_with`, which :func:`asyncquote.connect` uses. Its
    arguments are :class:`ConnectionOptions`' fields (``rsa_key`` is
    ``rsa_cipher``), which tests/io/test_connection.py pins.
    """
    # The arguments by name; nothing else is bound yet.
    fields = locals()
    fields["rsa_cipher"] = fields.pop("rsa_key")
    async with connect_with(ConnectionOptions(**fields)) as connection:
        yield connection


@asynccontextmanager
async def connect_with(options: ConnectionOptions) -> AsyncIterator[Connection]:
    """Connect, handshake, and yield a ready :class:`Connection`.

    The connection's tasks live in a task group owned by this context
    manager; leaving the block closes the socket and ends them all.

    Raises:
        ConnectError: refused, unreachable, or the handshake failed or timed
            out. The message names ``host:port``.
    """
    host, port, connect_timeout = options.host, options.port, options.connect_timeout
    address = options.address
    connection = Connection(options)
    try:
        with anyio.fail_after(connect_timeout):
            connection._wire = await connect_wire(host, port, connection)
    except TimeoutError as exc:
        raise ConnectError(
            f"cannot connect to OpenD at {address}: no answer within {connect_timeout:g} s"
        ) from exc
    except OSError as exc:
        raise ConnectError(f"cannot connect to OpenD at {address}: {exc}") from exc
    except UnicodeError as exc:
        # trio's lookup encodes with the idna package, stricter than the check
        # the options made with Python's codec.
        raise host_name_error(host, exc) from None

    try:
        async with single_errors(), anyio.create_task_group() as tg:
            await tg.start(connection._wire.run)
            await tg.start(connection._alarm_loop)
            try:
                await connection._handshake(
                    client_id=options.client_id or _new_client_id(),
                    client_version=options.client_version,
                    timeout=connect_timeout,
                )
                assert connection.info is not None
                if options.keepalive:
                    tg.start_soon(
                        connection._keepalive_loop, connection.info.keepalive_interval * 0.8
                    )
                if options.dead_peer_after is not None:
                    tg.start_soon(connection._watchdog)
                yield connection
            finally:
                await connection.aclose()
                tg.cancel_scope.cancel()
    finally:
        # Covers a failure before the task group started.
        await connection.aclose()
