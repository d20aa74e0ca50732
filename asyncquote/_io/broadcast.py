"""One publisher, any number of subscribers, each with a bounded buffer that drops its oldest.

:meth:`Broadcast.publish` is synchronous and never blocks nor raises: it is
called from the connection's receive path (inside the event loop's read
callback on asyncio) and from the session's state changes. Each
:class:`Subscription` keeps at most ``buffer`` items; when a slow reader
lets it fill up, the oldest item is dropped to make room and counted in
:attr:`Subscription.dropped`. So a reader sees the newest events, memory
stays bounded, and neither the publisher nor the other subscribers ever wait
for a slow one.

Works on asyncio (uvloop included) and trio: the only primitive is an
:class:`anyio.Event`, made by the waiting reader in its own task.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import anyio
import anyio.lowlevel

from .._base.args import check_int
from .._base.errors import UsageError

__all__ = ["DEFAULT_BUFFER", "Broadcast", "Subscription"]

logger = logging.getLogger("asyncquote.events")

T = TypeVar("T")

#: Items a subscription keeps for its reader unless told otherwise.
DEFAULT_BUFFER = 256


class Subscription(Generic[T]):
    """An async iterator of what was published since it subscribed.

    Iteration ends once the broadcast is closed and every buffered item has
    been read. One task reads it at a time: a second task that asks for an
    item while another is waiting for one gets :class:`UsageError` at once.
    """

    def __init__(self, buffer: int, accept: Callable[[T], bool] | None = None) -> None:
        self._items: deque[T] = deque()
        self._buffer = buffer
        self._accept = accept
        self._closed = False
        self._wakeup: anyio.Event | None = None
        self._reading = False  # a task is inside __anext__
        self.dropped = 0
        """Items dropped (the oldest first) because the buffer was full."""

    @property
    def buffer(self) -> int:
        """Most items kept for the reader."""
        return self._buffer

    @property
    def pending(self) -> int:
        """Items published and not yet read."""
        return len(self._items)

    def _put(self, item: T) -> None:
        if self._closed:
            return
        # A view on part of the broadcast: what it does not want takes no room.
        if self._accept is not None and not self._accept(item):
            return
        items = self._items
        if len(items) >= self._buffer:
            items.popleft()
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "an event subscriber is not keeping up; dropping its oldest events "
                    "(buffer of %d; see .dropped)",
                    self._buffer,
                )
        items.append(item)
        self._wake()

    def _close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set()

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        # One reader at a time: the subscription has a single wake-up slot,
        # and a second waiting reader would take it from the first, who would
        # then sleep through every item and the close. Tasks that each want
        # every item subscribe each; readers one after another are fine.
        if self._reading:
            raise UsageError(
                "this subscription is being read by another task already; one "
                "subscription has one reader at a time: subscribe once per task "
                "(each subscription gets every item)"
            )
        self._reading = True
        try:
            items = self._items
            if items:
                # A checkpoint all the same, so a reader of a full buffer lets
                # other tasks run (and can be cancelled) between items.
                await anyio.lowlevel.checkpoint()
            while not items:
                if self._closed:
                    raise StopAsyncIteration
                wakeup = self._wakeup = anyio.Event()
                await wakeup.wait()
            return items.popleft()
        finally:
            self._reading = False


class Broadcast(Generic[T]):
    """Hands every published item to every current subscription; see the module docstring."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription[T]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: nothing more will be published."""
        return self._closed

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscriptions)

    def publish(self, item: T) -> None:
        """Give ``item`` to every subscription (a full one drops its oldest). Never blocks."""
        for subscription in self._subscriptions:
            subscription._put(item)

    def close(self) -> None:
        """End every subscription (after its buffered items); later ones end at once."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription._close()

    @asynccontextmanager
    async def subscribe(
        self, buffer: int = DEFAULT_BUFFER, *, accept: Callable[[T], bool] | None = None
    ) -> AsyncIterator[Subscription[T]]:
        """Yield a :class:`Subscription` of at most ``buffer`` items; leaving the block ends it.

        ``accept``, if given, picks the items the subscription gets; the
        others take no room in its buffer. It runs in :meth:`publish` (so
        outside any task, possibly), must be cheap and must not raise.

        Raises:
            InvalidArgumentError: ``buffer`` is not an ``int`` >= 1.
        """
        check_int("buffer", buffer, minimum=1)
        subscription: Subscription[T] = Subscription(buffer, accept)
        if self._closed:
            subscription._close()
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            subscription._close()
