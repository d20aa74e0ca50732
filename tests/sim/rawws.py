"""A hand-written WebSocket client for attacking the simulator's gateway in tests.

Unlike :mod:`.wsclient`, which drives ``websockets``' own client protocol and
so can only send what a well-behaved client would, this one builds RFC 6455
frames byte by byte: several frames in one write, a close frame right after
a request, fragmented messages, bytes that are no frame at all. It reads
the server's frames back just far enough to tell a binary message from the
end of the connection.
"""

from __future__ import annotations

import base64
import os
import struct

import anyio
import anyio.abc

# sign (8 bytes), cmd u32, section u64: big-endian, as the SDK's bytebuffer writes.
REQUEST_HEADER = struct.Struct("!8sIQ")
REPLY_HEADER = struct.Struct("!8sIQi20s")
SIGN = b"ft-v1.0\0"

CONTINUATION = 0x0
TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True) -> bytes:
    """One masked client frame (clients must mask, RFC 6455 §5.3)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 2**16:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def close_frame(code: int = 1000) -> bytes:
    return frame(CLOSE, struct.pack("!H", code))


def fragments(payload: bytes, pieces: int) -> bytes:
    """``payload`` as one binary message split into ``pieces`` frames (RFC 6455 §5.4)."""
    step = max(1, -(-len(payload) // pieces))
    chunks = [payload[i : i + step] for i in range(0, len(payload), step)] or [b""]
    out = b""
    for i, chunk in enumerate(chunks):
        out += frame(BINARY if i == 0 else CONTINUATION, chunk, fin=i == len(chunks) - 1)
    return out


def request(cmd: int, section: int, body: bytes = b"") -> bytes:
    """One of OpenD's WebSocket request messages (the payload, not the frame)."""
    return REQUEST_HEADER.pack(SIGN, cmd, section) + body


def init_websocket(
    key_digest: str = "", *, client_id: bytes = b"", language: bytes = b"JavaScript"
) -> bytes:
    """An InitWebSocket request message; ``client_id`` and ``language`` as raw bytes.

    The two strings are written by hand into the protobuf so that they can
    hold bytes that are not UTF-8, which protobuf's own setters refuse.
    """
    # InitWebSocket.C2S: websocketKey is field 4, clientID 5, programmingLanguage 6
    # (all strings, wire type 2); Request.c2s is field 1.
    c2s = _field(4, key_digest.encode()) + _field(5, client_id) + _field(6, language)
    return request(1, 1, _field(1, c2s))


def _field(number: int, value: bytes) -> bytes:
    return bytes([number << 3 | 2]) + _varint(len(value)) + value


def _varint(n: int) -> bytes:
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            out += bytes([low | 0x80])
        else:
            return out + bytes([low])


class RawWs:
    """One TCP connection to the gateway, upgraded to WebSocket by hand."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self._buffer = b""

    @classmethod
    async def open(cls, host: str, port: int, *, upgrade: bool = True) -> RawWs:
        ws = cls(await anyio.connect_tcp(host, port))
        if upgrade:
            await ws.upgrade(host, port)
        return ws

    async def upgrade(self, host: str, port: int) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        await self.stream.send(
            (
                f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += await self.stream.receive()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head

    async def send(self, data: bytes) -> None:
        """Send ``data`` in one write, whatever it holds."""
        await self.stream.send(data)

    async def receive(self) -> tuple[int, bytes] | None:
        """The server's next frame as (opcode, payload); ``None`` at the end of the stream."""
        while True:
            parsed = self._parse()
            if parsed is not None:
                return parsed
            try:
                self._buffer += await self.stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return None

    async def receive_message(self) -> bytes | None:
        """The next binary message's payload; ``None`` once the server closes or has gone."""
        while (got := await self.receive()) is not None:
            opcode, payload = got
            if opcode == BINARY:
                return payload
            if opcode == CLOSE:
                return None
        return None

    def _parse(self) -> tuple[int, bytes] | None:
        data = self._buffer
        if len(data) < 2:
            return None
        opcode, size, at = data[0] & 0x0F, data[1] & 0x7F, 2
        if size == 126:
            if len(data) < 4:
                return None
            (size,), at = struct.unpack_from("!H", data, 2), 4
        elif size == 127:
            if len(data) < 10:
                return None
            (size,), at = struct.unpack_from("!Q", data, 2), 10
        if len(data) < at + size:
            return None
        self._buffer = data[at + size :]
        return opcode, data[at : at + size]

    async def aclose(self) -> None:
        await self.stream.aclose()
