"""The simulator's WebSocket gateway, driven by a client speaking the JavaScript SDK's protocol."""

from __future__ import annotations

import re
import sys
import time

import anyio
import pytest

from asyncquote import Quota
from asyncquote._pb import InitWebSocket_pb2, Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator

from .rawclient import user_security
from .wsclient import KEY, WsClient

pytestmark = pytest.mark.anyio

GET_GLOBAL_STATE = 1002
GET_USER_SECURITY = 3213


def client(sim: Simulator) -> WsClient:
    port = sim.websocket_port
    assert port is not None
    return WsClient(sim.host, port)


async def all_closed(sim: Simulator) -> None:
    """Return once the simulator has no open connection (bounded: 10 s)."""
    # The simulator offers no event for a connection closing; poll.
    with anyio.fail_after(10):
        while sim.open_connections:  # noqa: ASYNC110
            await anyio.sleep(0.01)


def get_user_security(body: bytes) -> Qot_GetUserSecurity_pb2.Response:
    response = Qot_GetUserSecurity_pb2.Response()
    response.ParseFromString(body)
    return response


async def test_init_websocket_with_the_key_logs_in_through_a_connection_to_the_simulator(
    ws_sim: Simulator,
) -> None:
    before = int(time.time())
    async with client(ws_sim) as ws:
        reply = await ws.log_in(KEY, section=7)
        assert (reply.cmd, reply.section, reply.error, reply.errmsg) == (1, 7, 0, "")
        response = InitWebSocket_pb2.Response()
        response.ParseFromString(reply.body)
        assert response.retType == 0
        assert before <= response.s2c.serverTime <= int(time.time())
        # The gateway's TCP connection is the simulator's only one, and its id is the connID.
        assert list(ws_sim._connections) == [response.s2c.connID]
        assert [r.proto_id for r in ws_sim.requests] == [1001]


async def test_a_request_is_served_by_the_simulator_and_the_reply_echoes_its_section(
    ws_sim: Simulator,
) -> None:
    section = 2**40 + 3  # the header's section is 64 bits wide
    async with client(ws_sim) as ws:
        await ws.log_in(KEY)
        await ws.send(GET_USER_SECURITY, section, user_security("港股").SerializeToString())
        reply = await ws.receive()
    assert (reply.cmd, reply.section, reply.error) == (GET_USER_SECURITY, section, 0)
    response = get_user_security(reply.body)
    assert response.retType == 0
    codes = [info.basic.security.code for info in response.s2c.staticInfoList]
    expected = [info.basic.security.code for info in ws_sim.watchlists.securities_in("港股")]
    assert codes == expected != []
    assert [r.proto_id for r in ws_sim.requests] == [1001, GET_USER_SECURITY]


async def test_pipelined_requests_get_their_own_sections_back_in_order(ws_sim: Simulator) -> None:
    async with client(ws_sim) as ws:
        await ws.log_in(KEY)
        for section in (10, 11, 12):
            await ws.send(GET_GLOBAL_STATE, section, b"\n\x02\x08\x00")
        replies = [await ws.receive() for _ in range(3)]
    assert [(r.cmd, r.section, r.error) for r in replies] == [
        (GET_GLOBAL_STATE, 10, 0),
        (GET_GLOBAL_STATE, 11, 0),
        (GET_GLOBAL_STATE, 12, 0),
    ]


async def test_a_wrong_key_gets_no_answer_as_the_sdk_documents(ws_sim: Simulator) -> None:
    async with client(ws_sim) as ws:
        await ws.send_init("not the key", section=1)
        # The next thing the gateway says is its answer to the request after
        # the InitWebSocket: the InitWebSocket itself got none.
        await ws.send(GET_GLOBAL_STATE, 2)
        reply = await ws.receive()
        assert (reply.cmd, reply.section, reply.error, reply.errmsg) == (
            GET_GLOBAL_STATE,
            2,
            -1,
            "InitWebSocket first",
        )
        # The client may still log in with the right key.
        assert (await ws.log_in(KEY, section=3)).error == 0
    assert [r.proto_id for r in ws_sim.requests] == [1001]


async def test_without_a_key_configured_any_key_logs_in() -> None:
    async with Simulator(websocket_port=0) as sim, client(sim) as ws:
        assert (await ws.log_in("anything")).error == 0


async def test_quotas_apply_to_websocket_clients_and_are_recorded() -> None:
    async with (
        Simulator(
            websocket_port=0, websocket_key=KEY, quotas={GET_USER_SECURITY: Quota(1, 30)}
        ) as sim,
        client(sim) as ws,
    ):
        await ws.log_in(KEY)
        body = user_security("港股").SerializeToString()
        await ws.send(GET_USER_SECURITY, 2, body)
        await ws.send(GET_USER_SECURITY, 3, body)
        first, second = await ws.receive(), await ws.receive()
        assert get_user_security(first.body).retType == 0
        refused = get_user_security(second.body)
        assert (second.section, second.error, refused.retType) == (3, 0, -1)
        assert "too frequent" in refused.retMsg
        assert [(r.proto_id, r.over_quota) for r in sim.rejections] == [(GET_USER_SECURITY, True)]


async def test_dropping_connections_pushes_cmd_2_and_closes_the_websocket(
    ws_sim: Simulator,
) -> None:
    async with client(ws_sim) as ws:
        await ws.log_in(KEY)
        assert await ws_sim.drop_connections() == 1
        push = await ws.receive()
        assert (push.cmd, push.section, push.error, push.body) == (2, 0, 0, b"")
        with pytest.raises(EOFError):
            await ws.receive()
        assert ws.closed


async def test_login_fails_with_an_error_when_the_simulator_does_not_listen(
    ws_sim: Simulator,
) -> None:
    await ws_sim.stop_listening()
    async with client(ws_sim) as ws:
        reply = await ws.log_in(KEY, section=5)
    assert (reply.cmd, reply.section, reply.error, reply.errmsg) == (1, 5, -1, "login failed")
    response = InitWebSocket_pb2.Response()
    response.ParseFromString(reply.body)
    assert response.retType == -1
    assert "cannot connect to OpenD" in response.retMsg


async def test_a_message_without_the_sign_closes_the_connection_and_spares_others(
    ws_sim: Simulator,
) -> None:
    async with client(ws_sim) as good, client(ws_sim) as bad:
        await good.log_in(KEY)
        await bad.send_raw(b"ft-v2.0\0" + bytes(12))
        with pytest.raises(EOFError):
            await bad.receive()
        await good.send(GET_GLOBAL_STATE, 9)
        assert (await good.receive()).section == 9


async def test_leaving_closes_the_bridged_connection(ws_sim: Simulator) -> None:
    async with client(ws_sim) as ws:
        await ws.log_in(KEY)
        assert ws_sim.open_connections == 1
    await all_closed(ws_sim)


class TestInVirtualTime:
    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_a_connection_that_does_not_log_in_in_time_is_closed(self) -> None:
        async with (
            Simulator(websocket_port=0, websocket_key=KEY, handshake_timeout=5) as sim,
            client(sim) as ws,
        ):
            await ws.send_init("wrong")
            with pytest.raises(EOFError):
                await ws.receive()


async def test_the_port_is_none_without_websocket(sim: Simulator) -> None:
    assert sim.websocket_port is None


def test_the_port_is_known_only_while_running() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = Simulator(websocket_port=0).websocket_port


def test_websocket_and_rsa_key_cannot_be_combined() -> None:
    with pytest.raises(ValueError, match="rsa_key"):
        Simulator(websocket_port=0, rsa_key=b"unused")


def test_without_the_websockets_package_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "websockets", None)
    with pytest.raises(ImportError, match=re.escape('pip install -e ".[websocket]"')):
        Simulator(websocket_port=0)


async def test_a_plain_http_request_is_refused_with_an_http_error(ws_sim: Simulator) -> None:
    port = ws_sim.websocket_port
    assert port is not None
    async with await anyio.connect_tcp(ws_sim.host, port) as stream:
        await stream.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = await stream.receive()
    assert answer.startswith(b"HTTP/1.1 426 ")
    assert ws_sim.open_connections == 0


async def test_an_init_websocket_body_that_does_not_parse_closes_the_connection(
    ws_sim: Simulator,
) -> None:
    async with client(ws_sim) as ws:
        await ws.send(1, 1, b"\xff\xff")
        with pytest.raises(EOFError):
            await ws.receive()


async def test_a_refused_init_connect_fails_the_login_and_closes_the_bridge() -> None:
    async with (
        Simulator(websocket_port=0, faults=Faults(refuse_handshake=True)) as sim,
        client(sim) as ws,
    ):
        reply = await ws.log_in("any", section=4)
        assert (reply.section, reply.error, reply.errmsg) == (4, -1, "login failed")
        response = InitWebSocket_pb2.Response()
        response.ParseFromString(reply.body)
        assert response.retMsg.startswith("InitConnect to OpenD failed: ")
        assert [r.proto_id for r in sim.requests] == [1001]
        await all_closed(sim)
