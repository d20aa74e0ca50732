"""What ``client.subscribe()`` yields: an async iterator over one stream's updates.

The receive path puts pushes in (:meth:`QuoteStream._put`, synchronous,
never blocking, never raising: it runs inside the event loop's read
callback on asyncio); the reader takes them out. Between them sits a
:class:`~asyncquote._quotes.conflate.ConflatingBuffer`: QUOTE and
ORDER_BOOK updates are conflated per (security, type), so a slow reader gets
the newest state and memory stays bounded; :attr:`QuoteStream.superseded`
counts what it skipped.

**Decoded when read.** The receive path puts an update in as the protobuf
message the push carried (one parse, no model; see
:mod:`asyncquote._quotes.live`); the reader builds its model when it takes it,
in its own task. So a burst costs the reader only the models of the updates
it reads, and none of it holds up the event loop's read callback. An update
that cannot be decoded (a required field missing) is logged, at most once a
minute per kind with a count, and skipped: the reader gets the next item.

**Gaps.** After a reconnect the client subscribes again and OpenD pushes the
current state at once (``isFirstPush``), but updates between the loss and
the new subscription are lost. The stream says so in-band: the reader gets a
:class:`StreamGap` before any update from the new connection, and every
update after the marker is from after the reconnect. A marker is a separate
item (not a flag on the next update) so that a reader learns of the gap even
for a security that never updates again, and so the update models stay the
plain data OpenD sent. Several reconnects before the reader looks are one
marker (:attr:`StreamGap.reconnects` counts them).

Works on asyncio (uvloop included) and trio: the only primitive is an
:class:`anyio.Event`, made by the waiting reader in its own task.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Generic, TypeVar

import anyio
import anyio.lowlevel
from google.protobuf.message import Message

from .._base.errors import ProtocolError, UsageError
from .._client.throttle import WarningThrottle
from .._models.quote_convert import update_from_pb
from .._models.watchlist import _Model
from .conflate import ConflatingBuffer

__all__ = ["QuoteStream", "StreamDropped", "StreamGap"]

T = TypeVar("T")

logger = logging.getLogger("asyncquote.quotes")

#: Updates a reader of a busy stream takes between two yields to the event loop
#: (it checks for cancellation at each): bounds how long other tasks wait.
_YIELD_EVERY = 16


class StreamGap(_Model):
    """Updates may have been missed here: the connection to OpenD was lost and came back.

    Every update after it in the stream arrived on the new connection (whose
    first pushes are the current state, so nothing stale follows it).
    """

    reconnects: int
    """How many reconnects this marker stands for (several before the reader looked)."""


class StreamDropped(_Model):
    """Updates were dropped here: the stream's buffer was full.

    Only kinds that are never conflated fill a buffer (tickers: every trade
    is queued on its own) or, for K-lines, more closed bars than it holds.
    The dropped updates were the oldest waiting, so they came just before
    this marker; every update after it is in order, none missing between.
    """

    count: int
    """Updates dropped since the previous marker (``stream.dropped`` counts them all)."""


class QuoteStream(Generic[T]):
    """An async iterator of one subscription's updates; see the module docstring.

    Obtained from :meth:`QuoteClient.subscribe`. One task reads it at a
    time. The iteration ends when the block is left; if the client closes
    (or a lost connection is not to be replaced) it raises
    :class:`ConnectionLostError` once everything buffered was read.
    """

    def __init__(self, name: str, capacity: int) -> None:
        self._name = name
        self._buffer: ConflatingBuffer[T | StreamGap | Message] = ConflatingBuffer(capacity, _gap)
        self._closed = False
        self._error: BaseException | None = None
        self._wakeup: anyio.Event | None = None
        self._reading = False
        self._warnings: WarningThrottle | None = None
        self._dropped_told = 0
        self._unyielded = 0  # updates taken since the reader last let other tasks run
        self.gaps = 0
        """Reconnects this stream lived through (each one a possible gap)."""

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<QuoteStream {self._name!r}>"

    @property
    def name(self) -> str:
        """The stream's name, as ``client.subscriptions`` shows it."""
        return self._name

    @property
    def superseded(self) -> int:
        """Updates replaced by a newer one of the same security and type before being read."""
        return self._buffer.superseded

    @property
    def dropped(self) -> int:
        """Updates dropped because the buffer was full (never the case for conflated types
        while the buffer holds one update per subscribed pair, which it does by default;
        the case for tickers a reader does not keep up with). The reader learns of each
        drop in-band too, by a :class:`StreamDropped` where they happened."""
        return self._buffer.dropped

    @property
    def pending(self) -> int:
        """Items waiting to be read (gap marker included)."""
        return len(self._buffer)

    # -- the receive path's side (synchronous, never raising) -------------------

    def _put(self, key: Hashable | None, item: T | Message) -> None:
        if not self._closed:
            self._buffer.put(key, item)
            wakeup = self._wakeup  # _wake(), inline: this runs once per push
            if wakeup is not None:
                self._wakeup = None
                wakeup.set()

    def _gap(self) -> None:
        if not self._closed:
            self.gaps += 1
            self._buffer.mark_gap()
            self._wake()

    def _close(self, error: BaseException | None = None) -> None:
        if not self._closed:
            self._closed = True
            self._error = error
            self._wake()

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set()

    # -- the reader's side --------------------------------------------------

    def __aiter__(self) -> QuoteStream[T]:
        return self

    async def __anext__(self) -> T | StreamGap | StreamDropped:
        if self._reading:
            raise UsageError(
                "this quote stream is being read by another task already; a stream has "
                "one reader at a time: subscribe once per task (streams of the same "
                "securities share one OpenD subscription)"
            )
        self._reading = True
        try:
            buffer = self._buffer
            if len(buffer):
                # A reader of a busy stream can be cancelled between any two
                # updates, and lets other tasks run every _YIELD_EVERY updates:
                # a yield per update cost more than the rest of taking it, and
                # a read's updates wait behind each other's (issue 25).
                self._unyielded += 1
                if self._unyielded < _YIELD_EVERY:
                    await anyio.lowlevel.checkpoint_if_cancelled()
                else:
                    self._unyielded = 0
                    await anyio.lowlevel.checkpoint()
            while True:
                while not len(buffer):
                    if self._closed:
                        if self._error is not None:
                            raise self._error
                        raise StopAsyncIteration
                    wakeup = self._wakeup = anyio.Event()
                    await wakeup.wait()
                    self._unyielded = 0
                dropped = buffer.dropped - self._dropped_told
                if dropped:  # the oldest went: they were just before what waits now
                    self._dropped_told = buffer.dropped
                    return StreamDropped(count=dropped)
                item = buffer.pop()
                if not isinstance(item, Message):
                    return item
                # An update as the push carried it: its model is built here, in
                # the reader's task, and only for what the reader takes.
                try:
                    # A stream given protobuf updates is a QuoteStream[Update].
                    return update_from_pb(item)  # type: ignore[return-value]
                except ProtocolError as exc:
                    self._skip(item, exc)
                except Exception as exc:  # a bug must not end the stream either
                    logger.exception("could not decode an update of stream %s", self._name)
                    self._skip(item, exc)
        finally:
            self._reading = False

    def _skip(self, item: Message, error: BaseException) -> None:
        warnings = self._warnings
        if warnings is None:
            warnings = self._warnings = WarningThrottle(logger)
        kind = item.DESCRIPTOR.full_name
        warnings.warn(kind, "stream %s skipped an update OpenD sent: %s", self._name, error)


def _gap(reconnects: int) -> StreamGap:
    return StreamGap(reconnects=reconnects)
