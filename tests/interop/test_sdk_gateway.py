"""The official SDK reads the simulated gateway's state and receives its Notify pushes.

``sdk_notify.py`` runs the SDK in a subprocess with a ``SysNotifyHandlerBase``
installed; once it is connected the test pushes one Notify of each kind and
logs the gateway out, and the script reports what the SDK decoded, then what
``get_global_state()`` and ``get_user_security()`` say afterwards.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

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
    MarketState,
    ProgramStatusType,
    QuoteRight,
)
from asyncquote.sim import GatewayState, Simulator

from .sdk_process import NEEDS_SDK, SDK_TIMEOUT, start_sdk_script

pytestmark = NEEDS_SDK

SDK_SCRIPT = Path(__file__).with_name("sdk_notify.py")
RET_OK, RET_ERROR = 0, -1  # the SDK's return codes

GATEWAY = GatewayState(
    market_hk=MarketState.MORNING,
    market_us=MarketState.PRE_MARKET_BEGIN,
    market_sg=MarketState.CLOSED,
    program_status=ProgramStatus(type=ProgramStatusType.READY, description="all good"),
    server_version=1003,
)
PUSHES = [
    GatewayEvent(type=GatewayEventType.TRADE_PWD_CHANGED, description="pwd"),
    ProgramStatusChanged(
        program_status=ProgramStatus(type=ProgramStatusType.LOGING, description="again")
    ),
    LoginStatusChanged(quote_logged_in=True, trade_logged_in=False),
    QuoteRightsChanged(
        quote_rights=QuoteRights(
            hk=QuoteRight.LEVEL2, us=QuoteRight.NO, cn=QuoteRight.BMP, has_us_option=True
        )
    ),
    ApiQuotaChanged(subscription_quota=2000, history_kline_quota=300),
    UsedQuotaChanged(used_subscription_quota=5, used_kline_quota=1),
]
# log_out() pushes three: the kick-out, the program status and the logins.
EXPECTED = len(PUSHES) + 3


@pytest.fixture(scope="module")
def sdk_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("sdk_home")  # the SDK writes its logs under $HOME
    out, ready = home / "result.json", home / "ready"
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(gateway=GATEWAY)) as sim,
    ):
        args = [sim.host, str(sim.port), str(out), str(ready), str(EXPECTED)]
        with start_sdk_script(
            SDK_SCRIPT, args, home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        ) as process:
            try:
                deadline = time.monotonic() + SDK_TIMEOUT
                while not ready.exists():
                    assert process.poll() is None, process.stderr.read() if process.stderr else ""
                    assert time.monotonic() < deadline, "the SDK never connected"
                    time.sleep(0.05)
                told = [portal.call(sim.push, event) for event in PUSHES]
                told.append(portal.call(sim.log_out))
                _, stderr = process.communicate(timeout=SDK_TIMEOUT)
            finally:
                if process.poll() is None:
                    process.kill()
        assert process.returncode == 0, stderr
        assert told == [1] * len(told)  # the SDK asked for notifications
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def test_the_sdk_reads_the_configured_global_state(sdk_run: dict[str, Any]) -> None:
    ret, state = sdk_run["before"]["global_state"]
    assert ret == RET_OK, state
    assert (state["market_hk"], state["market_us"], state["market_sg"]) == (
        "MORNING",
        "PRE_MARKET_BEGIN",
        "CLOSED",
    )
    assert (state["qot_logined"], state["trd_logined"]) == (True, True)
    assert (state["program_status_type"], state["program_status_desc"]) == ("READY", "all good")
    assert state["server_ver"] == "1003"
    assert sdk_run["before"]["watchlist"][0] == RET_OK


def test_the_sdk_notify_handler_decodes_every_push(sdk_run: dict[str, Any]) -> None:
    notes = sdk_run["notifications"]
    assert [ret for ret, _ in notes] == [RET_OK] * EXPECTED
    contents = [content for _, content in notes]
    assert contents[0] == ["GTW_EVENT", "TradePwdChanged", "pwd"]
    assert contents[1] == ["PROGRAM_STATUS", "LOGING", "again"]
    assert contents[2] == ["CONN_STATUS", None, {"qot_logined": True, "trd_logined": False}]
    kind, _, rights = contents[3]
    assert kind == "QOT_RIGHT"
    assert (rights["hk_qot_right"], rights["us_qot_right"], rights["cn_qot_right"]) == (
        "LV2",
        "NO",
        "BMP",
    )
    # The SDK names the quota notifications but does not decode them.
    assert [content[0] for content in contents[4:6]] == ["API_QUOTA", "USED_QUOTA"]


def test_the_sdk_sees_the_log_out_pushed_and_answered(sdk_run: dict[str, Any]) -> None:
    contents = [content for _, content in sdk_run["notifications"]]
    assert contents[6][:2] == ["GTW_EVENT", "KickedOut"]
    assert contents[7][:2] == ["PROGRAM_STATUS", "FORCE_LOGOUT"]
    assert contents[8] == ["CONN_STATUS", None, {"qot_logined": False, "trd_logined": False}]
    ret, state = sdk_run["after"]["global_state"]
    assert ret == RET_OK, state
    assert (state["qot_logined"], state["program_status_type"]) == (False, "FORCE_LOGOUT")
    assert sdk_run["after"]["watchlist"] == [
        RET_ERROR,
        "Not logged in to the quote server, request failed.",
    ]
