"""The simulator over real loopback TCP, driven with raw frames."""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

import anyio
import pytest
from google.protobuf.message import Message

from asyncquote._opend.framing import encode_frame
from asyncquote._pb import (
    GetGlobalState_pb2,
    InitConnect_pb2,
    KeepAlive_pb2,
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
)
from asyncquote.sim import NO_QUOTAS, SYSTEM_GROUP_NAMES, RequestRecord, Simulator, serve
from asyncquote.sim._watchlists import UNQUERYABLE_GROUPS

from .rawclient import (
    GET_GLOBAL_STATE,
    GET_USER_SECURITY,
    GET_USER_SECURITY_GROUP,
    KEEP_ALIVE,
    RawClient,
    ask,
    ready_client,
    user_security,
)

pytestmark = pytest.mark.anyio

QUERYABLE_SYSTEM_GROUPS = [
    (chinese, english)
    for chinese, english in SYSTEM_GROUP_NAMES.items()
    if chinese not in UNQUERYABLE_GROUPS
]


async def get_user_security(client: RawClient, group_name: str) -> Qot_GetUserSecurity_pb2.Response:
    return await client.call(
        GET_USER_SECURITY, user_security(group_name), Qot_GetUserSecurity_pb2.Response
    )


async def ask_group(sim: Simulator, group_name: str) -> Qot_GetUserSecurity_pb2.Response:
    return await ask(
        sim.host,
        sim.port,
        GET_USER_SECURITY,
        user_security(group_name),
        Qot_GetUserSecurity_pb2.Response,
    )


async def ask_groups(sim: Simulator, group_type: int) -> Qot_GetUserSecurityGroup_pb2.Response:
    request = Qot_GetUserSecurityGroup_pb2.Request(
        c2s=Qot_GetUserSecurityGroup_pb2.C2S(groupType=group_type)
    )
    return await ask(
        sim.host,
        sim.port,
        GET_USER_SECURITY_GROUP,
        request,
        Qot_GetUserSecurityGroup_pb2.Response,
    )


def codes(response: Qot_GetUserSecurity_pb2.Response) -> list[str]:
    return [info.basic.security.code for info in response.s2c.staticInfoList]


async def test_handshake_returns_connection_identity_and_keepalive_interval(
    sim: Simulator,
) -> None:
    with anyio.fail_after(5):
        async with RawClient.connect(sim.host, sim.port) as client:
            response = await client.init_connect()
    assert response.retType == 0
    s2c = response.s2c
    assert s2c.connID > 0
    assert s2c.loginUserID > 0
    assert s2c.serverVer > 0
    assert s2c.keepAliveInterval == 10
    assert len(s2c.connAESKey) == 16


async def test_keepalive_interval_is_configurable() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(keepalive_interval=2) as sim,
            RawClient.connect(sim.host, sim.port) as client,
        ):
            response = await client.init_connect()
    assert response.s2c.keepAliveInterval == 2


async def test_init_connect_asking_for_encryption_is_refused(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with RawClient.connect(sim.host, sim.port) as client:
            refused = await client.init_connect(packetEncAlgo=2)
            accepted = await client.init_connect()
    assert refused.retType == -1
    assert "packetEncAlgo 2" in refused.retMsg
    assert not refused.HasField("s2c")
    assert accepted.retType == 0


async def test_concurrent_connections_get_distinct_conn_ids(sim: Simulator) -> None:
    conn_ids: list[int] = []

    async def handshake() -> None:
        async with RawClient.connect(sim.host, sim.port) as client:
            response = await client.init_connect()
            conn_ids.append(response.s2c.connID)
            await anyio.sleep(0.05)  # overlap the connections

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(handshake)
    assert len(set(conn_ids)) == 8


@pytest.mark.parametrize(
    ("proto_id", "request_message"),
    [
        (GET_GLOBAL_STATE, GetGlobalState_pb2.Request(c2s=GetGlobalState_pb2.C2S(userID=0))),
        (KEEP_ALIVE, KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=0))),
        (GET_USER_SECURITY, user_security("All")),
    ],
)
async def test_requests_before_init_connect_are_refused_like_opend(
    sim: Simulator, proto_id: int, request_message: Message
) -> None:
    with anyio.fail_after(5):
        async with RawClient.connect(sim.host, sim.port) as client:
            refused = await client.call(proto_id, request_message, KeepAlive_pb2.Response)
            # The connection stays usable: the client can still say hello.
            hello = await client.init_connect()
    assert refused.retType == -1
    assert refused.errCode != 0
    assert "InitConnect" in refused.retMsg
    assert hello.retType == 0


async def test_keepalive_echoes_server_time(sim: Simulator) -> None:
    request = KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1))
    response = await ask(sim.host, sim.port, KEEP_ALIVE, request, KeepAlive_pb2.Response)
    assert response.retType == 0
    assert abs(response.s2c.time - time.time()) < 5


async def test_global_state_reports_a_logged_in_gateway(sim: Simulator) -> None:
    request = GetGlobalState_pb2.Request(c2s=GetGlobalState_pb2.C2S(userID=0))
    response = await ask(sim.host, sim.port, GET_GLOBAL_STATE, request, GetGlobalState_pb2.Response)
    assert response.retType == 0
    s2c = response.s2c
    assert s2c.qotLogined
    assert s2c.trdLogined
    assert s2c.serverVer > 0
    assert abs(s2c.time - time.time()) < 5
    assert {s2c.marketHK, s2c.marketUS, s2c.marketSH, s2c.marketSZ} <= set(range(1, 30))


@pytest.mark.parametrize(("chinese", "english"), QUERYABLE_SYSTEM_GROUPS)
async def test_chinese_and_english_group_names_give_identical_lists(
    sim: Simulator, chinese: str, english: str
) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            by_chinese = await get_user_security(client, chinese)
            by_english = await get_user_security(client, english)
    assert by_chinese.retType == 0
    assert by_english == by_chinese
    assert by_chinese.HasField("s2c")


async def test_all_group_holds_every_security_with_its_static_info(sim: Simulator) -> None:
    response = await ask_group(sim, "All")
    infos = list(response.s2c.staticInfoList)
    assert infos == sim.watchlists.securities_in("全部")
    every_member = {key for group in sim.watchlists.groups for key in group.members}
    assert {(i.basic.security.market, i.basic.security.code) for i in infos} == every_member
    by_code = {info.basic.security.code: info for info in infos}
    assert by_code["00700"].basic.name == "腾讯控股"
    assert by_code["00700"].basic.lotSize == 100
    assert by_code["800000"].basic.secType == 6
    assert by_code["HSImain"].basic.secType == 10
    assert by_code["HSImain"].futureExData.isMainContract
    option = next(i for i in infos if i.basic.secType == 8)
    assert option.HasField("optionExData")
    warrant = next(i for i in infos if i.basic.secType == 5)
    assert warrant.HasField("warrantExData")


async def test_custom_group_is_served_in_its_own_order(sim: Simulator) -> None:
    response = await ask_group(sim, "Tech")
    assert response.retType == 0
    assert codes(response) == ["AAPL", "TSLA", "00700", "09988", "FUTU"]


async def test_unknown_group_is_rejected_like_opend(sim: Simulator) -> None:
    response = await ask_group(sim, "No such group")
    assert response.retType == -1
    assert response.errCode != 0
    assert response.retMsg == "Unknown watchlists"
    assert not response.HasField("s2c")


@pytest.mark.parametrize("group_name", ["Positions", "持仓", "Mutual Fund", "Forex"])
async def test_positions_funds_and_forex_groups_cannot_be_queried(
    sim: Simulator, group_name: str
) -> None:
    response = await ask_group(sim, group_name)
    assert response.retType == -1
    assert response.errCode != 0
    assert "cannot be queried" in response.retMsg


@pytest.mark.parametrize(
    ("group_type", "expected"),
    [
        (1, ["Tech", "Macro", "A"]),
        (2, list(SYSTEM_GROUP_NAMES)),
        (3, [*SYSTEM_GROUP_NAMES, "Tech", "Macro", "A"]),
    ],
)
async def test_group_list_shows_groups_of_the_requested_kind(
    sim: Simulator, group_type: int, expected: list[str]
) -> None:
    response = await ask_groups(sim, group_type)
    assert response.retType == 0
    assert [group.groupName for group in response.s2c.groupList] == expected


async def test_group_list_of_an_unknown_kind_is_refused(sim: Simulator) -> None:
    response = await ask_groups(sim, 9)
    assert response.retType == -1
    assert "group type 9" in response.retMsg


async def test_unknown_proto_id_gets_a_failed_reply(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            response = await client.call(4242, b"", KeepAlive_pb2.Response)
            still_served = await get_user_security(client, "HK")
    assert response.retType == -1
    assert response.retMsg == "unknown protocol 4242"
    assert still_served.retType == 0


@pytest.mark.parametrize("body", [b"\xff\xff\xff", b"", b"\x0a\x00"])
async def test_malformed_body_gets_an_invalid_packet_reply(sim: Simulator, body: bytes) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            response = await client.call(GET_USER_SECURITY, body, Qot_GetUserSecurity_pb2.Response)
            still_served = await get_user_security(client, "HK")
    assert response.retType == -500
    assert "invalid packet" in response.retMsg
    assert still_served.retType == 0


async def test_json_format_requests_are_refused(sim: Simulator) -> None:
    frame = encode_frame(GET_USER_SECURITY, 7, b'{"c2s": {"groupName": "HK"}}', proto_fmt=1)
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            await client.stream.send(frame)
            reply = await client.receive()
    response = Qot_GetUserSecurity_pb2.Response.FromString(reply.body)
    assert (reply.proto_id, reply.serial_no) == (GET_USER_SECURITY, 7)
    assert response.retType == -1
    assert "format 1" in response.retMsg


def corrupt_sha1(frame: bytes) -> bytes:
    return frame[:16] + bytes(20) + frame[36:]


def bad_magic(frame: bytes) -> bytes:
    return b"XX" + frame[2:]


def oversize_length(frame: bytes) -> bytes:
    return frame[:12] + struct.pack("<I", 0xFFFF_FFFF) + frame[16:]


@pytest.mark.parametrize("damage", [corrupt_sha1, bad_magic, oversize_length])
async def test_broken_framing_closes_only_that_connection(
    sim: Simulator, damage: Callable[[bytes], bytes]
) -> None:
    bad_frame = damage(encode_frame(GET_USER_SECURITY, 1, user_security("HK").SerializeToString()))
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as bystander:
            async with ready_client(sim.host, sim.port) as culprit:
                await culprit.stream.send(bad_frame)
                assert await culprit.closed_by_peer()
            response = await get_user_security(bystander, "HK")
    assert response.retType == 0


async def test_good_frames_before_a_broken_one_are_answered_then_the_connection_closes(
    sim: Simulator,
) -> None:
    good = encode_frame(GET_USER_SECURITY, 11, user_security("HK").SerializeToString())
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            await client.stream.send(good + corrupt_sha1(good))
            reply = await client.receive()
            assert await client.closed_by_peer()
    assert reply.serial_no == 11


async def test_pipelined_requests_are_answered_in_order() -> None:
    body = user_security("US").SerializeToString()
    serials = list(range(100, 150))
    with anyio.fail_after(5):
        async with (
            Simulator(quotas=NO_QUOTAS) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.stream.send(b"".join(encode_frame(3213, s, body) for s in serials))
            replies = [await client.receive() for _ in serials]
    assert [reply.serial_no for reply in replies] == serials
    for reply in replies:
        assert hashlib.sha1(reply.body).digest() == reply.body_sha1
        assert Qot_GetUserSecurity_pb2.Response.FromString(reply.body).retType == 0


async def test_a_frame_dribbled_byte_by_byte_is_reassembled(sim: Simulator) -> None:
    frame = encode_frame(GET_USER_SECURITY, 5, user_security("CN").SerializeToString())
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            for i in range(len(frame)):
                await client.stream.send(frame[i : i + 1])
            reply = await client.receive()
    response = Qot_GetUserSecurity_pb2.Response.FromString(reply.body)
    assert codes(response) == ["600519", "000001"]


async def test_every_request_is_recorded_with_its_connection_and_serial(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            conn_id = sim.requests[-1].conn_id
            before = anyio.current_time()
            await get_user_security(client, "All")
            await client.call(4242, b"", KeepAlive_pb2.Response)
            await get_user_security(client, "No such group")
    records = list(sim.requests)
    assert [(r.proto_id, r.serial_no) for r in records] == [
        (1001, 1),
        (3213, 2),
        (4242, 3),
        (3213, 4),
    ]
    assert all(isinstance(r, RequestRecord) and r.conn_id == conn_id for r in records)
    assert all(r.time >= before for r in records[1:])
    assert records == sorted(records, key=lambda r: r.time)


async def test_record_limit_keeps_only_the_latest_requests() -> None:
    with anyio.fail_after(5):
        async with Simulator(record_limit=2) as sim, ready_client(sim.host, sim.port) as client:
            for _ in range(3):
                await get_user_security(client, "HK")
    assert [r.serial_no for r in sim.requests] == [3, 4]


async def test_exit_closes_clients_and_leaves_no_task_behind() -> None:
    tasks_before = len(anyio.get_running_tasks())
    with anyio.fail_after(5):
        async with AsyncExitStack() as clients:
            async with Simulator() as sim:
                port = sim.port
                first = await clients.enter_async_context(ready_client(sim.host, port))
                second = await clients.enter_async_context(ready_client(sim.host, port))
                assert sim.open_connections == 2
            assert len(anyio.get_running_tasks()) == tasks_before
            assert sim.open_connections == 0
            assert await first.closed_by_peer()
            assert await second.closed_by_peer()
        with pytest.raises(OSError, match="connection attempts failed"):
            await anyio.connect_tcp("127.0.0.1", port)
        # The port is free again.
        async with Simulator(port=port) as again:
            assert again.port == port


async def test_an_error_in_the_callers_block_propagates_unwrapped() -> None:
    with pytest.raises(KeyError, match="boom"):
        async with Simulator():
            raise KeyError("boom")


async def test_cancelling_the_caller_stops_the_simulator_quietly() -> None:
    with anyio.fail_after(5):
        with anyio.move_on_after(0.05) as scope:
            async with Simulator() as sim, ready_client(sim.host, sim.port):
                await anyio.sleep(10)
    assert scope.cancelled_caught
    assert sim.open_connections == 0


async def test_port_is_only_known_while_running() -> None:
    simulator = Simulator()
    with pytest.raises(RuntimeError):
        _ = simulator.port
    async with simulator:
        assert simulator.port > 0
    with pytest.raises(RuntimeError):
        _ = simulator.port


async def test_serve_runs_until_cancelled_and_reports_when_ready() -> None:
    started: list[Simulator] = []
    ready = anyio.Event()

    def on_ready(simulator: Simulator) -> None:
        started.append(simulator)
        ready.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: serve(port=0, ready=on_ready))
            await ready.wait()
            async with ready_client(started[0].host, started[0].port) as client:
                assert (await get_user_security(client, "All")).retType == 0
            tg.cancel_scope.cancel()
    assert started[0].open_connections == 0


async def test_init_connect_reply_parses_with_every_required_field(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with RawClient.connect(sim.host, sim.port) as client:
            await client.init_connect()
            serial = await client.send(
                1001,
                InitConnect_pb2.Request(
                    c2s=InitConnect_pb2.C2S(clientVer=1, clientID="again", packetEncAlgo=-1)
                ),
            )
            reply = await client.receive()
    assert reply.serial_no == serial
    response = InitConnect_pb2.Response.FromString(reply.body)
    assert response.IsInitialized()
    assert response.s2c.connID == sim.requests[0].conn_id
