"""A WebSocket client of the simulator's gateway, for tests: the JavaScript SDK's protocol.

It writes and reads the message header with its own ``struct`` formats rather
than :mod:`asyncquote.sim._websocket_frames`, so a mistake there cannot hide
in both ends. The WebSocket itself is ``websockets``' Sans-I/O client driven
by anyio, so the tests run on every backend.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import anyio
import anyio.abc
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from asyncquote._pb import InitWebSocket_pb2, Qot_GetUserSecurity_pb2
from asyncquote.sim import Simulator

from .rawclient import GET_USER_SECURITY, RawClient, user_security

# sign (8 bytes), cmd u32, section u64: big-endian, as the SDK's bytebuffer writes.
REQUEST_HEADER = struct.Struct("!8sIQ")
# ... then error i32 and a 20-byte errmsg in replies and pushes.
REPLY_HEADER = struct.Struct("!8sIQi20s")
SIGN = b"ft-v1.0\0"
#: The key of the ``ws_sim`` fixture's simulator (see ``conftest.py``).
KEY = "open sesame"
#: A watchlist group of the bundled sample, not empty.
WATCHLIST = "港股"


@dataclass(frozen=True)
class Reply:
    cmd: int
    section: int
    error: int
    errmsg: str
    body: bytes


class WsClient:
    """One WebSocket connection to ``ws://host:port``; use as an async context manager."""

    def __init__(self, host: str, port: int) -> None:
        self._uri = f"ws://{host}:{port}/"
        self._host = host
        self._port = port
        self._protocol = ClientProtocol(parse_uri(self._uri))
        self._stream: anyio.abc.SocketStream | None = None
        self._messages: list[bytes] = []
        self.closed = False

    async def __aenter__(self) -> WsClient:
        self._stream = await anyio.connect_tcp(self._host, self._port)
        request = self._protocol.connect()
        self._protocol.send_request(request)
        await self._flush()
        while True:
            await self._feed()
            for event in self._protocol.events_received():
                if isinstance(event, Response):
                    assert event.status_code == 101, event
                    return self
                self._take(event)

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._stream is not None
        await self._stream.aclose()

    async def send(self, cmd: int, section: int, body: bytes = b"") -> None:
        self._protocol.send_binary(REQUEST_HEADER.pack(SIGN, cmd, section) + body)
        await self._flush()

    async def send_raw(self, data: bytes) -> None:
        self._protocol.send_binary(data)
        await self._flush()

    async def log_in(self, key: str, section: int = 1) -> Reply:
        """Send InitWebSocket with ``key`` as the SDK does and return the reply."""
        await self.send_init(key, section)
        return await self.receive()

    async def send_init(self, key: str, section: int = 1) -> None:
        request = InitWebSocket_pb2.Request()
        request.c2s.websocketKey = hashlib.md5(key.encode()).hexdigest()
        request.c2s.programmingLanguage = "JavaScript"
        await self.send(1, section, request.SerializeToString())

    async def receive(self) -> Reply:
        """The next message; raises ``EOFError`` once the gateway has closed."""
        while not self._messages:
            if self.closed:
                raise EOFError("the gateway closed the WebSocket")
            await self._feed()
            for event in self._protocol.events_received():
                self._take(event)
            await self._flush()
        data = self._messages.pop(0)
        sign, cmd, section, error, errmsg = REPLY_HEADER.unpack_from(data)
        assert sign == SIGN
        return Reply(cmd, section, error, errmsg.rstrip(b"\0").decode(), data[REPLY_HEADER.size :])

    def _take(self, event: object) -> None:
        if isinstance(event, Frame):
            if event.opcode is Opcode.BINARY:
                self._messages.append(bytes(event.data))
            elif event.opcode is Opcode.CLOSE:
                self.closed = True

    async def _feed(self) -> None:
        assert self._stream is not None
        try:
            self._protocol.receive_data(await self._stream.receive())
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            self._protocol.receive_eof()
            self.closed = True

    async def _flush(self) -> None:
        assert self._stream is not None
        for data in self._protocol.data_to_send():
            if data:
                await self._stream.send(data)


def websocket_port(sim: Simulator) -> int:
    """``sim``'s WebSocket port, which it must have."""
    port = sim.websocket_port
    assert port is not None
    return port


def codes(body: bytes) -> list[str]:
    """The codes in a successful GetUserSecurity reply body."""
    response = Qot_GetUserSecurity_pb2.Response.FromString(body)
    assert response.retType == 0, response.retMsg
    return [info.basic.security.code for info in response.s2c.staticInfoList]


async def still_serves(sim: Simulator) -> None:
    """A fresh WebSocket client of ``sim`` logs in and gets a watchlist; so does a TCP one.

    Bounded (10 s), so a simulator that hangs fails rather than stalls the test.
    """
    expected = [info.basic.security.code for info in sim.watchlists.securities_in(WATCHLIST)]
    with anyio.fail_after(10):
        async with WsClient(sim.host, websocket_port(sim)) as ws:
            assert (await ws.log_in(KEY)).error == 0
            await ws.send(GET_USER_SECURITY, 5, user_security(WATCHLIST).SerializeToString())
            reply = await ws.receive()
            assert reply.section == 5
            assert codes(reply.body) == expected != []
        async with RawClient.connect(sim.host, sim.port) as tcp:
            assert (await tcp.init_connect()).retType == 0
            response = await tcp.call(
                GET_USER_SECURITY, user_security(WATCHLIST), Qot_GetUserSecurity_pb2.Response
            )
            assert [i.basic.security.code for i in response.s2c.staticInfoList] == expected
