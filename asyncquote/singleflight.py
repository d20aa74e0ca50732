"""Single-flight: concurrent calls for the same key share one execution."""

from __future__ import annotations

import copy
import math
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


def _timed_out(key: object, timeout: float) -> Exception:
    return TimeoutError(f"call for {key!r} did not finish within {timeout:g} s")


class SingleFlight(Generic[K, V]):
    """Run ``fn`` once per key at a time; callers that arrive meanwhile share it.

    The first caller for a key (the leader) runs the call; later callers
    (followers) wait for its outcome and get the same value, or a copy of the
    same exception. Every caller keeps its own timeout: a follower stops
    waiting at its own deadline (``expired(key, timeout)`` is raised) while
    the call goes on for the others. If the leader is cancelled, or fails
    with one of the ``personal`` errors (its own timeout), the call did not
    finish for anyone: a follower with time left becomes the new leader and
    tries again with the time it has left.

    Args:
        personal: exception types that concern only the caller that got
            them (e.g. its own timeout), not the shared call.
        expired: builds the exception a follower raises at its deadline.
    """

    def __init__(
        self,
        *,
        personal: tuple[type[Exception], ...] = (),
        expired: Callable[[K, float], Exception] = _timed_out,
    ) -> None:
        self._flights: dict[K, _Flight[V]] = {}
        self._personal = personal
        self._expired = expired

    def in_flight(self, key: K) -> bool:
        """True while a call for ``key`` is running."""
        return key in self._flights

    async def run(
        self, key: K, fn: Callable[[float], Awaitable[V]], timeout: float = math.inf
    ) -> V:
        """Return ``await fn(time_left)``, sharing the call with concurrent callers of ``key``.

        ``timeout`` is this caller's own, in seconds (``math.inf``: none); the
        leader passes what is left of it to ``fn``, which must enforce it.
        """
        left = timeout
        flight = self._flights.get(key)
        if flight is not None:
            # A follower: only followers pay for a deadline of their own.
            deadline = anyio.current_time() + timeout
            while flight is not None:
                if flight.event is None:
                    flight.event = anyio.Event()
                with anyio.move_on_after(deadline - anyio.current_time()):
                    await flight.event.wait()
                if flight.done:
                    return flight.value  # type: ignore[return-value]
                left = deadline - anyio.current_time()
                error = flight.error
                if left <= 0 or not flight.event.is_set():
                    raise self._expired(key, timeout)
                if error is not None and not isinstance(error, self._personal):
                    raise _fresh(error) from error.__cause__
                # The leader was cancelled or ran out of its own time: lead
                # (or follow) a new call with the time left.
                flight = self._flights.get(key)

        # Leading is inline rather than a helper coroutine: every call in
        # flight holds each frame of its stack, so one frame fewer is memory
        # saved per call.
        # Not _Flight[V](): calling a subscripted generic costs a typing call.
        mine: _Flight[V] = _Flight()
        self._flights[key] = mine
        try:
            value = await fn(left)
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
