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
    __slots__ = ("changed", "clock", "done", "error", "started_at", "timeout", "value")

    def __init__(self, timeout: float, clock: Callable[[], float]) -> None:
        # Made only when a second caller waits: most calls have no company,
        # and an Event per call is a measurable share of a call's cost.
        self.changed: anyio.Event | None = None
        self.done = False
        self.error: Exception | None = None
        self.value: V | None = None
        self.clock = clock
        # The leader's own timeout, and when the call last got going (see
        # SingleFlight.run; None before): the call ends by their sum, one way
        # or another, unless it starts over (and says so).
        self.timeout = timeout
        self.started_at: float | None = None

    def start(self) -> None:
        """The call got going: followers' own timeouts run from now on."""
        self.started_at = self.clock()
        # _wake inline: a call per request saved while no one follows (the common case).
        if self.changed is not None:
            self._wake()

    def _wake(self) -> None:
        if self.changed is not None:
            self.changed.set()
            self.changed = None


def _timed_out(key: object, timeout: float) -> Exception:
    return TimeoutError(f"call for {key!r} did not finish within {timeout:g} s")


class SingleFlight(Generic[K, V]):
    """Run ``fn`` once per key at a time; callers that arrive meanwhile share it.

    The first caller for a key (the leader) runs the call; later callers
    (followers) wait for its outcome and get the same value, or a copy of the
    same exception. Every caller keeps its own timeout, counted from when
    the call got going (the leader says when, e.g. once a quota let it
    through: time spent queued before that counts for no one) or from when
    the caller arrived, whichever is later. A follower stops waiting at its
    own deadline (``expired(key, timeout)`` is raised) while the call goes
    on for the others. If the leader is cancelled, or fails
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
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._flights: dict[K, _Flight[V]] = {}
        self._personal = personal
        self._expired = expired
        # The event loop's clock (anyio.current_time's, minus the backend
        # lookup when the owner passes asyncquote._io.loop.clock()).
        self._clock = clock or anyio.current_time

    def in_flight(self, key: K) -> bool:
        """True while a call for ``key`` is running."""
        return key in self._flights

    async def run(
        self,
        key: K,
        fn: Callable[[float, Callable[[], None]], Awaitable[V]],
        timeout: float = math.inf,
    ) -> V:
        """Return ``await fn(time_left, started)``, shared with concurrent callers of ``key``.

        ``timeout`` is this caller's own, in seconds (``math.inf``: none); the
        leader passes what is left of it to ``fn``, which must enforce it, and
        calls ``started()`` when the call gets going (again if it starts over,
        e.g. after a quota refusal).
        """
        flight = self._flights.get(key)
        if flight is not None:
            # Following lives in its own method so that the frame every
            # leader in flight keeps (the common case) stays small.
            followed = await self._follow(key, flight, timeout)
            if not isinstance(followed, float):
                return followed.value  # type: ignore[return-value]
            timeout = followed  # lead with the time left

        # Leading is inline rather than a helper coroutine: every call in
        # flight holds each frame of its stack, so one frame fewer is memory
        # saved per call.
        # Not _Flight[V](): calling a subscripted generic costs a typing call.
        mine: _Flight[V] = _Flight(timeout, self._clock)
        self._flights[key] = mine
        try:
            value = await fn(timeout, mine.start)
        except Exception as exc:
            mine.error = exc
            raise
        else:
            mine.value = value
            mine.done = True
            return value
        finally:
            del self._flights[key]
            if mine.changed is not None:  # followers wait: tell them (else no call)
                mine._wake()

    async def _follow(self, key: K, flight: _Flight[V], timeout: float) -> _Flight[V] | float:
        """Wait for ``flight`` (and any that replaces it) within this caller's own timeout.

        Returns the flight that finished with a value, or the seconds left
        for this caller to lead a new call with. Raises the shared call's
        error, or ``expired(key, timeout)`` at this caller's deadline.
        """
        left = timeout
        # Only followers pay for a deadline of their own. Their
        # clock runs from when the call it joined last got going (or
        # from its arrival, if later); a call it leads or joins after
        # that one was abandoned does not start it over.
        clock = self._clock
        arrived = clock()
        joined = flight
        counting_from: float | None = None
        while True:
            while True:
                began = flight.started_at
                if began is not None and (counting_from is None or flight is joined):
                    counting_from = max(arrived, began)
                if self._flights.get(key) is not flight:
                    break  # it finished, failed or was abandoned
                deadline = math.inf if counting_from is None else counting_from + timeout
                now = clock()
                if now >= deadline:
                    raise self._expired(key, timeout)
                if flight.changed is None:
                    flight.changed = anyio.Event()
                if deadline == math.inf or (
                    began is not None and began + flight.timeout <= deadline
                ):
                    # No deadline yet, or the call ends (or says it started
                    # over) before this caller's: no timer needed. The
                    # common case, so a follower usually costs no cancel scope.
                    await flight.changed.wait()
                else:
                    with anyio.move_on_after(deadline - now):
                        await flight.changed.wait()
            if flight.done:
                return flight
            if counting_from is not None:
                left = counting_from + timeout - clock()
                if left <= 0:
                    raise self._expired(key, timeout)
            error = flight.error
            if error is not None and not isinstance(error, self._personal):
                raise _fresh(error) from error.__cause__
            # The leader was cancelled or ran out of its own time: lead
            # (or follow) a new call with the time left.
            next_flight = self._flights.get(key)
            if next_flight is None:
                return float(left)
            flight = next_flight


def _fresh(error: Exception) -> Exception:
    # Each waiter raises its own copy: one exception object raised in many
    # tasks would collect all their tracebacks.
    try:
        return copy.copy(error)
    except Exception:
        return error
