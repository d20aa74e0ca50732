"""The official SDK (``futu-api``) as a client of our simulator.

The SDK runs in a subprocess, ``sdk_client.py``, which keeps its threads,
global configuration and log files out of the test process; the simulator is
served from a background thread. One
SDK run per module answers every test; it is bounded by a subprocess timeout
(``sdk_process.run_sdk_script``) because the SDK retries forever when a
handshake fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from asyncquote._models.dataframes import COLUMNS  # the SDK's own columns, checked below
from asyncquote.sim import RequestRecord, Simulator, format_code

from .sdk_process import NEEDS_SDK, run_sdk_script

pytestmark = NEEDS_SDK

SDK_CLIENT = Path(__file__).with_name("sdk_client.py")
RET_OK, RET_ERROR = 0, -1  # the SDK's return codes
GROUPS = ["All", "全部", "港股", "Tech", "期权", "No such group", "Positions"]


class SdkRun:
    """What the SDK reported, and what the simulator saw."""

    def __init__(self, simulator: Simulator, result: dict[str, Any]) -> None:
        self.simulator = simulator
        self.groups: dict[str, dict[str, Any]] = result["groups"]
        self.global_state: list[Any] = result["global_state"]
        self.requests: list[RequestRecord] = list(simulator.requests)

    def rows(self, group_name: str) -> list[dict[str, Any]]:
        group = self.groups[group_name]
        assert group["ret"] == RET_OK, group.get("error")
        assert tuple(group["columns"]) == tuple(COLUMNS)
        rows: list[dict[str, Any]] = group["rows"]
        return rows


@pytest.fixture(scope="module")
def sdk_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkRun]:
    home = tmp_path_factory.mktemp("sdk_home")
    out = home / "result.json"
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator()) as simulator,
    ):
        run_sdk_script(SDK_CLIENT, [simulator.host, str(simulator.port), str(out), *GROUPS], home)
        yield SdkRun(simulator, json.loads(out.read_text(encoding="utf-8")))


def expected_rows(simulator: Simulator, group_name: str) -> list[tuple[str, str, int]]:
    return [
        (
            format_code((info.basic.security.market, info.basic.security.code)),
            info.basic.name,
            info.basic.lotSize,
        )
        for info in simulator.watchlists.securities_in(group_name)
    ]


def seen_rows(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(row["code"], row["name"], row["lot_size"]) for row in rows]


def test_sdk_handshakes_and_reads_the_global_state(sdk_run: SdkRun) -> None:
    ret, state = sdk_run.global_state
    assert ret == RET_OK, state
    assert state["qot_logined"] is True
    assert state["trd_logined"] is True
    assert state["program_status_type"] == "READY"


def test_sdk_reads_the_all_group_as_the_simulator_serves_it(sdk_run: SdkRun) -> None:
    rows = sdk_run.rows("All")
    assert seen_rows(rows) == expected_rows(sdk_run.simulator, "All")
    assert len(rows) == 16


@pytest.mark.parametrize("group_name", ["全部", "港股", "Tech", "期权"])
def test_sdk_reads_chinese_and_custom_group_names(sdk_run: SdkRun, group_name: str) -> None:
    assert seen_rows(sdk_run.rows(group_name)) == expected_rows(sdk_run.simulator, group_name)


def test_chinese_and_english_names_give_the_sdk_identical_frames(sdk_run: SdkRun) -> None:
    assert sdk_run.rows("全部") == sdk_run.rows("All")


def test_sdk_decodes_each_kind_of_security_as_intended(sdk_run: SdkRun) -> None:
    by_code = {row["code"]: row for row in sdk_run.rows("All")}
    assert by_code["HK.00700"]["stock_type"] == "STOCK"
    assert by_code["HK.800000"]["stock_type"] == "IDX"
    assert by_code["US.SPY"]["stock_type"] == "ETF"
    future = by_code["HK.HSImain"]
    assert (future["stock_type"], future["main_contract"]) == ("FUTURE", True)
    warrant = by_code["HK.16790"]
    assert warrant["stock_type"] == "WARRANT"
    assert (warrant["stock_child_type"], warrant["stock_owner"]) == ("CALL", "HK.00700")
    assert by_code["HK.55123"]["stock_child_type"] == "BULL"
    put = by_code["US.TSLA260618P300000"]
    assert (put["stock_type"], put["option_type"], put["stock_owner"]) == ("DRVT", "PUT", "US.TSLA")
    assert (put["strike_time"], put["strike_price"], put["listing_date"]) == (
        "2026-06-18",
        300.0,
        "N/A",
    )


def test_sdk_reports_an_unknown_group_with_our_error_text(sdk_run: SdkRun) -> None:
    assert sdk_run.groups["No such group"] == {"ret": RET_ERROR, "error": "Unknown watchlists"}


def test_sdk_reports_an_unqueryable_group_as_an_error(sdk_run: SdkRun) -> None:
    group = sdk_run.groups["Positions"]
    assert group["ret"] == RET_ERROR
    assert "cannot be queried" in group["error"]


def test_sdk_needs_only_the_protocols_the_simulator_serves(sdk_run: SdkRun) -> None:
    proto_ids = [record.proto_id for record in sdk_run.requests]
    assert proto_ids[0] == 1001
    assert set(proto_ids) <= {1001, 1002, 1004, 3213}
    assert proto_ids.count(3213) == len(GROUPS)
    assert len({record.conn_id for record in sdk_run.requests}) == 1
