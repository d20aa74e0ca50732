"""A tiny in-process OpenD stand-in whose behaviour each test scripts by hand.

The simulator behaves like OpenD; this server behaves however a test needs:
replies out of order, late, twice, never, with garbage. Each accepted
connection runs the test's script with a :class:`Peer`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc
from google.protobuf.message import Message

from asyncquote._pb import InitConnect_pb2
from asyncquote.framing import Frame, FrameDecoder, encode_frame

Script = Callable[["Peer"], Awaitable[None]]


class Peer:
    """The server side of one accepted connection."""

    def __init__(self, stream: anyio.abc.ByteStream, *, verify_sha1: bool = True) -> None:
        self.stream = stream
        self._decoder = FrameDecoder(verify_sha1=verify_sha1)
        self._ready: list[Frame] = []
        self.received: list[Frame] = []

    async def receive_frame(self) -> Frame:
        while not self._ready:
            self._ready.extend(self._decoder.feed(await self.stream.receive()))
        frame = self._ready.pop(0)
        self.received.append(frame)
        return frame

    async def receive_frames(self, count: int, *, proto_id: int | None = None) -> list[Frame]:
        """Receive ``count`` frames, skipping (but recording) other protocols."""
        frames: list[Frame] = []
        while len(frames) < count:
            frame = await self.receive_frame()
            if proto_id is None or frame.proto_id == proto_id:
                frames.append(frame)
        return frames

    async def send(self, proto_id: int, serial_no: int, message: Message | bytes) -> None:
        body = message if isinstance(message, bytes) else message.SerializeToString()
        await self.stream.send(encode_frame(proto_id, serial_no, body))

    async def reply(self, request: Frame, message: Message | bytes) -> None:
        await self.send(request.proto_id, request.serial_no, message)

    async def answer_handshake(self, *, keepalive_interval: int = 10, ret_type: int = 0) -> Frame:
        request = await self.receive_frame()
        assert request.proto_id == 1001, request
        response = InitConnect_pb2.Response(retType=ret_type)
        if ret_type == 0:
            s2c = response.s2c
            s2c.serverVer = 1003
            s2c.loginUserID = 42
            s2c.connID = 7
            s2c.connAESKey = "0123456789ABCDEF"
            s2c.keepAliveInterval = keepalive_interval
        else:
            response.retMsg = "handshake refused by script"
            response.errCode = 1
        await self.reply(request, response)
        return request


@asynccontextmanager
async def scripted_server(
    script: Script, *, verify_sha1: bool = True
) -> AsyncIterator[tuple[str, int]]:
    """Serve ``script`` on an ephemeral loopback port; yield ``(host, port)``.

    Pass ``verify_sha1=False`` for encrypted traffic, whose header digests are
    of the plaintext.
    """
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            # The client hanging up is how most scripts end.
            with contextlib.suppress(
                anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError
            ):
                await script(Peer(stream, verify_sha1=verify_sha1))

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        try:
            yield "127.0.0.1", port
        finally:
            tg.cancel_scope.cancel()
