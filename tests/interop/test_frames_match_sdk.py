"""``asyncquote.frames`` against the official SDK's own ``get_user_security`` frames.

One simulator serves both clients the same watchlists: the bundled sample
plus edge cases the sample lacks (unknown enum values and markets, absent
``delisting``, a non-main future, suspended and oddly priced options, an
empty group). The SDK runs in a subprocess, which keeps its threads and
global state out of this process, and pickles each frame; asyncquote fetches
the same groups in this process. The frames must agree in columns, dtypes
and every cell, down to the cell's Python type, with floats compared exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from google.protobuf import json_format

import asyncquote
from asyncquote._models.dataframes import COLUMNS, to_dataframe, to_rows
from asyncquote._models.watchlist import SecurityStaticInfo
from asyncquote._pb import Qot_Common_pb2
from asyncquote.sim import NO_QUOTAS, GroupType, Simulator, WatchlistGroup, WatchlistStore

from .sdk_process import NEEDS_SDK, run_sdk_script

pytestmark = NEEDS_SDK
pd = pytest.importorskip("pandas")

SDK_FRAMES = Path(__file__).with_name("sdk_frames.py")

# Between them these hold every kind of security and every placeholder rule.
GROUPS = [
    "All",
    "全部",
    "港股",
    "Tech",
    "期权",
    "期货",
    "Macro",
    "Edge",
    "Edge options",
    "Empty",
]


def _info(
    market: int,
    code: str,
    sec_type: int,
    *,
    id: int = 1,
    lot_size: int = 100,
    name: str = "edge",
    list_time: str = "2020-01-02",
    **extra: Any,
) -> dict[str, Any]:
    """A ``SecurityStaticInfo`` in protobuf's JSON mapping; ``extra`` holds ex-data or basics."""
    basic: dict[str, Any] = {
        "security": {"market": market, "code": code},
        "id": id,
        "lotSize": lot_size,
        "secType": sec_type,
        "name": name,
        "listTime": list_time,
    }
    if "delisting" in extra:
        basic["delisting"] = extra.pop("delisting")
    return {"basic": basic, **extra}


def _option(kind: int, strike_price: float, suspend: bool, strike_time: str) -> dict[str, Any]:
    return {
        "type": kind,
        "owner": {"market": 1, "code": "00700"},
        "strikeTime": strike_time,
        "strikePrice": strike_price,
        "suspend": suspend,
        "market": "HK",
    }


EDGE_OPTIONS = [
    # OptionType 0 is "ALL" to the SDK; a listing date is sent but never shown.
    _info(
        1,
        "TCH260330P123456",
        8,
        id=7001,
        list_time="2026-01-02",
        optionExData=_option(0, 123.456789012345678, True, "2026-03-30"),
    ),
    # An option type the SDK does not know, a strike that is not round in binary.
    _info(11, "XYZ260101C0", 8, id=7002, optionExData=_option(7, 0.1 + 0.2, False, "")),
]
EDGE = [
    # Unknown security type, no delisting flag, largest int64 id, empty name.
    _info(1, "99999", 99, id=2**63 - 1, name="", list_time=""),
    # A market the SDK does not know, security type 0, delisted.
    _info(999, "X1", 0, name="未知市场 🚀", list_time="2020-02-29", delisting=True),
    # Warrants of each other type: unknown (owner in an unknown market), 0, PUT, BEAR, INLINE.
    _info(1, "20001", 5, warrantExData={"type": 42, "owner": {"market": 77, "code": "ABC"}}),
    _info(1, "20002", 5, warrantExData={"type": 0, "owner": {"market": 1, "code": "800000"}}),
    _info(1, "20003", 5, warrantExData={"type": 2, "owner": {"market": 1, "code": "00700"}}),
    _info(1, "20004", 5, warrantExData={"type": 4, "owner": {"market": 1, "code": "00700"}}),
    _info(1, "20005", 5, warrantExData={"type": 5, "owner": {"market": 1, "code": "00700"}}),
    # A dated future in the HK_FUTURE market, not the main contract.
    _info(
        2,
        "MHI2606",
        10,
        lot_size=10,
        futureExData={
            "lastTradeTime": "2026-06-29",
            "lastTradeTimestamp": 1782662400.0,
            "isMainContract": False,
        },
    ),
    *EDGE_OPTIONS,
]


def _keys(entries: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(e["basic"]["security"]["market"], e["basic"]["security"]["code"]) for e in entries]


def edge_store() -> WatchlistStore:
    """The sample watchlists plus the ``Edge``, ``Edge options`` and ``Empty`` groups."""
    sample = WatchlistStore.sample()
    sample_keys = dict.fromkeys(key for group in sample.groups for key in group.members)
    securities = [sample.security(key) for key in sample_keys]
    securities += [json_format.ParseDict(e, Qot_Common_pb2.SecurityStaticInfo()) for e in EDGE]
    groups = [
        *sample.groups,
        WatchlistGroup("Edge", GroupType.CUSTOM, _keys(EDGE)),
        WatchlistGroup("Edge options", GroupType.CUSTOM, _keys(EDGE_OPTIONS)),
        WatchlistGroup("Empty", GroupType.CUSTOM, []),
    ]
    return WatchlistStore(securities, groups)


@dataclass
class Fetched:
    """One group as each client saw it."""

    sdk: Any
    """The SDK's DataFrame."""
    items: list[SecurityStaticInfo]
    """asyncquote's models."""


async def fetch_with_asyncquote(host: str, port: int) -> dict[str, list[SecurityStaticInfo]]:
    async with asyncquote.connect(host, port, quotas={3213: None}) as client:
        return {name: await client.get_user_security(name) for name in GROUPS}


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Fetched]:
    home = tmp_path_factory.mktemp("sdk_frames")  # the SDK logs under $HOME
    # Both clients together exceed OpenD's 10-per-30-s quota on 3213.
    simulator = Simulator(watchlists=edge_store(), quotas=NO_QUOTAS)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(simulator) as sim,
    ):
        run_sdk_script(SDK_FRAMES, [sim.host, str(sim.port), str(home), *GROUPS], home)
        ours = portal.call(fetch_with_asyncquote, sim.host, sim.port)
    errors = json.loads((home / "errors.json").read_text(encoding="utf-8"))
    assert errors == {}, errors
    return {
        name: Fetched(pd.read_pickle(home / f"{number}.pkl"), ours[name])
        for number, name in enumerate(GROUPS)
    }


def cells(series: Any) -> list[tuple[type, object]]:
    """Each cell with its Python type, so that ``1 == 1.0 == True`` cannot pass for a match."""
    return [(type(value), value) for value in series.tolist()]


@pytest.mark.parametrize("group_name", GROUPS)
def test_columns_index_and_dtypes_match_the_sdk(
    fetched: dict[str, Fetched], group_name: str
) -> None:
    sdk = fetched[group_name].sdk
    ours = to_dataframe(fetched[group_name].items)
    assert list(sdk.columns) == list(COLUMNS)
    assert list(ours.columns) == list(COLUMNS)
    assert ours.index.equals(sdk.index)
    assert dict(ours.dtypes) == dict(sdk.dtypes)


@pytest.mark.parametrize("group_name", GROUPS)
def test_every_cell_matches_the_sdk(fetched: dict[str, Fetched], group_name: str) -> None:
    sdk = fetched[group_name].sdk
    ours = to_dataframe(fetched[group_name].items)
    assert len(ours) == len(sdk) == len(fetched[group_name].items)
    mismatches = [
        f"{column}[{row}]: ours {mine!r}, SDK {theirs!r}"
        for column in COLUMNS
        for row, (mine, theirs) in enumerate(
            zip(cells(ours[column]), cells(sdk[column]), strict=True)
        )
        if mine != theirs
    ]
    assert mismatches == []
    pd.testing.assert_frame_equal(ours, sdk, check_exact=True)


@pytest.mark.parametrize("group_name", GROUPS)
def test_rows_match_the_sdk_records(fetched: dict[str, Fetched], group_name: str) -> None:
    rows = to_rows(fetched[group_name].items)
    records = fetched[group_name].sdk.to_dict("records")
    assert [list(row) for row in rows] == [list(record) for record in records]
    assert [[(type(v), v) for v in row.values()] for row in rows] == [
        [(type(v), v) for v in record.values()] for record in records
    ]


def test_the_groups_cover_every_kind_and_placeholder(fetched: dict[str, Fetched]) -> None:
    """Guards the comparisons above against silently testing too little."""
    sdk = pd.concat([f.sdk for f in fetched.values()], ignore_index=True)
    assert {"STOCK", "IDX", "ETF", "FUTURE", "DRVT", "WARRANT", "N/A"} <= set(sdk["stock_type"])
    assert {"N/A", "CALL", "PUT", "BULL", "BEAR", "INLINE"} <= set(sdk["stock_child_type"])
    assert {"N/A", "ALL", "CALL", "PUT"} <= set(sdk["option_type"])
    assert {"N/A.X1", "HK_FUTURE.MHI2606"} <= set(sdk["code"])
    assert {"", "N/A.ABC"} <= set(sdk["stock_owner"])
    assert set(sdk["delisting"].map(repr)) == {"True", "False", "'N/A'"}
    assert set(sdk["main_contract"]) == {True, False}
    assert set(sdk["suspension"].map(repr)) == {"True", "False", "'N/A'"}
    edge_options = fetched["Edge options"].sdk
    assert str(edge_options["strike_price"].dtype) == "float64"
    assert str(edge_options["suspension"].dtype) == "bool"
    assert str(fetched["All"].sdk["strike_price"].dtype) == "object"
    assert fetched["Empty"].sdk.empty
