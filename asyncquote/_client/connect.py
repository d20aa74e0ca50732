"""The entry point: :func:`connect` checks its options, runs the session, yields a client.

It is also what the old ``asyncquote.client`` path (deprecated) names, so it
offers that module's names: :class:`QuoteClient`, ``QuotaMode`` and
``MAX_GROUP_NAME_LENGTH`` besides :func:`connect`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from types import TracebackType
from typing import Any, NoReturn

import anyio

from .._base.errors import UsageError
from .._io.connection import connect_with
from .._io.connection_options import (
    DEFAULT_CLIENT_VERSION,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEAD_PEER_FACTOR,
    DEFAULT_REQUEST_TIMEOUT,
    PushHandler,
)
from .._io.session import ConnectionState, ReconnectPolicy, Session
from .._io.taskgroups import single_errors
from .._models.groups import MAX_GROUP_NAME_LENGTH
from .._opend.framing import DEFAULT_MAX_BODY_LEN
from .._opend.vocabulary import Quota
from .._quotes.live import LiveQuotes
from .client import QuoteClient
from .monitor import GatewayMonitor
from .options import DEFAULT_QUOTA_RETRIES, ClientOptions, QuotaMode
from .ratelimit import RateLimiter

__all__ = ["MAX_GROUP_NAME_LENGTH", "QuotaMode", "QuoteClient", "connect"]


def connect(
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
) -> AbstractAsyncContextManager[QuoteClient]:
    """Connect to OpenD and yield a ready :class:`QuoteClient`.

    Use it as ``async with asyncquote.connect(host, port) as client: ...``.
    The handshake has completed when the block starts; leaving the block
    closes the connection and stops every background task.

    Args:
        host: the address OpenD listens on; OpenD's default is ``"127.0.0.1"``.
        port: OpenD's API port; OpenD's default is ``11111``.
        timeout: default seconds for each call, from when the quota lets it
            through: one deadline for waiting for a connection (while
            reconnecting) and for the reply (see :meth:`QuoteClient.request`);
            > 0, ``math.inf`` waits for ever.
        connect_timeout: seconds for the TCP connect and for the handshake;
            > 0, ``math.inf`` waits for ever.
        client_id: the InitConnect clientID; a unique one is made by default.
        client_version: the InitConnect clientVer.
        push_handler: called synchronously with every push frame, Notify
            (1003) included, as it arrives (:meth:`QuoteClient.events` is the
            typed view of Notify). It must return quickly.
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
            Needs the ``crypto`` extra (see docs/install.md).
            The key is never logged.

    Every argument is checked before anything is sent: durations must be
    numbers of seconds (an ``int`` or ``float``, not a ``bool``, not NaN, not
    negative).

    Returns:
        An async context manager, not a coroutine: ``await
        asyncquote.connect(...)`` raises :class:`UsageError`.

    Raises:
        InvalidArgumentError: a bad argument, on entering the block; no
            connection is opened.
        ConnectError: refused, unreachable, or the handshake failed.
    """
    # Every argument by its name: ClientOptions.checked takes exactly these
    # (tests/base/test_args.py pins it), and nothing else is bound yet.
    # Checked on entering the block, as before: only then may it raise.
    checked = partial(ClientOptions.checked, **locals())
    return _Connecting(_connected(checked))


class _Connecting:
    """What :func:`connect` returns: its ``async with`` block, and a clear error if awaited."""

    __slots__ = ("_context",)

    def __init__(self, context: AbstractAsyncContextManager[QuoteClient]) -> None:
        self._context = context

    async def __aenter__(self) -> QuoteClient:
        return await self._context.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return await self._context.__aexit__(exc_type, exc, traceback)

    def __await__(self) -> Generator[Any, None, NoReturn]:
        # Without this, Python's own "can't be used in 'await' expression" names no fix.
        raise UsageError(
            "asyncquote.connect() opens a connection for a block and is not awaited: "
            "use `async with asyncquote.connect(...) as client`"
        )


@asynccontextmanager
async def _connected(checked: Callable[[], ClientOptions]) -> AsyncIterator[QuoteClient]:
    options = checked()
    # Every connection's pushes go through the monitor (Notify becomes
    # events and gateway status) and on to the user's push_handler; it hears
    # the session's states too. The one place the monitor is wired, and the
    # live quotes: quote pushes go to their streams first, then every push
    # goes on to the monitor; a lost connection takes the subscriptions.
    monitor = GatewayMonitor(options.push_handler)
    live = LiveQuotes(monitor.on_push)
    monitor.on_event = live.on_event  # Notify's quota figures
    options = dataclasses.replace(options, push_handler=live.on_push)
    session = Session(partial(connect_with, options), options.address, options.reconnect)

    def state_changed(state: ConnectionState, previous: ConnectionState) -> None:
        monitor.on_state_changed(state, previous)
        live.on_state_changed(state, previous)

    session.on_state_changed = state_changed
    async with single_errors(), anyio.create_task_group() as tg:
        await tg.start(session.run)
        client = QuoteClient(session, options, monitor, live)
        tg.start_soon(client._keep_gateway_fresh)
        tg.start_soon(client._keep_quotes)
        try:
            yield client
        finally:
            # Callers waiting for a reconnect or for quota (session.on_closed)
            # get ConnectionLostError at once; calls on the wire when the
            # connection closes.
            session.close()
            tg.cancel_scope.cancel()
