"""The official SDK's tables of quotes, snapshots and order books, built from our models.

Exact cells for hand-made quotes; the dispatch of ``to_rows`` and
``to_dataframe`` on the kind of model; our deliberate differences from the
SDK. The comparison with the SDK's own frames is in
``tests/interop/test_quote_frames_match_sdk.py``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncquote import (
    BasicQuote,
    InvalidArgumentError,
    OrderBook,
    OrderBookDetail,
    OrderBookLevel,
    PreAfterMarketData,
    Security,
    SecurityStaticInfo,
    Snapshot,
    SnapshotBasicData,
    to_dataframe,
    to_rows,
)
from asyncquote._models.quote_convert import basic_quote_from_pb, order_book_from_response
from asyncquote._models.quote_dataframes import (
    ORDER_BOOK_COLUMNS,
    QUOTE_COLUMNS,
    SNAPSHOT_COLUMNS,
    sdk_order_book,
)
from asyncquote._models.quotes import OptionQuoteExData
from asyncquote._models.snapshot_convert import snapshot_from_pb
from asyncquote._pb import Qot_GetBasicQot_pb2, Qot_GetOrderBook_pb2, Qot_GetSecuritySnapshot_pb2

from .._support.pb_strategies import pb_messages

# Written out here rather than taken from asyncquote: the SDK's order is the oracle.
# fmt: off
SDK_QUOTE_COLUMNS = [
    "code", "name", "data_date", "data_time", "last_price", "open_price", "high_price",
    "low_price", "prev_close_price", "volume", "turnover", "turnover_rate", "amplitude",
    "suspension", "listing_date", "price_spread", "dark_status", "sec_status", "strike_price",
    "contract_size", "open_interest", "implied_volatility", "premium", "delta", "gamma", "vega",
    "theta", "rho", "net_open_interest", "expiry_date_distance", "contract_nominal_value",
    "owner_lot_multiplier", "option_area_type", "contract_multiplier", "last_settle_price",
    "position", "position_change", "index_option_type",
    *(f"{session}_{field}" for session in ("pre", "after", "overnight") for field in (
        "price", "high_price", "low_price", "volume", "turnover", "change_val", "change_rate",
        "amplitude")),
]
# fmt: on

HK_00700 = Security.parse("HK.00700")


def a_quote(**fields: Any) -> BasicQuote:
    values: dict[str, Any] = {
        "security": HK_00700,
        "name": "Tencent",
        "is_suspended": False,
        "list_time": "2004-06-16",
        "price_spread": 0.2,
        "update_time": "2024-05-17 15:59:58",
        "high_price": 321.0,
        "open_price": 318.4,
        "low_price": 317.8,
        "cur_price": 320.2,
        "last_close_price": 319.0,
        "volume": 15_392_000,
        "turnover": 4.9e9,
        "turnover_rate": 0.16,
        "amplitude": 1.0,
    }
    return BasicQuote(**{**values, **fields})


def an_option(**fields: Any) -> OptionQuoteExData:
    values: dict[str, Any] = {
        "strike_price": 400.0,
        "contract_size": 100,
        "open_interest": 12,
        "implied_volatility": 30.5,
        "premium": 2.0,
        "delta": 0.5,
        "gamma": 0.01,
        "vega": 0.2,
        "theta": -0.1,
        "rho": 0.05,
    }
    return OptionQuoteExData(**{**values, **fields})


def a_snapshot(**fields: Any) -> Snapshot:
    basic = SnapshotBasicData(
        security=HK_00700,
        sec_type=3,
        is_suspended=False,
        list_time="2004-06-16",
        lot_size=100,
        price_spread=0.2,
        update_time="2024-05-17 16:08:00",
        high_price=321.0,
        open_price=318.4,
        low_price=317.8,
        last_close_price=319.0,
        cur_price=320.2,
        volume=1000,
        turnover=320_200.0,
        turnover_rate=0.01,
        **fields,
    )
    return Snapshot(basic=basic)


def a_book() -> OrderBook:
    return OrderBook(
        security=HK_00700,
        bids=(
            OrderBookLevel(price=320.0, volume=1000, order_count=3),
            OrderBookLevel(price=319.8, volume=2000, order_count=5, hp_volume=2000.5),
        ),
        asks=(
            OrderBookLevel(
                price=320.2,
                volume=500,
                order_count=1,
                details=(OrderBookDetail(order_id=77, volume=500),),
            ),
        ),
    )


def test_quote_columns_are_the_sdks_in_order() -> None:
    assert list(QUOTE_COLUMNS) == SDK_QUOTE_COLUMNS


def test_snapshot_columns_are_unique_and_keep_the_sdks_early_after_volume() -> None:
    assert len(SNAPSHOT_COLUMNS) == len(set(SNAPSHOT_COLUMNS)) == 142
    assert SNAPSHOT_COLUMNS[:3] == ("code", "name", "update_time")
    assert SNAPSHOT_COLUMNS.index("after_volume") < SNAPSHOT_COLUMNS.index("equity_valid")
    assert SNAPSHOT_COLUMNS[-1] == "overnight_amplitude"


def test_a_stocks_quote_row_cell_by_cell() -> None:
    (row,) = to_rows([a_quote(pre_market=PreAfterMarketData(price=1.5))])
    assert list(row) == SDK_QUOTE_COLUMNS
    assert [row[c] for c in SDK_QUOTE_COLUMNS[:18]] == [
        "HK.00700", "Tencent", "2024-05-17", "15:59:58", 320.2, 318.4, 321.0, 317.8, 319.0,
        15_392_000, 4.9e9, 0.16, 1.0, False, "2004-06-16", 0.2, "N/A", "N/A",
    ]  # fmt: skip
    assert {row[c] for c in SDK_QUOTE_COLUMNS[18:38]} == {"N/A"}
    assert row["pre_price"] == 1.5
    assert row["pre_volume"] == "N/A"
    assert row["after_price"] == "N/A"


def test_an_options_quote_shows_its_figures_and_no_listing_date() -> None:
    option = an_option(contract_size_float=100.5, option_area_type=2, index_option_type=9)
    (row,) = to_rows([a_quote(option_ex_data=option, dark_status=42, hp_volume=10.5)])
    assert row["listing_date"] == "N/A"
    assert (row["strike_price"], row["contract_size"], row["rho"]) == (400.0, 100.5, 0.05)
    assert (row["option_area_type"], row["index_option_type"]) == ("EUROPEAN", "N/A")
    assert (row["net_open_interest"], row["dark_status"]) == ("N/A", "N/A")
    assert row["volume"] == 10.5


def test_without_contract_size_float_the_integer_size_shows_not_the_sdks_zero() -> None:
    (row,) = to_rows([a_quote(option_ex_data=an_option())])
    assert row["contract_size"] == 100.0
    assert type(row["contract_size"]) is float


@pytest.mark.parametrize(
    ("update_time", "date", "time"),
    [("", "", ""), ("2024-05-17", "2024-05-17", ""), (" ", "", "")],
)
def test_an_update_time_without_a_time_gives_empty_cells_where_the_sdk_raises(
    update_time: str, date: str, time: str
) -> None:
    (row,) = to_rows([a_quote(update_time=update_time)])
    assert (row["data_date"], row["data_time"]) == (date, time)


def test_a_snapshots_empty_cells_are_none_in_rows_and_nan_in_the_frame() -> None:
    snapshot = a_snapshot(enable_margin=True)
    (row,) = to_rows([snapshot])
    assert list(row) == list(SNAPSHOT_COLUMNS)
    assert (row["enable_margin"], row["mortgage_ratio"]) == (True, 0.0)  # read as present
    assert row["enable_short_sell"] is None
    assert row["issued_shares"] is None
    assert (row["equity_valid"], row["wrt_valid"], row["after_volume"]) == (False, False, 0)
    pd = pytest.importorskip("pandas")
    frame = to_dataframe([snapshot])
    assert math.isnan(frame["enable_short_sell"][0])
    assert frame["mortgage_ratio"][0] == 0.0
    assert isinstance(frame, pd.DataFrame)


def test_an_order_book_is_a_row_per_level_bids_first() -> None:
    rows = to_rows(a_book())
    assert [tuple(row.values()) for row in rows] == [
        ("HK.00700", "N/A", "Bid", 320.0, 1000, 3),
        ("HK.00700", "N/A", "Bid", 319.8, 2000.5, 5),
        ("HK.00700", "N/A", "Ask", 320.2, 500, 1),
    ]
    assert list(rows[0]) == list(ORDER_BOOK_COLUMNS)
    assert to_rows([a_book(), a_book()]) == rows + rows


def test_the_sdks_order_book_dict() -> None:
    assert sdk_order_book(a_book()) == {
        "code": "HK.00700",
        "name": "N/A",
        "svr_recv_time_bid": "",
        "svr_recv_time_ask": "",
        "Bid": [(320.0, 1000, 3, {}), (319.8, 2000.5, 5, {})],
        "Ask": [(320.2, 500, 1, {77: 500})],
    }
    typed = a_book().model_copy(update={"order_book_type": 1})
    assert sdk_order_book(typed)["order_book_type"] == "ODD"


@pytest.mark.parametrize(
    ("model", "columns"),
    [
        (BasicQuote, QUOTE_COLUMNS),
        (Snapshot, SNAPSHOT_COLUMNS),
        (OrderBook, ORDER_BOOK_COLUMNS),
        (SecurityStaticInfo, None),
        (None, None),
    ],
)
def test_an_empty_list_takes_its_columns_from_the_model(model: Any, columns: Any) -> None:
    pd = pytest.importorskip("pandas")
    frame = to_dataframe([], model=model)
    assert frame.empty
    if columns is not None:
        assert list(frame.columns) == list(columns)
    else:
        assert list(frame.columns) == list(to_dataframe([]).columns)
    assert isinstance(frame, pd.DataFrame)


def test_the_quote_frame_has_the_sdks_dtypes_for_a_stock() -> None:
    pytest.importorskip("pandas")
    frame = to_dataframe([a_quote(), a_quote(cur_price=321.0)])
    assert str(frame["last_price"].dtype) == "float64"
    assert str(frame["volume"].dtype) == "int64"
    assert str(frame["suspension"].dtype) == "bool"
    assert str(frame["strike_price"].dtype) in {"object", "str"}  # "N/A", by pandas version


@pytest.mark.parametrize(
    ("items", "model", "message"),
    [
        ([a_quote(), a_book()], None, "expected BasicQuote entries like the first"),
        ([a_quote()], Snapshot, "expected Snapshot entries"),
        (a_quote(), None, "expected a list of SecurityStaticInfo, BasicQuote"),
        ([1], None, "expected a list of SecurityStaticInfo"),
        ([], int, "model must be one of"),
        ([], [], "model must be one of"),
    ],
)
def test_what_is_not_a_table_is_an_invalid_argument(items: Any, model: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        to_rows(items, model=model)
    with pytest.raises(InvalidArgumentError, match=message):
        to_dataframe(items, model=model)


@settings(max_examples=100)
@given(
    quotes=st.lists(pb_messages(Qot_GetBasicQot_pb2.S2C), max_size=2),
    snapshots=st.lists(pb_messages(Qot_GetSecuritySnapshot_pb2.Snapshot), max_size=3),
    book=pb_messages(Qot_GetOrderBook_pb2.S2C),
)
def test_any_valid_message_gives_a_full_row(quotes: Any, snapshots: Any, book: Any) -> None:
    models = [basic_quote_from_pb(q) for s2c in quotes for q in s2c.basicQotList]
    for row in to_rows(models, model=BasicQuote):
        assert list(row) == list(QUOTE_COLUMNS)
    for row in to_rows([snapshot_from_pb(s) for s in snapshots], model=Snapshot):
        assert list(row) == list(SNAPSHOT_COLUMNS)
    response = Qot_GetOrderBook_pb2.Response(retType=0)
    response.s2c.CopyFrom(book)
    levels = to_rows(order_book_from_response(response))
    assert len(levels) == len(book.orderBookBidList) + len(book.orderBookAskList)
