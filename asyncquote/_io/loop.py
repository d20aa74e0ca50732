"""Per-call primitives as cheap as the running event loop allows.

anyio's portable primitives look up the backend on every use, which a
per-call hot path notices. These are chosen once, for the loop running the
caller: asyncio's own where it has them, anyio's otherwise (trio).

* A one-shot wake-up. Every call in flight waits on one, so its cost is paid
  per call: an ``anyio.Event`` on asyncio is an ``asyncio.Event`` behind a
  wrapper, with a deque of futures and two coroutine frames per wait (about
  0.9 KiB and several microseconds). On asyncio a bare future does the job.
* The clock: :func:`anyio.current_time` is the loop's ``time()`` on asyncio,
  reached through a backend lookup that costs a microsecond.

On trio, anyio's ``Event`` and ``current_time`` are trio's own behind the same
lookup (five Python calls each, several per call): trio's are used directly
(the run's own clock object for the time), taken from an already imported
trio (never imported here).
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable, Coroutine, Generator
from functools import partial
from typing import Any, Protocol

import anyio

__all__ = ["OneShot", "clock", "oneshot_factory", "running_asyncio_loop", "trio_wait_readable"]


def running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop running this task (any implementation), or None (trio)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class OneShot(Protocol):
    """Awaited by exactly one task; :meth:`set` wakes it (again is harmless)."""

    def set(self) -> None:
        """Wake the waiter; does nothing if already set or if the waiter gave up."""

    def __await__(self) -> Generator[Any, Any, None]: ...


class _FutureOneShot(asyncio.Future[None]):
    __slots__ = ()

    def set(self) -> None:
        # Done already if set before, or cancelled with its waiting task.
        if not self.done():
            self.set_result(None)


def _running_trio() -> Any | None:
    """The trio module if trio runs this task, else None (and trio is never imported)."""
    trio = sys.modules.get("trio")
    if trio is None:
        return None
    try:
        trio.lowlevel.current_task()
    except RuntimeError:  # imported, but not what runs this task
        return None
    return trio


class _Event(Protocol):
    """What anyio's and trio's events both have."""

    def set(self) -> None: ...

    def wait(self) -> Coroutine[Any, Any, Any]: ...


class _EventOneShot:
    __slots__ = ("_event",)

    def __init__(self, new_event: Callable[[], _Event] = anyio.Event) -> None:
        self._event = new_event()

    def set(self) -> None:
        self._event.set()

    def __await__(self) -> Generator[Any, Any, None]:
        return self._event.wait().__await__()


def oneshot_factory() -> Callable[[], OneShot]:
    """A maker of one-shots for the event loop running this task."""
    loop = running_asyncio_loop()
    if loop is None:
        trio = _running_trio()
        return _EventOneShot if trio is None else partial(_EventOneShot, trio.Event)

    # A partial, not a closure: calling it is no Python-level call, and
    # every request makes one.
    return partial(_FutureOneShot, loop=loop)


def clock() -> Callable[[], float]:
    """:func:`anyio.current_time` for the event loop running this task, minus the lookup."""
    loop = running_asyncio_loop()
    if loop is not None:
        return loop.time
    trio = _running_trio()
    if trio is None:
        return anyio.current_time
    # What trio.current_time reads, minus its two Python-level wrappers: the
    # clock is fixed for the run (a MockClock in tests), and so is the caller.
    return trio.lowlevel.current_clock().current_time  # type: ignore[no-any-return]


def trio_wait_readable() -> Callable[[socket.socket], Coroutine[Any, Any, None]] | None:
    """``trio.lowlevel.wait_readable`` if trio runs this task, else None."""
    trio = _running_trio()
    return None if trio is None else trio.lowlevel.wait_readable
