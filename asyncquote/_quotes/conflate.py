"""A stream's buffer: bounded, conflating, and marking gaps. Pure data, no event loop.

Pushes are put in from the receive path, which must never wait, and a reader
takes them out at its own pace. A reader that falls behind wants the latest
state, not a backlog of stale ones, so an update put with a *key* (a
``(security, sub type)`` pair for QUOTE and ORDER_BOOK) replaces the update
of the same key still waiting, in its place in the queue; :attr:`superseded`
counts the updates replaced so. An update put with the key ``None`` (kinds
that must not be conflated, such as tickers) is always queued on its own.

Bounded always: at most ``capacity`` items wait (and one gap marker). When
full, the oldest waiting item is dropped and counted in :attr:`dropped`; the
gap marker never is. With keys only, a
capacity of at least the number of keys never drops anything (the client
sizes it so), since each key waits at most once.

**Gaps.** After a reconnect pushes may have been missed. :meth:`mark_gap`
queues one marker behind everything waiting; :meth:`pop` turns it into the
item ``gap_item(n)`` gives, ``n`` being the number of gaps it stands for
(two reconnects before the reader looked are one marker, moved behind what
arrived between them, with ``n == 2``). Everything the reader gets after the
marker arrived after the last gap: an update whose key still waits from
before the marker is moved behind it rather than replaced in place.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .._base.args import check_int

__all__ = ["ConflatingBuffer"]

T = TypeVar("T")


class _Gap:
    """The key of the gap marker (one at most waits)."""

    __slots__ = ()


class _Single:
    """The key of an item that is never conflated: unique per item."""

    __slots__ = ()


_GAP = _Gap()


class ConflatingBuffer(Generic[T]):
    """See the module docstring."""

    __slots__ = (
        "_capacity",
        "_entries",
        "_gap_item",
        "_gaps",
        "_position",
        "_since_gap",
        "dropped",
        "superseded",
    )

    def __init__(self, capacity: int, gap_item: Callable[[int], T]) -> None:
        self._capacity = check_int("capacity", capacity, minimum=1)
        self._gap_item = gap_item
        # key -> (position, item); ordered oldest first. Positions count puts,
        # so an entry is from before the waiting gap marker iff its position
        # is lower than the marker's.
        self._entries: OrderedDict[Hashable, tuple[int, T | None]] = OrderedDict()
        self._position = 0
        self._since_gap = 0  # position of the waiting gap marker (0: none waits)
        self._gaps = 0  # gaps the waiting marker stands for
        self.superseded = 0
        """Updates replaced by a newer one of the same key before being read."""
        self.dropped = 0
        """Items dropped (oldest first) because ``capacity`` items were waiting."""

    @property
    def capacity(self) -> int:
        """Most items that wait at once."""
        return self._capacity

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, key: Hashable | None, item: T) -> None:
        """Queue ``item``; with a ``key``, replacing the waiting item of that key."""
        self._position += 1
        entries = self._entries
        if key is None:
            key = _Single()
        else:
            waiting = entries.get(key)
            if waiting is not None:
                self.superseded += 1
                if waiting[0] > self._since_gap:
                    entries[key] = (waiting[0], item)  # keeps its place
                    return
                del entries[key]  # from before the gap: goes behind the marker
        if len(entries) - (self._gaps > 0) >= self._capacity:
            self._drop_oldest()
        entries[key] = (self._position, item)

    def mark_gap(self) -> None:
        """Updates may have been missed here: queue (or move back) the gap marker."""
        self._position += 1
        self._entries.pop(_GAP, None)
        self._entries[_GAP] = (self._position, None)
        self._since_gap = self._position
        self._gaps += 1

    def _drop_oldest(self) -> None:
        entries = self._entries
        key, entry = entries.popitem(last=False)
        if key is _GAP:  # the marker stays first; the item behind it goes
            entries.popitem(last=False)
            entries[_GAP] = entry
            entries.move_to_end(_GAP, last=False)
        self.dropped += 1

    def pop(self) -> T:
        """The oldest waiting item (a gap marker as ``gap_item(n)``).

        Raises:
            IndexError: nothing waits.
        """
        if not self._entries:
            raise IndexError("pop from an empty ConflatingBuffer")
        key, (_, item) = self._entries.popitem(last=False)
        if key is _GAP:
            gaps, self._gaps, self._since_gap = self._gaps, 0, 0
            return self._gap_item(gaps)
        return item  # type: ignore[return-value]  # only the marker holds None

    def clear(self) -> None:
        """Forget everything waiting (the counters stay)."""
        self._entries.clear()
        self._gaps = self._since_gap = 0
