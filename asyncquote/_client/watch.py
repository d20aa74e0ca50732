"""Watching watchlist groups for changes by polling, within a share of the quota.

OpenD has no push for watchlist edits, so a watcher polls. It polls through
the client, so it shares the client's connection and quota limiter; and it
paces itself so that it uses at most ``quota_share`` of the quota, leaving
the rest for the caller's own requests.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._base.args import check_duration
from .._base.errors import AsyncQuoteError, ConnectionLostError, InvalidArgumentError
from .._models.watchlist import Security, SecurityStaticInfo
from .._opend.vocabulary import Quota

__all__ = [
    "DEFAULT_QUOTA_SHARE",
    "WatchError",
    "WatchEvent",
    "WatchlistChange",
    "WatchlistWatcher",
    "poll_period",
]

logger = logging.getLogger("asyncquote.watch")

#: Fraction of a protocol's quota a watcher may use; the rest stays free for
#: the caller's own (ad-hoc) requests.
DEFAULT_QUOTA_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class WatchlistChange:
    """A group's contents changed (or were seen for the first time).

    Attributes:
        group: the group name as given to the watcher.
        added: securities in ``current`` that were not there before (on the
            first event: everything).
        removed: securities that were there before and are gone.
        current: the whole group now, in OpenD's order.
        initial: True for the first event of each group.
    """

    group: str
    added: tuple[SecurityStaticInfo, ...]
    removed: tuple[SecurityStaticInfo, ...]
    current: tuple[SecurityStaticInfo, ...]
    initial: bool


@dataclass(frozen=True, slots=True)
class WatchError:
    """One poll of ``group`` failed; the watcher carries on with the next.

    ``error`` is always an :class:`AsyncQuoteError`: anything else a poll
    raised (a bug) is wrapped in one, with the original as ``__cause__``.
    """

    group: str
    error: AsyncQuoteError


WatchEvent = WatchlistChange | WatchError
"""What a watcher yields."""

Fetch = Callable[[str], Awaitable[list[SecurityStaticInfo]]]


def poll_period(groups: int, interval: float, quota: Quota | None, quota_share: float) -> float:
    """Seconds between two polls of the same group.

    ``interval`` is what the caller asked for; it is stretched, if need be, so
    that ``groups`` polls per period use at most ``quota_share`` of ``quota``.
    """
    if quota is None:
        return interval
    allowed_calls = quota.max_calls * quota_share
    return max(interval, groups * quota.period / allowed_calls)


def diff(
    group: str, before: Sequence[SecurityStaticInfo] | None, now: Sequence[SecurityStaticInfo]
) -> WatchlistChange | None:
    """The change from ``before`` to ``now``; ``None`` if nothing changed."""
    current = tuple(now)
    if before is None:
        return WatchlistChange(group, current, (), current, initial=True)
    if tuple(before) == current:
        return None
    old: dict[Security, SecurityStaticInfo] = {item.basic.security: item for item in before}
    new_keys = {item.basic.security for item in current}
    added = tuple(item for item in current if item.basic.security not in old)
    removed = tuple(item for key, item in old.items() if key not in new_keys)
    return WatchlistChange(group, added, removed, current, initial=False)


class WatchlistWatcher:
    """Polls groups and yields :data:`WatchEvent` s. Use via
    ``QuoteClient.watch_user_security``, which owns its task.

    Iterate it with ``async for``. A failed poll of one group is yielded as
    a :class:`WatchError` and polling goes on, a dropped connection included
    while the client reconnects; once the client is closed for good
    (``is_closed()`` says so), the iteration ends with
    :class:`ConnectionLostError`.
    """

    def __init__(
        self,
        groups: Sequence[str],
        period: float,
        fetch: Fetch,
        is_closed: Callable[[], bool] = lambda: True,
    ) -> None:
        if not groups:
            raise InvalidArgumentError("watch at least one group")
        self.groups: tuple[str, ...] = tuple(groups)
        self.period = period
        """Seconds between two polls of the same group."""
        self._fetch = fetch
        self._is_closed = is_closed
        self._last: dict[str, list[SecurityStaticInfo]] = {}
        send: MemoryObjectSendStream[WatchEvent]
        receive: MemoryObjectReceiveStream[WatchEvent]
        # A small buffer: a slow consumer slows polling down instead of
        # making events pile up.
        send, receive = anyio.create_memory_object_stream[WatchEvent](16)
        self._send, self._receive = send, receive
        self._failure: BaseException | None = None

    def __aiter__(self) -> WatchlistWatcher:
        return self

    async def __anext__(self) -> WatchEvent:
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            if self._failure is not None:
                raise ConnectionLostError(
                    f"stopped watching {', '.join(self.groups)}: {self._failure}"
                ) from self._failure
            raise StopAsyncIteration from None

    async def run(self) -> None:
        """Poll until cancelled or the connection is lost."""
        # The consumer may stop listening at any time: then there is nothing
        # left to do.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._run()

    async def _run(self) -> None:
        async with self._send:
            step = self.period / len(self.groups)
            # First round at once, so every group's initial event comes early;
            # then one poll every `step` seconds, round robin.
            for group in self.groups:
                if not await self._poll(group):
                    return
            next_at = anyio.current_time()
            while True:
                for group in self.groups:
                    next_at = max(next_at + step, anyio.current_time())
                    await anyio.sleep_until(next_at)
                    if not await self._poll(group):
                        return

    async def _poll(self, group: str) -> bool:
        try:
            items = await self._fetch(group)
        except ConnectionLostError as exc:
            if self._is_closed():
                self._failure = exc
                return False
            # The client is reconnecting: a transient failure like any other.
            logger.warning("polling watchlist %r failed: %s", group, exc)
            await self._send.send(WatchError(group, exc))
            return True
        except Exception as exc:
            # Any failed poll, even one that is a bug below us, is an event:
            # the watcher must outlive it.
            error = exc if isinstance(exc, AsyncQuoteError) else _unexpected(group, exc)
            logger.warning("polling watchlist %r failed: %s", group, error)
            await self._send.send(WatchError(group, error))
            return True
        change = diff(group, self._last.get(group), items)
        self._last[group] = items
        if change is not None:
            await self._send.send(change)
        return True

    async def aclose(self) -> None:
        """Stop delivering events."""
        await self._receive.aclose()

    async def __aenter__(self) -> WatchlistWatcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _unexpected(group: str, exc: Exception) -> AsyncQuoteError:
    error = AsyncQuoteError(
        f"polling watchlist {group!r} failed unexpectedly with {type(exc).__name__}: {exc} "
        "(please report this as a bug)"
    )
    error.__cause__ = exc
    return error


def check_watch_args(groups: Sequence[str], interval: float, quota_share: float) -> list[object]:
    """Validate the caller's watch arguments; return the groups as a list (unchecked names)."""
    if isinstance(groups, str | bytes):
        raise InvalidArgumentError("groups must be a sequence of names, not one str")
    if not isinstance(groups, Iterable):
        raise InvalidArgumentError(
            f"groups must be a sequence of group names, not {type(groups).__name__} {groups!r}"
        )
    names: list[object] = list(groups)
    if not names:
        raise InvalidArgumentError("watch at least one group")
    check_duration("interval", interval, positive=True, finite=True)
    if (
        isinstance(quota_share, bool)
        or not isinstance(quota_share, int | float)
        or not 0 < quota_share <= 1
    ):
        raise InvalidArgumentError(f"quota_share must be in (0, 1], not {quota_share!r}")
    return names
