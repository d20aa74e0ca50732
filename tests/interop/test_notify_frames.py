"""Notify and GetGlobalState bodies written by the official SDK's own message classes.

``sdk_notify_frames.py`` builds them in a process of its own (the SDK stays
out of this one) with ``futu.common.pb``'s classes and enum constants; here
they are decoded, and pushed by a scripted gateway to a real client on every
event loop. The SDK's enum tables are checked against our vocabulary too.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import (
    ApiQuotaChanged,
    GatewayEvent,
    GatewayEventType,
    LoginStatusChanged,
    MarketState,
    NotifyType,
    ProgramStatus,
    ProgramStatusChanged,
    ProgramStatusType,
    QuoteRight,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from asyncquote._models.notify import event_from_notify, global_state_from_pb
from asyncquote._pb import GetGlobalState_pb2

from ..hostile_peer import HostileGateway, hostile_gateway
from .sdk_process import NEEDS_SDK, run_sdk_script

pytestmark = NEEDS_SDK

SCRIPT = Path(__file__).with_name("sdk_notify_frames.py")
OURS = {
    "NotifyType": NotifyType,
    "GatewayEventType": GatewayEventType,
    "ProgramStatusType": ProgramStatusType,
    "QuoteRight": QuoteRight,
    "MarketState": MarketState,
}


@functools.cache
def _sdk_output(home: str) -> dict[str, Any]:
    Path(home).mkdir(parents=True, exist_ok=True)
    out = Path(home) / "notify.json"
    run_sdk_script(SCRIPT, [str(out)], Path(home))
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


@pytest.fixture
def sdk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # One SDK run for the whole module: the same home every time.
    return _sdk_output(str(tmp_path_factory.getbasetemp() / "sdk-notify"))


def body(sdk: dict[str, Any], name: str) -> bytes:
    return bytes.fromhex(sdk["bodies"][name])


@pytest.mark.parametrize("enum_name", sorted(OURS))
def test_every_value_of_the_sdks_enums_is_known_here(sdk: dict[str, Any], enum_name: str) -> None:
    ours = OURS[enum_name]
    theirs = {int(value): name for value, name in sdk["enums"][enum_name].items()}
    missing = {
        value: name for value, name in theirs.items() if value not in ours._value2member_map_
    }
    assert not missing, f"{enum_name} lacks the SDK's {missing}"


def test_each_kind_of_notify_decodes(sdk: dict[str, Any]) -> None:
    assert event_from_notify(body(sdk, "gtw_event")) == GatewayEvent(
        type=GatewayEventType.KICKED_OUT, description="账号在其他设备登录"
    )
    assert event_from_notify(body(sdk, "program_status")) == ProgramStatusChanged(
        program_status=ProgramStatus(
            type=ProgramStatusType.NEED_PHONE_VERIFY_CODE, description="sms sent"
        )
    )
    assert event_from_notify(body(sdk, "conn_status")) == LoginStatusChanged(
        quote_logged_in=False, trade_logged_in=True
    )
    assert event_from_notify(body(sdk, "api_level")) is None  # deprecated: not an event
    assert event_from_notify(body(sdk, "api_quota")) == ApiQuotaChanged(
        subscription_quota=1000, history_kline_quota=300
    )
    assert event_from_notify(body(sdk, "used_quota")) == UsedQuotaChanged(
        used_subscription_quota=12, used_kline_quota=34
    )


def test_every_quote_right_field_of_the_sdk_is_decoded(sdk: dict[str, Any]) -> None:
    event = event_from_notify(body(sdk, "qot_right"))
    assert isinstance(event, QuoteRightsChanged)
    rights = event.quote_rights.model_dump()
    assert rights.pop("has_us_option") is True
    assert None not in rights.values(), rights  # every field the SDK knows, set
    assert all(isinstance(value, QuoteRight) for value in rights.values())


def test_the_global_state_decodes(sdk: dict[str, Any]) -> None:
    response = GetGlobalState_pb2.Response.FromString(body(sdk, "global_state"))
    state = global_state_from_pb(response.s2c)
    assert state.market_hk is MarketState.AFTERNOON
    assert state.market_us is MarketState.PRE_MARKET_BEGIN
    assert state.market_hk_future is MarketState.NIGHT_OPEN
    assert state.market_us_future is MarketState.FUTURE_OPEN
    assert state.quote_logged_in is True
    assert state.trade_logged_in is False
    assert (state.server_version, state.server_build_no) == (904, 4708)
    assert state.local_time == 1_700_000_000.5
    assert state.program_status == ProgramStatus(type=ProgramStatusType.READY)
    assert (state.quote_server_address, state.trade_server_address) == ("10.0.0.1", "10.0.0.2")
    assert state.conn_id == 123456789


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


@pytest.mark.anyio
async def test_the_sdks_pushes_and_global_state_reach_a_client(sdk: dict[str, Any]) -> None:
    gateway = HostileGateway(global_state=body(sdk, "global_state"))
    names = ["gtw_event", "api_level", "program_status", "conn_status", "qot_right"]
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, keepalive=False) as client,
        client.events() as events,
    ):
        with anyio.fail_after(20):
            assert (await client.wait_ready()).ready  # the SDK's GetGlobalState: ready
            for name in names:
                await gw.push(body(sdk, name))
            got = []
            async for event in events:
                got.append(type(event))
                if len(got) == 4:
                    break
        assert got == [GatewayEvent, ProgramStatusChanged, LoginStatusChanged, QuoteRightsChanged]
        status = client.gateway
        assert status.quote_logged_in is False
        assert status.program_status is not None
        assert status.program_status.type is ProgramStatusType.NEED_PHONE_VERIFY_CODE
        assert status.quote_rights is not None
