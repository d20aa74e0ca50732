"""The InitConnect exchange, without I/O: the request, the reply's reading, the errors.

Pure functions of the protocol's facts (``asyncquote._opend.protocol.ClientProtocol``
calls them): what to ask for, how the announced keepalive interval is made
sane, which session cipher the reply selects, and the :class:`ConnectError`
each way a handshake can fail turns into, naming the gateway's address.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from .._base.errors import (
    ConnectError,
    ConnectionLostError,
    InvalidArgumentError,
    OpenDError,
    RequestTimeoutError,
)
from .._base.text import wire_text
from .._pb import InitConnect_pb2
from .crypto import BodyCipher, DecryptionError, PacketEncAlgo, cipher_for_connection

__all__ = [
    "KEEPALIVE_RANGE",
    "ConnectionInfo",
    "handshake_error",
    "initconnect_request",
    "read_initconnect_reply",
    "sane_keepalive",
]

logger = logging.getLogger("asyncquote.connection")

#: The keepalive interval a gateway announces is clamped to this range (in
#: seconds); a value of 0 or less means OpenD's default, 10 s.
KEEPALIVE_RANGE = (1.0, 60.0)
_DEFAULT_KEEPALIVE = 10.0


@dataclass(frozen=True)
class ConnectionInfo:
    """What the gateway told us in its InitConnect reply."""

    conn_id: int
    login_user_id: int
    server_version: int
    keepalive_interval: float
    """Seconds between keepalives: as announced, clamped to :data:`KEEPALIVE_RANGE`."""
    client_id: str
    conn_aes_key: str = field(repr=False)
    aes_cbc_iv: str | None = field(default=None, repr=False)


def initconnect_request(
    client_id: str, client_version: int, *, encrypted: bool
) -> InitConnect_pb2.Request:
    request = InitConnect_pb2.Request()
    c2s = request.c2s
    c2s.clientVer = client_version
    c2s.clientID = client_id
    c2s.recvNotify = True
    # Like the official SDK, ask for AES-CBC when encrypting; a gateway
    # that sends no IV gets FTAES_ECB instead (see read_initconnect_reply).
    c2s.packetEncAlgo = PacketEncAlgo.AES_CBC if encrypted else PacketEncAlgo.NONE
    c2s.programmingLanguage = "Python"
    return request


# A refusal of an unencrypted InitConnect that asks for encryption (in either
# of OpenD's languages).
_ASKS_FOR_ENCRYPTION = re.compile(r"encrypt|加密", re.IGNORECASE)
_PASS_A_KEY = "this OpenD requires encryption: pass rsa_key= (CLI: --rsa-key FILE)"


def handshake_error(
    address: str, exc: Exception, timeout: float, *, encrypted: bool
) -> ConnectError:
    """The :class:`ConnectError` for a handshake call that raised ``exc``."""
    if isinstance(exc, RequestTimeoutError):
        return ConnectError(f"OpenD at {address} did not answer the handshake within {timeout:g} s")
    if isinstance(exc, OpenDError):
        # OpenD's words for it are protocol jargon (InitConnect, packetEncAlgo):
        # say what the user of this library does about it instead.
        if not encrypted and _ASKS_FOR_ENCRYPTION.search(exc.message):
            return ConnectError(f"OpenD at {address} refused the handshake: {_PASS_A_KEY}")
        return ConnectError(f"OpenD at {address} refused the handshake: {exc.message}")
    hint = (
        " (is the RSA key the one OpenD is configured with?)"
        if encrypted and isinstance(exc, (DecryptionError, ConnectionLostError))
        else ""
    )
    return ConnectError(f"handshake with OpenD at {address} failed: {exc}{hint}")


def read_initconnect_reply(
    response: InitConnect_pb2.Response, client_id: str, address: str, *, encrypted: bool
) -> tuple[ConnectionInfo, BodyCipher | None]:
    """The connection's info, and its session cipher when ``encrypted``.

    Raises:
        ConnectError: the reply is unusable.
    """
    if not response.HasField("s2c"):
        raise ConnectError(f"OpenD at {address} sent a handshake reply without s2c")
    s2c = response.s2c
    info = ConnectionInfo(
        conn_id=s2c.connID,
        login_user_id=s2c.loginUserID,
        server_version=s2c.serverVer,
        keepalive_interval=sane_keepalive(s2c.keepAliveInterval, address),
        client_id=client_id,
        # Text fields come back as bytes when they are not UTF-8.
        conn_aes_key=wire_text(s2c.connAESKey),
        aes_cbc_iv=wire_text(s2c.aesCBCiv) if s2c.HasField("aesCBCiv") else None,
    )
    if not encrypted:
        return info, None
    iv = info.aes_cbc_iv
    algo = PacketEncAlgo.AES_CBC if iv else PacketEncAlgo.FTAES_ECB
    try:
        return info, cipher_for_connection(algo, info.conn_aes_key, iv)
    except InvalidArgumentError as exc:
        raise ConnectError(f"OpenD at {address} sent an unusable session key: {exc}") from exc


def sane_keepalive(announced: float, address: str) -> float:
    """The gateway's keepAliveInterval, clamped to :data:`KEEPALIVE_RANGE` with a log line.

    0 or less would turn keepalive and liveness off, a huge value make them
    meaningless: neither is a reason to stop noticing a dead peer.
    """
    low, high = KEEPALIVE_RANGE
    used = min(max(float(announced), low), high) if announced > 0 else _DEFAULT_KEEPALIVE
    if used != announced:
        logger.warning(
            "OpenD at %s announced keepAliveInterval=%s; using %g s instead",
            address,
            announced,
            used,
        )
    return used
