"""The typed public API: :func:`connect` and :class:`QuoteClient`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache, partial
from typing import NamedTuple, TypeVar

import anyio
from google.protobuf.message import Message

from ._args import check_duration, check_int
from ._codec import parse_response
from ._connection import Connection, ConnectionInfo, connect_with
from ._convert import security_to_pb, watchlist_groups_from_pb
from ._entry_cache import EntryCache
from ._errors import (
    ConnectionLostError,
    InvalidArgumentError,
    OpenDError,
    RateLimitError,
    RequestTimeoutError,
    UsageError,
)
from ._framing import DEFAULT_MAX_BODY_LEN, Frame
from ._groups import MAX_GROUP_NAME_LENGTH, WatchlistGroup, check_group_name, group_key
from ._loop import clock
from ._models import Security, SecurityStaticInfo
from ._opend import GroupType, ModifyOp, ProtoId, Quota
from ._options import (
    DEFAULT_CLIENT_VERSION,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEAD_PEER_FACTOR,
    DEFAULT_QUOTA_RETRIES,
    DEFAULT_REQUEST_TIMEOUT,
    ClientOptions,
    PushHandler,
    QuotaMode,
)
from ._pb import Qot_GetUserSecurity_pb2, Qot_GetUserSecurityGroup_pb2, Qot_ModifyUserSecurity_pb2
from ._ratelimit import QuotaStatus, RateLimiter, is_quota_rejection
from ._session import ConnectionState, ReconnectPolicy, Session
from ._singleflight import SingleFlight
from ._taskgroups import single_errors
from ._watch import DEFAULT_QUOTA_SHARE, WatchlistWatcher, check_watch_args, poll_period

__all__ = ["MAX_GROUP_NAME_LENGTH", "QuotaMode", "QuoteClient", "connect"]

logger = logging.getLogger("asyncquote.client")

M = TypeVar("M", bound=Message)

#: Most groups whose last result is kept (for ``max_age`` and reuse).
_CACHED_GROUPS = 64

R = TypeVar("R")

# asyncio's C-level lookup of the running loop: None under trio, and it never
# raises, so checking the caller's loop costs one call (see _check_loop).
_running_loop = asyncio._get_running_loop


def _trio_token() -> object | None:
    """The running trio run's token, or None (not under trio)."""
    trio = sys.modules.get("trio")  # never imported here: only a running trio has it
    if trio is None:
        return None
    try:
        token: object = trio.lowlevel.current_trio_token()
    except RuntimeError:
        return None
    return token


@lru_cache(maxsize=256)
def _get_user_security_body(group_name: str) -> bytes:
    # The same few groups are asked for over and over; bytes are immutable.
    request = Qot_GetUserSecurity_pb2.Request()
    request.c2s.groupName = group_name
    return request.SerializeToString()


_Fetch = Callable[[float, Callable[[], None]], Awaitable[list[SecurityStaticInfo]]]
#: What a get_user_security call that needs a request runs: its single-flight
#: key (group, edits returned so far), the fetch, and the caller's timeout.
_FetchPlan = tuple[tuple[str, int], _Fetch, float]


class _Result(NamedTuple):
    fetched_at: float
    digest: bytes
    items: list[SecurityStaticInfo]
    edits: int  # QuoteClient._edits when the request was sent


#: Calls that change nothing at the gateway, so resending one is harmless.
READ_ONLY_PROTOCOLS = frozenset(
    {
        ProtoId.GET_GLOBAL_STATE,
        ProtoId.KEEP_ALIVE,
        ProtoId.GET_USER_SECURITY,
        ProtoId.GET_USER_SECURITY_GROUP,
    }
)


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


def _flight_expired(key: tuple[str, int], timeout: float) -> Exception:
    return RequestTimeoutError(
        f"no watchlist {key[0]!r} from OpenD within {timeout:g} s (this call's timeout; "
        "it was sharing a request already in flight, which goes on for the others)"
    )


class QuoteClient:
    """A client for OpenD's quote protocols over one multiplexed connection.

    Obtain one with :func:`connect`. Every method may be called from any
    number of tasks at once; requests share the connection and are matched
    to their replies by serial number.
    """

    def __init__(self, session: Session, options: ClientOptions) -> None:
        self._session = session
        # Copied from the options: read by every call.
        self._request_timeout = options.request_timeout
        self._retry_reads = options.retry_reads
        self._info: ConnectionInfo | None = None
        self._limiter = options.rate_limiter
        self._fail_fast = options.on_quota == "raise"
        self._queue_timeout = options.queue_timeout
        self._quota_retries = options.quota_retries
        # Keyed by (group, edits): a read never joins a request sent before
        # an edit that has since returned (read-your-writes). Each caller
        # keeps its own timeout; a leader's timeout is its own business.
        self._flights: SingleFlight[tuple[str, int], list[SecurityStaticInfo]] = SingleFlight(
            personal=(RequestTimeoutError,), expired=_flight_expired
        )
        # Edits (3214) that have returned, successfully or not.
        self._edits = 0
        self._quota_waits: set[anyio.CancelScope] = set()
        # Closed for good (the block ended, or reconnecting is off or gave
        # up): callers queued for quota are failed at once.
        session.on_closed = self._close
        # The last result of the most recent _CACHED_GROUPS groups: when it
        # was fetched (for max_age), the SHA-1 of the reply it came from, and
        # the models. A reply identical to the last one (same SHA-1, which
        # the frame header carries) reuses the models instead of decoding
        # again: polling an unchanged watchlist costs almost no CPU.
        self._results: OrderedDict[str, _Result] = OrderedDict()
        # Entries decoded before, by their bytes: a changed reply still
        # repeats most entries (and "All" repeats every other group's).
        self._entries = EntryCache()
        self._now = clock()
        # The event loop this client lives in; using it from another one fails
        # with a UsageError instead of somewhere deep in asyncio or trio.
        self._loop = _running_loop()
        self._trio = _trio_token() if self._loop is None else None
        # Kept so that `info` still answers after the client is closed.
        current = session.current
        if current is not None:
            self._info = current.info

    def _check_loop(self) -> None:
        """Raise :class:`UsageError` unless called from this client's event loop."""
        loop = _running_loop()
        if loop is self._loop and (self._trio is None or _trio_token() is self._trio):
            return
        raise UsageError(
            "this QuoteClient belongs to the event loop it was connected in and cannot be "
            "used from another one (another thread or another asyncio.run/trio.run); "
            "connect a client in each loop, or hand calls to the client's loop (e.g. "
            "asyncio.run_coroutine_threadsafe or anyio.from_thread.run)"
        )

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter this client's calls go through (pass it to other clients to share it)."""
        return self._limiter

    def quota(self, proto_id: int) -> QuotaStatus:
        """Used slots, queued callers and seconds until a slot frees, for ``proto_id``."""
        check_int("proto_id", proto_id, minimum=0, maximum=0xFFFF_FFFF)
        return self._limiter.status(proto_id)

    async def request(
        self,
        proto_id: int,
        request: Message,
        response_type: type[M],
        *,
        timeout: float | None = None,
    ) -> M:
        """Send any OpenD protobuf request through this client's quota and connection.

        The timeout rule, for every call: the wait for a quota slot comes
        first and is bounded by the client's ``queue_timeout``, not by
        ``timeout``. From the moment the call has its slot, one deadline of
        ``timeout`` seconds covers everything else: waiting for a connection
        while the client reconnects, the time on the wire, and the one retry
        of a read after a drop. If OpenD still answers "too frequent", the
        window is marked full and the call is retried after it (up to
        ``quota_retries`` times, each with a fresh timeout), or
        :class:`RateLimitError` is raised in ``on_quota="raise"`` mode.

        Raises:
            OpenDError: ``retType != 0`` (other than a quota rejection).
            RateLimitError: quota exhausted and the client fails fast, the
                queue wait exceeded ``queue_timeout``, or retries ran out.
            RequestTimeoutError, ConnectionLostError, ProtocolError.
            InvalidArgumentError: a bad ``proto_id``, ``timeout`` (> 0;
                ``math.inf`` waits for ever), a ``request`` that is not a
                complete protobuf message or a ``response_type`` that is not
                a message class; nothing is sent.
            UsageError: called from another event loop than the client's.

        An edit sent this way (protocol 3214) counts for read-your-writes
        like :meth:`modify_user_security`. The reply is the message as
        protobuf parsed it: there, unlike in the typed methods' models, a
        string field holding bytes that are not UTF-8 is ``bytes``.
        """
        if _running_loop() is not self._loop or self._trio is not None:
            self._check_loop()
        check_int("proto_id", proto_id, minimum=0, maximum=0xFFFF_FFFF)
        if not isinstance(request, Message):
            raise InvalidArgumentError(f"request must be a protobuf message, not {request!r}")
        if not (isinstance(response_type, type) and issubclass(response_type, Message)):
            raise InvalidArgumentError(
                f"response_type must be a protobuf message class, not {response_type!r}"
            )
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        if not request.IsInitialized():
            # FindInitializationErrors exists on every runtime but not in the stubs.
            missing = ", ".join(request.FindInitializationErrors())  # type: ignore[attr-defined]
            raise InvalidArgumentError(
                f"request {request.DESCRIPTOR.full_name} lacks required fields: {missing}"
            )

        def decode(frame: Frame) -> M:
            return parse_response(response_type, frame.body, proto_id=proto_id)

        body = request.SerializeToString()
        if proto_id != ProtoId.MODIFY_USER_SECURITY:
            return await self._exchange(proto_id, body, decode, timeout)
        try:
            return await self._exchange(proto_id, body, decode, timeout)
        finally:
            # Read-your-writes, whatever the outcome (a timed-out edit may
            # still be applied): results kept for max_age and reads in flight
            # may be stale, for any group (system groups mirror custom ones).
            # Later reads neither use them nor join them.
            self._edits += 1
            self._results.clear()

    async def _exchange(
        self,
        proto_id: int,
        body: bytes,
        decode: Callable[[Frame], R],
        timeout: float | None,
        started: Callable[[], None] | None = None,
    ) -> R:
        """Send one request within quota and connection; ``decode`` its reply frame.

        ``decode`` raises :class:`OpenDError` for a refusal; a quota refusal
        is retried here. The timeout rule (see :meth:`request`): one deadline,
        from the moment the call has its quota slot, for waiting for a
        connection and for the reply, a read retried after a drop included.
        ``started`` is told each time that deadline is set (single-flight
        followers count their own timeouts from then).
        """
        # Few local variables: this frame is kept by every call in flight.
        wait = self._request_timeout if timeout is None else timeout
        rejections = 0
        may_retry_loss = self._retry_reads and proto_id in READ_ONLY_PROTOCOLS
        deadline: float | None = None
        lost: ConnectionLostError | None = None
        while True:
            # A closed client fails at once rather than after a quota wait.
            self._session.raise_if_closed()
            # The common case, a free slot, costs no await and no context manager.
            if not self._limiter.try_acquire(proto_id):
                await self._wait_for_quota(proto_id)
            # The slot stays taken until the request is settled (its reply
            # arrived or its connection closed), not until we stop waiting:
            # a request in the socket may still reach the gateway late.
            release = self._limiter.releaser(proto_id)
            if deadline is None:
                deadline = self._now() + wait
                if started is not None:
                    started()
            elif lost is not None and self._now() >= deadline:
                # A retry after a drop whose time went on waiting for quota:
                # sending it would spend quota on a call that is over.
                if release is not None:
                    release()
                raise lost
            try:
                # While reconnecting, wait for the new connection, within the
                # call's own deadline.
                connection = await self._session.connection(wait, deadline=deadline)
            except BaseException:
                if release is not None:
                    release()
                raise
            try:
                return decode(
                    await connection.request(
                        proto_id, body, timeout=wait, deadline=deadline, on_settled=release
                    )
                )
            except ConnectionLostError as exc:
                if not may_retry_loss or self._session.state is ConnectionState.CLOSED:
                    raise
                may_retry_loss = False  # once only, within the same deadline
                lost = exc
                logger.info("protocol %d lost with its connection; retrying once", proto_id)
            except OpenDError as exc:
                if not is_quota_rejection(exc.ret_type, exc.message):
                    raise
                rejections += 1
                self._on_quota_rejection(proto_id, exc, rejections)
                # The retry queues again, with a fresh timeout.
                deadline = None

    def _on_quota_rejection(self, proto_id: int, rejection: OpenDError, rejections: int) -> None:
        """OpenD refused a call as over quota: mark the window full; raise if out of retries."""
        limiter = self._limiter
        limiter.on_quota_rejection(proto_id)
        retry_after = limiter.status(proto_id).next_free_in
        if self._fail_fast or rejections > self._quota_retries:
            raise RateLimitError(proto_id, retry_after, rejection.message) from rejection
        logger.warning(
            "OpenD rejected protocol %d as over quota (%s); retrying in %.1f s (%d/%d)",
            proto_id,
            rejection.message,
            retry_after,
            rejections,
            self._quota_retries,
        )

    async def _wait_for_quota(self, proto_id: int) -> None:
        """Queue for a slot of ``proto_id``; closing the client ends the wait at once."""
        with anyio.CancelScope() as scope:
            self._quota_waits.add(scope)
            try:
                await self._limiter.acquire(
                    proto_id, fail_fast=self._fail_fast, queue_timeout=self._queue_timeout
                )
            finally:
                self._quota_waits.discard(scope)
        if scope.cancel_called:  # by _close()
            if not scope.cancelled_caught:
                self._limiter.release(proto_id)  # got it just as the client closed
            self._session.raise_if_closed()
            raise ConnectionLostError("the client was closed")  # not reached: closed above

    def _close(self) -> None:
        """The session closed: every caller queued for quota gets ConnectionLostError now."""
        for scope in list(self._quota_waits):
            scope.cancel()

    @property
    def connection(self) -> Connection:
        """The current connection (for diagnostics and advanced use).

        Raises:
            ConnectionLostError: there is none right now (reconnecting or closed).
        """
        current = self._session.current
        if current is None:
            raise ConnectionLostError(f"not connected to OpenD ({self.state.value})")
        return current

    @property
    def info(self) -> ConnectionInfo:
        """What the gateway reported in the latest handshake (conn id, user, versions).

        Still readable after the client is closed (the last handshake's).

        Raises:
            ConnectionLostError: no handshake has completed (a client made
                without :func:`connect` that never connected).
        """
        current = self._session.current
        if current is not None and current.info is not None:
            self._info = current.info
        if self._info is None:
            raise ConnectionLostError("no handshake with OpenD has completed yet; use connect()")
        return self._info

    @property
    def state(self) -> ConnectionState:
        """Where the connection stands: connecting, connected, reconnecting or closed."""
        return self._session.state

    @property
    def reconnects(self) -> int:
        """How many times a lost connection has been replaced."""
        return self._session.reconnects

    async def wait_for_state(self, state: ConnectionState) -> None:
        """Return once the client is in ``state`` (e.g. ``ConnectionState.CONNECTED``)."""
        if not isinstance(state, ConnectionState):
            raise InvalidArgumentError(f"state must be a ConnectionState, not {state!r}")
        self._check_loop()
        await self._session.wait_for(state)

    def state_changes(self) -> AbstractAsyncContextManager[AsyncIterator[ConnectionState]]:
        """Subscribe to state changes::

        async with client.state_changes() as states:
            async for state in states:
                print("OpenD connection:", state.value)
        """
        return self._session.subscribe()

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
            RequestTimeoutError, ConnectionLostError, ProtocolError.
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
        if _running_loop() is not self._loop or self._trio is not None:
            self._check_loop()
        name = check_group_name(group_name)
        if max_age is not None:
            check_duration("max_age", max_age)
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        key = group_key(name)
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

        def decode(frame: Frame) -> list[SecurityStaticInfo]:
            previous = results.get(key)
            if previous is not None and previous.digest == frame.body_sha1:
                items = previous.items  # the very same reply as last time
            else:
                items = self._entries.decode_reply(frame.body)
            if edits == self._edits:  # else an edit returned meanwhile: may be stale
                results[key] = _Result(self._now(), frame.body_sha1, items, edits)
                results.move_to_end(key)
                if len(results) > _CACHED_GROUPS:
                    results.popitem(last=False)
            return items

        # A partial rather than a closure coroutine: one frame fewer held by
        # every call in flight.
        body = _get_user_security_body(name)
        fetch = partial(self._exchange, ProtoId.GET_USER_SECURITY, body, decode)
        wait = self._request_timeout if timeout is None else timeout
        return (key, edits), fetch, wait

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
            OpenDError, RateLimitError, RequestTimeoutError,
            ConnectionLostError, ProtocolError.
        """
        if _running_loop() is not self._loop or self._trio is not None:
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
            RateLimitError, RequestTimeoutError, ConnectionLostError,
            ProtocolError.
        """
        if _running_loop() is not self._loop or self._trio is not None:
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


@asynccontextmanager
async def connect(
    host: str = "127.0.0.1",
    port: int = 11111,
    *,
    timeout: float = DEFAULT_REQUEST_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    client_id: str | None = None,
    client_version: int = DEFAULT_CLIENT_VERSION,
    push_handler: PushHandler | None = None,
    max_body_len: int = DEFAULT_MAX_BODY_LEN,
    keepalive: bool = True,
    quotas: Mapping[int, Quota | None] | None = None,
    rate_limiter: RateLimiter | None = None,
    on_quota: QuotaMode = "wait",
    queue_timeout: float | None = None,
    quota_retries: int = DEFAULT_QUOTA_RETRIES,
    reconnect: bool | ReconnectPolicy = True,
    retry_reads: bool = True,
    dead_peer_after: float | None = DEFAULT_DEAD_PEER_FACTOR,
    rsa_key: str | os.PathLike[str] | bytes | None = None,
) -> AsyncIterator[QuoteClient]:
    """Connect to OpenD and yield a ready :class:`QuoteClient`.

    Use it as ``async with asyncquote.connect(host, port) as client: ...``.
    The handshake has completed when the block starts; leaving the block
    closes the connection and stops every background task.

    Args:
        host, port: where OpenD listens (its default is ``127.0.0.1:11111``).
        timeout: default seconds for each call, from when the quota lets it
            through: one deadline for waiting for a connection (while
            reconnecting) and for the reply (see :meth:`QuoteClient.request`);
            > 0, ``math.inf`` waits for ever.
        connect_timeout: seconds for the TCP connect and for the handshake;
            > 0, ``math.inf`` waits for ever.
        client_id: the InitConnect clientID; a unique one is made by default.
        client_version: the InitConnect clientVer.
        push_handler: called synchronously for every push (e.g. Notify).
        max_body_len: largest reply body accepted, in bytes.
        keepalive: send KeepAlive at 4/5 of the gateway's interval.
        quotas: per-protocol quota overrides, merged over OpenD's defaults
            (10 per 30 s for 3213, 3222 and 3214); ``None`` turns one off,
            e.g. ``{3213: asyncquote.Quota(10, 30.0)}`` or ``{3213: None}``.
        rate_limiter: a :class:`RateLimiter` to share with other clients of
            the same OpenD account (OpenD counts per account, not per
            connection). Give either this or ``quotas``.
        on_quota: ``"wait"`` queues calls beyond a quota; ``"raise"`` raises
            :class:`RateLimitError` with the expected wait instead.
        queue_timeout: longest wait in the quota queue, in seconds (then
            :class:`RateLimitError`); ``0`` fails at once when no slot is
            free; ``None`` or ``math.inf`` waits as long as it takes. Not
            part of ``timeout``. Leaving the block fails queued callers at
            once with :class:`ConnectionLostError`.
        quota_retries: retries after OpenD itself rejects a call as over quota.
        reconnect: after a lost connection, reconnect with exponential
            backoff and jitter (default), or not (``False``: the client
            closes), or as a :class:`ReconnectPolicy` says. Calls in flight
            when a connection drops raise :class:`ConnectionLostError`; calls
            made while reconnecting wait for the new connection within their
            timeout. The quota limiter carries over. The backoff starts
            over only once a connection stayed up for a while.
        retry_reads: retry a read-only call (3213, 3222, 1002, 1004) once on
            the new connection when its connection dropped mid-flight, within
            the call's timeout (default); edits are never retried. ``False``
            raises :class:`ConnectionLostError` instead.
        dead_peer_after: treat the connection as lost when the gateway left
            keepalives unanswered for this many keepalive intervals, whatever
            else it sent, or read nothing we sent for as long; ``None`` turns
            the check off. The interval is the gateway's, clamped to 1..60 s.
        rsa_key: encrypt the connection with this RSA private key (a PEM
            file's path, or PEM/DER bytes), the one OpenD is configured with
            (its ``rsa_private_key`` setting; the official SDK needs a
            1024-bit PKCS#1 key). The handshake is RSA-encrypted and every
            later body AES-encrypted with the session key OpenD hands out.
            Needs the ``crypto`` extra (``pip install "asyncquote[crypto]"``).
            The key is never logged.

    Every argument is checked before anything is sent: durations must be
    numbers of seconds (an ``int`` or ``float``, not a ``bool``, not NaN, not
    negative).

    Raises:
        InvalidArgumentError: a bad argument; no connection is opened.
        ConnectError: refused, unreachable, or the handshake failed.
    """
    options = ClientOptions.checked(
        host,
        port,
        timeout=timeout,
        connect_timeout=connect_timeout,
        client_id=client_id,
        client_version=client_version,
        push_handler=push_handler,
        max_body_len=max_body_len,
        keepalive=keepalive,
        quotas=quotas,
        rate_limiter=rate_limiter,
        on_quota=on_quota,
        queue_timeout=queue_timeout,
        quota_retries=quota_retries,
        reconnect=reconnect,
        retry_reads=retry_reads,
        dead_peer_after=dead_peer_after,
        rsa_key=rsa_key,
    )
    session = Session(partial(connect_with, options), options)
    async with single_errors(), anyio.create_task_group() as tg:
        await tg.start(session.run)
        client = QuoteClient(session, options)
        try:
            yield client
        finally:
            # Callers waiting for a reconnect or for quota (session.on_closed)
            # get ConnectionLostError at once; calls on the wire when the
            # connection closes.
            session.close()
            tg.cancel_scope.cancel()
