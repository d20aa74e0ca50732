"""One call's way to OpenD (``ClientCore``), over a fake session and fake connections.

No socket: the session hands out scripted connections, each replying with
bytes or failing, so the core's invariants are seen alone: a read is resent
once after a drop within its one deadline, an edit never; an OpenD quota
refusal fails fast when asked to; bad arguments are refused before anything
is sent; the client belongs to its event loop. ``tests/e2e/`` runs the same
paths against real peers.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from asyncquote._base.errors import (
    ConnectionLostError,
    InvalidArgumentError,
    RateLimitError,
    UsageError,
)
from asyncquote._base.states import ConnectionState
from asyncquote._client.core import ClientCore
from asyncquote._client.monitor import GatewayMonitor
from asyncquote._client.options import ClientOptions, QuotaMode
from asyncquote._io.session import Session
from asyncquote._opend.framing import Frame
from asyncquote._opend.vocabulary import ProtoId
from asyncquote._pb import InitConnect_pb2, Qot_GetUserSecurityGroup_pb2, Qot_ModifyUserSecurity_pb2

pytestmark = pytest.mark.anyio

GROUPS = ProtoId.GET_USER_SECURITY_GROUP
EDIT = ProtoId.MODIFY_USER_SECURITY
TOO_FREQUENT = "获取自选股分组频率太高，请求失败，每30秒最多10次。"


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


def ok(ret_type: int = 0, message: str = "") -> bytes:
    return Qot_GetUserSecurityGroup_pb2.Response(
        retType=ret_type, retMsg=message
    ).SerializeToString()


class FakeConnection:
    """Replies with ``reply`` (bytes) or raises it (an exception); records what it was sent."""

    def __init__(self, reply: bytes | Exception) -> None:
        self.reply = reply
        self.sent: list[tuple[int, float | None]] = []

    async def request(
        self, proto_id: int, body: bytes, *, timeout: float, deadline: float | None, on_settled: Any
    ) -> Frame:
        self.sent.append((proto_id, deadline))
        if on_settled is not None:
            on_settled()
        if isinstance(self.reply, Exception):
            raise self.reply
        return Frame(proto_id, 1, self.reply, b"")


class FakeSession:
    """Hands out its connections in order, as reconnects would."""

    def __init__(self, *connections: FakeConnection) -> None:
        self.connections = list(connections)
        self.state = ConnectionState.CONNECTED
        self.current = None
        self.on_closed: Any = None
        self.reconnects = 0

    def raise_if_closed(self) -> None:
        if self.state is ConnectionState.CLOSED:
            raise ConnectionLostError("closed")

    async def connection(self, wait: float, *, deadline: float | None) -> FakeConnection:
        return self.connections.pop(0)


class EditCountingCore(ClientCore):
    edits = 0

    def _edited(self) -> None:
        self.edits += 1


def client_options(*, retry_reads: bool = True, on_quota: QuotaMode = "wait") -> ClientOptions:
    return ClientOptions(
        host="gw",
        port=1,
        request_timeout=5.0,
        connect_timeout=5.0,
        client_id=None,
        client_version=1,
        push_handler=None,
        max_body_len=1 << 20,
        keepalive=False,
        dead_peer_after=None,
        rsa_cipher=None,
        retry_reads=retry_reads,
        on_quota=on_quota,
    )


def core(
    session: FakeSession, *, retry_reads: bool = True, on_quota: QuotaMode = "wait"
) -> EditCountingCore:
    options = client_options(retry_reads=retry_reads, on_quota=on_quota)
    return EditCountingCore(cast(Session, session), options, GatewayMonitor())


def groups_request() -> Qot_GetUserSecurityGroup_pb2.Request:
    request = Qot_GetUserSecurityGroup_pb2.Request()
    request.c2s.groupType = 1
    return request


def edit_request() -> Qot_ModifyUserSecurity_pb2.Request:
    request = Qot_ModifyUserSecurity_pb2.Request()
    request.c2s.groupName = "Mine"
    request.c2s.op = 1
    return request


async def test_a_read_lost_with_its_connection_is_resent_once_within_the_same_deadline() -> None:
    first, second = FakeConnection(ConnectionLostError("dropped")), FakeConnection(ok())
    client = core(FakeSession(first, second))
    reply = await client.request(GROUPS, groups_request(), Qot_GetUserSecurityGroup_pb2.Response)
    assert reply.retType == 0
    assert [proto for proto, _ in first.sent + second.sent] == [GROUPS, GROUPS]
    assert first.sent[0][1] == second.sent[0][1]  # one deadline for both sends


async def test_a_read_lost_twice_fails_and_is_not_sent_a_third_time() -> None:
    connections = [FakeConnection(ConnectionLostError(f"drop {n}")) for n in range(3)]
    client = core(FakeSession(*connections))
    with pytest.raises(ConnectionLostError, match="drop 1"):
        await client.request(GROUPS, groups_request(), Qot_GetUserSecurityGroup_pb2.Response)
    assert [len(connection.sent) for connection in connections] == [1, 1, 0]


async def test_without_retry_reads_a_lost_read_is_not_resent() -> None:
    first, second = FakeConnection(ConnectionLostError("dropped")), FakeConnection(ok())
    client = core(FakeSession(first, second), retry_reads=False)
    with pytest.raises(ConnectionLostError):
        await client.request(GROUPS, groups_request(), Qot_GetUserSecurityGroup_pb2.Response)
    assert second.sent == []


async def test_an_edit_is_never_resent_and_counts_as_an_edit_whatever_the_outcome() -> None:
    first, second = FakeConnection(ConnectionLostError("dropped")), FakeConnection(ok())
    client = core(FakeSession(first, second))
    with pytest.raises(ConnectionLostError):
        await client.request(EDIT, edit_request(), Qot_ModifyUserSecurity_pb2.Response)
    assert (len(first.sent), second.sent, client.edits) == (1, [], 1)


async def test_an_opend_quota_refusal_fails_fast_when_asked_to() -> None:
    refused = FakeConnection(ok(-1, TOO_FREQUENT))
    client = core(FakeSession(refused, FakeConnection(ok())), on_quota="raise")
    with pytest.raises(RateLimitError) as caught:
        await client.request(GROUPS, groups_request(), Qot_GetUserSecurityGroup_pb2.Response)
    assert caught.value.proto_id == GROUPS
    assert len(refused.sent) == 1
    assert client.quota(GROUPS).next_free_in > 0  # the window is marked full


@pytest.mark.parametrize(
    ("proto_id", "request_", "response_type", "timeout"),
    [
        (-1, groups_request(), Qot_GetUserSecurityGroup_pb2.Response, None),
        (GROUPS, b"bytes", Qot_GetUserSecurityGroup_pb2.Response, None),
        (GROUPS, groups_request(), dict, None),
        (GROUPS, groups_request(), Qot_GetUserSecurityGroup_pb2.Response, 0),
        (GROUPS, InitConnect_pb2.Request(), Qot_GetUserSecurityGroup_pb2.Response, None),
    ],
)
async def test_a_bad_argument_is_refused_before_anything_is_sent(
    proto_id: int, request_: Any, response_type: Any, timeout: float | None
) -> None:
    connection = FakeConnection(ok())
    client = core(FakeSession(connection))
    with pytest.raises(InvalidArgumentError):
        await client.request(proto_id, request_, response_type, timeout=timeout)
    assert connection.sent == []


async def test_a_closed_session_fails_a_call_before_it_is_sent() -> None:
    connection = FakeConnection(ok())
    session = FakeSession(connection)
    client = core(session)
    session.state = ConnectionState.CLOSED
    with pytest.raises(ConnectionLostError):
        await client.request(GROUPS, groups_request(), Qot_GetUserSecurityGroup_pb2.Response)
    assert connection.sent == []


def test_a_client_used_from_another_event_loop_says_so() -> None:
    connection = FakeConnection(ok())

    async def make() -> EditCountingCore:
        return core(FakeSession(connection))

    client = asyncio.run(make())
    with pytest.raises(UsageError, match="belongs to the event loop it was connected in"):
        asyncio.run(client.request(GROUPS, groups_request(), Qot_GetUserSecurityGroup_pb2.Response))
    assert connection.sent == []


async def test_info_before_any_handshake_says_to_use_connect() -> None:
    with pytest.raises(ConnectionLostError, match="use connect"):
        core(FakeSession()).info  # noqa: B018
