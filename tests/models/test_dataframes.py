"""The official SDK's ``get_user_security`` table built from our models.

Exact rows for the golden vectors and for values the SDK shows as "N/A"; the
DataFrame's columns and dtypes; the error without pandas. The comparison with
the SDK's own frames is in ``tests/interop/test_frames_match_sdk.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import partial
from typing import Any

import pytest

from asyncquote._models.convert import static_infos_from_pb
from asyncquote._models.dataframes import COLUMNS, to_dataframe, to_rows
from asyncquote._models.watchlist import (
    FutureStaticExData,
    Market,
    OptionType,
    Security,
    SecurityStaticInfo,
    SecurityType,
    WarrantStaticExData,
    WarrantType,
)

from .._support import models as support
from ..golden import BY_NAME

# Written out here rather than taken from asyncquote.frames: the SDK's order is the oracle.
# fmt: off
SDK_COLUMNS = [
    "code", "name", "lot_size", "stock_type", "stock_child_type", "stock_owner", "option_type",
    "strike_time", "strike_price", "suspension", "listing_date", "stock_id", "delisting",
    "main_contract", "last_trade_time",
]
# fmt: on

# Every cell of every golden 3213 reply, one tuple per entry in SDK_COLUMNS order.
GOLDEN_ROWS: dict[str, list[tuple[object, ...]]] = {
    "get_user_security_response_seed_java": [
        ("HK.09626", "Bilibili Inc.", 20, "STOCK", "N/A", "", "N/A", "", "N/A", "N/A",
         "2021-03-29", 80328773346714, False, False, ""),
        ("HK.800000", "Hang Seng Index", 0, "IDX", "N/A", "", "N/A", "", "N/A", "N/A",
         "1970-01-01", 800000, False, False, ""),
    ],
    "get_user_security_response_seed_cpp": [
        ("US.FUTU", "Futu Holdings Limited", 1, "STOCK", "N/A", "", "N/A", "", "N/A", "N/A",
         "2019-03-08", 78103980495165, False, False, ""),
        ("HK.00700", "Tencent", 100, "STOCK", "N/A", "", "N/A", "", "N/A", "N/A",
         "2004-06-16", 54047868453564, False, False, ""),
    ],
    "get_user_security_response_derivatives": [
        # The main contract: no listing date, no last trading day.
        ("HK.HSImain", "HSI Future Main(NOV0)", 50, "FUTURE", "N/A", "", "N/A", "", "N/A", "N/A",
         "", 71000662, False, True, ""),
        # OpenD sent the option's listing date "2026-01-02"; the SDK never shows one.
        ("HK.TCH260330C400000", "TCH 260330 400.00 C", 100, "DRVT", "N/A", "HK.00700", "CALL",
         "2026-03-30", 400.0, False, "N/A", 999000001, False, False, ""),
        ("HK.12345", "TENCENT CALL", 10000, "WARRANT", "CALL", "HK.00700", "N/A", "", "N/A", "N/A",
         "2025-11-01", 999000002, False, False, ""),
    ],
}  # fmt: skip


def golden(name: str) -> list[SecurityStaticInfo]:
    """The entries of a golden 3213 reply."""
    return static_infos_from_pb(BY_NAME[name].message().s2c.staticInfoList)  # type: ignore[attr-defined]


def typed(rows: list[dict[str, object]]) -> list[list[tuple[str, type, object]]]:
    """Rows with each cell's type, so that ``False == 0`` or ``400 == 400.0`` cannot pass."""
    return [[(key, type(value), value) for key, value in r.items()] for r in rows]


# This file's entries: delisting known (False), an option on AAPL.
basic = partial(support.basic, id=42, name="name", list_time="2020-01-02", delisting=False)
option = partial(
    support.option_ex_data,
    owner="US.AAPL",
    strike_time="2026-06-18",
    strike_price=212.5,
    suspend=True,
    market="US",
)


# --- golden vectors ---------------------------------------------------------------


@pytest.mark.parametrize("vector", list(GOLDEN_ROWS))
def test_golden_rows_cell_by_cell(vector: str) -> None:
    expected = [dict(zip(SDK_COLUMNS, cells, strict=True)) for cells in GOLDEN_ROWS[vector]]
    assert typed(to_rows(golden(vector))) == typed(expected)


# --- values the SDK shows as "N/A" ------------------------------------------------


def test_unknown_market_and_security_type_show_as_na() -> None:
    info = SecurityStaticInfo(basic=basic(Security(market=999, code="X1"), 99))
    (r,) = to_rows([info])
    assert (r["code"], r["stock_type"]) == ("N/A.X1", "N/A")


@pytest.mark.parametrize(
    ("market", "sec_type", "code", "stock_type"),
    [
        (Market.NONE, SecurityType.NONE, "N/A.X", "N/A"),
        (Market.HK_FUTURE, SecurityType.FUTURE, "HK_FUTURE.X", "FUTURE"),
        (Market.SH, SecurityType.BOND, "SH.X", "BOND"),
        (Market.CC, SecurityType.CRYPTO, "CC.X", "CRYPTO"),
    ],
)
def test_market_and_type_names(
    market: Market, sec_type: SecurityType, code: str, stock_type: str
) -> None:
    (r,) = to_rows([SecurityStaticInfo(basic=basic(Security(market=market, code="X"), sec_type))])
    assert (r["code"], r["stock_type"]) == (code, stock_type)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (WarrantType.NONE, "N/A"),
        (WarrantType.PUT, "PUT"),
        (WarrantType.BEAR, "BEAR"),
        (WarrantType.INLINE, "INLINE"),
        (42, "N/A"),
    ],
)
def test_warrant_type_names(kind: WarrantType | int, name: str) -> None:
    info = SecurityStaticInfo(
        basic=basic("HK.20001", SecurityType.WARRANT),
        warrant_ex_data=WarrantStaticExData(type=kind, owner=Security(market=77, code="ABC")),
    )
    (r,) = to_rows([info])
    assert (r["stock_child_type"], r["stock_owner"]) == (name, "N/A.ABC")


@pytest.mark.parametrize(
    ("kind", "name"), [(OptionType.ALL, "ALL"), (OptionType.PUT, "PUT"), (7, "N/A")]
)
def test_option_type_names(kind: OptionType | int, name: str) -> None:
    info = SecurityStaticInfo(
        basic=basic("US.AAPL260618P212500", SecurityType.DRVT), option_ex_data=option(kind)
    )
    (r,) = to_rows([info])
    assert r["option_type"] == name
    assert typed([r])[0][6:11] == [
        ("option_type", str, name),
        ("strike_time", str, "2026-06-18"),
        ("strike_price", float, 212.5),
        ("suspension", bool, True),
        ("listing_date", str, "N/A"),
    ]


def test_absent_delisting_is_na_and_present_is_kept() -> None:
    unknown, delisted = to_rows(
        [
            SecurityStaticInfo(basic=basic("HK.00001", delisting=None)),
            SecurityStaticInfo(basic=basic("HK.00002", delisting=True)),
        ]
    )
    assert unknown["delisting"] == "N/A"
    assert delisted["delisting"] is True


def test_a_dated_future_shows_its_last_trade_time() -> None:
    info = SecurityStaticInfo(
        basic=basic("HK_FUTURE.MHI2606", SecurityType.FUTURE, list_time=""),
        future_ex_data=FutureStaticExData(last_trade_time="2026-06-29", is_main_contract=False),
    )
    (r,) = to_rows([info])
    assert typed([r])[0][-2:] == [
        ("main_contract", bool, False),
        ("last_trade_time", str, "2026-06-29"),
    ]


# --- shape ------------------------------------------------------------------------


def test_columns_are_the_sdk_columns_in_order() -> None:
    assert list(COLUMNS) == SDK_COLUMNS
    rows = to_rows(golden("get_user_security_response_derivatives"))
    assert all(list(r) == SDK_COLUMNS for r in rows)


def test_rows_take_any_iterable_once() -> None:
    infos = golden("get_user_security_response_seed_cpp")
    assert to_rows(iter(infos)) == to_rows(infos)
    assert to_rows([]) == []


# --- DataFrame --------------------------------------------------------------------


@pytest.fixture
def pd() -> Any:
    return pytest.importorskip("pandas")


def test_dataframe_columns_and_dtypes_of_a_mixed_list(pd: Any) -> None:
    frame = to_dataframe(golden("get_user_security_response_derivatives"))
    assert list(frame.columns) == SDK_COLUMNS
    assert frame.index.equals(pd.RangeIndex(3))
    numeric_or_bool = {
        "lot_size": "int64",
        "stock_id": "int64",
        "delisting": "bool",
        "main_contract": "bool",
        # Floats or bools mixed with the "N/A" of other kinds: object, as in the SDK.
        "strike_price": "object",
        "suspension": "object",
    }
    for column in SDK_COLUMNS:
        if column in numeric_or_bool:
            assert str(frame[column].dtype) == numeric_or_bool[column], column
        else:
            assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame.to_dict("records") == to_rows(golden("get_user_security_response_derivatives"))


def test_dataframe_of_options_only_has_numeric_option_columns(pd: Any) -> None:
    infos = [
        SecurityStaticInfo(basic=basic("US.A", SecurityType.DRVT), option_ex_data=option(kind))
        for kind in (OptionType.CALL, OptionType.PUT)
    ]
    frame = to_dataframe(infos)
    assert str(frame["strike_price"].dtype) == "float64"
    assert str(frame["suspension"].dtype) == "bool"
    assert frame["strike_price"].tolist() == [212.5, 212.5]


def test_dataframe_dtypes_follow_pandas_inference_of_the_rows(pd: Any) -> None:
    """The SDK builds its frame from row dicts; ours must infer every dtype the same way."""
    cases = [
        [],
        golden("get_user_security_response_seed_java"),
        golden("get_user_security_response_derivatives"),
        [SecurityStaticInfo(basic=basic("HK.00001", delisting=None))],
    ]
    for infos in cases:
        expected = pd.DataFrame(to_rows(infos), columns=SDK_COLUMNS)
        pd.testing.assert_frame_equal(to_dataframe(infos), expected, check_exact=True)


def test_empty_dataframe_has_the_columns_as_object(pd: Any) -> None:
    frame = to_dataframe([])
    assert list(frame.columns) == SDK_COLUMNS
    assert frame.empty
    assert {str(dtype) for dtype in frame.dtypes} == {"object"}


def test_dataframe_without_pandas_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match=re.escape('pip install -e ".[pandas]"')):
        to_dataframe(golden("get_user_security_response_seed_java"))
    assert len(to_rows(golden("get_user_security_response_seed_java"))) == 2


def test_importing_frames_does_not_import_pandas() -> None:
    check = "import sys, asyncquote.frames; sys.exit('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], timeout=60, check=False).returncode == 0
