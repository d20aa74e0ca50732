"""Driving the simulated gateway's own state: pushes, logging out and in, scheduled changes.

One job: :class:`GatewayControl`, an object the :class:`~._server.Simulator`
owns, changes what the gateway says about itself
(:class:`~._gateway.GatewayState`, kept in the simulator's
:class:`~._state.ServerState`) and tells the clients that asked for
notifications, with Notify (1003) pushes as OpenD sends them. The
simulator's public methods (``push``, ``log_out``, ...) call it and
document what it does.

Invariants:

* Every push first updates the gateway state (:meth:`GatewayState.after`),
  so a GetGlobalState answered after :meth:`GatewayControl.push` returns
  agrees with what was pushed.
* Pushes never wait for a client (see :mod:`._peer` for the backlog and
  what happens to a client that stops reading).
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from .._models.events import GatewayEvent, LoginStatusChanged, ProgramStatusChanged
from .._models.health import ProgramStatus
from .._opend.health_vocabulary import GatewayEventType, ProgramStatusType
from ..sim import _texts as texts
from ._connections import Connections
from ._gateway import (
    GatewayState,
    NotifyEvent,
    StatusChange,
    program_status_after,
    status_named,
)
from ._notify import notify_body
from ._state import ServerState

__all__ = ["GatewayControl"]


class GatewayControl:
    """The gateway's own state and the Notify pushes that tell clients it changed.

    Args:
        state: the simulator's state, whose ``gateway`` this changes.
        table: the open connections, which the pushes go to.
    """

    def __init__(self, state: ServerState, table: Connections) -> None:
        self._state = state
        self._table = table

    @property
    def gateway(self) -> GatewayState:
        """What the gateway says about itself; assigning it tells no client."""
        return self._state.gateway

    @gateway.setter
    def gateway(self, gateway: GatewayState) -> None:
        if not isinstance(gateway, GatewayState):
            raise TypeError(f"gateway must be a GatewayState, not {type(gateway).__name__}")
        self._state.gateway = gateway

    @property
    def pushes_dropped(self) -> int:
        """Pushes not queued on a connection because it had not read the earlier ones."""
        return self._table.pushes_dropped

    def push(self, event: NotifyEvent) -> int:
        """Update the gateway state with ``event``, then push it; how many connections were told.

        Raises:
            TypeError: ``event`` is not a Notify model.
            ValueError: a number in ``event`` does not fit the protocol's field.
        """
        body = notify_body(event)
        self._state.gateway = self._state.gateway.after(event)
        return self._table.notify(body)

    def log_out(self, reason: GatewayEventType | None, description: str | None) -> int:
        """Push ``reason``'s event (if any), the status after it and a logout."""
        status = ProgramStatusType.FORCE_LOGOUT if reason is None else program_status_after(reason)
        return self._move(status, reason, description)

    def log_in(self) -> int:
        """Push program status ``READY`` and a login to quotes and trading."""
        return self._move(ProgramStatusType.READY, None, None)

    def change_status(self, status: str) -> int:
        """Move to the status named ``status``: :meth:`log_in` or :meth:`log_out`.

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

    async def run_status_changes(self, changes: Sequence[StatusChange]) -> None:
        """Make each change at its time, counted from now (the simulator's start)."""
        start = anyio.current_time()
        for change in sorted(changes, key=lambda change: change.after):
            await anyio.sleep_until(start + change.after)
            self.change_status(change.status)
