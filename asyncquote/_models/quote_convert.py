"""Protobuf → models for live quotes: the one place that knows both shapes.

Basic quotes (3004 reply, 3005 push), order books (3012 reply, 3013 push)
and subscription info (3003 reply); snapshots (3203) are in
:mod:`asyncquote._models.snapshot_convert`, on the same machinery.

The converters take a ``Response`` already parsed and checked by
:func:`asyncquote._codec.parse_response` (proto2 ``required`` fields
present, ``retType`` 0). From there nothing in the message can make them
fail, except a reply that lacks the ``s2c`` it must carry
(:class:`ProtocolError`): an enum value this version does not know stays an
``int``, text that is not UTF-8 gets U+FFFD, an absent optional field is
``None``. :func:`quote_push_from_body` goes from the bytes of a push; the
receive path of live quotes takes it in two halves, :func:`quote_push_messages`
when the push arrives (one parse) and :func:`update_from_pb` when a reader
takes an update (the model).

Models are built on the trusted path of :mod:`asyncquote._convert` (no
pydantic validation: protobuf typed every field already), from a table per
model that names each field once: ``(model field, protobuf field,
conversion, optional)``. A table lists its model's fields in declaration
order; the tests check it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from google.protobuf.message import DecodeError
from pydantic import BaseModel

from .._base.errors import ProtocolError
from .._base.text import wire_text
from .._opend.codec import check_response, parse_message
from .._opend.quotes import (
    PUSH_SUB_TYPES,
    DarkStatus,
    IndexOptionType,
    OptionAreaType,
    OrderBookType,
    SecurityStatus,
    SubType,
)
from .._opend.vocabulary import RESPONSE_TYPES
from .._pb import Qot_Common_pb2, Qot_GetSubInfo_pb2, Qot_UpdateOrderBook_pb2
from .convert import _trusted, security_from_pb
from .quotes import (
    BasicQuote,
    ConnectionSubscriptions,
    FutureQuoteExData,
    OptionQuoteExData,
    OrderBook,
    OrderBookDetail,
    OrderBookLevel,
    PreAfterMarketData,
    SubscribedSecurities,
    SubscriptionInfo,
    WarrantQuoteExData,
)

__all__ = [
    "OPTION_FIELDS",
    "PUSH_UPDATE_DECODERS",
    "Field",
    "basic_quote_from_pb",
    "basic_quotes_from_response",
    "decoder",
    "enum_value",
    "many",
    "order_book_from_response",
    "pre_after_from_pb",
    "quote_push_from_body",
    "quote_push_messages",
    "read_fields",
    "subscription_info_from_response",
    "text",
    "update_from_pb",
]

_M = TypeVar("_M", bound=BaseModel)


class Field(NamedTuple):
    """How one model field is read from its protobuf message."""

    name: str
    """The model's field."""
    pb_name: str
    """The protobuf field."""
    convert: Callable[[Any], Any] | None = None
    """Applied to the protobuf value (``None``: taken as it is)."""
    optional: bool = False
    """A proto2 ``optional`` field: ``None`` when absent."""


def read_fields(table: Sequence[Field], pb: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Add ``pb``'s fields to ``values`` as ``table`` says, in its order; return ``values``."""
    has = pb.HasField
    for name, pb_name, convert, optional in table:
        if optional and not has(pb_name):
            values[name] = None
        elif convert is None:
            values[name] = getattr(pb, pb_name)
        else:
            values[name] = convert(getattr(pb, pb_name))
    return values


def decoder(cls: type[_M], fields: Sequence[Field]) -> Callable[[Any], _M]:
    """A converter from a protobuf message to ``cls``, field by field as ``fields`` say."""
    build = _trusted(cls)
    table = tuple(fields)

    def decode(pb: Any) -> _M:
        return build(read_fields(table, pb, {}))

    # For the tests, which check the table against the model.
    decode.model = cls  # type: ignore[attr-defined]
    decode.fields = table  # type: ignore[attr-defined]
    return decode


def text(value: Any) -> str:
    """A protobuf string as ``str`` (bytes that are not UTF-8 get U+FFFD)."""
    return value if value.__class__ is str else wire_text(value)


def many(decode: Callable[[Any], _M]) -> Callable[[Iterable[Any]], tuple[_M, ...]]:
    """A converter of a repeated message field: a tuple of ``decode``'s results, in order."""

    def convert(pbs: Iterable[Any]) -> tuple[_M, ...]:
        return tuple(map(decode, pbs))

    return convert


def enum_value(enum_cls: Any) -> Callable[[int], Any]:
    """Value → member of ``enum_cls``, or the ``int`` itself if this version does not know it."""
    members = enum_cls._value2member_map_.get

    def convert(value: int) -> Any:
        return members(value, value)

    return convert


pre_after_from_pb: Callable[[Qot_Common_pb2.PreAfterMarketData], PreAfterMarketData] = decoder(
    PreAfterMarketData,
    [
        Field("price", "price", optional=True),
        Field("high_price", "highPrice", optional=True),
        Field("low_price", "lowPrice", optional=True),
        Field("volume", "volume", optional=True),
        Field("turnover", "turnover", optional=True),
        Field("change_val", "changeVal", optional=True),
        Field("change_rate", "changeRate", optional=True),
        Field("amplitude", "amplitude", optional=True),
    ],
)

#: The option fields a basic quote and a snapshot share, under the same names.
OPTION_FIELDS = (
    Field("strike_price", "strikePrice"),
    Field("contract_size", "contractSize"),
    Field("contract_size_float", "contractSizeFloat", optional=True),
    Field("open_interest", "openInterest"),
    Field("implied_volatility", "impliedVolatility"),
    Field("premium", "premium"),
    Field("delta", "delta"),
    Field("gamma", "gamma"),
    Field("vega", "vega"),
    Field("theta", "theta"),
    Field("rho", "rho"),
    Field("net_open_interest", "netOpenInterest", optional=True),
    Field("expiry_date_distance", "expiryDateDistance", optional=True),
    Field("contract_nominal_value", "contractNominalValue", optional=True),
    Field("owner_lot_multiplier", "ownerLotMultiplier", optional=True),
    Field("option_area_type", "optionAreaType", enum_value(OptionAreaType), True),
    Field("contract_multiplier", "contractMultiplier", optional=True),
    Field("index_option_type", "indexOptionType", enum_value(IndexOptionType), True),
)

_option = decoder(OptionQuoteExData, OPTION_FIELDS)

_future = decoder(
    FutureQuoteExData,
    [
        Field("last_settle_price", "lastSettlePrice"),
        Field("position", "position"),
        Field("position_change", "positionChange"),
        Field("expiry_date_distance", "expiryDateDistance", optional=True),
    ],
)

_warrant = decoder(
    WarrantQuoteExData,
    [
        Field("delta", "delta", optional=True),
        Field("implied_volatility", "impliedVolatility", optional=True),
        Field("premium", "premium"),
    ],
)

basic_quote_from_pb: Callable[[Qot_Common_pb2.BasicQot], BasicQuote] = decoder(
    BasicQuote,
    [
        Field("security", "security", security_from_pb),
        Field("name", "name", text, optional=True),
        Field("is_suspended", "isSuspended"),
        Field("list_time", "listTime", text),
        Field("price_spread", "priceSpread"),
        Field("update_time", "updateTime", text),
        Field("high_price", "highPrice"),
        Field("open_price", "openPrice"),
        Field("low_price", "lowPrice"),
        Field("cur_price", "curPrice"),
        Field("last_close_price", "lastClosePrice"),
        Field("volume", "volume"),
        Field("turnover", "turnover"),
        Field("turnover_rate", "turnoverRate"),
        Field("amplitude", "amplitude"),
        Field("dark_status", "darkStatus", enum_value(DarkStatus), optional=True),
        Field("option_ex_data", "optionExData", _option, optional=True),
        Field("list_timestamp", "listTimestamp", optional=True),
        Field("update_timestamp", "updateTimestamp", optional=True),
        Field("pre_market", "preMarket", pre_after_from_pb, optional=True),
        Field("after_market", "afterMarket", pre_after_from_pb, optional=True),
        Field("sec_status", "secStatus", enum_value(SecurityStatus), optional=True),
        Field("future_ex_data", "futureExData", _future, optional=True),
        Field("warrant_ex_data", "warrantExData", _warrant, optional=True),
        Field("overnight", "overnight", pre_after_from_pb, optional=True),
        Field("hp_volume", "hpVolume", optional=True),
    ],
)
"""Convert one ``Qot_Common.BasicQot``."""

_detail = decoder(OrderBookDetail, [Field("order_id", "orderID"), Field("volume", "volume")])


_level = decoder(
    OrderBookLevel,
    [
        Field("price", "price"),
        Field("volume", "volume"),
        Field("order_count", "orederCount"),  # sic: the protocol's spelling
        Field("details", "detailList", many(_detail)),
        Field("hp_volume", "hpVolume", optional=True),
    ],
)


# The S2C of a 3012 reply and of a 3013 push have the same fields.
_order_book = decoder(
    OrderBook,
    [
        Field("security", "security", security_from_pb),
        Field("name", "name", text, optional=True),
        Field("bids", "orderBookBidList", many(_level)),
        Field("asks", "orderBookAskList", many(_level)),
        Field("svr_recv_time_bid", "svrRecvTimeBid", text, optional=True),
        Field("svr_recv_time_bid_timestamp", "svrRecvTimeBidTimestamp", optional=True),
        Field("svr_recv_time_ask", "svrRecvTimeAsk", text, optional=True),
        Field("svr_recv_time_ask_timestamp", "svrRecvTimeAskTimestamp", optional=True),
        Field("order_book_type", "orderBookType", enum_value(OrderBookType), optional=True),
    ],
)


_subscription = decoder(
    SubscribedSecurities,
    [
        Field("sub_type", "subType", enum_value(SubType)),
        Field("securities", "securityList", many(security_from_pb)),
    ],
)


_connection = decoder(
    ConnectionSubscriptions,
    [
        Field("subscriptions", "subInfoList", many(_subscription)),
        Field("used_quota", "usedQuota"),
        Field("is_own_connection", "isOwnConnData"),
        Field("security_firm", "securityFirm", optional=True),
        Field("option_used_quota", "optionUsedQuota", optional=True),
    ],
)


_subscription_info = decoder(
    SubscriptionInfo,
    [
        Field("connections", "connSubInfoList", many(_connection)),
        Field("total_used_quota", "totalUsedQuota"),
        Field("remain_quota", "remainQuota"),
        Field("option_used_quota", "optionUsedQuota", optional=True),
        Field("option_remain_quota", "optionRemainQuota", optional=True),
    ],
)


def _s2c(response: Any, what: str) -> Any:
    if not response.HasField("s2c"):
        raise ProtocolError(f"{response.DESCRIPTOR.full_name} without s2c: no {what}")
    return response.s2c


def basic_quotes_from_response(response: Any) -> list[BasicQuote]:
    """The quotes of a 3004 reply or a 3005 push (``Qot_GetBasicQot`` /
    ``Qot_UpdateBasicQot`` ``Response``), in OpenD's order; none without an ``s2c``."""
    return list(map(basic_quote_from_pb, response.s2c.basicQotList))


def order_book_from_response(response: Any) -> OrderBook:
    """The order book of a 3012 reply or a 3013 push.

    Raises:
        ProtocolError: the response carries no ``s2c``.
    """
    return _order_book(_s2c(response, "order book"))


def subscription_info_from_response(response: Qot_GetSubInfo_pb2.Response) -> SubscriptionInfo:
    """The subscriptions and quota of a 3003 reply.

    Raises:
        ProtocolError: the response carries no ``s2c``.
    """
    return _subscription_info(_s2c(response, "subscription info"))


#: The protobuf message each update of a quote push travels in from the receive
#: path to its reader (:func:`quote_push_messages`), and its decoder.
PUSH_UPDATE_DECODERS: Mapping[type, Callable[[Any], BasicQuote | OrderBook]] = MappingProxyType(
    {
        Qot_Common_pb2.BasicQot: basic_quote_from_pb,
        Qot_UpdateOrderBook_pb2.S2C: _order_book,
    }
)


def quote_push_messages(
    proto_id: int, body: bytes, *, check_required: bool = False
) -> Sequence[Any]:
    """The updates of a quote push as protobuf messages, one per security: each
    ``BasicQot`` of a 3005, the ``s2c`` of a 3013. :func:`update_from_pb` decodes one.

    The cheap half of :func:`quote_push_from_body`, for the receive path: one
    parse, no model built; unless ``check_required``, the proto2 ``required``
    fields are left for :func:`update_from_pb` to check (a walk of the whole
    message, worth doing only for the updates a reader takes).

    Raises:
        ProtocolError: ``proto_id`` is not a quote push this version knows,
            or ``body`` is not a valid push of it (malformed, no ``s2c`` in
            an order-book push, a required field missing if checked).
        OpenDError: the push's ``retType`` is not 0 (or is missing: its default is -400).
    """
    form = _PUSH_FORMS.get(proto_id)
    if form is None:
        raise ProtocolError(f"protocol {proto_id} is not a quote push")
    response_type, quotes = form
    response: Any
    if check_required:
        response = parse_message(response_type, body, proto_id=proto_id)
    else:
        # Once per push on the receive path: the parse alone, without
        # parse_message's call; a body that does not parse goes through it
        # again for its error.
        try:
            response = response_type.FromString(body)
        except DecodeError:
            response = parse_message(response_type, body, proto_id=proto_id, check_required=False)
    if response.retType:  # the common case costs no call
        check_response(proto_id, response)
    if quotes:
        return response.s2c.basicQotList  # type: ignore[no-any-return]
    return (_s2c(response, "order book"),)


# Each quote push's Response type, and whether its updates are the s2c's quote list.
_PUSH_FORMS: dict[int, tuple[Any, bool]] = {
    int(proto_id): (RESPONSE_TYPES[proto_id], sub_type is SubType.QUOTE)
    for proto_id, sub_type in PUSH_SUB_TYPES.items()
}


def update_from_pb(message: Any) -> BasicQuote | OrderBook:
    """The model of one update :func:`quote_push_messages` gave.

    Raises:
        ProtocolError: a proto2 ``required`` field of the update is missing.
        KeyError: ``message`` is not an update of a quote push.
    """
    decode = PUSH_UPDATE_DECODERS[message.__class__]
    if not message.IsInitialized():
        missing = ", ".join(message.FindInitializationErrors())
        raise ProtocolError(
            f"{message.DESCRIPTOR.full_name} in a quote push lacks required fields: {missing}"
        )
    return decode(message)


def quote_push_from_body(proto_id: int, body: bytes) -> list[BasicQuote] | list[OrderBook]:
    """The updates a quote push carries: basic quotes (3005, any number) or
    one order book (3013).

    Raises:
        ProtocolError: ``proto_id`` is not a quote push this version knows,
            or ``body`` is not a valid push of it (malformed, a required
            field missing, no ``s2c`` in an order-book push).
        OpenDError: the push's ``retType`` is not 0.
    """
    messages = quote_push_messages(proto_id, body, check_required=True)
    return [update_from_pb(message) for message in messages]  # type: ignore[return-value]
