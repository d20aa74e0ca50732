"""Notify (1003) pushes: only to connections that asked, encrypted like replies, never stalled."""

from __future__ import annotations

import hashlib

import anyio
import pytest

from asyncquote._models.events import (
    ApiQuotaChanged,
    GatewayEvent,
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from asyncquote._models.health import ProgramStatus, QuoteRights
from asyncquote._opend.health_vocabulary import (
    GatewayEventType,
    NotifyType,
    ProgramStatusType,
    QuoteRight,
)
from asyncquote._pb import KeepAlive_pb2, Notify_pb2
from asyncquote.sim import GatewayState, Simulator
from asyncquote.sim._gateway import NotifyEvent
from asyncquote.sim._notify import notify_body

from .cryptoclient import encrypted_client
from .keys import rsa_pem
from .rawclient import KEEP_ALIVE, NOTIFY, RawClient, ready_client

pytestmark = pytest.mark.anyio

KICKED = GatewayEvent(type=GatewayEventType.KICKED_OUT, description="elsewhere")


async def keep_alive(client: RawClient) -> KeepAlive_pb2.Response:
    request = KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1))
    return await client.call(KEEP_ALIVE, request, KeepAlive_pb2.Response)


# --- each event as a Notify body, without I/O ---------------------------------


def decoded(event: NotifyEvent) -> Notify_pb2.S2C:
    response = Notify_pb2.Response.FromString(notify_body(event))
    assert response.retType == 0
    return response.s2c


def test_a_gateway_event_becomes_a_gtw_event_notify() -> None:
    s2c = decoded(KICKED)
    assert s2c.type == NotifyType.GTW_EVENT
    assert (s2c.event.eventType, s2c.event.desc) == (7, "elsewhere")


def test_a_program_status_change_carries_its_description_only_when_there_is_one() -> None:
    s2c = decoded(ProgramStatusChanged(program_status=ProgramStatus(type=ProgramStatusType.LOGING)))
    assert s2c.type == NotifyType.PROGRAM_STATUS
    assert s2c.programStatus.programStatus.type == ProgramStatusType.LOGING
    assert not s2c.programStatus.programStatus.HasField("strExtDesc")
    unknown = decoded(ProgramStatusChanged(program_status=ProgramStatus(type=99, description="?")))
    # Sent as it is, as a newer OpenD would send it (an int32 on our side).
    assert (
        unknown.programStatus.programStatus.type,
        unknown.programStatus.programStatus.strExtDesc,
    ) == (99, "?")


def test_login_quota_and_rights_changes_become_their_notifies() -> None:
    login = decoded(LoginStatusChanged(quote_logged_in=False, trade_logged_in=True))
    assert login.type == NotifyType.CONN_STATUS
    assert (login.connectStatus.qotLogined, login.connectStatus.trdLogined) == (False, True)
    quota = decoded(ApiQuotaChanged(subscription_quota=2000, history_kline_quota=300))
    assert quota.type == NotifyType.API_QUOTA
    assert (quota.apiQuota.subQuota, quota.apiQuota.historyKLQuota) == (2000, 300)
    used = decoded(UsedQuotaChanged(used_subscription_quota=5))
    assert used.type == NotifyType.USED_QUOTA
    assert used.usedQuota.usedSubQuota == 5
    assert not used.usedQuota.HasField("usedKLineQuota")
    rights = QuoteRights(
        hk=QuoteRight.LEVEL2, us=QuoteRight.NO, cn=7, has_us_option=True, ec=QuoteRight.BMP
    )
    right = decoded(QuoteRightsChanged(quote_rights=rights))
    assert right.type == NotifyType.QOT_RIGHT
    qot = right.qotRight
    assert (qot.hkQotRight, qot.usQotRight, qot.cnQotRight) == (3, 5, 7)
    assert (qot.hasUSOptionQotRight, qot.ecQotRight) == (True, 1)
    assert not qot.HasField("sgStockQotRight")


def test_only_the_notify_event_models_can_be_pushed() -> None:
    with pytest.raises(TypeError, match="push"):
        notify_body(GatewayState())  # type: ignore[arg-type]


# --- over the wire ---------------------------------------------------------------


async def test_a_push_reaches_exactly_the_connections_that_asked_for_notifications(
    sim: Simulator,
) -> None:
    with anyio.fail_after(5):
        async with (
            ready_client(sim.host, sim.port, recvNotify=True) as listener,
            ready_client(sim.host, sim.port, recvNotify=True) as second,
            ready_client(sim.host, sim.port, recvNotify=False) as deaf,
            RawClient.connect(sim.host, sim.port) as uninitialised,
        ):
            assert sim.push(KICKED) == 2
            got = [await listener.notify(), await second.notify()]
            # The others get nothing: their next frame is the reply they ask for.
            alive = await keep_alive(deaf)
            await uninitialised.send(
                KEEP_ALIVE, KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1))
            )
            refused = await uninitialised.receive()
    assert [n.s2c.event.desc for n in got] == ["elsewhere", "elsewhere"]
    assert alive.retType == 0
    assert refused.proto_id == KEEP_ALIVE


async def test_a_push_is_ordered_before_the_reply_to_a_later_request(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port, recvNotify=True) as client:
            sim.push(KICKED)
            sim.push(UsedQuotaChanged(used_kline_quota=1))
            serial = await client.send(
                KEEP_ALIVE, KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1))
            )
            frames = [await client.receive() for _ in range(3)]
    assert [(f.proto_id, f.serial_no) for f in frames] == [
        (NOTIFY, 0),
        (NOTIFY, 0),
        (KEEP_ALIVE, serial),
    ]


async def test_log_out_pushes_event_status_and_login_then_log_in_undoes_them(
    sim: Simulator,
) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port, recvNotify=True) as client:
            assert sim.log_out() == 1
            out = [(await client.notify()).s2c for _ in range(3)]
            assert sim.log_in() == 1
            back = [(await client.notify()).s2c for _ in range(2)]
    assert [n.type for n in out] == [
        NotifyType.GTW_EVENT,
        NotifyType.PROGRAM_STATUS,
        NotifyType.CONN_STATUS,
    ]
    assert out[0].event.eventType == GatewayEventType.KICKED_OUT
    assert out[0].event.desc == "Logged out: the account logged in on another device"
    assert out[1].programStatus.programStatus.type == ProgramStatusType.FORCE_LOGOUT
    assert out[1].programStatus.programStatus.strExtDesc == out[0].event.desc
    assert (out[2].connectStatus.qotLogined, out[2].connectStatus.trdLogined) == (False, False)
    assert [n.type for n in back] == [NotifyType.PROGRAM_STATUS, NotifyType.CONN_STATUS]
    assert back[0].programStatus.programStatus.type == ProgramStatusType.READY
    assert back[1].connectStatus.qotLogined
    assert sim.gateway.ready


async def test_a_push_changes_what_get_global_state_says(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            sim.push(LoginStatusChanged(quote_logged_in=True, trade_logged_in=False))
            sim.push(
                ProgramStatusChanged(
                    program_status=ProgramStatus(
                        type=ProgramStatusType.NESSARY_DATA_PREPARING, description="fetching"
                    )
                )
            )
            state = await client.global_state()
    assert (state.qotLogined, state.trdLogined) == (True, False)
    assert state.programStatus.type == ProgramStatusType.NESSARY_DATA_PREPARING
    assert state.programStatus.strExtDesc == "fetching"


async def test_a_change_to_another_status_pushes_its_own_event() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(language="zh") as sim,
            ready_client(sim.host, sim.port, recvNotify=True) as client,
        ):
            sim.change_status("need-phone-code")
            event = (await client.notify()).s2c
            status = (await client.notify()).s2c
            await client.notify()  # logged out
            sim.change_status("logging-in")  # no event of its own
            logging_in = (await client.notify()).s2c
    assert (event.event.eventType, event.event.desc) == (11, "登录需要输入手机验证码")
    assert status.programStatus.programStatus.type == ProgramStatusType.NEED_PHONE_VERIFY_CODE
    assert logging_in.programStatus.programStatus.type == ProgramStatusType.LOGING


@pytest.mark.parametrize("algo", [0, 1, 2])
async def test_pushes_to_an_encrypted_connection_are_encrypted_with_its_key(algo: int) -> None:
    key = rsa_pem("simulator")
    with anyio.fail_after(5):
        async with (
            Simulator(rsa_key=key) as sim,
            encrypted_client(sim.host, sim.port, key, algo=None) as client,
        ):
            response = await client.init_connect(packetEncAlgo=algo, recvNotify=True)
            assert response.retType == 0, response.retMsg
            assert sim.push(KICKED) == 1
            notify = await client.notify()
            alive = await keep_alive(client)
    assert notify.s2c.event.desc == "elsewhere"
    assert alive.retType == 0
    wire = client.wire[1]
    assert wire.proto_id == NOTIFY
    assert hashlib.sha1(wire.body).digest() != wire.body_sha1  # not sent in plain


async def test_a_client_that_stops_reading_does_not_stall_pushes_to_the_others() -> None:
    # Big pushes fill the stalled client's socket buffers after a few hundred.
    big = GatewayEvent(type=GatewayEventType.KICKED_OUT, description="x" * 65_536)
    backlog = 4
    with anyio.fail_after(60):
        async with (
            Simulator(push_backlog=backlog) as sim,
            ready_client(sim.host, sim.port, recvNotify=True) as stalled,
            ready_client(sim.host, sim.port, recvNotify=True) as reader,
        ):
            pushed = 0
            while sim.pushes_dropped < 10:
                sim.push(big)
                pushed += 1
                # The reader gets each push while the other reads nothing.
                assert (await reader.notify()).s2c.event.desc == big.description
            stalled_peer = sim._table._peers[1]  # the first connection
            waiting = stalled_peer._pushes_waiting
            assert sim.push(big) == 1  # only the reader's
            assert (await reader.notify()).s2c.event.desc == big.description
            # The stalled client is still served once it reads again.
            first = await stalled.notify()
    assert sim.pushes_dropped == 11
    assert waiting == backlog
    assert first.s2c.event.desc == big.description
    assert pushed > backlog, pushed


async def test_pushes_after_a_client_left_go_nowhere(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port, recvNotify=True) as client:
            assert sim.push(KICKED) == 1
            await client.notify()
        await sim.drop_connections()  # returns once every connection is closed
    assert sim.push(KICKED) == 0
    assert sim.pushes_dropped == 0
    assert sim.gateway == GatewayState()  # a GatewayEvent alone changes nothing
