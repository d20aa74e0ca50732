"""The official SDK's tables of tickers, time-share, K-lines and broker queues, from our models.

Exact cells for hand-made data and the dispatch of ``to_rows`` and
``to_dataframe``; the comparison with the SDK's own frames is in
``tests/interop/test_quote_frames_match_sdk.py``.
"""

from __future__ import annotations

import pytest

from asyncquote import (
    AuType,
    Broker,
    BrokerQueue,
    InvalidArgumentError,
    KLine,
    KLType,
    Security,
    Ticker,
    TickerDirect,
    TickerType,
    TimeSharePoint,
    to_dataframe,
    to_rows,
)
from asyncquote._models.market_data_frames import sdk_broker_queue

HK = Security.parse("HK.00700")

# Written out here rather than taken from asyncquote: the SDK's order is the oracle.
SDK_TICKER_COLUMNS = [
    *["code", "name", "time", "price", "volume", "turnover", "ticker_direction"],
    *["sequence", "type"],
]
SDK_RT_COLUMNS = [
    *["code", "name", "time", "is_blank", "opened_mins", "cur_price", "last_close"],
    *["avg_price", "volume", "turnover"],
]
SDK_KLINE_COLUMNS = [
    *["code", "name", "time_key", "open", "close", "high", "low", "volume", "turnover"],
    *["pe_ratio", "turnover_rate", "last_close"],
]


def a_ticker(**changes: object) -> Ticker:
    values: dict[str, object] = {
        "security": HK,
        "name": "騰訊控股",
        "time": "2024-05-17 10:00:01",
        "sequence": 7001,
        "direction": TickerDirect.BUY,
        "price": 320.2,
        "volume": 200,
        "turnover": 64_040.0,
    }
    return Ticker.model_validate({**values, **changes})


def test_ticker_rows_follow_get_rt_ticker() -> None:
    rows = to_rows([a_ticker(), a_ticker(direction=9, type=TickerType.ODD_LOT, hp_volume=200.5)])
    assert [list(row) for row in rows] == [SDK_TICKER_COLUMNS] * 2
    assert list(rows[0].values()) == [
        *["HK.00700", "騰訊控股", "2024-05-17 10:00:01", 320.2, 200, 64_040.0, "BUY", 7001],
        "N/A",
    ]
    assert (rows[1]["ticker_direction"], rows[1]["type"], rows[1]["volume"]) == (
        "N/A",
        "ODD_LOT",
        200.5,
    )
    assert to_rows([a_ticker(type=0, name=None)])[0]["type"] == "UNKNOWN"
    assert to_rows([a_ticker(name=None)])[0]["name"] == "N/A"


def test_time_share_rows_follow_get_rt_data() -> None:
    blank = TimeSharePoint(security=HK, time="09:30", minute=570, is_blank=True)
    full = TimeSharePoint(
        security=HK, time="09:31", minute=571, is_blank=False, price=320.0, avg_price=319.9,
        volume=3000, turnover=9.6e5, last_close_price=318.0,
    )  # fmt: skip
    rows = to_rows([blank, full])
    assert list(rows[0]) == SDK_RT_COLUMNS
    assert list(rows[0].values()) == [
        "HK.00700",
        "N/A",
        "09:30",
        True,
        570,
        0.0,
        0.0,
        "N/A",
        0,
        0.0,
    ]
    assert list(rows[1].values())[5:] == [320.0, 318.0, 319.9, 3000, 9.6e5]


def test_kline_rows_follow_get_cur_kline() -> None:
    bar = KLine(
        security=HK, name="T", k_type=KLType.K_1M, au_type=AuType.QFQ, time="10:01",
        is_blank=False, open_price=1.0, high_price=4.0, low_price=0.5, close_price=2.0,
        volume=10, hp_volume=10.5, turnover=20.0,
    )  # fmt: skip
    (row,) = to_rows([bar])
    assert list(row) == SDK_KLINE_COLUMNS
    assert (
        list(row.values()) == ["HK.00700", "T", "10:01", 1.0, 2.0, 4.0, 0.5, 10.5, 20.0] + [0.0] * 3
    )


def test_a_broker_queue_is_a_row_per_broker_and_the_sdks_two_tables() -> None:
    queue = BrokerQueue(
        security=HK,
        bids=(Broker(id=1, name="A", position=1), Broker(id=2, name="B", position=2)),
        asks=(Broker(id=3, name="C", position=1, order_id=9, volume=400),),
    )
    rows = to_rows(queue)
    assert [tuple(row.values()) for row in rows] == [
        ("HK.00700", "N/A", "Bid", 1, "A", 1, "N/A", "N/A"),
        ("HK.00700", "N/A", "Bid", 2, "B", 2, "N/A", "N/A"),
        ("HK.00700", "N/A", "Ask", 3, "C", 1, 9, 400),
    ]
    assert to_rows([queue, queue]) == rows + rows
    bids, asks = sdk_broker_queue(queue)
    assert list(bids[0]) == [
        *["code", "name", "bid_broker_id", "bid_broker_name", "bid_broker_pos"],
        *["order_id", "order_volume"],
    ]
    assert list(asks[0].values()) == ["HK.00700", "N/A", 3, "C", 1, 9, 400]
    assert len(bids) == 2


@pytest.mark.parametrize(
    ("model", "columns"),
    [(Ticker, SDK_TICKER_COLUMNS), (TimeSharePoint, SDK_RT_COLUMNS), (KLine, SDK_KLINE_COLUMNS)],
)
def test_an_empty_list_has_the_models_columns(model: type, columns: list[str]) -> None:
    pytest.importorskip("pandas")
    assert list(to_dataframe([], model=model).columns) == columns


def test_kinds_do_not_mix() -> None:
    bar = KLine(security=HK, k_type=1, au_type=0, time="t", is_blank=True)
    with pytest.raises(InvalidArgumentError, match="Ticker entries"):
        to_rows([a_ticker(), bar])
    with pytest.raises(InvalidArgumentError, match="BrokerQueue"):
        to_rows(a_ticker())  # type: ignore[arg-type]


def test_frames_have_the_sdks_dtypes() -> None:
    pytest.importorskip("pandas")
    frame = to_dataframe([a_ticker(), a_ticker(sequence=7002)])
    assert list(frame.columns) == SDK_TICKER_COLUMNS
    assert str(frame["sequence"].dtype) == "int64"
    assert str(frame["price"].dtype) == "float64"
