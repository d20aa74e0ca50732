"""Driving the simulated gateway's own state: pushes, logging out and in, scheduled changes.

One job: the part of :class:`~._server.Simulator` that changes what the
gateway says about itself (:class:`~._gateway.GatewayState`) and tells the
clients that asked for notifications, with Notify (1003) pushes as OpenD
sends them.

Invariants:

* Every push first updates the gateway state (:meth:`GatewayState.after`),
  so a GetGlobalState answered after :meth:`GatewayControl.push` returns
  agrees with what was pushed.
* Pushes never wait for a client (see :mod:`._peer` for the backlog and
  what happens to a client that stops reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from .._models.events import GatewayEvent, LoginStatusChanged, ProgramStatusChanged
from .._models.health import ProgramStatus
from .._opend.health_vocabulary import GatewayEventType, ProgramStatusType
from ..sim import _texts as texts
from ._gateway import (
    GatewayState,
    NotifyEvent,
    StatusChange,
    program_status_after,
    status_named,
)
from ._notify import notify_body

if TYPE_CHECKING:
    from ._connections import Connections
    from ._state import ServerState

__all__ = ["GatewayControl"]


class GatewayControl:
    """:class:`~._server.Simulator`'s gateway state and Notify pushes.

    A base of :class:`~._server.Simulator` only, which sets the attributes
    below on construction.
    """

    _state: ServerState
    _table: Connections

    @property
    def gateway(self) -> GatewayState:
        """What the gateway says about itself: GetGlobalState's answer, and more.

        Assign a new :class:`~._gateway.GatewayState` to change it silently
        (as if the clients had missed the pushes); :meth:`push`,
        :meth:`log_out` and :meth:`log_in` change it and tell the clients.
        """
        return self._state.gateway

    @gateway.setter
    def gateway(self, gateway: GatewayState) -> None:
        if not isinstance(gateway, GatewayState):
            raise TypeError(f"gateway must be a GatewayState, not {type(gateway).__name__}")
        self._state.gateway = gateway

    @property
    def pushes_dropped(self) -> int:
        """Pushes not queued on a connection because it had not read the earlier ones.

        See :meth:`push`.
        """
        return self._table.pushes_dropped

    def push(self, event: NotifyEvent) -> int:
        """Push ``event`` as a Notify (1003) to every client that asked for notifications.

        The clients that asked are those whose InitConnect set
        ``recvNotify``; the push is encrypted like their replies, and goes
        out after the replies queued before it. The gateway state is
        updated first (a :class:`~asyncquote._models.events.LoginStatusChanged`
        changes what GetGlobalState reports, for example; see
        :meth:`GatewayState.after`).

        Call it from the simulator's event loop (from another thread, through
        a blocking portal: ``portal.call(sim.push, event)``). It never
        waits. Each connection's pushes are sent by a task of its
        own; a client that stops reading holds up only its own pushes, and
        once :data:`~._pushes.DEFAULT_PUSH_BACKLOG` (``push_backlog=``) of them
        wait for it (besides those of a send already under way), further
        ones are dropped for that client and counted in :attr:`pushes_dropped`.

        Args:
            event: a ``GatewayEvent``, ``ProgramStatusChanged``,
                ``LoginStatusChanged``, ``QuoteRightsChanged``,
                ``ApiQuotaChanged`` or ``UsedQuotaChanged``.

        Returns:
            How many connections the push was queued on.

        Raises:
            TypeError: ``event`` is not one of those models.
            ValueError: a number in ``event`` does not fit the protocol's field.
        """
        body = notify_body(event)
        self._state.gateway = self._state.gateway.after(event)
        return self._table.notify(body)

    def log_out(
        self,
        reason: GatewayEventType | None = GatewayEventType.KICKED_OUT,
        *,
        description: str | None = None,
    ) -> int:
        """Log the gateway out of Futu's servers, as OpenD kicked out by another login is.

        Pushes, in this order: a ``GatewayEvent`` of type ``reason`` (none
        if ``reason`` is ``None``), a ``ProgramStatusChanged`` to the status
        that follows it (``FORCE_LOGOUT`` for a kick-out, ``NEED_PHONE_VERIFY_CODE``
        for ``NEED_PHONE_VERIFY_CODE`` ...; see
        :func:`~._gateway.program_status_after`) and a ``LoginStatusChanged``
        logged out of quotes and trading. From then on quote calls (3213,
        3214, 3222) are refused with retType -1 and
        :func:`~._texts.not_logged_in`, until :meth:`log_in`.

        Args:
            reason: why, as OpenD's gateway event type.
            description: the event's and the status's text; the
                simulator's own by default, in its language.

        Returns:
            How many connections were told.
        """
        status = ProgramStatusType.FORCE_LOGOUT if reason is None else program_status_after(reason)
        return self._move(status, reason, description)

    def log_in(self) -> int:
        """Log the gateway back in: program status ``READY``, logged in to quotes and trading.

        Pushes a ``ProgramStatusChanged`` and a ``LoginStatusChanged``;
        quote calls succeed again.

        Returns:
            How many connections were told.
        """
        return self._move(ProgramStatusType.READY, None, None)

    def change_status(self, status: str) -> int:
        """Move the gateway to ``status``, one of :data:`~._gateway.GATEWAY_STATUSES`.

        ``"ready"`` is :meth:`log_in`; any other is :meth:`log_out` to that
        status, pushing its gateway event if it has one.

        Returns:
            How many connections were told.

        Raises:
            ValueError: ``status`` is not a known status.
        """
        program_status, reason = status_named(status)
        return self._move(program_status, reason, None)

    def _move(
        self,
        status: ProgramStatusType,
        reason: GatewayEventType | None,
        description: str | None,
    ) -> int:
        language = self._state.language
        if description is None and reason is not None:
            description = texts.gateway_event_description(reason.name, language)
        if reason is not None:
            self.push(GatewayEvent(type=reason, description=description or ""))
        self.push(
            ProgramStatusChanged(program_status=ProgramStatus(type=status, description=description))
        )
        ready = status is ProgramStatusType.READY
        return self.push(LoginStatusChanged(quote_logged_in=ready, trade_logged_in=ready))

    async def _run_status_changes(self, changes: Sequence[StatusChange]) -> None:
        """Make each change at its time, counted from now (the simulator's start)."""
        start = anyio.current_time()
        for change in sorted(changes, key=lambda change: change.after):
            await anyio.sleep_until(start + change.after)
            self.change_status(change.status)
