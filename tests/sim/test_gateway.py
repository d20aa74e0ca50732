"""The gateway's own state: GetGlobalState answers it, and quote calls fail while logged out."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote._base.errors import InvalidArgumentError
from asyncquote._models.health import ProgramStatus, QuoteRights
from asyncquote._opend.health_vocabulary import (
    GatewayEventType,
    MarketState,
    ProgramStatusType,
    QuoteRight,
)
from asyncquote._pb import (
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
    Qot_ModifyUserSecurity_pb2,
)
from asyncquote.sim import (
    GATEWAY_STATUSES,
    NO_QUOTAS,
    GatewayState,
    ModifyOp,
    Simulator,
    StatusChange,
    parse_status_change,
)
from asyncquote.sim import _texts as texts

from .rawclient import (
    GET_USER_SECURITY,
    GET_USER_SECURITY_GROUP,
    MODIFY_USER_SECURITY,
    RawClient,
    modify_user_security,
    ready_client,
    user_security,
    user_security_group,
)

pytestmark = pytest.mark.anyio

NOT_LOGGED_IN = "Not logged in to the quote server, request failed."


async def quote_calls(client: RawClient) -> list[tuple[int, str]]:
    """(retType, retMsg) of one 3213, one 3222 and one 3214 call."""
    got = await client.call(
        GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
    )
    groups = await client.call(
        GET_USER_SECURITY_GROUP, user_security_group(3), Qot_GetUserSecurityGroup_pb2.Response
    )
    modified = await client.call(
        MODIFY_USER_SECURITY,
        modify_user_security("Tech", 1, [(1, "00700")]),
        Qot_ModifyUserSecurity_pb2.Response,
    )
    return [(r.retType, r.retMsg) for r in (got, groups, modified)]


async def test_the_default_gateway_is_healthy_and_logged_in(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            state = await client.global_state()
    assert (state.qotLogined, state.trdLogined) == (True, True)
    assert state.programStatus.type == ProgramStatusType.READY
    assert not state.programStatus.HasField("strExtDesc")
    assert (state.serverVer, state.serverBuildNo) == (904, 4708)
    assert (state.marketHK, state.marketUS) == (MarketState.AFTERNOON, MarketState.CLOSED)
    assert not state.HasField("marketSG")
    assert sim.gateway == GatewayState()
    assert sim.gateway.ready


async def test_get_global_state_answers_the_configured_values() -> None:
    gateway = GatewayState(
        market_hk=MarketState.MORNING,
        market_us=99,  # unknown to this version: sent as it is
        market_jp=MarketState.NIGHT,
        quote_logged_in=False,
        trade_logged_in=True,
        program_status=ProgramStatus(type=ProgramStatusType.LOGING, description="wait"),
        server_version=1003,
        server_build_no=7,
        quote_server_address="1.2.3.4:80",
        trade_server_address="5.6.7.8:90",
    )
    with anyio.fail_after(5):
        async with Simulator(gateway=gateway) as sim, ready_client(sim.host, sim.port) as client:
            init = await client.init_connect()
            state = await client.global_state()
    assert init.s2c.serverVer == 1003
    assert (state.marketHK, state.marketUS, state.marketJP) == (3, 99, 32)
    assert (state.qotLogined, state.trdLogined) == (False, True)
    assert (state.programStatus.type, state.programStatus.strExtDesc) == (2, "wait")
    assert (state.serverVer, state.serverBuildNo) == (1003, 7)
    assert (state.qotSvrIpAddr, state.trdSvrIpAddr) == ("1.2.3.4:80", "5.6.7.8:90")
    assert state.connID == init.s2c.connID


async def test_assigning_a_gateway_state_changes_the_next_answer(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            before = await client.global_state()
            sim.gateway = dataclasses.replace(sim.gateway, trade_logged_in=False)
            after = await client.global_state()
    assert (before.trdLogined, after.trdLogined) == (True, False)
    with pytest.raises(TypeError, match="GatewayState"):
        sim.gateway = {"trade_logged_in": False}  # type: ignore[assignment]


async def test_logged_out_the_quote_calls_fail_and_logging_in_restores_them() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(quotas=NO_QUOTAS) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            assert [ret for ret, _ in await quote_calls(client)] == [0, 0, 0]
            sim.log_out()
            sim.watchlists.modify("Tech", ModifyOp.DELETE, [(1, "00700")])
            tech = sim.watchlists.securities_in("Tech")
            logged_out = await quote_calls(client)
            tech_logged_out = sim.watchlists.securities_in("Tech")
            state = await client.global_state()
            sim.log_in()
            logged_in = await quote_calls(client)
            back = await client.global_state()
    assert logged_out == [(-1, NOT_LOGGED_IN)] * 3
    assert (state.qotLogined, state.trdLogined) == (False, False)
    assert state.programStatus.type == ProgramStatusType.FORCE_LOGOUT
    assert [ret for ret, _ in logged_in] == [0, 0, 0]
    assert (back.qotLogined, back.programStatus.type) == (True, ProgramStatusType.READY)
    assert tech_logged_out == tech  # the refused edit changed nothing


async def test_a_chinese_gateway_refuses_in_chinese_and_refusals_do_not_count_as_quota() -> None:
    gateway = GatewayState.in_status("logged-out")
    with anyio.fail_after(5):
        async with (
            Simulator(gateway=gateway, language="zh") as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            answers = [await quote_calls(client) for _ in range(4)]
            sim.log_in()
            after = await quote_calls(client)
    assert {answer for answers_ in answers for answer in answers_} == {
        (-1, "行情服务器未登录，请求失败。")
    }
    assert texts.not_logged_in("zh") == "行情服务器未登录，请求失败。"
    assert [ret for ret, _ in after] == [0, 0, 0]  # 12 refusals used none of the 10 per 30 s


@pytest.mark.parametrize("status", list(GATEWAY_STATUSES))
async def test_a_simulator_can_start_in_each_gateway_status(status: str) -> None:
    program_status, _ = GATEWAY_STATUSES[status]
    with anyio.fail_after(5):
        async with (
            Simulator(gateway=GatewayState.in_status(status)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            state = await client.global_state()
            calls = await quote_calls(client)
    ready = status == "ready"
    assert state.programStatus.type == program_status
    assert (state.qotLogined, state.trdLogined) == (ready, ready)
    assert sim.gateway.ready is ready
    assert all((ret == 0) is ready for ret, _ in calls)


class TestScheduledChanges:
    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_scheduled_status_changes_happen_at_their_time(self) -> None:
        changes = [StatusChange(60, "ready"), StatusChange(30, "need-phone-code")]
        async with (
            Simulator(status_changes=changes) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await anyio.sleep(29)
            first = await client.global_state()
            await anyio.sleep(2)
            second = await client.global_state()
            await anyio.sleep(30)
            third = await client.global_state()
        assert [s.programStatus.type for s in (first, second, third)] == [
            ProgramStatusType.READY,
            ProgramStatusType.NEED_PHONE_VERIFY_CODE,
            ProgramStatusType.READY,
        ]
        assert [s.qotLogined for s in (first, second, third)] == [True, False, True]


# --- the configuration, without I/O ------------------------------------------


def test_the_gateway_state_reads_what_each_push_says() -> None:
    from asyncquote._models.events import (
        ApiQuotaChanged,
        GatewayEvent,
        LoginStatusChanged,
        ProgramStatusChanged,
        QuoteRightsChanged,
        UsedQuotaChanged,
    )

    state = GatewayState(used_subscription_quota=5)
    rights = QuoteRights(hk=QuoteRight.BMP, us=QuoteRight.NO, cn=QuoteRight.LEVEL1)
    state = state.after(LoginStatusChanged(quote_logged_in=False, trade_logged_in=True))
    state = state.after(ProgramStatusChanged(program_status=ProgramStatus(type=5)))
    state = state.after(QuoteRightsChanged(quote_rights=rights))
    state = state.after(ApiQuotaChanged(subscription_quota=3, history_kline_quota=4))
    state = state.after(UsedQuotaChanged(used_kline_quota=2))
    assert state.after(GatewayEvent(type=7, description="x")) is state
    assert (state.quote_logged_in, state.trade_logged_in) == (False, True)
    assert state.program_status.type is ProgramStatusType.LOGIN_FAILED
    assert state.quote_rights == rights
    assert (state.subscription_quota, state.history_kline_quota) == (3, 4)
    # A field the push left out keeps its value.
    assert (state.used_subscription_quota, state.used_kline_quota) == (5, 2)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"market_hk": True}, TypeError, "market_hk must be an int"),
        ({"market_hk": 2**31}, ValueError, "market_hk must be"),
        ({"market_hk": None}, TypeError, "market_hk"),
        ({"quote_logged_in": 1}, TypeError, "quote_logged_in must be True or False"),
        ({"program_status": ProgramStatusType.READY}, TypeError, "ProgramStatus"),
        ({"quote_rights": None}, TypeError, "QuoteRights"),
        ({"subscription_quota": -1}, ValueError, "subscription_quota must be"),
        ({"quote_server_address": 1}, TypeError, "quote_server_address"),
    ],
)
def test_a_bad_gateway_state_is_refused_naming_the_field(
    changes: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        GatewayState(**changes)


def test_statuses_and_scheduled_changes_are_checked() -> None:
    assert parse_status_change("30=logged-out") == StatusChange(30.0, "logged-out")
    assert parse_status_change("0.5= ready") == StatusChange(0.5, "ready")
    for spec, match in [
        ("30", "SECONDS=STATUS"),
        ("x=ready", "could not convert"),
        ("-1=ready", ">= 0"),
        ("inf=ready", "finite"),
        ("1=asleep", "unknown gateway status 'asleep'"),
    ]:
        with pytest.raises(InvalidArgumentError, match=match):
            parse_status_change(spec)
    with pytest.raises(ValueError, match="unknown gateway status"):
        GatewayState.in_status("asleep")
    with pytest.raises(TypeError, match="StatusChange"):
        Simulator(status_changes=[(30, "ready")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="GatewayState"):
        Simulator(gateway="ready")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="push_backlog"):
        Simulator(push_backlog=0)


def test_each_logout_reason_leads_to_its_program_status() -> None:
    from asyncquote.sim._gateway import program_status_after

    assert program_status_after(GatewayEventType.KICKED_OUT) is ProgramStatusType.FORCE_LOGOUT
    assert program_status_after(GatewayEventType.LOGIN_PWD_CHANGED) is (
        ProgramStatusType.FORCE_LOGOUT
    )
    assert program_status_after(GatewayEventType.NEED_PHONE_VERIFY_CODE) is (
        ProgramStatusType.NEED_PHONE_VERIFY_CODE
    )


_ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.sampled_from(list(MarketState)),
    st.just(ProgramStatus(type=ProgramStatusType.READY)),
    st.just(QuoteRights(hk=1, us=2, cn=3)),
)
_FIELDS = [f.name for f in dataclasses.fields(GatewayState)]


@given(st.dictionaries(st.sampled_from(_FIELDS), _ANYTHING, max_size=4))
def test_a_gateway_state_is_either_valid_or_refused_with_a_documented_error(
    changes: dict[str, Any],
) -> None:
    try:
        state = GatewayState(**changes)
    except (TypeError, ValueError):
        return
    for name in _FIELDS:
        value = getattr(state, name)
        if isinstance(value, int) and not isinstance(value, bool):
            assert -(2**31) <= value < 2**31
        assert not (isinstance(value, float) and math.isnan(value))


@given(st.text(max_size=20))
def test_parsing_a_status_change_raises_nothing_but_value_error(spec: str) -> None:
    try:
        change = parse_status_change(spec)
    except ValueError:
        return
    assert change.status in GATEWAY_STATUSES
    assert 0 <= change.after < math.inf
