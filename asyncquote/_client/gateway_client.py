"""The client's view of OpenD's own health: events, the global state, readiness.

:class:`GatewayClient` adds to the call machinery of
:class:`~asyncquote._client.core.ClientCore` what a bot needs to notice that
OpenD itself is in trouble (logged out, kicked out, waiting for a
verification code) although the connection to it is fine:
:meth:`~GatewayClient.events`, :meth:`~GatewayClient.get_global_state`,
:attr:`~GatewayClient.gateway` and :meth:`~GatewayClient.wait_ready`. The
bookkeeping is :class:`~asyncquote._client.monitor.GatewayMonitor`'s.

After every (re)connect, :meth:`~GatewayClient._keep_gateway_fresh` asks
GetGlobalState once, in the background. It takes a quota slot only if one
is free at that moment (GetGlobalState has no quota unless ``quotas=`` gives
it one), so it never queues ahead of, or behind, the user's calls; if OpenD
refuses or does not answer, the connection is not affected and the status
stays unknown until a Notify or a later call says more.

It starts with the first use of :attr:`~GatewayClient.gateway`,
:meth:`~GatewayClient.events` or :meth:`~GatewayClient.wait_ready`: a
client that never asks about OpenD's health sends exactly what it sent
before (request logs, the simulator's fault counters and quota windows are
as they were). Notify pushes keep the status current either way.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager

import anyio
import anyio.lowlevel

from .._base.args import check_duration, check_int
from .._base.errors import AsyncQuoteError, GatewayNotReadyError, ProtocolError
from .._io.broadcast import DEFAULT_BUFFER, Subscription
from .._io.connection import Connection
from .._io.session import ConnectionState
from .._models.events import Event
from .._models.health import GatewayStatus, GlobalState
from .._models.notify import global_state_from_pb
from .._opend.codec import parse_response
from .._opend.framing import Frame
from .._opend.vocabulary import ProtoId
from .._pb import GetGlobalState_pb2
from .core import ClientCore

__all__ = ["GatewayClient"]

logger = logging.getLogger("asyncquote.client")

_GLOBAL_STATE = ProtoId.GET_GLOBAL_STATE
# userID is obsolete; OpenD wants 0. The body never changes.
_GLOBAL_STATE_BODY = GetGlobalState_pb2.Request(
    c2s=GetGlobalState_pb2.C2S(userID=0)
).SerializeToString()


def _global_state(frame: Frame) -> GlobalState:
    response = parse_response(GetGlobalState_pb2.Response, frame.body, proto_id=_GLOBAL_STATE)
    if not response.HasField("s2c"):
        raise ProtocolError("OpenD answered GetGlobalState (1002) without its s2c")
    return global_state_from_pb(response.s2c)


class GatewayClient(ClientCore):
    """OpenD's health, seen from the client; :class:`~asyncquote.QuoteClient` is one."""

    @property
    def gateway(self) -> GatewayStatus:
        """The latest known :class:`GatewayStatus`: logins, program status, quote rights.

        Kept current from OpenD's Notify pushes and refreshed with
        GetGlobalState after every (re)connect; ``None`` fields are not
        known (yet). The first read also starts that refresh (the read
        itself returns at once, with what is known).
        """
        self._gateway.want()
        return self._gateway.status

    def events(
        self, *, buffer: int = DEFAULT_BUFFER
    ) -> AbstractAsyncContextManager[Subscription[Event]]:
        """Subscribe to gateway events; yields an async iterator of :data:`Event`::

            async with client.events() as events:
                async for event in events:
                    print(event)

        Events are OpenD's Notify pushes, typed (:class:`GatewayEvent`,
        :class:`ProgramStatusChanged`, :class:`LoginStatusChanged`,
        :class:`QuoteRightsChanged`, :class:`ApiQuotaChanged`,
        :class:`UsedQuotaChanged`), and the client's own
        :class:`ConnectionStateChanged`, in the order they happened, from
        the moment of subscribing. A Notify of a kind this version does not
        know, or of the deprecated APILevel kind, is not an event (the raw
        ``push_handler`` still gets it). Any number of subscribers may listen at
        once; leaving the block unsubscribes. Each subscription is read by one
        task at a time: a task that wants every event subscribes for itself (a
        second task reading the same subscription meanwhile gets
        :class:`UsageError` at once). The iteration ends after the client
        closes (its last event says ``CLOSED``).

        Overflow: each subscriber keeps at most ``buffer`` events not yet
        read. When a slow reader lets it fill up, the oldest is dropped and
        counted in the iterator's ``dropped``; the reader then sees the
        newest. Nobody else ever waits for a slow reader: neither the
        connection nor other subscribers nor calls.

        Raises:
            InvalidArgumentError: ``buffer`` is not an ``int`` >= 1.
            UsageError: called from another event loop than the client's; also
                raised by the iterator to a second task reading it at once.
        """
        self._check_loop()
        check_int("buffer", buffer, minimum=1)
        self._gateway.want()
        return self._gateway.events.subscribe(buffer)

    async def get_global_state(self, *, timeout: float | None = None) -> GlobalState:
        """Ask OpenD for its global state (protocol 1002): markets, logins, versions.

        The answer also updates :attr:`gateway`, unless the connection was
        lost or changed meanwhile (then it may speak of an OpenD that is gone).

        Args:
            timeout: as for :meth:`get_user_security`.

        Raises:
            InvalidArgumentError: a bad ``timeout``; nothing is sent.
            UsageError: called from another event loop than the client's.
            OpenDError: OpenD refused.
            RateLimitError: see :meth:`request`.
            RequestTimeoutError: no answer within ``timeout``.
            ConnectionLostError: the connection was lost and not regained.
            ProtocolError: the answer is not the protocol.
        """
        self._check_loop()
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        monitor = self._gateway
        asked_in = monitor.epoch
        state = await self._exchange(_GLOBAL_STATE, _GLOBAL_STATE_BODY, _global_state, timeout)
        monitor.on_global_state(state, asked_in)
        return state

    async def wait_ready(self, timeout: float | None = None) -> GatewayStatus:
        """Return once OpenD reports it is ready: logged in to quotes, program status READY.

        An OpenD that leaves the (optional) program status out is ready once
        logged in to quotes. Returns at once (sending nothing) when
        :attr:`gateway` already says so. If nothing is known about OpenD
        yet, first learns what it reports: from the GetGlobalState the client
        asks after every (re)connect, or, if that one got no answer, by asking
        once more itself. Learning takes up to the client's request timeout
        even when ``timeout`` is shorter, so ``timeout=0`` checks what OpenD
        says rather than failing for want of an answer. Then waits for OpenD's
        Notify pushes (and the refresh after a reconnect) to say it is ready.
        A connect followed by ``wait_ready()`` asks GetGlobalState once.

        Args:
            timeout: longest wait in seconds for OpenD to become ready
                (default: the client's ``timeout``); ``0`` only checks,
                ``math.inf`` waits for ever.

        Returns:
            The :class:`GatewayStatus` that says OpenD is ready.

        Raises:
            GatewayNotReadyError: not ready within ``timeout``; the message
                says what OpenD reports (e.g. "OpenD needs a phone
                verification code") and ``.status`` holds it.
            ConnectionLostError: the client is (or became) closed.
            InvalidArgumentError: a bad ``timeout``.
            UsageError: called from another event loop than the client's.
        """
        self._check_loop()
        wait = self._request_timeout if timeout is None else check_duration("timeout", timeout)
        session, monitor, now = self._session, self._gateway, self._now
        monitor.want()
        start = now()
        deadline = start + wait
        # Learning what OpenD says may take one request's time, whatever `wait` is.
        learn_deadline = start + max(wait, self._request_timeout)
        asked = False
        failure: AsyncQuoteError | None = None
        while True:
            session.raise_if_closed()
            status = monitor.status
            connected = session.state is ConnectionState.CONNECTED
            if connected and status.ready:
                return status
            # Nothing known yet and something still to learn it from: the
            # refresh under way, or (if that one got no answer) an ask of our own.
            learning = connected and not status.known and (monitor.refresh_pending or not asked)
            left = (learn_deadline if learning else deadline) - now()
            if left <= 0:
                break
            if learning and not monitor.refresh_pending:
                asked = True
                try:
                    await self.get_global_state(timeout=left)
                except AsyncQuoteError as exc:
                    failure = exc  # keep waiting for a push; said if it never comes
                continue
            with anyio.move_on_after(left):
                await monitor.wait_changed()
        state = session.state
        said = (
            monitor.status.summary
            if state is ConnectionState.CONNECTED
            else f"the client is not connected to OpenD ({state.value})"
        )
        error = GatewayNotReadyError(
            monitor.status, f"OpenD is not ready after waiting {wait:g} s: {said}"
        )
        raise error from failure

    async def _keep_gateway_fresh(self) -> None:
        """Ask GetGlobalState after every (re)connect, once wanted; runs until the client closes."""
        session = self._session
        await self._gateway.wait_wanted()
        while True:
            await session.wait_for(ConnectionState.CONNECTED)
            connection = session.current
            if connection is None:  # lost again already
                await anyio.lowlevel.checkpoint()
                continue
            await self._refresh(connection)
            await connection.wait_lost()

    async def _refresh(self, connection: Connection) -> None:
        """The one GetGlobalState of ``connection``'s epoch; wait_ready() waits for it to be over.

        Runs in the client's own task, so a wait_ready() that gives up does
        not take the answer with it (nor make the client ask again).
        """
        limiter, monitor = self._limiter, self._gateway
        epoch = monitor.epoch
        try:
            if not limiter.try_acquire(_GLOBAL_STATE):
                logger.info("no GetGlobalState after connecting: its quota has no free slot")
                return
            try:
                frame = await connection.request(
                    _GLOBAL_STATE,
                    _GLOBAL_STATE_BODY,
                    timeout=self._request_timeout,
                    on_settled=limiter.releaser(_GLOBAL_STATE),
                )
                state = _global_state(frame)
            except AsyncQuoteError as exc:
                logger.info("GetGlobalState after connecting failed; status unknown: %s", exc)
            else:
                monitor.on_global_state(state, epoch)
        finally:
            monitor.refresh_over(epoch)
