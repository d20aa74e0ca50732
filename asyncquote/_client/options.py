"""``connect()``'s arguments, checked once, as one frozen object.

:meth:`ClientOptions.checked` is the one place where :func:`asyncquote.connect`'s
arguments are validated (every error message about them is here) and turned
into what the layers use: a :class:`ReconnectPolicy` for ``reconnect=``, a
:class:`RateLimiter` for ``quotas=``, an RSA cipher for ``rsa_key=``. The
client, the session and each connection read the fields they need from the
same :class:`ClientOptions`, and copy those that a call needs into their own
attributes when they are made, so that a call costs no extra attribute hop.

Invariant: a :class:`ClientOptions` built by :meth:`~ClientOptions.checked`
holds only valid values; building one directly (the low-level
``open_connection``) checks nothing, as that function never did.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .._base.args import check_duration, check_flag, check_host_name, check_int, check_text
from .._base.errors import InvalidArgumentError
from .._io.connection_options import ConnectionOptions, PushHandler
from .._io.session import ReconnectPolicy
from .._opend.rsa import load_rsa_private_key
from .._opend.vocabulary import Quota
from .ratelimit import RateLimiter

__all__ = [
    "DEFAULT_QUOTA_RETRIES",
    "ClientOptions",
    "QuotaMode",
]

#: How often a call is retried after OpenD itself rejected it as over quota.
DEFAULT_QUOTA_RETRIES = 3

QuotaMode = Literal["wait", "raise"]
"""``"wait"``: queue calls beyond a quota (default). ``"raise"``: fail fast with
:class:`RateLimitError` instead."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientOptions(ConnectionOptions):
    """Everything :func:`asyncquote.connect` was told, checked.

    The connection reads the fields of :class:`ConnectionOptions` (``host``
    to ``rsa_cipher``), which it owns; the session ``address`` and
    ``reconnect``; the client ``request_timeout`` and the quota fields.
    See :func:`asyncquote.connect` for what each one means.
    """

    # -- the session
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    # -- the client
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    on_quota: QuotaMode = "wait"
    queue_timeout: float | None = None
    quota_retries: int = DEFAULT_QUOTA_RETRIES
    retry_reads: bool = True

    @classmethod
    def checked(
        cls,
        host: str,
        port: int,
        *,
        timeout: float,
        connect_timeout: float,
        client_id: str | None,
        client_version: int,
        push_handler: PushHandler | None,
        max_body_len: int,
        keepalive: bool,
        quotas: Mapping[int, Quota | None] | None,
        rate_limiter: RateLimiter | None,
        on_quota: QuotaMode,
        queue_timeout: float | None,
        quota_retries: int,
        reconnect: bool | ReconnectPolicy,
        retry_reads: bool,
        dead_peer_after: float | None,
        rsa_key: str | os.PathLike[str] | bytes | None,
    ) -> ClientOptions:
        """Check :func:`asyncquote.connect`'s arguments (its names); the options they make.

        Raises:
            InvalidArgumentError: the first bad argument, in this order.
        """
        check_duration("timeout", timeout, positive=True)
        check_duration("connect_timeout", connect_timeout, positive=True)
        if queue_timeout is not None:
            check_duration("queue_timeout", queue_timeout)
        if not isinstance(host, str) or not host or not host.isprintable():
            raise InvalidArgumentError(f"host must be a host name or IP address, not {host!r}")
        check_host_name(host)
        check_int("port", port, minimum=1, maximum=65535)
        check_text("client_id", client_id, optional=True)
        check_int("client_version", client_version, minimum=0, maximum=2**31 - 1)
        if push_handler is not None and not callable(push_handler):
            raise InvalidArgumentError(
                f"push_handler must be callable or None, not {push_handler!r}"
            )
        check_int("max_body_len", max_body_len, minimum=1)
        check_flag("keepalive", keepalive)
        check_flag("retry_reads", retry_reads)
        if quotas is not None and not isinstance(quotas, Mapping):
            raise InvalidArgumentError(
                f"quotas must be a mapping of protocol id to Quota, not {quotas!r}"
            )
        if rate_limiter is not None and not isinstance(rate_limiter, RateLimiter):
            raise InvalidArgumentError(f"rate_limiter must be a RateLimiter, not {rate_limiter!r}")
        if rate_limiter is not None and quotas is not None:
            raise InvalidArgumentError("give either quotas= or rate_limiter=, not both")
        if on_quota not in ("wait", "raise"):
            raise InvalidArgumentError(f'on_quota must be "wait" or "raise", not {on_quota!r}')
        check_int("quota_retries", quota_retries, minimum=0)
        if isinstance(reconnect, ReconnectPolicy):
            policy = reconnect
        elif isinstance(reconnect, bool):
            policy = ReconnectPolicy(enabled=reconnect)
        else:
            raise InvalidArgumentError(
                f"reconnect must be a bool or ReconnectPolicy, not {reconnect!r}"
            )
        if dead_peer_after is not None and check_duration("dead_peer_after", dead_peer_after) <= 1:
            raise InvalidArgumentError(
                f"dead_peer_after must be a number of keepalive intervals > 1, or None, "
                f"not {dead_peer_after!r}"
            )
        limiter = rate_limiter if rate_limiter is not None else RateLimiter(quotas)
        # Loaded once, up front: a bad key is the caller's error, not a reason to retry.
        try:
            rsa_cipher = load_rsa_private_key(rsa_key) if rsa_key is not None else None
        except ValueError as exc:  # e.g. a path with a NUL byte
            if isinstance(exc, InvalidArgumentError):
                raise
            raise InvalidArgumentError(f"rsa_key: cannot use {rsa_key!r}: {exc}") from None
        return cls(
            host=host,
            port=port,
            request_timeout=timeout,
            connect_timeout=connect_timeout,
            client_id=client_id,
            client_version=client_version,
            push_handler=push_handler,
            max_body_len=max_body_len,
            keepalive=keepalive,
            dead_peer_after=dead_peer_after,
            rsa_cipher=rsa_cipher,
            reconnect=policy,
            rate_limiter=limiter,
            on_quota=on_quota,
            queue_timeout=queue_timeout,
            quota_retries=quota_retries,
            retry_reads=retry_reads,
        )
