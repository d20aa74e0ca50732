"""Quota accounting: a pure sliding-window core and an async FIFO limiter on top.

OpenD counts, per account, the times requests *arrive*, and rejects a request
when ``max_calls`` arrived within the last ``period`` seconds. The client
cannot see arrival times: a request arrives some time between being sent and
its reply coming back. So a slot taken by a request is only known to be free
again ``period`` seconds after the *reply* arrived — never ``period`` after
sending. Until then it counts as used. A caller that gives up does not free
it: its request may still be sitting in the socket and arrive later (the
client releases the slot when the late reply comes, or when the connection
that carried the request closes).

:class:`SlidingWindow` is that bookkeeping with plain float timestamps and no
I/O, so it is tested with numbers. :class:`RateLimiter` puts callers in a
first-come first-served queue per protocol and lets each one through when its
protocol's window has room.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from .._base.args import check_duration
from .._base.errors import RateLimitError
from .._base.text import wire_text
from .._io.loop import clock as loop_clock
from .._opend.vocabulary import DEFAULT_QUOTAS, Quota, RetType, merge_quotas

__all__ = [
    "DEFAULT_QUOTAS",
    "Quota",
    "QuotaStatus",
    "RateLimiter",
    "SlidingWindow",
    "is_quota_rejection",
]

logger = logging.getLogger("asyncquote.ratelimit")


def is_quota_rejection(ret_type: int, message: str) -> bool:
    """True if an OpenD error reply means "over quota" rather than anything else.

    OpenD words it "<operation>频率太高，请求失败，每30秒最多10次。" in Chinese
    and says the request is "too frequent" in English. A ``message`` that is
    not a ``str`` (bytes that were not UTF-8 on the wire) is decoded first.
    """
    if message.__class__ is not str:
        message = wire_text(message)
    return ret_type == RetType.FAILED and (
        "频率太高" in message or "too frequent" in message.lower()
    )


#: How long a refusal blocks a protocol that OpenD documents no quota for and
#: the client counts no calls of: OpenD's longest documented window.
UNDOCUMENTED_REFUSAL_WINDOW = max(quota.period for quota in DEFAULT_QUOTAS.values())


def refusal_window(proto_id: int) -> float:
    """Seconds to wait after OpenD refused a ``proto_id`` call as over quota,
    when the client has no quota of its own for it: OpenD's documented window."""
    quota = DEFAULT_QUOTAS.get(proto_id)
    return UNDOCUMENTED_REFUSAL_WINDOW if quota is None else quota.period


class SlidingWindow:
    """Pure sliding-window bookkeeping for one quota. Times are plain floats.

    A slot is *in flight* from :meth:`on_sent` until :meth:`on_done`, and then
    *cooling* for ``period`` seconds. A slot is free when it is neither.
    """

    def __init__(self, quota: Quota) -> None:
        self.quota = quota
        self._in_flight = 0
        self._cooling: deque[float] = deque()  # times slots become free, ascending
        self._blocked_until = -math.inf

    def used(self, now: float) -> int:
        """Slots in flight or cooling down at ``now``."""
        self._expire(now)
        return self._in_flight + len(self._cooling)

    def delay(self, now: float) -> float:
        """Seconds from ``now`` until a slot is free: 0 if one is free now.

        ``math.inf`` means every slot is in flight: a slot frees only once a
        reply comes back, which no clock can predict.
        """
        self._expire(now)
        wait = 0.0
        if self._in_flight + len(self._cooling) >= self.quota.max_calls:
            wait = self._cooling[0] - now if self._cooling else math.inf
        return max(wait, self._blocked_until - now, 0.0)

    def on_sent(self, now: float) -> None:
        """Take a slot for a request sent at ``now``. Call only when ``delay(now) == 0``."""
        if self.delay(now) > 0:
            raise RuntimeError("SlidingWindow.on_sent() called with no free slot")
        self._in_flight += 1

    def on_done(self, now: float) -> None:
        """The request's reply arrived (or its connection closed) at ``now``."""
        if self._in_flight <= 0:
            raise RuntimeError("SlidingWindow.on_done() without a matching on_sent()")
        self._in_flight -= 1
        # Clocks are monotonic, so this is almost always an append; insort keeps
        # the order right even for a caller whose timestamps are not.
        bisect.insort(self._cooling, now + self.quota.period)

    def on_rejected(self, now: float) -> None:
        """The gateway said the quota is exhausted: nothing is free for a period."""
        self._blocked_until = max(self._blocked_until, now + self.quota.period)

    def _expire(self, now: float) -> None:
        cooling = self._cooling
        while cooling and cooling[0] <= now:
            cooling.popleft()


@dataclass(frozen=True)
class QuotaStatus:
    """A snapshot of one protocol's quota, from :meth:`RateLimiter.status`."""

    proto_id: int
    quota: Quota | None
    used: int
    queued: int
    next_free_in: float

    @property
    def throttled(self) -> bool:
        """True while callers are waiting or no slot is free."""
        return self.queued > 0 or self.next_free_in > 0


class _Waiter:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = anyio.Event()


class _ProtocolLimiter:
    """The FIFO queue and window of one protocol."""

    def __init__(self, proto_id: int, quota: Quota, clock: Callable[[], float]) -> None:
        self.proto_id = proto_id
        self.window = SlidingWindow(quota)
        self.queue: deque[_Waiter] = deque()
        self.clock = clock
        # Created lazily: anyio primitives need a running event loop.
        self._changed: anyio.Event | None = None
        self.throttling = False

    def _notify(self) -> None:
        # Wake whoever is at the head so it re-reads the window.
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def try_acquire(self) -> bool:
        if self.queue:
            return False
        now = self.clock()
        window = self.window
        if window.delay(now) != 0:
            return False
        window.on_sent(now)
        return True

    async def acquire(self, *, fail_fast: bool, queue_timeout: float | None) -> None:
        if self.try_acquire():
            return
        window = self.window
        if fail_fast:
            raise RateLimitError(self.proto_id, self._expected_wait())
        if not self.throttling:
            self.throttling = True
            logger.info(
                "protocol %d is at its quota (%s); queueing calls", self.proto_id, window.quota
            )
        waiter = _Waiter()
        self.queue.append(waiter)
        try:
            with anyio.fail_after(queue_timeout):
                while True:
                    if self.queue[0] is not waiter:
                        await waiter.event.wait()  # set when we reach the head
                        continue
                    wait = window.delay(self.clock())
                    if wait == 0:
                        break
                    if self._changed is None:
                        self._changed = anyio.Event()
                    changed = self._changed
                    with anyio.move_on_after(wait):
                        await changed.wait()
        except TimeoutError:
            raise RateLimitError(
                self.proto_id,
                self._expected_wait(),
                f"still queued after {queue_timeout:g} s (queue_timeout)",
            ) from None
        finally:
            was_head = self.queue[0] is waiter
            self.queue.remove(waiter)
            if was_head and self.queue:
                self.queue[0].event.set()
        # No await since the last check: the slot is still free.
        window.on_sent(self.clock())
        if not self.queue and self.throttling:
            self.throttling = False
            logger.info("protocol %d queue drained", self.proto_id)

    def release(self) -> None:
        self.window.on_done(self.clock())
        self._notify()

    def reject(self) -> None:
        self.window.on_rejected(self.clock())
        self._notify()

    def _expected_wait(self) -> float:
        """What a RateLimitError tells the caller to wait: never 0, which reads as "go now"."""
        quota = self.window.quota
        wait = self.window.delay(self.clock())
        if math.isinf(wait):
            return quota.period
        # A free window with callers queued ahead: they take the free slots
        # first; one slot's share of the window is the honest guess.
        return wait or quota.period / quota.max_calls


class RateLimiter:
    """Queues calls so that no protocol exceeds its quota.

    Callers of one protocol are served strictly first come, first served. A
    caller cancelled (or timed out) while queued takes no slot and does not
    delay the others. Share one limiter between clients that talk to the same
    gateway account: OpenD counts per account, not per connection. A limiter
    belongs to one event loop (its clock and waiters are the loop's), so the
    clients sharing it must run on the same loop.

    Args:
        quotas: overrides per protocol id, merged over :data:`DEFAULT_QUOTAS`
            by :func:`asyncquote._opend.vocabulary.merge_quotas`: ``None`` for a protocol
            turns its quota off. Protocols without a quota are not counted,
            and delayed only after OpenD refused one of their calls as over
            quota: for OpenD's documented window (:func:`refusal_window`).
        clock: seconds as a float; defaults to the clock of the event loop
            the limiter is first used on (taken then, inside a task), so
            virtual clocks in tests just work. Releases come from outside any
            task (a late reply is seen in the loop's read callback on asyncio),
            so the clock is a plain function of that loop, never a lookup of
            the running one.
    """

    def __init__(
        self,
        quotas: Mapping[int, Quota | None] | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._quotas = merge_quotas(quotas)
        self._clock = clock
        self._limiters: dict[int, _ProtocolLimiter] = {}
        # Protocols without a quota that OpenD refused: when (on the clock)
        # they may be tried again, and how many callers wait for that.
        self._refused: dict[int, float] = {}
        self._refusal_waiters: dict[int, int] = {}

    def _loop_clock(self) -> Callable[[], float]:
        """The clock; the first call (from a task) picks the running loop's."""
        # Not in __init__: only a task knows which loop it runs on. Every
        # method that can be the first to get here (try_acquire(), acquire(),
        # on_quota_rejection()) is called from a task; later ones, release()
        # from a loop callback included, use the clock picked then.
        clock = self._clock
        if clock is None:
            clock = self._clock = loop_clock()
        return clock

    def _now(self) -> float:
        return self._loop_clock()()

    def _refused_for(self, proto_id: int) -> float:
        """Seconds until a refused protocol without a quota may be tried again."""
        until = self._refused.get(proto_id)
        if until is None:
            return 0.0
        wait = until - self._now()
        if wait <= 0:
            del self._refused[proto_id]
            return 0.0
        return wait

    def quota_for(self, proto_id: int) -> Quota | None:
        """The quota that applies to ``proto_id``, or ``None``."""
        return self._quotas.get(proto_id)

    def _limiter(self, proto_id: int) -> _ProtocolLimiter | None:
        limiter = self._limiters.get(proto_id)
        if limiter is None:
            quota = self._quotas.get(proto_id)
            if quota is None:
                return None
            limiter = _ProtocolLimiter(proto_id, quota, self._loop_clock())
            self._limiters[proto_id] = limiter
        return limiter

    @asynccontextmanager
    async def slot(
        self, proto_id: int, *, fail_fast: bool = False, queue_timeout: float | None = None
    ) -> AsyncIterator[None]:
        """Hold one slot of ``proto_id``'s quota for the duration of the block.

        Send the request inside the block; the slot starts cooling down when
        the block exits (reply received, error, or cancellation).

        Args:
            fail_fast: raise :class:`RateLimitError` at once instead of queueing.
            queue_timeout: longest time to wait in the queue, in seconds;
                then :class:`RateLimitError`. ``None`` waits as long as it takes.
        """
        await self.acquire(proto_id, fail_fast=fail_fast, queue_timeout=queue_timeout)
        try:
            yield
        finally:
            self.release(proto_id)

    def try_acquire(self, proto_id: int) -> bool:
        """Take a slot of ``proto_id``'s quota if one is free and nobody is queued.

        Returns True (always, for a protocol without a quota) when the slot is
        taken; pair it with one :meth:`release`. False takes nothing: queue
        with :meth:`acquire`. The same as :meth:`slot`, for callers that cannot
        afford an async context manager per call.
        """
        # Dict lookups first: a protocol with a quota has its limiter after
        # its first call, one without has none (the quotas never change), and
        # _limiter() would be one more Python call per call.
        limiter = self._limiters.get(proto_id) or (
            self._limiter(proto_id) if proto_id in self._quotas else None
        )
        if limiter is not None:
            return limiter.try_acquire()
        return not self._refused or self._refused_for(proto_id) == 0

    async def acquire(
        self, proto_id: int, *, fail_fast: bool = False, queue_timeout: float | None = None
    ) -> None:
        """Wait for a slot of ``proto_id``'s quota, in FIFO order; pair with :meth:`release`.

        Raises:
            RateLimitError: see :meth:`slot`; nothing is taken then.
            InvalidArgumentError: ``queue_timeout`` is not ``None`` or a number
                of seconds >= 0 (``0``: do not wait; ``math.inf``: no limit).
        """
        if queue_timeout is not None:
            check_duration("queue_timeout", queue_timeout)
        limiter = self._limiter(proto_id)
        if limiter is not None:
            await limiter.acquire(fail_fast=fail_fast, queue_timeout=queue_timeout)
        elif self._refused:
            await self._wait_out_refusal(proto_id, fail_fast=fail_fast, queue_timeout=queue_timeout)

    async def _wait_out_refusal(
        self, proto_id: int, *, fail_fast: bool, queue_timeout: float | None
    ) -> None:
        """Wait until a protocol without a quota that OpenD refused may be tried again."""
        wait = self._refused_for(proto_id)
        if wait == 0:
            return
        if fail_fast:
            raise RateLimitError(proto_id, wait, "OpenD refused it as over quota")
        waiters = self._refusal_waiters
        waiters[proto_id] = waiters.get(proto_id, 0) + 1
        try:
            with anyio.fail_after(queue_timeout):
                while wait > 0:  # a later refusal may have moved the time on
                    await anyio.sleep(wait)
                    wait = self._refused_for(proto_id)
        except TimeoutError:
            raise RateLimitError(
                proto_id,
                self._refused_for(proto_id),
                f"still queued after {queue_timeout:g} s (queue_timeout)",
            ) from None
        finally:
            waiters[proto_id] -= 1
            if not waiters[proto_id]:
                del waiters[proto_id]

    def releaser(self, proto_id: int) -> Callable[[], None] | None:
        """What releases one slot of ``proto_id``; ``None`` if it has no quota.

        The same as ``partial(release, proto_id)``, for a caller that hands
        the release to whoever learns when the request is settled.
        """
        limiter = self._limiters.get(proto_id)
        return None if limiter is None else limiter.release

    def release(self, proto_id: int) -> None:
        """Give back a slot taken by :meth:`acquire` or :meth:`try_acquire`.

        Call it once the reply arrived or the call failed: the slot starts
        cooling down now.
        """
        limiter = self._limiters.get(proto_id)
        if limiter is not None:
            limiter.release()

    def on_quota_rejection(self, proto_id: int) -> None:
        """Record that the gateway rejected a ``proto_id`` call as over quota."""
        limiter = self._limiter(proto_id)
        if limiter is not None:
            limiter.reject()
            return
        # The client does not count this protocol, but OpenD does: a refusal
        # means "wait", here for OpenD's window, as retrying at once would
        # only be refused again.
        until = self._now() + refusal_window(proto_id)
        self._refused[proto_id] = max(self._refused.get(proto_id, until), until)

    def status(self, proto_id: int) -> QuotaStatus:
        """Used slots, queue length and seconds until the next free slot."""
        limiter = self._limiters.get(proto_id)
        if limiter is None:
            wait = self._refused_for(proto_id) if self._refused else 0.0
            queued = self._refusal_waiters.get(proto_id, 0)
            return QuotaStatus(proto_id, self._quotas.get(proto_id), 0, queued, wait)
        now = limiter.clock()
        return QuotaStatus(
            proto_id,
            limiter.window.quota,
            limiter.window.used(now),
            len(limiter.queue),
            limiter.window.delay(now),
        )
