"""The typed public API: :func:`connect` and :class:`QuoteClient`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
from .errors import InvalidArgumentError
from .framing import DEFAULT_MAX_BODY_LEN
from .models import SecurityStaticInfo

__all__ = ["MAX_GROUP_NAME_LENGTH", "QuoteClient", "connect"]

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

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

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
            timeout: seconds to wait for the reply; defaults to the client's.

        Raises:
            InvalidArgumentError: ``group_name`` is not a non-empty string
                (nothing is sent).
            OpenDError: OpenD refused, e.g. an unknown group.
            RequestTimeoutError, ConnectionLostError, ProtocolError.
        """
        request = Qot_GetUserSecurity_pb2.Request()
        request.c2s.groupName = _check_group_name(group_name)
        response = await self._connection.call(
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

    Raises:
        ConnectError: refused, unreachable, or the handshake failed.
    """
    for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
        if not isinstance(value, (int, float)) or value <= 0:
            raise InvalidArgumentError(f"{name} must be a positive number, not {value!r}")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidArgumentError(f"port must be an int in 1..65535, not {port!r}")
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
        yield QuoteClient(connection)
