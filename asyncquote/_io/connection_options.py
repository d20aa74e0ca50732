"""What one OpenD connection is opened with: :class:`ConnectionOptions` and its defaults.

One job: name every setting the connection layer reads (address, timeouts,
handshake, push handler, liveness, cipher) and the defaults the client and
the low-level :func:`~asyncquote._io.connection.open_connection` share. Owned
by the connection layer, below it, so the client's options compose these and
the connection never imports the client's. The connection itself is
:mod:`asyncquote._io.connection`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._opend.framing import Frame
from .._opend.rsa import RsaCipher

__all__ = [
    "DEFAULT_CLIENT_VERSION",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DEAD_PEER_FACTOR",
    "DEFAULT_REQUEST_TIMEOUT",
    "ConnectionOptions",
    "PushHandler",
]

DEFAULT_REQUEST_TIMEOUT = 12.0
DEFAULT_CONNECT_TIMEOUT = 10.0
#: A connection whose peer answered no keepalive, or read nothing we sent,
#: for this many keepalive intervals is treated as lost.
DEFAULT_DEAD_PEER_FACTOR = 3.0
#: The client version the official SDKs announce; OpenD may refuse clients it
#: considers too old, so we announce the same.
DEFAULT_CLIENT_VERSION = 300

PushHandler = Callable[[Frame], None]
"""Called synchronously, as frames arrive, for every frame that is not a reply.

It must return quickly and must not block: it is not awaited, and every reply
waits behind it. Hand work off (e.g. to a memory object stream).
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionOptions:
    """What one connection (and its handshake) is opened with.

    Owned here, by the connection layer; the client's options
    (:class:`~asyncquote._client.options.ClientOptions`) extend it with what only
    the session and the client read, so the connection never imports them.
    """

    host: str
    port: int
    request_timeout: float
    connect_timeout: float
    client_id: str | None
    client_version: int
    push_handler: PushHandler | None
    max_body_len: int
    keepalive: bool
    dead_peer_after: float | None
    rsa_cipher: RsaCipher | None

    @property
    def address(self) -> str:
        """``host:port``, as messages name the gateway."""
        return f"{self.host}:{self.port}"
