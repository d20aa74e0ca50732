"""The header of OpenD's WebSocket messages, as the JavaScript SDK writes and reads it.

One job: turn one WebSocket binary message into (header, protobuf body) and
back, without I/O. Every message carries one request, reply or push; there is
no length field, as the WebSocket message delimits it.

A request (client to gateway) starts with a 20-byte header:

======  =====  =============================================================
offset  size   field
======  =====  =============================================================
0       8      sign: ASCII ``ft-v1.0`` padded with zero bytes
8       4      cmd (u32): 1 InitWebSocket, else an OpenD protocol id
12      8      section (u64): the client's request id, echoed in the reply
======  =====  =============================================================

A reply or push (gateway to client) adds two fields, a 44-byte header:

======  =====  =============================================================
20      4      error (i32): 0, or why the gateway could not serve the request
24      20     errmsg: text padded with zero bytes
======  =====  =============================================================

All integers are big-endian: the SDK writes them with ``bytebuffer``, whose
default byte order is big-endian (``ByteBuffer.DEFAULT_ENDIAN`` is
``BIG_ENDIAN``), and reads them with ``littleEndian=false``. The SDK reads
the sign and ``errmsg`` as 8 and 20 UTF-8 *characters*, so a non-ASCII
``errmsg`` would shift the body it reads: :func:`encode_reply` writes ASCII
only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .._base.errors import ProtocolError

__all__ = [
    "CMD_INIT_WEBSOCKET",
    "CMD_OPEND_DISCONNECTED",
    "ERRMSG_SIZE",
    "REPLY_HEADER_SIZE",
    "REQUEST_HEADER_SIZE",
    "SIGN",
    "WebSocketFrameError",
    "WsMessage",
    "decode_reply",
    "decode_request",
    "encode_reply",
    "encode_request",
]

#: The sign every message starts with, as padded on the wire.
SIGN = b"ft-v1.0".ljust(8, b"\0")
#: cmd of the first message on a connection: the key check and the bridge to OpenD.
CMD_INIT_WEBSOCKET = 1
#: cmd the gateway pushes when its connection to OpenD has gone.
CMD_OPEND_DISCONNECTED = 2
#: Bytes of ``errmsg`` in a reply header.
ERRMSG_SIZE = 20

_REQUEST = struct.Struct(">8sIQ")
_REPLY = struct.Struct(f">8sIQi{ERRMSG_SIZE}s")
REQUEST_HEADER_SIZE = _REQUEST.size
REPLY_HEADER_SIZE = _REPLY.size
_U32_MAX = 2**32 - 1
_U64_MAX = 2**64 - 1
_I32 = range(-(2**31), 2**31)


class WebSocketFrameError(ProtocolError):
    """A WebSocket message that is not one of OpenD's: too short, or a wrong sign."""


@dataclass(frozen=True, slots=True)
class WsMessage:
    """One message of the WebSocket protocol.

    Attributes:
        cmd: 1 (InitWebSocket), 2 (OpenD disconnected) or an OpenD protocol id.
        section: the request id; a reply echoes its request's, a push has 0.
        body: the serialised protobuf message (may be empty).
        error: replies and pushes only: 0, or the gateway's error code.
        errmsg: replies and pushes only: the gateway's error text.
    """

    cmd: int
    section: int
    body: bytes = b""
    error: int = 0
    errmsg: str = ""


def _check_sign(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise WebSocketFrameError(
            f"WebSocket {what} of {len(data)} bytes is shorter than its {size}-byte header"
        )
    if data[:8] != SIGN:
        raise WebSocketFrameError(f"WebSocket {what} does not start with 'ft-v1.0': {data[:8]!r}")


def _check_ids(cmd: int, section: int) -> None:
    if not 0 <= cmd <= _U32_MAX:
        raise ValueError(f"cmd must fit in 32 unsigned bits, not {cmd}")
    if not 0 <= section <= _U64_MAX:
        raise ValueError(f"section must fit in 64 unsigned bits, not {section}")


def encode_request(cmd: int, section: int, body: bytes = b"") -> bytes:
    """A request message: the 20-byte header, then ``body``.

    Raises:
        ValueError: ``cmd`` or ``section`` does not fit its field.
    """
    _check_ids(cmd, section)
    return _REQUEST.pack(SIGN, cmd, section) + body


def decode_request(data: bytes) -> WsMessage:
    """Split a request message into its header fields and body.

    Raises:
        WebSocketFrameError: ``data`` is shorter than the header or has the wrong sign.
    """
    _check_sign(data, REQUEST_HEADER_SIZE, "request")
    _, cmd, section = _REQUEST.unpack_from(data)
    return WsMessage(cmd, section, bytes(data[REQUEST_HEADER_SIZE:]))


def encode_reply(message: WsMessage) -> bytes:
    """A reply or push message: the 44-byte header, then ``message.body``.

    ``errmsg`` is cut to fit its 20 bytes; characters outside ASCII become
    ``?``, as the SDK counts characters, not bytes, when it reads it.

    Raises:
        ValueError: ``cmd``, ``section`` or ``error`` does not fit its field.
    """
    _check_ids(message.cmd, message.section)
    if message.error not in _I32:
        raise ValueError(f"error must fit in 32 signed bits, not {message.error}")
    errmsg = message.errmsg.encode("ascii", "replace")[:ERRMSG_SIZE]
    header = _REPLY.pack(SIGN, message.cmd, message.section, message.error, errmsg)
    return header + message.body


def decode_reply(data: bytes) -> WsMessage:
    """Split a reply or push message into its header fields and body.

    ``errmsg`` is read up to its first zero byte; bytes that are not UTF-8
    are replaced.

    Raises:
        WebSocketFrameError: ``data`` is shorter than the header or has the wrong sign.
    """
    _check_sign(data, REPLY_HEADER_SIZE, "reply")
    _, cmd, section, error, raw_errmsg = _REPLY.unpack_from(data)
    errmsg = raw_errmsg.split(b"\0", 1)[0].decode("utf-8", "replace")
    return WsMessage(cmd, section, bytes(data[REPLY_HEADER_SIZE:]), error, errmsg)
