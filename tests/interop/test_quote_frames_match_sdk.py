"""``to_dataframe`` of quotes, snapshots and order books against the official SDK's own.

The same reply bytes go to the SDK, whose ``get_stock_quote``,
``get_market_snapshot`` and ``get_order_book`` parse them with its own code
and column lists (``sdk_quote_frames.py``, in a process of its own), and to
asyncquote's decoders and tables in this process. The frames must agree in
columns, dtypes and every cell, down to the cell's Python type; the order
book in the SDK's dict. Hand-made replies cover every kind of security and
placeholder rule; Hypothesis adds batches of arbitrary valid replies.

One deliberate difference is left out: an option without
``contractSizeFloat`` (the SDK shows 0.0, we the integer ``contractSize``;
``tests/models/test_quote_dataframes.py`` pins ours).
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from asyncquote._models.dataframes import to_dataframe, to_rows
from asyncquote._models.quote_convert import basic_quotes_from_response, order_book_from_response
from asyncquote._models.quote_dataframes import QUOTE_COLUMNS, SNAPSHOT_COLUMNS, sdk_order_book
from asyncquote._models.snapshot_convert import snapshots_from_response
from asyncquote._opend.codec import parse_response
from asyncquote._pb import Qot_GetBasicQot_pb2, Qot_GetOrderBook_pb2, Qot_GetSecuritySnapshot_pb2

from .._support.frames import cell, cell_mismatches
from .._support.pb_strategies import doubles, pb_messages
from .sdk_process import run_sdk_script

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(importlib.util.find_spec("futu") is None, reason="futu-api not installed"),
]
pd = pytest.importorskip("pandas")

SDK_SCRIPT = Path(__file__).with_name("sdk_quote_frames.py")
RESPONSES = {
    "quote": Qot_GetBasicQot_pb2.Response,
    "snapshot": Qot_GetSecuritySnapshot_pb2.Response,
    "order_book": Qot_GetOrderBook_pb2.Response,
}
UPDATE_TIMES = ["2024-05-17 15:59:58", "2024-05-17 09:30:00.123", ""]

HK = {"market": 1, "code": "00700"}
PRICES = {"highPrice": 321.0, "openPrice": 318.4, "lowPrice": 317.8, "lastClosePrice": 319.0}


def quote(**fields: Any) -> dict[str, Any]:
    return {
        "security": HK,
        "isSuspended": False,
        "listTime": "2004-06-16",
        "priceSpread": 0.2,
        "updateTime": "2024-05-17 15:59:58",
        "curPrice": 320.2,
        "volume": "15392000",
        "turnover": 4.9e9,
        "turnoverRate": 0.16,
        "amplitude": 1.0,
        **PRICES,
        **fields,
    }


OPTION_QUOTE = {
    "strikePrice": 400.0,
    "contractSize": 100,
    "contractSizeFloat": 100.0,
    "openInterest": 12,
    "impliedVolatility": 30.5,
    "premium": 2.0,
    "delta": 0.5,
    "gamma": 0.01,
    "vega": 0.2,
    "theta": -0.1,
    "rho": 0.05,
}

QUOTES = [
    quote(name="騰訊控股", darkStatus=1, secStatus=1, updateTimestamp=1.7e9, listTimestamp=1.0),
    quote(updateTime="", security={"market": 999, "code": "X"}, darkStatus=7, secStatus=77),
    quote(hpVolume=12.5, preMarket={"price": 1.0, "volume": "3"}, afterMarket={}),
    quote(overnight={"price": 2.0, "highPrice": 2.5, "changeRate": -1.0, "amplitude": 3.0}),
    quote(optionExData={**OPTION_QUOTE, "expiryDateDistance": 5, "optionAreaType": 1}),
    quote(optionExData={**OPTION_QUOTE, "netOpenInterest": 3, "indexOptionType": 9}),
    quote(optionExData={**OPTION_QUOTE, "contractMultiplier": 10.0, "indexOptionType": 2}),
    quote(futureExData={"lastSettlePrice": 1.0, "position": 2, "positionChange": -3}),
    quote(
        futureExData={
            "lastSettlePrice": 1.0,
            "position": 2,
            "positionChange": 3,
            "expiryDateDistance": 30,
        }
    ),
    quote(  # both: the option's days to expiry win, as the SDK fills them first
        optionExData={**OPTION_QUOTE, "expiryDateDistance": 5},
        futureExData={
            "lastSettlePrice": 1.0,
            "position": 2,
            "positionChange": 3,
            "expiryDateDistance": 30,
        },
    ),
    quote(warrantExData={"premium": 1.5, "delta": 0.3}),
]


def snapshot(sec_type: int, **extra: Any) -> dict[str, Any]:
    basic = {
        "security": HK,
        "type": sec_type,
        "isSuspend": False,
        "listTime": "2004-06-16",
        "lotSize": 100,
        "priceSpread": 0.2,
        "updateTime": "2024-05-17 16:08:00",
        "curPrice": 320.2,
        "volume": "1000",
        "turnover": 320200.0,
        "turnoverRate": 0.01,
        **PRICES,
        **extra.pop("basic", {}),
    }
    return {"basic": basic, **extra}


EQUITY = {
    "issuedShares": "9000000000",
    "issuedMarketVal": 2.9e12,
    "netAsset": 8e11,
    "netProfit": 1.6e11,
    "earningsPershare": 17.5,
    "outstandingShares": "9000000000",
    "outstandingMarketVal": 2.9e12,
    "netAssetPershare": 88.0,
    "eyRate": 5.4,
    "peRate": 18.3,
    "pbRate": 3.6,
    "peTTMRate": 17.9,
}
WARRANT = {
    "conversionRate": 10.0,
    "warrantType": 5,
    "strikePrice": 300.0,
    "maturityTime": "2025-01-02",
    "endTradeTime": "2024-12-30",
    "owner": HK,
    "recoveryPrice": 0.0,
    "streetVolumn": "5",
    "issueVolumn": "100",
    "streetRate": 5.0,
    "delta": 0.0,
    "impliedVolatility": 0.0,
    "premium": 3.2,
}
OPTION_SNAPSHOT = {
    **OPTION_QUOTE,
    "type": 1,
    "owner": HK,
    "strikeTime": "2026-03-30",
}
FUTURE = {
    "lastSettlePrice": 17000.0,
    "position": 120000,
    "positionChange": -300,
    "lastTradeTime": "",
    "isMainContract": True,
}
TRUST = {
    "dividendYield": 1.0,
    "aum": 1e9,
    "outstandingUnits": "1000",
    "netAssetValue": 10.0,
    "premium": 0.1,
    "assetClass": 3,
}
COUNTS = {"raiseCount": 30, "fallCount": 20, "equalCount": 10}

SNAPSHOTS = [
    snapshot(
        3,
        basic={
            "name": "騰訊控股",
            "enableMargin": True,
            "mortgageRatio": 70.0,
            "enableShortSell": False,
            "askPrice": 320.4,
            "askVol": "100",
            "hpBidVol": 200.5,
            "preMarket": {"price": 1.0},
            "afterMarket": {"volume": "7", "changeVal": 0.5},
            "secStatus": 1,
            "amplitude": 2.0,
            "highest52WeeksPrice": 400.0,
        },
        equityExData={**EQUITY, "dividendTTM": 3.4, "dividendLFYRatio": 1.1},
    ),
    snapshot(
        3,
        basic={
            "enableMargin": False,
            "enableShortSell": True,
            "shortSellRate": 1.5,
            "bidVol": "9",
            "hpVolume": 1000.5,
            "overnight": {"turnover": 2.0},
        },
    ),
    snapshot(5, warrantExData={**WARRANT, "inLinePriceStatus": 2, "issuerCode": "SG"}),
    snapshot(5, basic={"security": {"market": 999, "code": "W"}, "secStatus": 88}),
    snapshot(5, warrantExData={**WARRANT, "warrantType": 42, "owner": {"market": 77, "code": "A"}}),
    snapshot(8, optionExData={**OPTION_SNAPSHOT, "indexOptionType": 1, "netOpenInterest": 4}),
    snapshot(8, optionExData={**OPTION_SNAPSHOT, "type": 0, "optionAreaType": 9}),
    snapshot(8),
    snapshot(99, optionExData={**OPTION_SNAPSHOT, "type": 2}),
    snapshot(6, indexExData=COUNTS),
    snapshot(7, plateExData=COUNTS),
    snapshot(10, futureExData=FUTURE),
    snapshot(10, futureExData={**FUTURE, "lastTradeTime": "2026-06-29", "isMainContract": False}),
    snapshot(10),
    snapshot(4, trustExData=TRUST),
    snapshot(4, trustExData={**TRUST, "assetClass": 77}),
]


def order_book(**fields: Any) -> dict[str, Any]:
    level = {"price": 320.0, "volume": "1000", "orederCount": 3}
    return {
        "security": HK,
        "orderBookBidList": [level, {**level, "price": 319.8, "hpVolume": 10.5}],
        "orderBookAskList": [
            {**level, "price": 320.2, "detailList": [{"orderID": "77", "volume": "500"}]}
        ],
        **fields,
    }


ORDER_BOOKS = [
    order_book(),
    order_book(name="騰訊控股", svrRecvTimeBid="2024-05-17 15:59:58.1", orderBookType=1),
    order_book(orderBookType=7, orderBookBidList=[], svrRecvTimeAsk=""),
]


def reply(kind: str, s2c: dict[str, Any]) -> bytes:
    message = json_format.ParseDict({"retType": 0, "s2c": s2c}, RESPONSES[kind]())
    return message.SerializeToString()


def hand_made() -> list[tuple[str, bytes]]:
    return [
        ("quote", reply("quote", {"basicQotList": QUOTES})),
        *(("quote", reply("quote", {"basicQotList": [q]})) for q in QUOTES),
        ("snapshot", reply("snapshot", {"snapshotList": SNAPSHOTS})),
        *(("snapshot", reply("snapshot", {"snapshotList": [s]})) for s in SNAPSHOTS),
        *(("order_book", reply("order_book", book)) for book in ORDER_BOOKS),
    ]


def run_sdk(replies: list[tuple[str, bytes]], home: Path) -> list[Any]:
    (home / "in.pkl").write_bytes(pickle.dumps(replies))
    run_sdk_script(SDK_SCRIPT, [str(home / "in.pkl"), str(home / "out.pkl")], home)
    results: list[Any] = pickle.loads((home / "out.pkl").read_bytes())
    assert [ret for ret, _ in results] == [0] * len(replies), results
    return [data for _, data in results]


def ours(kind: str, body: bytes) -> Any:
    response: Any = parse_response(RESPONSES[kind], body, proto_id=0)
    if kind == "quote":
        return to_dataframe(basic_quotes_from_response(response), model=asyncquote_model(kind))
    if kind == "snapshot":
        return to_dataframe(snapshots_from_response(response), model=asyncquote_model(kind))
    return sdk_order_book(order_book_from_response(response))


def asyncquote_model(kind: str) -> type[Any]:
    import asyncquote

    return asyncquote.BasicQuote if kind == "quote" else asyncquote.Snapshot


def assert_matches(kind: str, body: bytes, sdk: Any) -> None:
    mine = ours(kind, body)
    if kind == "order_book":
        assert mine == sdk
        assert [[cell(v) for v in level] for level in mine["Bid"] + mine["Ask"]] == [
            [cell(v) for v in level] for level in sdk["Bid"] + sdk["Ask"]
        ]
        return
    columns = QUOTE_COLUMNS if kind == "quote" else SNAPSHOT_COLUMNS
    assert list(sdk.columns) == list(columns)
    assert list(mine.columns) == list(columns)
    assert dict(mine.dtypes) == dict(sdk.dtypes)
    mismatches = cell_mismatches(mine, sdk)
    assert mismatches == []
    pd.testing.assert_frame_equal(mine, sdk, check_exact=True)


@pytest.fixture(scope="module")
def sdk_hand_made(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return run_sdk(hand_made(), tmp_path_factory.mktemp("sdk_quote_frames"))


@pytest.mark.parametrize("number", range(len(hand_made())))
def test_hand_made_replies_give_the_sdks_tables(sdk_hand_made: list[Any], number: int) -> None:
    kind, body = hand_made()[number]
    assert_matches(kind, body, sdk_hand_made[number])


def test_rows_are_the_sdk_records_with_none_for_its_empty_cells(
    sdk_hand_made: list[Any],
) -> None:
    # One-row replies only: in a frame, a column of ints and floats becomes float64.
    for (kind, body), sdk in zip(hand_made(), sdk_hand_made, strict=True):
        if kind == "order_book" or len(sdk) != 1:
            continue
        response: Any = parse_response(RESPONSES[kind], body, proto_id=0)
        items = (basic_quotes_from_response if kind == "quote" else snapshots_from_response)(
            response
        )
        records = [
            {k: None if cell(v) == (float, "NaN") else v for k, v in record.items()}
            for record in sdk.to_dict("records")
        ]
        rows = to_rows(items)
        assert [[cell(v) for v in row.values()] for row in rows] == [
            [cell(v) for v in record.values()] for record in records
        ]
        assert [list(row) for row in rows] == [list(record) for record in records]


def test_the_hand_made_replies_cover_every_kind_and_placeholder(sdk_hand_made: list[Any]) -> None:
    """Guards the comparisons above against silently testing too little."""
    quotes = sdk_hand_made[0]
    snapshots = sdk_hand_made[len(QUOTES) + 1]
    assert {"N/A", "TRADING"} <= set(quotes["dark_status"])
    assert {"N/A", "AMERICAN"} <= set(quotes["option_area_type"])
    assert {"N/A", "SMALL"} <= set(quotes["index_option_type"])
    assert {"", "2024-05-17"} <= set(quotes["data_date"])
    assert set(snapshots["wrt_valid"]) == set(snapshots["option_valid"]) == {True, False}
    assert set(snapshots["future_valid"]) == set(snapshots["trust_valid"]) == {True, False}
    assert {"N/A", "INLINE"} <= set(snapshots["wrt_type"])
    assert {"N/A", "ALL", "CALL", "PUT"} <= set(snapshots["option_type"])
    assert {"N/A", "COMMODITY"} <= set(snapshots["trust_assetClass"])
    assert snapshots["mortgage_ratio"].isna().any()
    assert snapshots["stock_owner"].isna().any()
    assert {"N/A.W", "HK.00700"} <= set(snapshots["code"])


# --- arbitrary replies ---------------------------------------------------------------


def _tidy_update_time(draw: st.DrawFn, pb: Any) -> None:
    # The SDK splits updateTime at whitespace and fails on a date alone.
    pb.updateTime = draw(st.sampled_from(UPDATE_TIMES))


def _tidy_option(draw: st.DrawFn, option: Any) -> None:
    # Without contractSizeFloat we differ from the SDK on purpose (see above).
    if not option.HasField("contractSizeFloat"):
        option.contractSizeFloat = draw(doubles)


@st.composite
def quote_replies(draw: st.DrawFn) -> bytes:
    response = Qot_GetBasicQot_pb2.Response(retType=0)
    response.s2c.CopyFrom(draw(pb_messages(Qot_GetBasicQot_pb2.S2C)))
    for pb in response.s2c.basicQotList:
        _tidy_update_time(draw, pb)
        if pb.HasField("optionExData"):
            _tidy_option(draw, pb.optionExData)
    return bytes(response.SerializeToString())


@st.composite
def snapshot_replies(draw: st.DrawFn) -> bytes:
    response = Qot_GetSecuritySnapshot_pb2.Response(retType=0)
    response.s2c.CopyFrom(draw(pb_messages(Qot_GetSecuritySnapshot_pb2.S2C)))
    for pb in response.s2c.snapshotList:
        _tidy_update_time(draw, pb.basic)
        pb.basic.type = draw(st.sampled_from([3, 4, 5, 6, 8, 10, pb.basic.type]))
        if pb.HasField("optionExData"):
            _tidy_option(draw, pb.optionExData)
    return bytes(response.SerializeToString())


@st.composite
def order_book_replies(draw: st.DrawFn) -> bytes:
    response = Qot_GetOrderBook_pb2.Response(retType=0)
    response.s2c.CopyFrom(draw(pb_messages(Qot_GetOrderBook_pb2.S2C)))
    return bytes(response.SerializeToString())


# Each example runs the SDK in a process of its own: a few large batches, not shrunk.
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(
        st.one_of(
            st.tuples(st.just("quote"), quote_replies()),
            st.tuples(st.just("snapshot"), snapshot_replies()),
            st.tuples(st.just("order_book"), order_book_replies()),
        ),
        min_size=20,
        max_size=20,
    )
)
def test_arbitrary_replies_give_the_sdks_tables(
    batch: list[tuple[str, bytes]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("sdk_quote_frames_any")
    for (kind, body), sdk in zip(batch, run_sdk(batch, home), strict=True):
        assert_matches(kind, body, sdk)
