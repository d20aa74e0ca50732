"""The floor: the least a client can do to make the same calls.

Plain asyncio streams, :mod:`struct` and the generated protobuf classes:
hand-packed headers, no task per call, no serial table, no checksum check,
no timeouts, no models (the reply is parsed to protobuf and ``retType``
checked, nothing more). Whatever asyncquote costs on top of this is the price
of its features; the benchmark reports asyncquote as a fraction of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
from collections.abc import Callable, Sequence

from asyncquote._pb import InitConnect_pb2, Qot_GetUserSecurity_pb2

__all__ = ["FloorClient"]

_HEADER = struct.Struct("<2sIBBII20s8s")
_INIT_CONNECT = 1001
_GET_USER_SECURITY = 3213


class FloorClient:
    """One connection, used by one coroutine at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._serial = 0

    @classmethod
    async def connect(cls, host: str, port: int) -> FloorClient:
        """Open a connection and do the InitConnect handshake the gateway insists on."""
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer)
        request = InitConnect_pb2.Request()
        request.c2s.clientVer = 300
        request.c2s.clientID = "benchmark-floor"
        request.c2s.recvNotify = False
        request.c2s.packetEncAlgo = -1
        client._writer.write(client._frame(_INIT_CONNECT, request.SerializeToString()))
        body = await client._read_reply()
        response = InitConnect_pb2.Response.FromString(body)
        if response.retType != 0:
            raise RuntimeError(f"handshake refused: {response.retMsg}")
        return client

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()

    def _frame(self, proto_id: int, body: bytes) -> bytes:
        self._serial += 1
        digest = hashlib.sha1(body).digest()
        header = _HEADER.pack(b"FT", proto_id, 0, 0, self._serial, len(body), digest, bytes(8))
        return header + body

    async def _read_reply(self) -> bytes:
        header = await self._reader.readexactly(_HEADER.size)
        body_len = _HEADER.unpack(header)[5]
        return await self._reader.readexactly(body_len)

    def _request(self, group: str) -> bytes:
        request = Qot_GetUserSecurity_pb2.Request()
        request.c2s.groupName = group
        return self._frame(_GET_USER_SECURITY, request.SerializeToString())

    @staticmethod
    def _parse(body: bytes) -> Qot_GetUserSecurity_pb2.Response:
        response = Qot_GetUserSecurity_pb2.Response.FromString(body)
        if response.retType != 0:
            raise RuntimeError(f"request refused: {response.retMsg}")
        return response

    @classmethod
    def _check(cls, body: bytes) -> int:
        return len(cls._parse(body).s2c.staticInfoList)

    async def get_user_security(self, group: str) -> Qot_GetUserSecurity_pb2.Response:
        """One call: the parsed reply, ``retType`` checked (the caller reads what it needs)."""
        self._writer.write(self._request(group))
        return self._parse(await self._read_reply())

    async def sequential(self, groups: Sequence[str], calls: int) -> float:
        """Make ``calls`` calls one after another, cycling through ``groups``.

        Returns the seconds taken.
        """
        start = time.perf_counter()
        for index in range(calls):
            self._writer.write(self._request(groups[index % len(groups)]))
            self._check(await self._read_reply())
        return time.perf_counter() - start

    async def windowed(
        self,
        groups: Sequence[str],
        calls: int,
        window: int,
        *,
        sent: Callable[[], object] | None = None,
    ) -> float:
        """Make ``calls`` calls keeping ``window`` in flight; return the seconds taken.

        Replies come back in request order on one connection, so counting
        them is enough to know which call each answers. ``sent`` is called
        once the first window is written.
        """
        start = time.perf_counter()
        out = min(window, calls)
        self._writer.write(b"".join(self._request(groups[i % len(groups)]) for i in range(out)))
        await self._writer.drain()
        if sent is not None:
            sent()
        for _ in range(calls):
            self._check(await self._read_reply())
            if out < calls:
                self._writer.write(self._request(groups[out % len(groups)]))
                out += 1
        return time.perf_counter() - start
