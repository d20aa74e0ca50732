"""Protobuf → models for live quotes: basic quotes, order books, snapshots, subscriptions."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncquote._base.errors import OpenDError, ProtocolError
from asyncquote._models import quote_convert as _quote_convert
from asyncquote._models import quotes as _quote_models
from asyncquote._models import snapshot_convert as _snapshot_convert
from asyncquote._models import snapshots as _snapshot_models
from asyncquote._models.quote_convert import (
    basic_quote_from_pb,
    basic_quotes_from_response,
    order_book_from_response,
    quote_push_from_body,
    quote_push_messages,
    subscription_info_from_response,
    update_from_pb,
)
from asyncquote._models.quotes import BasicQuote, OrderBook, OrderBookLevel, PreAfterMarketData
from asyncquote._models.snapshot_convert import snapshot_from_pb, snapshots_from_response
from asyncquote._models.watchlist import Market, OptionType, Security, SecurityType, WarrantType
from asyncquote._opend.codec import parse_response
from asyncquote._opend.quotes import (
    DarkStatus,
    IndexOptionType,
    OptionAreaType,
    OrderBookType,
    SecurityStatus,
    SubType,
)
from asyncquote._pb import (
    Qot_GetBasicQot_pb2,
    Qot_GetOrderBook_pb2,
    Qot_GetSecuritySnapshot_pb2,
    Qot_GetSubInfo_pb2,
    Qot_UpdateBasicQot_pb2,
    Qot_UpdateOrderBook_pb2,
)

from .._support.models import assert_like_validated
from .._support.pb_strategies import pb_messages

HK_00700 = Security(market=Market.HK, code="00700")


def set_security(pb: Any, market: int = 1, code: str = "00700") -> None:
    pb.market = market
    pb.code = code


def basic_qot(pb: Any, *, cur_price: float = 320.2, code: str = "00700") -> Any:
    """Fill a ``BasicQot`` with every required field."""
    set_security(pb.security, code=code)
    pb.isSuspended = False
    pb.listTime = "2004-06-16"
    pb.priceSpread = 0.2
    pb.updateTime = "2024-05-17 15:59:58"
    pb.highPrice, pb.openPrice, pb.lowPrice = 321.0, 318.4, 317.8
    pb.curPrice, pb.lastClosePrice = cur_price, 319.0
    pb.volume, pb.turnover = 15_392_000, 4.9e9
    pb.turnoverRate, pb.amplitude = 0.16, 1.0
    return pb


def quote_reply(*prices: float) -> Qot_GetBasicQot_pb2.Response:
    response = Qot_GetBasicQot_pb2.Response(retType=0)
    for price in prices:
        basic_qot(response.s2c.basicQotList.add(), cur_price=price)
    return response


def level(pb: Any, price: float, volume: int, count: int) -> None:
    pb.price, pb.volume, pb.orederCount = price, volume, count


def book_push() -> Qot_UpdateOrderBook_pb2.Response:
    response = Qot_UpdateOrderBook_pb2.Response(retType=0)
    s2c = response.s2c
    set_security(s2c.security)
    level(s2c.orderBookBidList.add(), 320.0, 1000, 3)
    level(s2c.orderBookBidList.add(), 319.8, 2000, 5)
    level(s2c.orderBookAskList.add(), 320.2, 500, 1)
    return response


# --- the tables ---------------------------------------------------------------

DECODERS = list(
    {
        id(value): value
        for module in (_quote_convert, _snapshot_convert)
        for value in vars(module).values()
        if hasattr(value, "fields")
    }.values()
)


def test_every_model_has_one_decoder_table() -> None:
    models = [decode.model for decode in DECODERS]
    expected = [getattr(_quote_models, name) for name in _quote_models.__all__]
    expected += [getattr(_snapshot_models, name) for name in _snapshot_models.__all__]
    assert sorted(m.__name__ for m in models) == sorted(m.__name__ for m in expected)


@pytest.mark.parametrize("decode", DECODERS, ids=lambda d: d.model.__name__)
def test_each_table_names_its_models_fields_in_declaration_order(decode: Any) -> None:
    assert [field.name for field in decode.fields] == list(decode.model.model_fields)
    pb_names = [field.pb_name for field in decode.fields]
    assert len(pb_names) == len(set(pb_names))


def test_a_basic_quote_converts_with_every_part() -> None:
    response = quote_reply(320.2)
    pb = response.s2c.basicQotList[0]
    pb.name = "騰訊控股"
    pb.darkStatus = 1
    pb.secStatus = 1
    pb.updateTimestamp = 1_715_932_798.0
    pb.hpVolume = 15_392_000.5
    pb.preMarket.price = 321.0
    pb.afterMarket.volume = 12
    ex = pb.futureExData
    ex.lastSettlePrice, ex.position, ex.positionChange = 17_000.0, 120_000, -300
    (quote,) = basic_quotes_from_response(response)
    assert quote.security == HK_00700
    assert quote.code == "HK.00700"
    assert (quote.name, quote.cur_price, quote.volume) == ("騰訊控股", 320.2, 15_392_000)
    assert (quote.dark_status, quote.sec_status) == (DarkStatus.TRADING, SecurityStatus.NORMAL)
    assert quote.update_time == "2024-05-17 15:59:58"
    assert quote.update_timestamp == 1_715_932_798.0
    assert quote.hp_volume == 15_392_000.5
    assert quote.pre_market == PreAfterMarketData(price=321.0)
    assert quote.after_market == PreAfterMarketData(volume=12)
    assert quote.overnight is None
    assert quote.future_ex_data is not None
    assert quote.future_ex_data.position_change == -300
    assert quote.future_ex_data.expiry_date_distance is None
    assert quote.option_ex_data is None
    assert quote.warrant_ex_data is None
    assert_like_validated(quote)


def test_absent_optional_fields_are_none_and_zero_values_are_present() -> None:
    pb = basic_qot(Qot_GetBasicQot_pb2.Response().s2c.basicQotList.add())
    quote = basic_quote_from_pb(pb)
    assert quote.name is None
    assert quote.dark_status is None
    assert quote.update_timestamp is None
    pb.darkStatus = 0
    pb.updateTimestamp = 0.0
    quote = basic_quote_from_pb(pb)
    assert quote.dark_status is DarkStatus.NONE
    assert quote.update_timestamp == 0.0


def test_an_option_quote_keeps_its_greeks_and_unknown_enum_values_as_ints() -> None:
    pb = basic_qot(Qot_GetBasicQot_pb2.Response().s2c.basicQotList.add())
    pb.security.market = 999
    pb.secStatus = 77
    ex = pb.optionExData
    ex.strikePrice, ex.contractSize, ex.openInterest = 400.0, 100, 12
    ex.impliedVolatility, ex.premium = 30.5, 2.0
    ex.delta, ex.gamma, ex.vega, ex.theta, ex.rho = 0.5, 0.01, 0.2, -0.1, 0.05
    ex.optionAreaType = 2
    ex.indexOptionType = 9
    quote = basic_quote_from_pb(pb)
    assert quote.security.market == 999
    assert type(quote.security.market) is int
    assert quote.code == "N/A.00700"
    assert quote.sec_status == 77
    option = quote.option_ex_data
    assert option is not None
    assert option.option_area_type is OptionAreaType.EUROPEAN
    assert option.index_option_type == 9
    assert type(option.index_option_type) is int
    assert option.contract_size_float is None
    assert_like_validated(quote)


def _with_bad_utf8(message: Message, placeholder: str) -> bytes:
    """``message`` serialised with ``placeholder`` replaced by bytes that are not UTF-8."""
    raw = message.SerializeToString()
    bad = b"\xff\xfe"[: len(placeholder.encode())] + b"\xff" * (len(placeholder) - 2)
    assert raw.count(placeholder.encode()) == 1
    return raw.replace(placeholder.encode(), bad)


def test_text_that_is_not_utf8_gets_replacement_characters() -> None:
    response = quote_reply(1.0)
    response.s2c.basicQotList[0].name = "@@"
    body = _with_bad_utf8(response, "@@")
    (quote,) = quote_push_from_body(3005, body)
    assert isinstance(quote, BasicQuote)
    assert quote.name == "\ufffd\ufffd"
    book = book_push()
    book.s2c.svrRecvTimeBid = "##"
    (pushed,) = quote_push_from_body(3013, _with_bad_utf8(book, "##"))
    assert isinstance(pushed, OrderBook)
    assert pushed.svr_recv_time_bid == "\ufffd\ufffd"


def test_an_order_book_converts_both_sides_in_book_order() -> None:
    response = book_push()
    response.s2c.orderBookType = 1
    detail = response.s2c.orderBookAskList[0].detailList.add()
    detail.orderID, detail.volume = 77, 500
    book = order_book_from_response(response)
    assert book.security == HK_00700
    assert book.code == "HK.00700"
    assert [(lv.price, lv.volume, lv.order_count) for lv in book.bids] == [
        (320.0, 1000, 3),
        (319.8, 2000, 5),
    ]
    assert book.asks[0].details[0].order_id == 77
    assert book.bids[0].details == ()
    assert book.order_book_type is OrderBookType.ODD
    assert book.name is None
    assert book.svr_recv_time_bid is None
    assert_like_validated(book)


def test_a_3012_reply_converts_like_the_3013_push_of_the_same_book() -> None:
    push = book_push()
    reply = Qot_GetOrderBook_pb2.Response.FromString(push.SerializeToString())
    assert order_book_from_response(reply) == order_book_from_response(push)


def test_an_order_book_reply_without_s2c_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="without s2c"):
        order_book_from_response(Qot_GetOrderBook_pb2.Response(retType=0))
    with pytest.raises(ProtocolError, match="without s2c"):
        quote_push_from_body(3013, Qot_UpdateOrderBook_pb2.Response(retType=0).SerializeToString())
    with pytest.raises(ProtocolError, match="without s2c"):
        subscription_info_from_response(Qot_GetSubInfo_pb2.Response(retType=0))


def test_a_quote_reply_without_s2c_has_no_quotes() -> None:
    assert basic_quotes_from_response(Qot_GetBasicQot_pb2.Response(retType=0)) == []


def test_subscription_info_converts_per_connection() -> None:
    response = Qot_GetSubInfo_pb2.Response(retType=0)
    s2c = response.s2c
    s2c.totalUsedQuota, s2c.remainQuota = 3, 97
    other = s2c.connSubInfoList.add(usedQuota=1, isOwnConnData=False)
    sub = other.subInfoList.add(subType=14)
    set_security(sub.securityList.add(), code="00005")
    own = s2c.connSubInfoList.add(usedQuota=2, isOwnConnData=True, securityFirm=1)
    sub = own.subInfoList.add(subType=1)
    set_security(sub.securityList.add())
    set_security(sub.securityList.add(), market=11, code="AAPL")
    own.subInfoList.add(subType=99)
    info = subscription_info_from_response(response)
    assert (info.total_used_quota, info.remain_quota) == (3, 97)
    assert info.option_used_quota is None
    assert info.own is info.connections[1]
    assert info.own.security_firm == 1
    quote, unknown = info.own.subscriptions
    assert quote.sub_type is SubType.QUOTE
    assert [str(s) for s in quote.securities] == ["HK.00700", "US.AAPL"]
    assert unknown.sub_type == 99
    assert info.connections[0].subscriptions[0].sub_type is SubType.BROKER
    assert_like_validated(info)


def test_a_snapshot_converts_its_basics_and_the_extras_of_its_kind() -> None:
    response = Qot_GetSecuritySnapshot_pb2.Response(retType=0)
    snap = response.s2c.snapshotList.add()
    b = snap.basic
    set_security(b.security, code="12345")
    b.type, b.isSuspend, b.listTime, b.lotSize = 5, False, "2024-01-02", 10_000
    b.priceSpread, b.updateTime = 0.001, "2024-05-17 16:08:00"
    b.highPrice = b.openPrice = b.lowPrice = b.lastClosePrice = b.curPrice = 0.15
    b.volume, b.turnover, b.turnoverRate = 0, 0.0, 0.0
    b.highest52WeeksPrice = 0.3
    w = snap.warrantExData
    w.conversionRate, w.warrantType, w.strikePrice = 10.0, 3, 300.0
    w.maturityTime, w.endTradeTime = "2025-01-02", "2024-12-30"
    set_security(w.owner)
    w.recoveryPrice, w.streetVolumn, w.issueVolumn, w.streetRate = 310.0, 5, 100, 5.0
    w.delta, w.impliedVolatility, w.premium = 0.0, 0.0, 3.2
    w.inLinePriceStatus = 2
    (converted,) = snapshots_from_response(response)
    assert converted.security == Security(market=Market.HK, code="12345")
    assert converted.basic.sec_type is SecurityType.WARRANT
    assert converted.basic.highest_52_weeks_price == 0.3
    assert converted.basic.ask_price is None
    warrant = converted.warrant_ex_data
    assert warrant is not None
    assert warrant.warrant_type is WarrantType.BULL
    assert (warrant.street_volume, warrant.issue_volume) == (5, 100)
    assert warrant.owner == HK_00700
    assert warrant.in_line_price_status == 2
    assert converted.option_ex_data is None
    assert converted.equity_ex_data is None
    assert_like_validated(converted)


def test_a_nan_price_converts() -> None:
    pb = basic_qot(Qot_GetBasicQot_pb2.Response().s2c.basicQotList.add(), cur_price=math.nan)
    assert math.isnan(basic_quote_from_pb(pb).cur_price)


# --- pushes from bytes -------------------------------------------------------------


def test_a_basic_quote_push_carries_every_quote_in_order() -> None:
    push = Qot_UpdateBasicQot_pb2.Response.FromString(quote_reply(1.0, 2.0).SerializeToString())
    updates = quote_push_from_body(3005, push.SerializeToString())
    assert [update.cur_price for update in updates] == [1.0, 2.0]  # type: ignore[union-attr]


def test_an_order_book_push_carries_one_book() -> None:
    (book,) = quote_push_from_body(3013, book_push().SerializeToString())
    assert isinstance(book, OrderBook)
    assert book.asks == (OrderBookLevel(price=320.2, volume=500, order_count=1),)


@pytest.mark.parametrize("proto_id", [3004, 3012, 1003, 0])
def test_only_quote_pushes_decode_as_pushes(proto_id: int) -> None:
    with pytest.raises(ProtocolError, match="not a quote push"):
        quote_push_from_body(proto_id, b"")


def test_a_push_missing_a_required_field_is_a_protocol_error_naming_it() -> None:
    response = quote_reply(1.0)
    response.s2c.basicQotList[0].ClearField("curPrice")
    body = response.SerializePartialToString()
    with pytest.raises(ProtocolError, match="curPrice"):
        quote_push_from_body(3005, body)


def test_the_receive_paths_half_parses_once_and_leaves_required_fields_to_the_decode() -> None:
    response = quote_reply(1.0, 2.0)
    response.s2c.basicQotList[0].ClearField("curPrice")
    messages = quote_push_messages(3005, response.SerializePartialToString())
    assert [message.security.code for message in messages] == ["00700", "00700"]
    with pytest.raises(
        ProtocolError, match=r"Qot_Common.BasicQot .*lacks required fields: curPrice"
    ):
        update_from_pb(messages[0])
    second = update_from_pb(messages[1])
    assert isinstance(second, BasicQuote)
    assert second.cur_price == 2.0
    (book,) = quote_push_messages(3013, book_push().SerializeToString())
    assert update_from_pb(book) == quote_push_from_body(3013, book_push().SerializeToString())[0]
    with pytest.raises(ProtocolError, match="without s2c"):
        quote_push_messages(3013, Qot_UpdateOrderBook_pb2.Response(retType=0).SerializeToString())


def test_only_the_updates_of_a_quote_push_decode_as_updates() -> None:
    with pytest.raises(KeyError):
        update_from_pb(Qot_UpdateBasicQot_pb2.Response(retType=0))


def test_a_failed_push_is_an_opend_error() -> None:
    body = Qot_UpdateBasicQot_pb2.Response(retType=-1, retMsg="no").SerializeToString()
    with pytest.raises(OpenDError, match="no"):
        quote_push_from_body(3005, body)


@settings(max_examples=300)
@given(proto_id=st.sampled_from([3005, 3013]), body=st.binary(max_size=200))
def test_any_push_bytes_decode_or_raise_only_documented_errors(proto_id: int, body: bytes) -> None:
    try:
        updates = quote_push_from_body(proto_id, body)
    except (ProtocolError, OpenDError):
        return
    for update in updates:
        assert isinstance(update, BasicQuote | OrderBook)


REPLY_DECODERS: list[tuple[type[Message], Any]] = [
    (Qot_GetBasicQot_pb2.Response, basic_quotes_from_response),
    (Qot_GetOrderBook_pb2.Response, order_book_from_response),
    (Qot_GetSecuritySnapshot_pb2.Response, snapshots_from_response),
    (Qot_GetSubInfo_pb2.Response, subscription_info_from_response),
]


@settings(max_examples=300)
@given(which=st.integers(0, len(REPLY_DECODERS) - 1), body=st.binary(max_size=300))
def test_any_reply_bytes_decode_or_raise_only_documented_errors(which: int, body: bytes) -> None:
    response_type, decode = REPLY_DECODERS[which]
    with contextlib.suppress(ProtocolError, OpenDError):
        decode(parse_response(response_type, body, proto_id=0))


@settings(max_examples=150)
@given(data=st.data(), which=st.integers(0, len(REPLY_DECODERS) - 1))
def test_any_valid_reply_converts_like_validation_would(data: st.DataObject, which: int) -> None:
    response_type, decode = REPLY_DECODERS[which]
    response = data.draw(pb_messages(response_type))
    response.retType = 0
    response.s2c.SetInParent()
    result = decode(response)
    for model in result if isinstance(result, list) else [result]:
        assert_like_validated(model)


@settings(max_examples=150)
@given(pb=pb_messages(Qot_GetSecuritySnapshot_pb2.Snapshot))
def test_any_valid_snapshot_keeps_its_identity_and_prices(
    pb: Qot_GetSecuritySnapshot_pb2.Snapshot,
) -> None:
    snapshot = snapshot_from_pb(pb)
    assert snapshot.security.code == pb.basic.security.code
    assert snapshot.basic.cur_price == pb.basic.curPrice
    assert (snapshot.option_ex_data is None) == (not pb.HasField("optionExData"))
    if snapshot.option_ex_data is not None:
        kind = snapshot.option_ex_data.type
        assert kind == pb.optionExData.type
        assert isinstance(kind, OptionType) == (kind in {0, 1, 2})
    index_type = None if snapshot.option_ex_data is None else snapshot.option_ex_data
    if index_type is not None and index_type.index_option_type is not None:
        value = index_type.index_option_type
        assert isinstance(value, IndexOptionType) == (value in {0, 1, 2})
