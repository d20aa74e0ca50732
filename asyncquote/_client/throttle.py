"""A logger of warnings that says each kind at most once per interval."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from .._io.loop import clock as loop_clock

__all__ = ["WARNING_INTERVAL", "WarningThrottle"]

#: Seconds between two warnings of one kind from a :class:`WarningThrottle`.
WARNING_INTERVAL = 60.0


class WarningThrottle:
    """Logs a warning of each kind at most once per ``interval`` seconds.

    The ones held back meanwhile are counted, and the next warning of that
    kind says how many there were. Called where pushes arrive, which on
    asyncio is the transport's read callback, outside any task: so the clock
    is the event loop's own (:func:`asyncquote._io.loop.clock`, taken on first
    use, on the loop the pushes arrive on), never one that needs a task.

    Args:
        log: where the warnings go.
        clock: seconds, monotonic; default the running event loop's.
        interval: seconds between two warnings of one kind.
    """

    def __init__(
        self,
        log: logging.Logger,
        *,
        clock: Callable[[], float] | None = None,
        interval: float = WARNING_INTERVAL,
    ) -> None:
        self._log = log
        self._clock = clock
        self._interval = interval
        self._next: dict[str, float] = {}  # kind → when it may be logged again
        self._held: dict[str, int] = {}  # kind → warnings held back since it was logged

    def warn(self, kind: str, message: str, *args: object) -> None:
        """Log ``message % args`` at WARNING, unless ``kind`` was logged within ``interval``."""
        clock = self._clock
        if clock is None:
            clock = self._clock = loop_clock()
        now = clock()
        if now < self._next.get(kind, -math.inf):
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        self._next[kind] = now + self._interval
        held = self._held.pop(kind, 0)
        if held:
            message += " (and %d more like it in the last %g s, not logged)"
            args = (*args, held, self._interval)
        self._log.warning(message, *args)
