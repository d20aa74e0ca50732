"""A bare-bones OpenD client for driving the simulator in tests.

It speaks raw frames over an anyio socket stream, deliberately without the
asyncquote client, so the simulator's tests do not depend on the code they
are meant to support.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.abc
from google.protobuf.message import Message

from asyncquote._opend.framing import Frame, FrameDecoder, encode_frame
from asyncquote._pb import (
    GetGlobalState_pb2,
    InitConnect_pb2,
    Notify_pb2,
    Qot_Common_pb2,
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
    Qot_ModifyUserSecurity_pb2,
)

M = TypeVar("M", bound=Message)

INIT_CONNECT = 1001
GET_GLOBAL_STATE = 1002
NOTIFY = 1003
KEEP_ALIVE = 1004
GET_USER_SECURITY = 3213
MODIFY_USER_SECURITY = 3214
GET_USER_SECURITY_GROUP = 3222


def user_security(group_name: str) -> Qot_GetUserSecurity_pb2.Request:
    """A 3213 request for one watchlist group."""
    return Qot_GetUserSecurity_pb2.Request(c2s=Qot_GetUserSecurity_pb2.C2S(groupName=group_name))


def user_security_group(group_type: int) -> Qot_GetUserSecurityGroup_pb2.Request:
    """A 3222 request for the groups of one kind (1 custom, 2 system, 3 all)."""
    return Qot_GetUserSecurityGroup_pb2.Request(
        c2s=Qot_GetUserSecurityGroup_pb2.C2S(groupType=group_type)
    )


def modify_user_security(
    group_name: str, op: int, codes: list[tuple[int, str]]
) -> Qot_ModifyUserSecurity_pb2.Request:
    """A 3214 request: ``op`` 1 add, 2 delete, 3 move out; ``codes`` as (market, code)."""
    securities = [Qot_Common_pb2.Security(market=market, code=code) for market, code in codes]
    return Qot_ModifyUserSecurity_pb2.Request(
        c2s=Qot_ModifyUserSecurity_pb2.C2S(groupName=group_name, op=op, securityList=securities)
    )


class RawClient:
    """Frames out, frames in; one reply read per call, in arrival order."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self._decoder = FrameDecoder()
        self._frames: deque[Frame] = deque()
        self._serials = itertools.count(1)

    @classmethod
    @asynccontextmanager
    async def connect(cls, host: str, port: int) -> AsyncIterator[RawClient]:
        async with await anyio.connect_tcp(host, port) as stream:
            yield cls(stream)

    def next_serial(self) -> int:
        return next(self._serials)

    async def send(self, proto_id: int, message: Message | bytes, serial_no: int = 0) -> int:
        """Send one frame; returns its serial number."""
        serial_no = serial_no or self.next_serial()
        body = message if isinstance(message, bytes) else message.SerializeToString()
        await self.stream.send(encode_frame(proto_id, serial_no, body))
        return serial_no

    async def receive(self) -> Frame:
        """The next reply frame."""
        while not self._frames:
            self._frames.extend(self._decoder.feed(await self.stream.receive()))
        return self._frames.popleft()

    async def call(self, proto_id: int, message: Message | bytes, response_type: type[M]) -> M:
        """Send a request and parse its reply, checking that proto id and serial are echoed."""
        serial_no = await self.send(proto_id, message)
        frame = await self.receive()
        assert (frame.proto_id, frame.serial_no) == (proto_id, serial_no)
        return response_type.FromString(frame.body)

    async def init_connect(self, **c2s: object) -> InitConnect_pb2.Response:
        fields: dict[str, Any] = {"clientVer": 100, "clientID": "tests", "packetEncAlgo": -1}
        fields.update(c2s)
        request = InitConnect_pb2.Request(c2s=InitConnect_pb2.C2S(**fields))
        return await self.call(INIT_CONNECT, request, InitConnect_pb2.Response)

    async def notify(self) -> Notify_pb2.Response:
        """The next frame, which must be a Notify push."""
        frame = await self.receive()
        assert frame.proto_id == NOTIFY, frame
        return Notify_pb2.Response.FromString(frame.body)

    async def global_state(self) -> GetGlobalState_pb2.S2C:
        """GetGlobalState's answer, which must succeed."""
        request = GetGlobalState_pb2.Request(c2s=GetGlobalState_pb2.C2S(userID=0))
        response = await self.call(GET_GLOBAL_STATE, request, GetGlobalState_pb2.Response)
        assert response.retType == 0, response.retMsg
        return response.s2c

    async def closed_by_peer(self) -> bool:
        """Read until the server closes the connection; False if it sends a frame instead."""
        try:
            data = await self.stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return True
        return not data


@asynccontextmanager
async def ready_client(host: str, port: int, **c2s: object) -> AsyncIterator[RawClient]:
    """A connected client that has completed InitConnect (with ``c2s`` fields, if given)."""
    async with RawClient.connect(host, port) as client:
        response = await client.init_connect(**c2s)
        assert response.retType == 0, response.retMsg
        yield client


async def time_handshake_and_call(host: str, port: int) -> tuple[float, float]:
    """Seconds the InitConnect took, then one 3213 call after it, on a fresh connection."""
    async with RawClient.connect(host, port) as client:
        start = anyio.current_time()
        response = await client.init_connect()
        assert response.retType == 0, response.retMsg
        shaken = anyio.current_time()
        await client.call(GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response)
        return shaken - start, anyio.current_time() - shaken


async def ask(host: str, port: int, proto_id: int, message: Message, response_type: type[M]) -> M:
    """One request on a fresh, initialised connection, bounded in time."""
    with anyio.fail_after(5):
        async with ready_client(host, port) as client:
            return await client.call(proto_id, message, response_type)
