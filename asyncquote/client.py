"""The typed public API: :func:`connect` and :class:`QuoteClient`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Literal, TypeVar

import anyio
from google.protobuf.message import Message

from ._pb import Qot_GetUserSecurity_pb2, Qot_GetUserSecurityGroup_pb2, Qot_ModifyUserSecurity_pb2
from ._taskgroups import single_errors
from .codec import ProtoId
from .connection import (
    DEFAULT_CLIENT_VERSION,
    DEFAULT_REQUEST_TIMEOUT,
    Connection,
    ConnectionInfo,
    PushHandler,
    open_connection,
)
from .convert import security_to_pb, static_infos_from_pb
from .errors import InvalidArgumentError, OpenDError, RateLimitError
from .framing import DEFAULT_MAX_BODY_LEN
from .groups import (
    MAX_GROUP_NAME_LENGTH,
    GroupType,
    ModifyOp,
    WatchlistGroup,
    check_group_name,
    group_key,
)
from .models import Security, SecurityStaticInfo
from .ratelimit import Quota, QuotaStatus, RateLimiter, is_quota_rejection
from .singleflight import SingleFlight
from .watch import DEFAULT_QUOTA_SHARE, WatchlistWatcher, check_watch_args, poll_period

__all__ = ["MAX_GROUP_NAME_LENGTH", "QuotaMode", "QuoteClient", "connect"]

logger = logging.getLogger("asyncquote.client")

M = TypeVar("M", bound=Message)

QuotaMode = Literal["wait", "raise"]
"""``"wait"``: queue calls beyond a quota (default). ``"raise"``: fail fast with
:class:`RateLimitError` instead."""

#: How often a call is retried after OpenD itself rejected it as over quota.
DEFAULT_QUOTA_RETRIES = 3


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


class QuoteClient:
    """A client for OpenD's quote protocols over one multiplexed connection.

    Obtain one with :func:`connect`. Every method may be called from any
    number of tasks at once; requests share the connection and are matched
    to their replies by serial number.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        rate_limiter: RateLimiter | None = None,
        on_quota: QuotaMode = "wait",
        queue_timeout: float | None = None,
        quota_retries: int = DEFAULT_QUOTA_RETRIES,
    ) -> None:
        self._connection = connection
        self._limiter = rate_limiter if rate_limiter is not None else RateLimiter()
        self._fail_fast = on_quota == "raise"
        self._queue_timeout = queue_timeout
        self._quota_retries = quota_retries
        self._flights: SingleFlight[str, list[SecurityStaticInfo]] = SingleFlight()
        self._cache: dict[str, tuple[float, list[SecurityStaticInfo]]] = {}

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter this client's calls go through (pass it to other clients to share it)."""
        return self._limiter

    def quota(self, proto_id: int) -> QuotaStatus:
        """Used slots, queued callers and seconds until a slot frees, for ``proto_id``."""
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

        The quota wait comes first and is not part of ``timeout``, which
        bounds only the time on the wire. If OpenD still answers "too
        frequent", the window is marked full and the call is retried after it
        (up to ``quota_retries`` times), or :class:`RateLimitError` is raised
        in ``on_quota="raise"`` mode.

        Raises:
            OpenDError: ``retType != 0`` (other than a quota rejection).
            RateLimitError: quota exhausted and the client fails fast, the
                queue wait exceeded ``queue_timeout``, or retries ran out.
            RequestTimeoutError, ConnectionLostError, ProtocolError.
        """
        limiter = self._limiter
        for attempt in range(self._quota_retries + 1):
            # A dead connection fails at once rather than after a quota wait.
            self._connection.ensure_open()
            async with limiter.slot(
                proto_id, fail_fast=self._fail_fast, queue_timeout=self._queue_timeout
            ):
                try:
                    return await self._connection.call(
                        proto_id, request, response_type, timeout=timeout
                    )
                except OpenDError as exc:
                    if not is_quota_rejection(exc.ret_type, exc.message):
                        raise
                    limiter.on_quota_rejection(proto_id)
                    rejection = exc
            retry_after = limiter.status(proto_id).next_free_in
            if self._fail_fast or attempt == self._quota_retries:
                raise RateLimitError(proto_id, retry_after, rejection.message) from rejection
            logger.warning(
                "OpenD rejected protocol %d as over quota (%s); retrying in %.1f s (%d/%d)",
                proto_id,
                rejection.message,
                retry_after,
                attempt + 1,
                self._quota_retries,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def connection(self) -> Connection:
        """The underlying connection (for diagnostics and advanced use)."""
        return self._connection

    @property
    def info(self) -> ConnectionInfo:
        """What the gateway reported in the handshake (conn id, user, versions)."""
        info = self._connection.info
        assert info is not None, "a QuoteClient is only handed out after the handshake"
        return info

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
        callers cost one request of quota, not fifty.

        Args:
            group_name: a custom group's name, or a system group's name in
                Chinese or English (``"全部"`` / ``"All"``, or
                :class:`SystemGroup`). When several groups share a name,
                OpenD uses the first.
            max_age: return the last result for this group if it is younger
                than this many seconds, without a request.
            timeout: seconds to wait for the reply once sent (time queued for
                the quota is not counted); defaults to the client's.

        Raises:
            InvalidArgumentError: ``group_name`` is not a non-empty string, or
                names a group OpenD never returns (Positions, Mutual Fund,
                Forex). Nothing is sent.
            OpenDError: OpenD refused, e.g. an unknown group.
            RateLimitError: see :meth:`request`.
            RequestTimeoutError, ConnectionLostError, ProtocolError.
        """
        name = check_group_name(group_name)
        if max_age is not None and (not isinstance(max_age, (int, float)) or max_age < 0):
            raise InvalidArgumentError(f"max_age must be a number >= 0, not {max_age!r}")
        key = group_key(name)
        if max_age is not None:
            cached = self._cache.get(key)
            if cached is not None and anyio.current_time() - cached[0] <= max_age:
                return list(cached[1])

        async def fetch() -> list[SecurityStaticInfo]:
            request = Qot_GetUserSecurity_pb2.Request()
            request.c2s.groupName = name
            response = await self.request(
                ProtoId.GET_USER_SECURITY,
                request,
                Qot_GetUserSecurity_pb2.Response,
                timeout=timeout,
            )
            items = static_infos_from_pb(response.s2c.staticInfoList)
            self._cache[key] = (anyio.current_time(), items)
            return items

        # Each caller gets its own list; the models in it are immutable.
        return list(await self._flights.run(key, fetch))

    async def get_user_security_group(
        self, group_type: GroupType = GroupType.ALL, *, timeout: float | None = None
    ) -> list[WatchlistGroup]:
        """List the watchlist groups (protocol 3222).

        Args:
            group_type: :attr:`GroupType.CUSTOM`, :attr:`GroupType.SYSTEM` or
                :attr:`GroupType.ALL` (default).

        Raises:
            InvalidArgumentError: ``group_type`` is not a :class:`GroupType`.
            OpenDError, RateLimitError, RequestTimeoutError,
            ConnectionLostError, ProtocolError.
        """
        if isinstance(group_type, bool) or group_type not in tuple(GroupType):
            raise InvalidArgumentError(f"group_type must be a GroupType, not {group_type!r}")
        request = Qot_GetUserSecurityGroup_pb2.Request()
        request.c2s.groupType = int(group_type)
        response = await self.request(
            ProtoId.GET_USER_SECURITY_GROUP,
            request,
            Qot_GetUserSecurityGroup_pb2.Response,
            timeout=timeout,
        )
        return [
            WatchlistGroup(name=group.groupName, type=group.groupType)
            for group in response.s2c.groupList
        ]

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

        Raises:
            InvalidArgumentError: bad group name, op, an empty list or a
                malformed code or unknown market prefix; nothing is sent.
            OpenDError: OpenD refused (unknown group, system group, ...).
            RateLimitError, RequestTimeoutError, ConnectionLostError,
            ProtocolError.
        """
        name = check_group_name(group_name, queryable=False)
        if isinstance(op, bool) or op not in tuple(ModifyOp):
            raise InvalidArgumentError(f"op must be a ModifyOp, not {op!r}")
        parsed = _securities(securities)
        request = Qot_ModifyUserSecurity_pb2.Request()
        request.c2s.groupName = name
        request.c2s.op = int(op)
        request.c2s.securityList.extend(security_to_pb(security) for security in parsed)
        await self.request(
            ProtoId.MODIFY_USER_SECURITY,
            request,
            Qot_ModifyUserSecurity_pb2.Response,
            timeout=timeout,
        )
        # Whatever we cached may now be stale, for this group and the system
        # groups that mirror it.
        self._cache.clear()

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
        A failed poll is yielded as a :class:`WatchError` and polling goes on;
        a lost connection ends the iteration with :class:`ConnectionLostError`.
        Leaving the block stops polling.

        Polls go through this client's connection and quota limiter, spread
        evenly: each group is polled every ``interval`` seconds, stretched if
        need be so that the watcher uses at most ``quota_share`` of the 3213
        quota (half by default), leaving the rest for other calls. With
        OpenD's 10 per 30 s and 3 groups, that is one poll of each every 18 s.

        Raises:
            InvalidArgumentError: no groups, a bad group name, interval or share.
        """
        check_watch_args(groups, interval, quota_share)
        names = [check_group_name(group) for group in groups]
        if not names:
            raise InvalidArgumentError("watch at least one group")
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
        watcher = WatchlistWatcher(names, period, self.get_user_security)
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
    connect_timeout: float = 10.0,
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
) -> AsyncIterator[QuoteClient]:
    """Connect to OpenD and yield a ready :class:`QuoteClient`.

    Use it as ``async with asyncquote.connect(host, port) as client: ...``.
    The handshake has completed when the block starts; leaving the block
    closes the connection and stops every background task.

    Args:
        host, port: where OpenD listens (its default is ``127.0.0.1:11111``).
        timeout: default seconds each call waits for its reply.
        connect_timeout: seconds for the TCP connect and for the handshake.
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
            :class:`RateLimitError`); ``None`` waits as long as it takes.
        quota_retries: retries after OpenD itself rejects a call as over quota.

    Raises:
        ConnectError: refused, unreachable, or the handshake failed.
    """
    for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
        if not isinstance(value, (int, float)) or value <= 0:
            raise InvalidArgumentError(f"{name} must be a positive number, not {value!r}")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidArgumentError(f"port must be an int in 1..65535, not {port!r}")
    if rate_limiter is not None and quotas is not None:
        raise InvalidArgumentError("give either quotas= or rate_limiter=, not both")
    if on_quota not in ("wait", "raise"):
        raise InvalidArgumentError(f'on_quota must be "wait" or "raise", not {on_quota!r}')
    if queue_timeout is not None and (
        not isinstance(queue_timeout, (int, float)) or queue_timeout < 0
    ):
        raise InvalidArgumentError(f"queue_timeout must be >= 0 or None, not {queue_timeout!r}")
    if not isinstance(quota_retries, int) or quota_retries < 0:
        raise InvalidArgumentError(f"quota_retries must be an int >= 0, not {quota_retries!r}")
    limiter = rate_limiter if rate_limiter is not None else RateLimiter(quotas)
    async with open_connection(
        host,
        port,
        connect_timeout=connect_timeout,
        request_timeout=timeout,
        client_id=client_id,
        client_version=client_version,
        push_handler=push_handler,
        max_body_len=max_body_len,
        keepalive=keepalive,
    ) as connection:
        yield QuoteClient(
            connection,
            rate_limiter=limiter,
            on_quota=on_quota,
            queue_timeout=queue_timeout,
            quota_retries=quota_retries,
        )
