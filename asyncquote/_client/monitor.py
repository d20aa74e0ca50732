"""What the client knows about OpenD's own health, and who hears about it.

A :class:`GatewayMonitor` sits where pushes arrive (it wraps the user's
``push_handler``) and where the session changes state. It turns Notify
pushes into events, keeps :class:`~asyncquote.GatewayStatus` current from
them and from GetGlobalState answers, and publishes every event, the
session's own state changes included, to the subscribers of
:meth:`QuoteClient.events`. Everything here is synchronous and never raises
into the receive path; the awaiting lives in :mod:`asyncquote._client.gateway_client`.

The raw ``push_handler`` still receives every push, Notify included, exactly
as before: code that decodes Notify itself keeps working.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio

from .._base.errors import AsyncQuoteError
from .._io.broadcast import Broadcast
from .._io.connection_options import PushHandler
from .._io.session import ConnectionState
from .._models.events import ConnectionStateChanged, Event, state_changes
from .._models.health import GatewayStatus, GlobalState
from .._models.notify import event_from_notify
from .._opend.framing import Frame
from .._opend.vocabulary import ProtoId
from .throttle import WarningThrottle

__all__ = ["GatewayMonitor"]

logger = logging.getLogger("asyncquote.gateway")


def add_gateway_status(exc: AsyncQuoteError, status: GatewayStatus) -> None:
    """Make ``exc`` carry ``status``: as :attr:`~AsyncQuoteError.gateway_status` and in its message.

    A call that fails while OpenD reports it is logged out most likely
    failed for that reason, which the gateway's own error text rarely says.
    """
    if exc.gateway_status is not None:
        return  # already said (an error re-raised to several callers)
    exc.gateway_status = status
    note = f"(meanwhile OpenD reports: {status.summary})"
    first = exc.args[0] if exc.args else ""
    exc.args = (f"{first} {note}" if first else note, *exc.args[1:])


_NOTIFY = int(ProtoId.NOTIFY)  # compared with every push: no enum lookup


class GatewayMonitor:
    """The gateway's status and the event broadcast; see the module docstring."""

    def __init__(self, push_handler: PushHandler | None = None) -> None:
        self._push_handler = push_handler
        self.on_event: Callable[[Event], None] | None = None
        """Told every Notify event synchronously, as it arrives (live quotes hear the quota)."""
        self.status = GatewayStatus()
        """The latest known :class:`GatewayStatus`."""
        self.events: Broadcast[Event] = Broadcast()
        """Every event, to every subscriber of ``client.events()``."""
        self.epoch = 0
        """Counts the session's state changes: an answer asked for in an
        earlier epoch may come from a connection (even an OpenD) that is gone."""
        self.refreshed = -1
        """The :attr:`epoch` whose refresh after connecting is over (answered or not)."""
        self._changed: anyio.Event | None = None
        # A gateway that sends malformed Notify by the thousand must not
        # flood the log: each kind is logged once a minute, with a count.
        self._notify_warnings = WarningThrottle(logging.getLogger("asyncquote.notify"))
        # Set once the user shows interest in the gateway's health: only then
        # does the client send GetGlobalState after each (re)connect.
        self._wanted = anyio.Event()

    def want(self) -> None:
        """The user asked about OpenD's health: refresh it after every (re)connect from now on."""
        self._wanted.set()

    async def wait_wanted(self) -> None:
        """Return once :meth:`want` has been called."""
        await self._wanted.wait()

    # -- what arrives --------------------------------------------------------

    def on_push(self, frame: Frame) -> None:
        """Every push of every connection: Notify becomes an event; all go to ``push_handler``."""
        if frame.proto_id == _NOTIFY:
            try:
                event = event_from_notify(frame.body, self._notify_warnings)
                if event is not None:
                    self._apply(event)
                    self.events.publish(event)
                    if self.on_event is not None:
                        self.on_event(event)
            except Exception:  # a bug here must neither end the connection nor skip the handler
                logger.exception("could not handle a Notify push")
        if self._push_handler is not None:
            self._push_handler(frame)  # the connection logs what it raises

    def on_state_changed(self, state: ConnectionState, previous: ConnectionState) -> None:
        """The session changed state: an event; a lost connection makes the status unknown."""
        self.epoch += 1
        if previous is ConnectionState.CONNECTED:
            # OpenD may change while we cannot hear it; only the quote rights
            # (which only a Notify reports) are kept.
            self._set(GatewayStatus(quote_rights=self.status.quote_rights))
        self.events.publish(ConnectionStateChanged(state=state, previous=previous))
        if state is ConnectionState.CLOSED:
            self.events.close()
        self._wake()  # wait_ready() also waits for the connection

    def on_global_state(self, state: GlobalState, asked_in: int) -> None:
        """A GetGlobalState answer (the client's refresh or a user's call), asked in ``asked_in``.

        Dropped if the session changed state since it was asked: it may be an
        answer from a connection that is gone, and would stand for the new one.
        """
        if asked_in != self.epoch:
            logger.debug("dropped a GetGlobalState answer asked on an earlier connection")
            return
        status = self.status.model_copy(
            update={
                "quote_logged_in": state.quote_logged_in,
                "trade_logged_in": state.trade_logged_in,
                "program_status": state.program_status or self.status.program_status,
            }
        )
        self._set(status)

    def _apply(self, event: Event) -> None:
        update = {
            name: value
            for name, value in state_changes(event).items()
            if name in GatewayStatus.model_fields  # not the quotas: the status has none
        }
        if update:
            self._set(self.status.model_copy(update=update))

    def _set(self, status: GatewayStatus) -> None:
        if status != self.status:
            self.status = status
            self._wake()

    # -- what callers use ----------------------------------------------------

    def explain(self, exc: AsyncQuoteError) -> None:
        """Add the gateway's status to ``exc`` if OpenD reports trouble right now."""
        if self.status.reports_trouble:
            add_gateway_status(exc, self.status)

    async def wait_changed(self) -> None:
        """Return after the next change of status or connection state (at once if closed)."""
        if self.events.closed:  # the session closed: nothing will change any more
            return
        changed = self._changed
        if changed is None:
            changed = self._changed = anyio.Event()
        await changed.wait()

    @property
    def refresh_pending(self) -> bool:
        """The refresh after the latest (re)connect is not over yet (or has not started)."""
        return self.refreshed != self.epoch

    def refresh_over(self, epoch: int) -> None:
        """The refresh of ``epoch`` is over, whatever it learnt; wakes who waits for it."""
        self.refreshed = epoch
        self._wake()

    def _wake(self) -> None:
        changed = self._changed
        if changed is not None:
            self._changed = None
            changed.set()
