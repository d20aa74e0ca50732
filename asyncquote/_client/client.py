"""The typed OpenD methods of :class:`QuoteClient`: watchlists, read and edited.

Each method checks its arguments (nothing is sent on a bad one), builds the
protobuf request and hands it to :class:`~asyncquote._client.core.ClientCore`
(quota, connection, deadline, retries). ``get_user_security`` adds what
makes polling cheap: concurrent calls for a group share one request
(single-flight), the last result of recent groups is kept for ``max_age`` and
reused when a reply is byte-identical, and entries seen before are not
decoded again. Invariant (read-your-writes): once an edit has returned, no
read shares a request sent before it or returns a result kept from before it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache, partial
from typing import NamedTuple

import anyio
import anyio.lowlevel

from .._base.args import check_duration
from .._base.errors import InvalidArgumentError, RequestTimeoutError
from .._io.session import ConnectionState, Session
from .._io.taskgroups import single_errors
from .._models.convert import security_to_pb, watchlist_groups_from_pb
from .._models.groups import WatchlistGroup, check_group_name, group_key
from .._models.watchlist import Security, SecurityStaticInfo
from .._opend.codec import Unfinished
from .._opend.framing import Frame
from .._opend.vocabulary import GroupType, ModifyOp, ProtoId
from .._pb import Qot_GetUserSecurity_pb2, Qot_GetUserSecurityGroup_pb2, Qot_ModifyUserSecurity_pb2
from .._quotes.client import LiveQuotesClient
from .._quotes.follow import follow_user_security
from .._quotes.live import LiveQuotes
from .core import running_loop
from .entry_cache import EntryCache, ReplyDecoding
from .monitor import GatewayMonitor
from .options import ClientOptions
from .singleflight import SingleFlight
from .watch import DEFAULT_QUOTA_SHARE, WatchlistWatcher, check_watch_args, poll_period

__all__ = ["QuoteClient"]

logger = logging.getLogger("asyncquote.client")

#: Most groups whose last result is kept (for ``max_age`` and reuse).
_CACHED_GROUPS = 64


def _checked_group(group_name: object) -> tuple[str, bytes]:
    """``group_name`` checked (or InvalidArgumentError): its group key, the request's body."""
    request = Qot_GetUserSecurity_pb2.Request()
    request.c2s.groupName = name = check_group_name(group_name)
    return group_key(name), request.SerializeToString()


# A name already checked costs no Python call (lru_cache is C; a refusal is not
# cached). Exact str only: an unhashable name must still get InvalidArgumentError,
# and ``typed`` keeps a str subclass or SystemGroup apart from the plain str.
_checked_str_group = lru_cache(maxsize=256, typed=True)(_checked_group)


_Fetch = Callable[[float, Callable[[], None]], Awaitable[list[SecurityStaticInfo]]]
#: What a get_user_security call that needs a request runs: its single-flight
#: key (group, edits returned so far), the fetch, and the caller's timeout.
_FetchPlan = tuple[tuple[str, int], _Fetch, float]


class _Result(NamedTuple):
    fetched_at: float
    digest: bytes
    items: list[SecurityStaticInfo]
    edits: int  # QuoteClient._edits when the request was sent


class _Slices(Unfinished[list[SecurityStaticInfo]]):
    """The rest of a large 3213 reply, decoded a slice at a time, then kept by ``done``."""

    __slots__ = ("_decoding", "_done")

    def __init__(
        self,
        decoding: ReplyDecoding,
        done: Callable[[list[SecurityStaticInfo]], list[SecurityStaticInfo]],
    ) -> None:
        self._decoding = decoding
        self._done = done

    async def finish(self) -> list[SecurityStaticInfo]:
        decoding = self._decoding
        while True:
            await anyio.lowlevel.checkpoint()  # other tasks run between slices
            if decoding.step():
                return self._done(decoding.models)


def _securities(securities: Iterable[Security | str]) -> list[Security]:
    if isinstance(securities, (str, Security)):
        raise InvalidArgumentError(
            "securities must be a list of Security objects or codes like 'HK.00700', "
            f"not a single {type(securities).__name__}"
        )
    try:
        items = list(securities)
    except TypeError:
        raise InvalidArgumentError(
            f"securities must be an iterable, not {type(securities).__name__}"
        ) from None
    if not items:
        raise InvalidArgumentError("securities must not be empty")
    parsed: list[Security] = []
    for item in items:
        if isinstance(item, Security):
            parsed.append(item)
        elif isinstance(item, str):
            parsed.append(Security.parse(item))
        else:
            raise InvalidArgumentError(
                f"each security must be a Security or a code like 'HK.00700', not {item!r}"
            )
    return parsed


class QuoteClient(LiveQuotesClient):
    """A client for OpenD's quote protocols over one multiplexed connection.

    Obtain one with :func:`connect`. Every method may be called from any
    number of tasks at once; requests share the connection and are matched
    to their replies by serial number.
    """

    def __init__(
        self, session: Session, options: ClientOptions, monitor: GatewayMonitor, live: LiveQuotes
    ) -> None:
        super().__init__(session, options, monitor, live)
        # Keyed by (group, edits): a read never joins a request sent before
        # an edit that has since returned (read-your-writes). Each caller
        # keeps its own timeout; a leader's timeout is its own business.
        self._flights: SingleFlight[tuple[str, int], list[SecurityStaticInfo]] = SingleFlight(
            personal=(RequestTimeoutError,), expired=self._flight_expired, clock=self._now
        )
        # Edits (3214) that have returned, successfully or not.
        self._edits = 0
        # The last result of the most recent _CACHED_GROUPS groups: when it
        # was fetched (for max_age), the SHA-1 of the reply it came from, and
        # the models. A reply identical to the last one (same SHA-1, which
        # the frame header carries) reuses the models instead of decoding
        # again: polling an unchanged watchlist costs almost no CPU.
        self._results: OrderedDict[str, _Result] = OrderedDict()
        # Entries decoded before, by their bytes: a changed reply still
        # repeats most entries (and "All" repeats every other group's).
        self._entries = EntryCache()

    def _flight_expired(self, key: tuple[str, int], timeout: float) -> Exception:
        """The error of a caller that gave up on a shared request at its own deadline."""
        exc = RequestTimeoutError(
            f"no watchlist {key[0]!r} from OpenD within {timeout:g} s (this call's timeout; "
            "it was sharing a request already in flight, which goes on for the others)"
        )
        self._gateway.explain(exc)  # as a timeout of its own request would say
        return exc

    def _edited(self) -> None:
        # Read-your-writes: results kept for max_age and reads in flight may
        # be stale, for any group (system groups mirror custom ones). Later
        # reads neither use them nor join them.
        self._edits += 1
        self._results.clear()

    async def get_user_security(
        self,
        group_name: str,
        *,
        max_age: float | None = None,
        timeout: float | None = None,
    ) -> list[SecurityStaticInfo]:
        """Return the securities in the watchlist group ``group_name`` (protocol 3213).

        Concurrent calls for the same group share one request (a system
        group's Chinese and English names count as the same group), so fifty
        callers cost one request of quota, not fifty. Each caller keeps its
        own ``timeout``: one that runs out stops waiting while the request
        goes on for the others, and a caller whose shared request timed out
        or was cancelled for its sender carries on with a request of its own.

        Read-your-writes: a call that starts after
        :meth:`modify_user_security` returned (for any group, since system
        groups mirror custom ones) never shares a request sent before that
        edit, and ``max_age`` never returns such a result.

        Each call gets its own list, but the (immutable) models in it may be
        shared with earlier results: an entry the client has decoded before,
        in any group, is recognised by its bytes and not decoded again.

        Args:
            group_name: a custom group's name, or a system group's name in
                Chinese or English (``"全部"`` / ``"All"``, or
                :class:`SystemGroup`). When several groups share a name,
                OpenD uses the first.
            max_age: return the last result for this group if it is no older
                than this many seconds, without a request (the last results
                of the 64 most recently fetched groups are kept). ``0``
                accepts only a result from this very instant (in practice:
                always ask); ``math.inf`` accepts any kept result.
            timeout: seconds for the connection and the reply, once the
                quota lets the call through (see :meth:`request`); defaults
                to the client's. Must be > 0; ``math.inf`` waits for ever.

        Raises:
            InvalidArgumentError: ``group_name`` is not a non-empty string, is
                not plain text (control characters, lone surrogates), or
                names a group OpenD never returns (Positions, Mutual Fund,
                Forex); or ``max_age``/``timeout`` is not a valid number of
                seconds (NaN, negative, a bool, not a number). Nothing is sent.
            UsageError: called from another event loop than the client's.
            OpenDError: OpenD refused, e.g. an unknown group.
            RateLimitError: see :meth:`request`.
            RequestTimeoutError: see :meth:`request`.
            ConnectionLostError: see :meth:`request`.
            ProtocolError: see :meth:`request`.
        """
        plan = self._plan_get_user_security(group_name, max_age, timeout)
        if isinstance(plan, list):
            return plan  # a kept result (max_age)
        flight = self._flights.run(plan[0], plan[1], plan[2])
        del plan  # not kept while the call waits
        # Each caller gets its own list; the models in it are immutable.
        return list(await flight)

    def _plan_get_user_security(
        self, group_name: str, max_age: float | None, timeout: float | None
    ) -> list[SecurityStaticInfo] | _FetchPlan:
        """Check the arguments; a kept result for ``max_age``, or what to run.

        Everything but the await lives here, so that the frame every call in
        flight keeps suspended (get_user_security's) holds few variables.
        """
        if running_loop() is not self._loop or self._trio is not None:
            self._check_loop()
        if type(group_name) is str:
            key, body = _checked_str_group(group_name)
        else:
            key, body = _checked_group(group_name)
        if max_age is not None:
            check_duration("max_age", max_age)
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        results = self._results
        edits = self._edits
        if max_age is not None:
            cached = results.get(key)
            # Never a result from a request sent before an edit that returned since.
            if (
                cached is not None
                and cached.edits == edits
                and self._now() - cached.fetched_at <= max_age
            ):
                results.move_to_end(key)
                return list(cached.items)

        def decode(
            frame: Frame,
        ) -> list[SecurityStaticInfo] | Unfinished[list[SecurityStaticInfo]]:
            digest = frame.body_sha1
            previous = results.get(key)
            if previous is not None and previous.digest == digest:
                # The very same reply as last time.
                return self._keep(key, edits, digest, previous.items)
            decoding = self._entries.start(frame.body)
            if decoding.step():  # the first slice: all of a reply of usual size
                return self._keep(key, edits, digest, decoding.models)
            return _Slices(decoding, partial(self._keep, key, edits, digest))

        # A partial rather than a closure coroutine: one frame fewer held by
        # every call in flight.
        fetch = partial(self._exchange, ProtoId.GET_USER_SECURITY, body, decode)
        wait = self._request_timeout if timeout is None else timeout
        return (key, edits), fetch, wait

    def _keep(
        self, key: str, edits: int, digest: bytes, items: list[SecurityStaticInfo]
    ) -> list[SecurityStaticInfo]:
        """Keep ``items`` as ``key``'s last result (for max_age and reuse); return them."""
        if edits == self._edits:  # else an edit returned meanwhile: may be stale
            results = self._results
            results[key] = _Result(self._now(), digest, items, edits)
            results.move_to_end(key)
            if len(results) > _CACHED_GROUPS:
                results.popitem(last=False)
        return items

    async def get_user_security_group(
        self, group_type: GroupType = GroupType.ALL, *, timeout: float | None = None
    ) -> list[WatchlistGroup]:
        """List the watchlist groups (protocol 3222).

        Args:
            group_type: :attr:`GroupType.CUSTOM`, :attr:`GroupType.SYSTEM` or
                :attr:`GroupType.ALL` (default).
            timeout: as for :meth:`get_user_security`.

        Raises:
            InvalidArgumentError: ``group_type`` is not a :class:`GroupType`,
                or a bad ``timeout``; nothing is sent.
            UsageError: called from another event loop than the client's.
            OpenDError: OpenD refused.
            RateLimitError: see :meth:`request`.
            RequestTimeoutError: see :meth:`request`.
            ConnectionLostError: see :meth:`request`.
            ProtocolError: see :meth:`request`.
        """
        if running_loop() is not self._loop or self._trio is not None:
            self._check_loop()
        if isinstance(group_type, bool) or group_type not in tuple(GroupType):
            raise InvalidArgumentError(f"group_type must be a GroupType, not {group_type!r}")
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        request = Qot_GetUserSecurityGroup_pb2.Request()
        request.c2s.groupType = int(group_type)
        response = await self.request(
            ProtoId.GET_USER_SECURITY_GROUP,
            request,
            Qot_GetUserSecurityGroup_pb2.Response,
            timeout=timeout,
        )
        return watchlist_groups_from_pb(response.s2c.groupList)

    async def modify_user_security(
        self,
        group_name: str,
        op: ModifyOp,
        securities: Iterable[Security | str],
        *,
        timeout: float | None = None,
    ) -> None:
        """Add securities to a group, or delete them, or move them out (protocol 3214).

        Args:
            group_name: the group to edit (OpenD refuses system groups).
            op: :attr:`ModifyOp.ADD`, :attr:`ModifyOp.DELETE` (from the
                watchlist altogether) or :attr:`ModifyOp.MOVE_OUT` (from this
                group only).
            securities: :class:`Security` objects or codes like ``"HK.00700"``.
            timeout: as for :meth:`get_user_security`.

        Raises:
            InvalidArgumentError: bad group name, op, timeout, an empty list or
                a malformed code or unknown market prefix; nothing is sent.
            UsageError: called from another event loop than the client's.
            OpenDError: OpenD refused (unknown group, system group, ...).
            RateLimitError: see :meth:`request`.
            RequestTimeoutError: see :meth:`request`.
            ConnectionLostError: see :meth:`request`.
            ProtocolError: see :meth:`request`.
        """
        if running_loop() is not self._loop or self._trio is not None:
            self._check_loop()
        name = check_group_name(group_name, queryable=False)
        if isinstance(op, bool) or op not in tuple(ModifyOp):
            raise InvalidArgumentError(f"op must be a ModifyOp, not {op!r}")
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        parsed = _securities(securities)
        request = Qot_ModifyUserSecurity_pb2.Request()
        request.c2s.groupName = name
        request.c2s.op = int(op)
        request.c2s.securityList.extend(security_to_pb(security) for security in parsed)
        # request() takes care of read-your-writes for every 3214.
        await self.request(
            ProtoId.MODIFY_USER_SECURITY,
            request,
            Qot_ModifyUserSecurity_pb2.Response,
            timeout=timeout,
        )

    follow_user_security = follow_user_security  # (in its own module: _quotes/follow.py)

    @asynccontextmanager
    async def watch_user_security(
        self,
        groups: Sequence[str],
        *,
        interval: float = 30.0,
        quota_share: float = DEFAULT_QUOTA_SHARE,
    ) -> AsyncIterator[WatchlistWatcher]:
        """Watch groups for changes; yields an async iterator of events.

        ::

            async with client.watch_user_security(["HK", "Tech"], interval=10) as events:
                async for event in events:
                    if isinstance(event, asyncquote.WatchlistChange):
                        print(event.group, event.added, event.removed)

        The first :class:`WatchlistChange` of each group carries its full
        list (``initial=True``); later ones come only when something changed.
        A failed poll is yielded as a :class:`WatchError` and polling goes on,
        through reconnects too; once the client is closed (or a lost
        connection is not to be replaced), the iteration ends with
        :class:`ConnectionLostError`.
        Leaving the block stops polling.

        Polls go through this client's connection and quota limiter, spread
        evenly: each group is polled every ``interval`` seconds, stretched if
        need be so that the watcher uses at most ``quota_share`` of the 3213
        quota (half by default), leaving the rest for other calls. With
        OpenD's 10 per 30 s and 3 groups, that is one poll of each every 18 s.

        ``interval`` is in seconds, > 0 and finite; ``quota_share`` in (0, 1].

        Raises:
            InvalidArgumentError: no groups, a bad group name, interval or share.
            UsageError: called from another event loop than the client's.
        """
        self._check_loop()
        names = [
            check_group_name(group) for group in check_watch_args(groups, interval, quota_share)
        ]
        period = poll_period(
            len(names),
            interval,
            self._limiter.quota_for(ProtoId.GET_USER_SECURITY),
            quota_share,
        )
        if period > interval:
            logger.info(
                "polling each of %d groups every %.1f s instead of %.1f s to stay within "
                "%.0f%% of the quota",
                len(names),
                period,
                interval,
                quota_share * 100,
            )
        watcher = WatchlistWatcher(
            names,
            period,
            self.get_user_security,
            is_closed=lambda: self._session.state is ConnectionState.CLOSED,
        )
        async with single_errors(), anyio.create_task_group() as tg, watcher:
            tg.start_soon(watcher.run)
            try:
                yield watcher
            finally:
                tg.cancel_scope.cancel()
