"""Single-flight: concurrent calls for the same key share one execution."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import anyio

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Flight(Generic[V]):
    __slots__ = ("done", "error", "event", "value")

    def __init__(self) -> None:
        # Made only when a second caller waits: most calls have no company,
        # and an Event per call is a measurable share of a call's cost.
        self.event: anyio.Event | None = None
        self.done = False
        self.error: Exception | None = None
        self.value: V | None = None


class SingleFlight(Generic[K, V]):
    """Run ``fn`` once per key at a time; callers that arrive meanwhile share it.

    The first caller for a key (the leader) runs the call; later callers wait
    for its outcome and get the same value, or a copy of the same exception.
    If the leader is cancelled, the call did not finish for anyone: one of
    the waiters becomes the new leader and tries again.
    """

    def __init__(self) -> None:
        self._flights: dict[K, _Flight[V]] = {}

    def in_flight(self, key: K) -> bool:
        """True while a call for ``key`` is running."""
        return key in self._flights

    async def run(self, key: K, fn: Callable[[], Awaitable[V]]) -> V:
        """Return ``await fn()``, sharing the call with concurrent callers of ``key``."""
        while (flight := self._flights.get(key)) is not None:
            if flight.event is None:
                flight.event = anyio.Event()
            await flight.event.wait()
            if flight.done:
                return flight.value  # type: ignore[return-value]
            if flight.error is not None:
                raise _fresh(flight.error) from flight.error.__cause__
            # Neither: the leader was cancelled. Lead (or follow) a new call.

        # Leading is inline rather than a helper coroutine: every call in
        # flight holds each frame of its stack, so one frame fewer is memory
        # saved per call.
        # Not _Flight[V](): calling a subscripted generic costs a typing call.
        mine: _Flight[V] = _Flight()
        self._flights[key] = mine
        try:
            value = await fn()
        except Exception as exc:
            mine.error = exc
            raise
        else:
            mine.value = value
            mine.done = True
            return value
        finally:
            del self._flights[key]
            if mine.event is not None:
                mine.event.set()


def _fresh(error: Exception) -> Exception:
    # Each waiter raises its own copy: one exception object raised in many
    # tasks would collect all their tracebacks.
    try:
        return copy.copy(error)
    except Exception:
        return error
