"""``client.state_changes()``: the connection's states, as a view on the event broadcast.

There is one publisher of the connection's state changes: the
:class:`~asyncquote._client.monitor.GatewayMonitor`, which publishes each as a
:class:`~asyncquote.ConnectionStateChanged` to the subscribers of
``client.events()``. A :class:`StateChanges` is a subscription to that same
broadcast that takes only those events (Notify events take no room in its
buffer) and yields their ``state``. So it has the broadcast's bounds: a
reader that falls behind by more than ``buffer`` states loses the oldest
(counted in :attr:`StateChanges.dropped`), and one that never reads holds at
most ``buffer`` of them, however long the client runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .._base.states import ConnectionState
from .._io.broadcast import DEFAULT_BUFFER, Broadcast, Subscription
from .._models.events import ConnectionStateChanged, Event

__all__ = ["StateChanges", "watch_states"]


def _is_state_change(event: Event) -> bool:
    return isinstance(event, ConnectionStateChanged)


class StateChanges:
    """An async iterator of the states the connection enters; see the module docstring."""

    __slots__ = ("_events",)

    def __init__(self, events: Subscription[Event]) -> None:
        self._events = events

    @property
    def dropped(self) -> int:
        """States dropped (the oldest first) because the reader fell behind."""
        return self._events.dropped

    @property
    def pending(self) -> int:
        """States entered and not yet read."""
        return self._events.pending

    def __aiter__(self) -> StateChanges:
        return self

    async def __anext__(self) -> ConnectionState:
        event = await self._events.__anext__()
        assert isinstance(event, ConnectionStateChanged)  # the only kind accepted
        return event.state


@asynccontextmanager
async def watch_states(
    events: Broadcast[Event], buffer: int = DEFAULT_BUFFER
) -> AsyncIterator[StateChanges]:
    """Yield a :class:`StateChanges` on ``events``; leaving the block ends it."""
    async with events.subscribe(buffer, accept=_is_state_change) as subscription:
        yield StateChanges(subscription)
