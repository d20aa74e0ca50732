"""The typed public API: :func:`connect` and :class:`QuoteClient`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Literal, TypeVar

from google.protobuf.message import Message

from ._pb import Qot_GetUserSecurity_pb2
from .codec import ProtoId
from .connection import (
    DEFAULT_CLIENT_VERSION,
    DEFAULT_REQUEST_TIMEOUT,
    Connection,
    ConnectionInfo,
    PushHandler,
    open_connection,
)
from .convert import static_infos_from_pb
from .errors import InvalidArgumentError, OpenDError, RateLimitError
from .framing import DEFAULT_MAX_BODY_LEN
from .models import SecurityStaticInfo
from .ratelimit import Quota, QuotaStatus, RateLimiter, is_quota_rejection

__all__ = ["MAX_GROUP_NAME_LENGTH", "QuotaMode", "QuoteClient", "connect"]

logger = logging.getLogger("asyncquote.client")

M = TypeVar("M", bound=Message)

QuotaMode = Literal["wait", "raise"]
"""``"wait"``: queue calls beyond a quota (default). ``"raise"``: fail fast with
:class:`RateLimitError` instead."""

#: How often a call is retried after OpenD itself rejected it as over quota.
DEFAULT_QUOTA_RETRIES = 3

#: Longest group name we send. OpenD's own names are a few characters; a
#: name this long is a bug in the caller, not a watchlist.
MAX_GROUP_NAME_LENGTH = 256


def _check_group_name(group_name: object) -> str:
    if not isinstance(group_name, str):
        raise InvalidArgumentError(
            f"group_name must be a str, not {type(group_name).__name__}: {group_name!r}"
        )
    if not group_name.strip():
        raise InvalidArgumentError("group_name must not be empty")
    if len(group_name) > MAX_GROUP_NAME_LENGTH:
        raise InvalidArgumentError(
            f"group_name is {len(group_name)} characters long; the limit is {MAX_GROUP_NAME_LENGTH}"
        )
    return group_name


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
        self, group_name: str, *, timeout: float | None = None
    ) -> list[SecurityStaticInfo]:
        """Return the securities in the watchlist group ``group_name`` (protocol 3213).

        Args:
            group_name: a custom group's name, or a system group's name in
                Chinese or English (``"全部"`` / ``"All"``). When several groups
                share a name, OpenD uses the first.
            timeout: seconds to wait for the reply once sent (time queued for
                the quota is not counted); defaults to the client's.

        Raises:
            InvalidArgumentError: ``group_name`` is not a non-empty string
                (nothing is sent).
            OpenDError: OpenD refused, e.g. an unknown group.
            RateLimitError: see :meth:`request`.
            RequestTimeoutError, ConnectionLostError, ProtocolError.
        """
        request = Qot_GetUserSecurity_pb2.Request()
        request.c2s.groupName = _check_group_name(group_name)
        response = await self.request(
            ProtoId.GET_USER_SECURITY,
            request,
            Qot_GetUserSecurity_pb2.Response,
            timeout=timeout,
        )
        return static_infos_from_pb(response.s2c.staticInfoList)


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
