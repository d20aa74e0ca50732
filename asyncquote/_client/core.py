"""One call's way to OpenD: its quota slot, the session's connection, one deadline.

:class:`ClientCore` is what every :class:`~asyncquote.QuoteClient` call goes
through (:meth:`ClientCore.request` for any protobuf request, ``_exchange``
for the bytes): take a slot of the protocol's quota (queueing, or failing
fast), get the current connection (waiting within the call's deadline while
the session reconnects), send, and decode the reply. Its invariants: one
deadline per call from the moment it has its slot, covering the wait for a
connection and the reply, a read retried after a drop included; a slot is
released when its request is settled (reply or lost connection), never when
the caller stops waiting; a read-only call is retried at most once after a
drop, an edit never; an OpenD quota refusal marks the window full and is
retried up to ``quota_retries`` times; a closed client fails queued callers at
once. It also guards against use from another event loop, and answers the
connection and quota questions (state, info, quota status).

The typed OpenD methods and their caching are :class:`~asyncquote.QuoteClient`'s
(``_client.py``); it tells this core nothing but that an edit returned
(``_edited``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import anyio
from google.protobuf.message import Message

from .._base.args import check_duration, check_int
from .._base.errors import (
    ConnectionLostError,
    InvalidArgumentError,
    OpenDError,
    RateLimitError,
    RequestTimeoutError,
    UsageError,
)
from .._io.connection import Connection, ConnectionInfo
from .._io.loop import clock
from .._io.session import ConnectionState, Session
from .._opend.codec import Unfinished, parse_response
from .._opend.framing import Frame
from .._opend.vocabulary import ProtoId
from .monitor import GatewayMonitor
from .options import ClientOptions
from .ratelimit import QuotaStatus, RateLimiter, is_quota_rejection
from .state_view import watch_states

__all__ = ["READ_ONLY_PROTOCOLS", "ClientCore", "running_loop"]

# The client's logger, whichever module of it logs.
logger = logging.getLogger("asyncquote.client")

M = TypeVar("M", bound=Message)
R = TypeVar("R")

# asyncio's C-level lookup of the running loop: None under trio, and it never
# raises, so checking the caller's loop costs one call (see ClientCore._check_loop).
running_loop = asyncio._get_running_loop


def _trio_token() -> object | None:
    """The running trio run's token, or None (not under trio)."""
    trio = sys.modules.get("trio")  # never imported here: only a running trio has it
    if trio is None:
        return None
    try:
        token: object = trio.lowlevel.current_trio_token()
    except RuntimeError:
        return None
    return token


#: Calls that change nothing at the gateway, so resending one is harmless.
READ_ONLY_PROTOCOLS = frozenset(
    {
        ProtoId.GET_GLOBAL_STATE,
        ProtoId.KEEP_ALIVE,
        ProtoId.GET_USER_SECURITY,
        ProtoId.GET_USER_SECURITY_GROUP,
    }
)


class ClientCore:
    """Calls through quota, session and connection; see the module docstring.

    Not used on its own: :class:`~asyncquote.QuoteClient` is one.
    """

    def __init__(self, session: Session, options: ClientOptions, monitor: GatewayMonitor) -> None:
        self._session = session
        # OpenD's own health; an error raised while it reports trouble says so.
        # connect() wires it to the session and the connections' pushes.
        self._gateway = monitor
        # Copied from the options: read by every call.
        self._request_timeout = options.request_timeout
        self._retry_reads = options.retry_reads
        self._info: ConnectionInfo | None = None
        self._limiter = options.rate_limiter
        self._fail_fast = options.on_quota == "raise"
        self._queue_timeout = options.queue_timeout
        self._quota_retries = options.quota_retries
        self._quota_waits: set[anyio.CancelScope] = set()
        # Closed for good (the block ended, or reconnecting is off or gave
        # up): callers queued for quota are failed at once.
        session.on_closed = self._close
        self._now = clock()
        # The event loop this client lives in; using it from another one fails
        # with a UsageError instead of somewhere deep in asyncio or trio.
        self._loop = running_loop()
        self._trio = _trio_token() if self._loop is None else None
        # Kept so that `info` still answers after the client is closed.
        current = session.current
        if current is not None:
            self._info = current.info

    def _check_loop(self) -> None:
        """Raise :class:`UsageError` unless called from this client's event loop."""
        loop = running_loop()
        if loop is self._loop and (self._trio is None or _trio_token() is self._trio):
            return
        raise UsageError(
            "this QuoteClient belongs to the event loop it was connected in and cannot be "
            "used from another one (another thread or another asyncio.run/trio.run); "
            "connect a client in each loop, or hand calls to the client's loop (e.g. "
            "asyncio.run_coroutine_threadsafe or anyio.from_thread.run)"
        )

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter this client's calls go through (pass it to other clients to share it)."""
        return self._limiter

    def quota(self, proto_id: int) -> QuotaStatus:
        """Used slots, queued callers and seconds until a slot frees, for ``proto_id``."""
        check_int("proto_id", proto_id, minimum=0, maximum=0xFFFF_FFFF)
        return self._limiter.status(proto_id)

    async def request(
        self,
        proto_id: int,
        request: Message,
        response_type: type[M],
        *,
        timeout: float | None = None,
    ) -> M:
        """Send any OpenD protobuf request through this client's quota and connection.

        The timeout rule, for every call: the wait for a quota slot comes
        first and is bounded by the client's ``queue_timeout``, not by
        ``timeout``. From the moment the call has its slot, one deadline of
        ``timeout`` seconds covers everything else: waiting for a connection
        while the client reconnects, the time on the wire, and the one retry
        of a read after a drop. If OpenD still answers "too frequent", the
        window is marked full and the call is retried after it (up to
        ``quota_retries`` times, each with a fresh timeout), or
        :class:`RateLimitError` is raised in ``on_quota="raise"`` mode.

        Raises:
            OpenDError: ``retType != 0`` (other than a quota rejection).
            RateLimitError: quota exhausted and the client fails fast, the
                queue wait exceeded ``queue_timeout``, or retries ran out.
            RequestTimeoutError: no reply within ``timeout``.
            ConnectionLostError: the connection was lost mid-call (an edit, or a
                read already retried), none came back in time, or the client is closed.
            ProtocolError: the reply is not valid protocol.
            InvalidArgumentError: a bad ``proto_id``, ``timeout`` (> 0;
                ``math.inf`` waits for ever), a ``request`` that is not a
                complete protobuf message or a ``response_type`` that is not
                a message class; nothing is sent.
            UsageError: called from another event loop than the client's.

        An edit sent this way (protocol 3214) counts for read-your-writes
        like :meth:`modify_user_security`. The reply is the message as
        protobuf parsed it: there, unlike in the typed methods' models, a
        string field holding bytes that are not UTF-8 is ``bytes``.
        """
        if running_loop() is not self._loop or self._trio is not None:
            self._check_loop()
        check_int("proto_id", proto_id, minimum=0, maximum=0xFFFF_FFFF)
        if not isinstance(request, Message):
            raise InvalidArgumentError(f"request must be a protobuf message, not {request!r}")
        if not (isinstance(response_type, type) and issubclass(response_type, Message)):
            raise InvalidArgumentError(
                f"response_type must be a protobuf message class, not {response_type!r}"
            )
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        if not request.IsInitialized():
            # FindInitializationErrors exists on every runtime but not in the stubs.
            missing = ", ".join(request.FindInitializationErrors())  # type: ignore[attr-defined]
            raise InvalidArgumentError(
                f"request {request.DESCRIPTOR.full_name} lacks required fields: {missing}"
            )

        def decode(frame: Frame) -> M:
            return parse_response(response_type, frame.body, proto_id=proto_id)

        body = request.SerializeToString()
        if proto_id != ProtoId.MODIFY_USER_SECURITY:
            return await self._exchange(proto_id, body, decode, timeout)
        try:
            return await self._exchange(proto_id, body, decode, timeout)
        finally:
            self._edited()  # whatever the outcome: a timed-out edit may still be applied

    def _edited(self) -> None:
        """An edit (3214) sent through :meth:`request` returned, or failed: for read-your-writes."""

    async def _exchange(
        self,
        proto_id: int,
        body: bytes,
        decode: Callable[[Frame], R | Unfinished[R]],
        timeout: float | None,
        started: Callable[[], None] | None = None,
    ) -> R:
        """Send one request within quota and connection; ``decode`` its reply frame.

        ``decode`` may return :class:`~asyncquote._opend.codec.Unfinished` for a
        large reply, whose ``finish()`` is then awaited for the result.

        ``decode`` raises :class:`OpenDError` for a refusal; a quota refusal
        is retried here. The timeout rule (see :meth:`request`): one deadline,
        from the moment the call has its quota slot, for waiting for a
        connection and for the reply, a read retried after a drop included.
        ``started`` is told each time that deadline is set (single-flight
        followers count their own timeouts from then).
        """
        # Few local variables: this frame is kept by every call in flight.
        wait = self._request_timeout if timeout is None else timeout
        rejections = 0
        may_retry_loss = self._retry_reads and proto_id in READ_ONLY_PROTOCOLS
        deadline: float | None = None
        lost: ConnectionLostError | None = None
        while True:
            # A closed client fails at once rather than after a quota wait.
            self._session.raise_if_closed()
            # The common case, a free slot, costs no await and no context manager.
            if not self._limiter.try_acquire(proto_id):
                await self._wait_for_quota(proto_id)
            # The slot stays taken until the request is settled (its reply
            # arrived or its connection closed), not until we stop waiting:
            # a request in the socket may still reach the gateway late.
            release = self._limiter.releaser(proto_id)
            if deadline is None:
                deadline = self._now() + wait
                if started is not None:
                    started()
            elif lost is not None and self._now() >= deadline:
                # A retry after a drop whose time went on waiting for quota:
                # sending it would spend quota on a call that is over.
                if release is not None:
                    release()
                raise lost
            try:
                # While reconnecting, wait for the new connection, within the
                # call's own deadline.
                connection = await self._session.connection(wait, deadline=deadline)
            except BaseException:
                if release is not None:
                    release()
                raise
            try:
                result = decode(
                    await connection.request(
                        proto_id, body, timeout=wait, deadline=deadline, on_settled=release
                    )
                )
                if isinstance(result, Unfinished):
                    # A large reply: decoded in slices, other tasks run between them.
                    return await result.finish()
                return result
            except ConnectionLostError as exc:
                if not may_retry_loss or self._session.state is ConnectionState.CLOSED:
                    raise
                may_retry_loss = False  # once only, within the same deadline
                lost = exc
                logger.info("protocol %d lost with its connection; retrying once", proto_id)
            except OpenDError as exc:
                if not is_quota_rejection(exc.ret_type, exc.message):
                    self._gateway.explain(exc)
                    raise
                rejections += 1
                self._on_quota_rejection(proto_id, exc, rejections)
                # The retry queues again, with a fresh timeout.
                deadline = None
            except RequestTimeoutError as exc:
                self._gateway.explain(exc)
                raise

    def _on_quota_rejection(self, proto_id: int, rejection: OpenDError, rejections: int) -> None:
        """OpenD refused a call as over quota: mark the window full; raise if out of retries."""
        limiter = self._limiter
        limiter.on_quota_rejection(proto_id)
        retry_after = limiter.status(proto_id).next_free_in
        if self._fail_fast or rejections > self._quota_retries:
            raise RateLimitError(proto_id, retry_after, rejection.message) from rejection
        logger.warning(
            "OpenD rejected protocol %d as over quota (%s); retrying in %.1f s (%d/%d)",
            proto_id,
            rejection.message,
            retry_after,
            rejections,
            self._quota_retries,
        )

    async def _wait_for_quota(self, proto_id: int) -> None:
        """Queue for a slot of ``proto_id``; closing the client ends the wait at once."""
        with anyio.CancelScope() as scope:
            self._quota_waits.add(scope)
            try:
                await self._limiter.acquire(
                    proto_id, fail_fast=self._fail_fast, queue_timeout=self._queue_timeout
                )
            finally:
                self._quota_waits.discard(scope)
        if scope.cancel_called:  # by _close()
            if not scope.cancelled_caught:
                self._limiter.release(proto_id)  # got it just as the client closed
            self._session.raise_if_closed()
            raise ConnectionLostError("the client was closed")  # not reached: closed above

    def _close(self) -> None:
        """The session closed: every caller queued for quota gets ConnectionLostError now."""
        for scope in list(self._quota_waits):
            scope.cancel()

    @property
    def connection(self) -> Connection:
        """The current connection (for diagnostics and advanced use).

        Raises:
            ConnectionLostError: there is none right now (reconnecting or closed).
        """
        current = self._session.current
        if current is None:
            raise ConnectionLostError(f"not connected to OpenD ({self.state.value})")
        return current

    @property
    def info(self) -> ConnectionInfo:
        """What the gateway reported in the latest handshake (conn id, user, versions).

        Still readable after the client is closed (the last handshake's).

        Raises:
            ConnectionLostError: no handshake has completed (a client made
                without :func:`connect` that never connected).
        """
        current = self._session.current
        if current is not None and current.info is not None:
            self._info = current.info
        if self._info is None:
            raise ConnectionLostError("no handshake with OpenD has completed yet; use connect()")
        return self._info

    @property
    def state(self) -> ConnectionState:
        """Where the connection stands: connecting, connected, reconnecting or closed."""
        return self._session.state

    @property
    def reconnects(self) -> int:
        """How many times a lost connection has been replaced."""
        return self._session.reconnects

    async def wait_for_state(self, state: ConnectionState) -> None:
        """Return once the client is in ``state`` (e.g. ``ConnectionState.CONNECTED``)."""
        if not isinstance(state, ConnectionState):
            raise InvalidArgumentError(f"state must be a ConnectionState, not {state!r}")
        self._check_loop()
        await self._session.wait_for(state)

    def state_changes(self) -> AbstractAsyncContextManager[AsyncIterator[ConnectionState]]:
        """Subscribe to state changes::

            async with client.state_changes() as states:
                async for state in states:
                    print("OpenD connection:", state.value)

        A view on the broadcast behind :meth:`events` (its
        :class:`ConnectionStateChanged` events, as states), with its bounds:
        a reader that falls more than 256 states behind loses the oldest
        (counted in the iterator's ``dropped``), so one that never reads
        cannot grow without bound. The iteration ends after ``CLOSED``. One
        task reads an iterator at a time (see :meth:`events`).

        Raises:
            UsageError: called from another event loop than the client's.
        """
        self._check_loop()
        return watch_states(self._gateway.events)
