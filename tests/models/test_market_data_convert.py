"""Protobuf → models for tickers, time-share points, K-lines and broker queues."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncquote._base.errors import OpenDError, ProtocolError
from asyncquote._models import market_data as _models
from asyncquote._models import market_data_convert as _convert
from asyncquote._models.market_data import Broker, BrokerQueue, KLine, Ticker, TimeSharePoint
from asyncquote._models.market_data_convert import (
    broker_queue_from_response,
    klines_from_response,
    market_data_push_from_body,
    tickers_from_response,
    time_share_from_response,
)
from asyncquote._models.watchlist import Market, Security
from asyncquote._opend.codec import parse_response
from asyncquote._opend.quotes import AuType, KLType, PushDataType, TickerDirect, TickerType
from asyncquote._pb import (
    Qot_GetBroker_pb2,
    Qot_GetKL_pb2,
    Qot_GetRT_pb2,
    Qot_GetTicker_pb2,
    Qot_UpdateBroker_pb2,
    Qot_UpdateKL_pb2,
    Qot_UpdateRT_pb2,
    Qot_UpdateTicker_pb2,
)

from .._support.models import assert_like_validated
from .._support.pb_strategies import pb_messages

HK_00700 = Security(market=Market.HK, code="00700")


def ticker(pb: Any, sequence: int, price: float = 320.2, direction: int = 1) -> Any:
    pb.time, pb.sequence, pb.dir = "2024-05-17 10:00:01", sequence, direction
    pb.price, pb.volume, pb.turnover = price, 200, price * 200
    return pb


def ticker_reply(kind: type[Message] = Qot_GetTicker_pb2.Response) -> Any:
    response: Any = kind(retType=0)
    response.s2c.security.market, response.s2c.security.code = 1, "00700"
    ticker(response.s2c.tickerList.add(), 7001)
    ticker(response.s2c.tickerList.add(), 7002, 320.4, 2)
    return response


def kline(pb: Any, time: str = "2024-05-17 10:01:00") -> Any:
    pb.time, pb.isBlank = time, False
    pb.openPrice, pb.highPrice, pb.lowPrice, pb.closePrice = 320.0, 321.0, 319.8, 320.6
    pb.volume, pb.turnover = 12_000, 3.85e6
    return pb


# --- the tables ---------------------------------------------------------------

DECODERS = [value for value in vars(_convert).values() if hasattr(value, "fields")]


def test_every_model_has_one_decoder_table() -> None:
    models = sorted(decode.model.__name__ for decode in DECODERS)
    assert models == sorted(_models.__all__)


@pytest.mark.parametrize("decode", DECODERS, ids=lambda d: d.model.__name__)
def test_each_table_names_its_models_fields_in_declaration_order(decode: Any) -> None:
    context = list(getattr(decode, "context", ()))
    assert context + [field.name for field in decode.fields] == list(decode.model.model_fields)
    pb_names = [field.pb_name for field in decode.fields]
    assert len(pb_names) == len(set(pb_names))


# --- conversions ----------------------------------------------------------------


def test_tickers_carry_their_security_name_and_enums() -> None:
    response = ticker_reply()
    response.s2c.name = "騰訊控股"
    extra = response.s2c.tickerList[1]
    extra.type, extra.pushDataType, extra.hpVolume, extra.recvTime = 1, 2, 200.5, 1.5
    first, second = tickers_from_response(response)
    assert (first.security, first.code, first.name) == (HK_00700, "HK.00700", "騰訊控股")
    assert (first.sequence, first.direction, first.price, first.volume) == (
        7001,
        TickerDirect.BUY,
        320.2,
        200,
    )
    assert (first.type, first.push_data_type, first.hp_volume) == (None, None, None)
    assert second.direction is TickerDirect.SELL
    assert second.type is TickerType.AUTO_MATCH
    assert second.push_data_type is PushDataType.BYDISCONN
    assert (second.hp_volume, second.recv_time) == (200.5, 1.5)
    assert_like_validated(second)


def test_unknown_enum_values_stay_ints_and_bad_text_is_replaced() -> None:
    response = ticker_reply(Qot_UpdateTicker_pb2.Response)
    pb = response.s2c.tickerList[0]
    pb.dir, pb.type, pb.pushDataType = 9, 99, 7
    response.s2c.name = "ok"
    body = response.SerializeToString().replace(b"ok", b"\xff\xfe")
    (first, _) = market_data_push_from_body(3011, body)
    assert isinstance(first, Ticker)
    assert (first.direction, first.type, first.push_data_type) == (9, 99, 7)
    assert type(first.direction) is int
    assert first.name == "\ufffd\ufffd"
    assert_like_validated(first)


def test_time_share_points_keep_absent_numbers_absent() -> None:
    response = Qot_UpdateRT_pb2.Response(retType=0)
    response.s2c.security.market, response.s2c.security.code = 11, "AAPL"
    blank = response.s2c.rtList.add(time="2024-05-17 09:30:00", minute=570, isBlank=True)
    full = response.s2c.rtList.add(time="2024-05-17 09:31:00", minute=571, isBlank=False)
    full.price, full.avgPrice, full.volume, full.lastClosePrice = 190.1, 190.0, 3000, 189.0
    assert blank.isBlank
    first, second = time_share_from_response(response)
    assert isinstance(first, TimeSharePoint)
    assert (first.code, first.minute, first.is_blank, first.price) == ("US.AAPL", 570, True, None)
    assert (second.price, second.avg_price, second.volume) == (190.1, 190.0, 3000)
    assert second.turnover is None
    assert_like_validated(second)


def test_a_kline_push_names_its_period_and_adjustment() -> None:
    response = Qot_UpdateKL_pb2.Response(retType=0)
    s2c = response.s2c
    s2c.security.market, s2c.security.code = 1, "00700"
    s2c.klType, s2c.rehabType = KLType.K_1M, AuType.QFQ
    kline(s2c.klList.add())
    (bar,) = market_data_push_from_body(3007, response.SerializeToString())
    assert isinstance(bar, KLine)
    assert (bar.k_type, bar.au_type) == (KLType.K_1M, AuType.QFQ)
    assert (bar.open_price, bar.high_price, bar.low_price, bar.close_price) == (
        320.0,
        321.0,
        319.8,
        320.6,
    )
    assert (bar.volume, bar.pe, bar.change_rate) == (12_000, None, None)
    assert_like_validated(bar)


def test_a_kline_reply_takes_the_period_and_adjustment_asked_for() -> None:
    response = Qot_GetKL_pb2.Response(retType=0)
    response.s2c.security.market, response.s2c.security.code = 1, "00700"
    kline(response.s2c.klList.add(), "2024-05-16 00:00:00")
    kline(response.s2c.klList.add(), "2024-05-17 00:00:00")
    bars = klines_from_response(response, KLType.K_DAY, AuType.HFQ)
    assert [(b.time[:10], b.k_type, b.au_type) for b in bars] == [
        ("2024-05-16", KLType.K_DAY, AuType.HFQ),
        ("2024-05-17", KLType.K_DAY, AuType.HFQ),
    ]
    assert klines_from_response(response, 77, 5)[0].k_type == 77
    with pytest.raises(TypeError, match="k_type"):
        klines_from_response(response)


def test_a_broker_queue_has_both_sides_in_opends_order() -> None:
    response = Qot_GetBroker_pb2.Response(retType=0)
    s2c = response.s2c
    s2c.security.market, s2c.security.code = 1, "00700"
    s2c.brokerBidList.add(id=8000, name="A", pos=1)
    s2c.brokerBidList.add(id=8001, name="B", pos=1, orderID=55, volume=400)
    s2c.brokerAskList.add(id=9000, name="C", pos=2)
    queue = broker_queue_from_response(response)
    assert queue.code == "HK.00700"
    assert queue.name is None
    assert queue.bids == (
        Broker(id=8000, name="A", position=1),
        Broker(id=8001, name="B", position=1, order_id=55, volume=400),
    )
    assert queue.asks == (Broker(id=9000, name="C", position=2),)
    assert_like_validated(queue)


@pytest.mark.parametrize(
    ("decode", "response_type"),
    [
        (tickers_from_response, Qot_GetTicker_pb2.Response),
        (time_share_from_response, Qot_GetRT_pb2.Response),
        (klines_from_response, Qot_UpdateKL_pb2.Response),
        (broker_queue_from_response, Qot_UpdateBroker_pb2.Response),
    ],
)
def test_a_reply_without_s2c_is_a_protocol_error(decode: Any, response_type: Any) -> None:
    with pytest.raises(ProtocolError, match="without s2c"):
        decode(response_type(retType=0))


def test_only_these_pushes_decode_here() -> None:
    with pytest.raises(ProtocolError, match="3005"):
        market_data_push_from_body(3005, b"")
    body = Qot_UpdateTicker_pb2.Response(retType=-1, retMsg="no").SerializeToString()
    with pytest.raises(OpenDError, match="no"):
        market_data_push_from_body(3011, body)
    empty = Qot_UpdateBroker_pb2.Response(retType=0)
    empty.s2c.security.market, empty.s2c.security.code = 1, "00700"
    (queue,) = market_data_push_from_body(3015, empty.SerializeToString())
    assert queue == BrokerQueue(security=HK_00700, bids=(), asks=())


# --- any bytes, any valid message ---------------------------------------------------


@settings(max_examples=300)
@given(proto_id=st.sampled_from([3007, 3009, 3011, 3015]), body=st.binary(max_size=200))
def test_any_push_bytes_decode_or_raise_only_documented_errors(proto_id: int, body: bytes) -> None:
    try:
        updates = market_data_push_from_body(proto_id, body)
    except (ProtocolError, OpenDError):
        return
    for update in updates:
        assert isinstance(update, Ticker | TimeSharePoint | KLine | BrokerQueue)


def _kline_reply(response: Any) -> list[KLine]:
    return klines_from_response(response, KLType.K_1M, AuType.NONE)


REPLY_DECODERS: list[tuple[type[Message], Any]] = [
    (Qot_GetTicker_pb2.Response, tickers_from_response),
    (Qot_GetRT_pb2.Response, time_share_from_response),
    (Qot_GetKL_pb2.Response, _kline_reply),
    (Qot_GetBroker_pb2.Response, broker_queue_from_response),
    (Qot_UpdateTicker_pb2.Response, tickers_from_response),
    (Qot_UpdateRT_pb2.Response, time_share_from_response),
    (Qot_UpdateKL_pb2.Response, klines_from_response),
    (Qot_UpdateBroker_pb2.Response, broker_queue_from_response),
]


@settings(max_examples=300)
@given(which=st.integers(0, 3), body=st.binary(max_size=300))
def test_any_reply_bytes_decode_or_raise_only_documented_errors(which: int, body: bytes) -> None:
    response_type, decode = REPLY_DECODERS[which]
    with contextlib.suppress(ProtocolError, OpenDError):
        decode(parse_response(response_type, body, proto_id=0))


@settings(max_examples=200)
@given(data=st.data(), which=st.integers(0, len(REPLY_DECODERS) - 1))
def test_any_valid_message_converts_like_validation_would(data: st.DataObject, which: int) -> None:
    response_type, decode = REPLY_DECODERS[which]
    response = data.draw(pb_messages(response_type))
    response.retType = 0
    response.s2c.SetInParent()
    result = decode(response)
    items = result if isinstance(result, list) else [result]
    for model in items:
        assert_like_validated(model)
        assert model.security.code == response.s2c.security.code
    lists = [f for f in ("tickerList", "rtList", "klList") if hasattr(response.s2c, f)]
    for name in lists:
        assert len(items) == len(getattr(response.s2c, name))
