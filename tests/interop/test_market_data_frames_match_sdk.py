"""``to_dataframe`` of tickers, time-share, K-lines and broker queues against the SDK's own.

The same reply bytes go to the official SDK, whose ``get_rt_ticker``,
``get_rt_data``, ``get_cur_kline`` and ``get_broker_queue`` parse them with
its own code and column lists (``sdk_quote_frames.py``, in a process of its
own), and to asyncquote's decoders and tables here. The frames must agree
in columns, dtypes and every cell, down to the cell's Python type; a broker
queue in the SDK's two frames (``sdk_broker_queue``). Hand-made replies
cover the placeholders; Hypothesis adds batches of arbitrary valid replies.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from asyncquote._models.dataframes import to_dataframe
from asyncquote._models.market_data import KLine, Ticker, TimeSharePoint
from asyncquote._models.market_data_convert import (
    broker_queue_from_response,
    klines_from_response,
    tickers_from_response,
    time_share_from_response,
)
from asyncquote._models.market_data_frames import sdk_broker_queue
from asyncquote._opend.codec import parse_response
from asyncquote._opend.quotes import AuType, KLType
from asyncquote._pb import Qot_GetBroker_pb2, Qot_GetKL_pb2, Qot_GetRT_pb2, Qot_GetTicker_pb2

from .._support.frames import cell_mismatches
from .._support.pb_strategies import pb_messages
from .sdk_process import NEEDS_SDK, run_sdk_script

pytestmark = NEEDS_SDK
pd = pytest.importorskip("pandas")

SDK_SCRIPT = Path(__file__).with_name("sdk_quote_frames.py")
RESPONSES: dict[str, Any] = {
    "ticker": Qot_GetTicker_pb2.Response,
    "rt": Qot_GetRT_pb2.Response,
    "kline": Qot_GetKL_pb2.Response,
    "broker": Qot_GetBroker_pb2.Response,
}
# The SDK's get_rt_data shows the code it was asked for, not the reply's: always this one.
HK = {"market": 1, "code": "00700"}

TICKER = {"time": "2024-05-17 10:00:01", "sequence": "7001", "dir": 1, "price": 320.2}
TICKER |= {"volume": "200", "turnover": 64040.0}
POINT = {"time": "2024-05-17 09:31:00", "minute": 571, "isBlank": False}
BAR = {"time": "2024-05-17 10:01:00", "isBlank": False}
FULL_BAR = BAR | {"openPrice": 1.0, "highPrice": 4.0, "lowPrice": 0.5, "closePrice": 2.0}
FULL_BAR |= {"volume": "10", "turnover": 20.0, "pe": 11.5, "turnoverRate": 0.2}
FULL_BAR |= {"lastClosePrice": 1.5, "changeRate": 3.0}
BROKER = {"id": "8000", "name": "經紀", "pos": 1}


def reply(kind: str, **s2c: Any) -> tuple[str, bytes]:
    message = json_format.ParseDict(
        {"retType": 0, "s2c": {"security": HK, **s2c}}, RESPONSES[kind]()
    )
    return kind, message.SerializeToString()


def hand_made() -> list[tuple[str, bytes]]:
    return [
        reply("ticker", tickerList=[TICKER]),
        reply(
            "ticker",
            name="騰訊控股",
            tickerList=[
                TICKER | {"dir": 0, "type": 0},
                TICKER | {"dir": 2, "type": 6, "hpVolume": 200.5},
                TICKER | {"dir": 3, "type": 99, "pushDataType": 2, "recvTime": 1.5},
                TICKER | {"dir": 9, "typeSign": 5, "timestamp": 1.7e9},
            ],
        ),
        reply("ticker", tickerList=[]),
        reply("rt", rtList=[POINT | {"isBlank": True}]),
        reply(
            "rt",
            name="T",
            rtList=[
                POINT | {"price": 320.0, "avgPrice": 319.9, "volume": "3000", "turnover": 9.6e5},
                POINT | {"lastClosePrice": 318.0, "hpVolume": 3000.5},
            ],
        ),
        reply("kline", klList=[FULL_BAR, BAR | {"isBlank": True}]),
        reply("kline", name="T", klList=[FULL_BAR | {"hpVolume": 10.5}]),
        reply("kline", klList=[]),
        reply("broker", brokerBidList=[BROKER], brokerAskList=[]),
        reply(
            "broker",
            name="T",
            brokerBidList=[BROKER, BROKER | {"orderID": "77", "volume": "400"}],
            brokerAskList=[BROKER | {"id": "9000", "pos": 2, "volume": "100"}],
        ),
    ]


def run_sdk(replies: list[tuple[str, bytes]], home: Path) -> list[Any]:
    (home / "in.pkl").write_bytes(pickle.dumps(replies))
    run_sdk_script(SDK_SCRIPT, [str(home / "in.pkl"), str(home / "out.pkl")], home)
    results: list[Any] = pickle.loads((home / "out.pkl").read_bytes())
    assert [result[0] for result in results] == [0] * len(replies), results
    return [result[1:] for result in results]


def ours(kind: str, body: bytes) -> list[Any]:
    response: Any = parse_response(RESPONSES[kind], body, proto_id=0)
    if kind == "ticker":
        return [to_dataframe(tickers_from_response(response), model=Ticker)]
    if kind == "rt":
        return [to_dataframe(time_share_from_response(response), model=TimeSharePoint)]
    if kind == "kline":
        bars = klines_from_response(response, KLType.K_1M, AuType.QFQ)
        return [to_dataframe(bars, model=KLine)]
    bids, asks = sdk_broker_queue(broker_queue_from_response(response))
    prefixes = ("bid", "ask")
    return [
        pd.DataFrame(rows, columns=_broker_columns(prefix))
        for prefix, rows in zip(prefixes, (bids, asks), strict=True)
    ]


def _broker_columns(prefix: str) -> list[str]:
    cells = [f"{prefix}_broker_id", f"{prefix}_broker_name", f"{prefix}_broker_pos"]
    return ["code", "name", *cells, "order_id", "order_volume"]


def assert_matches(kind: str, body: bytes, sdk: list[Any]) -> None:
    for mine, theirs in zip(ours(kind, body), sdk, strict=True):
        assert list(mine.columns) == list(theirs.columns)
        assert dict(mine.dtypes) == dict(theirs.dtypes)
        mismatches = cell_mismatches(mine, theirs)
        assert mismatches == [], kind
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


@pytest.fixture(scope="module")
def sdk_hand_made(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return run_sdk(hand_made(), tmp_path_factory.mktemp("sdk_market_data_frames"))


@pytest.mark.parametrize("number", range(len(hand_made())))
def test_hand_made_replies_give_the_sdks_tables(sdk_hand_made: list[Any], number: int) -> None:
    kind, body = hand_made()[number]
    assert_matches(kind, body, sdk_hand_made[number])


def test_the_hand_made_replies_are_not_empty_tables(sdk_hand_made: list[Any]) -> None:
    # A guard on the oracle: most hand-made frames have rows, and every kind is there.
    kinds = [kind for kind, _ in hand_made()]
    assert set(kinds) == set(RESPONSES)
    assert sum(len(frames[0]) for frames in sdk_hand_made) >= 10
    directions = set(sdk_hand_made[1][0]["ticker_direction"])
    assert directions == {"N/A", "SELL", "NEUTRAL"}


@st.composite
def replies(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(RESPONSES)))
    response = RESPONSES[kind](retType=0)
    response.s2c.CopyFrom(draw(pb_messages(type(response.s2c))))
    response.s2c.security.market, response.s2c.security.code = 1, "00700"
    return kind, bytes(response.SerializeToString())


# Each example runs the SDK in a process of its own: a few large batches, not shrunk.
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(replies(), min_size=20, max_size=20))
def test_arbitrary_replies_give_the_sdks_tables(
    batch: list[tuple[str, bytes]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("sdk_market_data_frames_any")
    for (kind, body), sdk in zip(batch, run_sdk(batch, home), strict=True):
        assert_matches(kind, body, sdk)
