"""Protobuf → models for tickers, time-share, K-lines and broker queues.

The same contract and machinery as :mod:`asyncquote._models.quote_convert`:
the converters take a ``Response`` parsed and checked by
:func:`asyncquote._opend.codec.parse_response`; from there nothing in the
message makes them fail but a missing ``s2c`` (:class:`ProtocolError`: each
of these replies names its security there). Unknown enum values stay
``int``, text that is not UTF-8 gets U+FFFD, an absent optional field is
``None``. :func:`market_data_push_from_body` goes from the bytes of a push.

A reply or push carries one security and a list; each item model repeats
the security (and, for K-lines, the period and adjustment), so an item
table (:func:`item_decoder`) reads the list item and takes the rest as
context from its parent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel

from .._base.errors import ProtocolError
from .._opend.codec import parse_response
from .._opend.quotes import AuType, KLType, PushDataType, TickerDirect, TickerType
from .._opend.vocabulary import RESPONSE_TYPES, ProtoId
from .._pb import Qot_GetKL_pb2
from .convert import _trusted, security_from_pb
from .market_data import Broker, BrokerQueue, KLine, Ticker, TimeSharePoint
from .quote_convert import Field, decoder, enum_value, many, read_fields, text

__all__ = [
    "CONTEXT",
    "MARKET_DATA_PUSHES",
    "MarketData",
    "broker_queue_from_response",
    "item_decoder",
    "klines_from_response",
    "market_data_push_from_body",
    "tickers_from_response",
    "time_share_from_response",
]

_M = TypeVar("_M", bound=BaseModel)

#: The fields each item takes from its parent message, in the models' order.
CONTEXT = ("security", "name")
_KLINE_CONTEXT = (*CONTEXT, "k_type", "au_type")

MarketData = list[Ticker] | list[TimeSharePoint] | list[KLine] | list[BrokerQueue]


def item_decoder(
    cls: type[_M], context: Sequence[str], fields: Sequence[Field]
) -> Callable[[dict[str, Any], Any], _M]:
    """A converter of one list item to ``cls``: the ``context`` fields (the
    model's first ones) from a dict, then ``fields`` from the item."""
    build = _trusted(cls)
    table = tuple(fields)
    names = tuple(context)

    def decode(context: dict[str, Any], pb: Any) -> _M:
        return build(read_fields(table, pb, {name: context[name] for name in names}))

    # For the tests, which check the table against the model.
    decode.model = cls  # type: ignore[attr-defined]
    decode.context = names  # type: ignore[attr-defined]
    decode.fields = table  # type: ignore[attr-defined]
    return decode


_ticker = item_decoder(
    Ticker,
    CONTEXT,
    [
        Field("time", "time", text),
        Field("sequence", "sequence"),
        Field("direction", "dir", enum_value(TickerDirect)),
        Field("price", "price"),
        Field("volume", "volume"),
        Field("turnover", "turnover"),
        Field("recv_time", "recvTime", optional=True),
        Field("type", "type", enum_value(TickerType), optional=True),
        Field("type_sign", "typeSign", optional=True),
        Field("push_data_type", "pushDataType", enum_value(PushDataType), optional=True),
        Field("timestamp", "timestamp", optional=True),
        Field("hp_volume", "hpVolume", optional=True),
    ],
)

_time_share = item_decoder(
    TimeSharePoint,
    CONTEXT,
    [
        Field("time", "time", text),
        Field("minute", "minute"),
        Field("is_blank", "isBlank"),
        Field("price", "price", optional=True),
        Field("last_close_price", "lastClosePrice", optional=True),
        Field("avg_price", "avgPrice", optional=True),
        Field("volume", "volume", optional=True),
        Field("turnover", "turnover", optional=True),
        Field("timestamp", "timestamp", optional=True),
        Field("hp_volume", "hpVolume", optional=True),
    ],
)

_kline = item_decoder(
    KLine,
    _KLINE_CONTEXT,
    [
        Field("time", "time", text),
        Field("is_blank", "isBlank"),
        Field("high_price", "highPrice", optional=True),
        Field("open_price", "openPrice", optional=True),
        Field("low_price", "lowPrice", optional=True),
        Field("close_price", "closePrice", optional=True),
        Field("last_close_price", "lastClosePrice", optional=True),
        Field("volume", "volume", optional=True),
        Field("turnover", "turnover", optional=True),
        Field("turnover_rate", "turnoverRate", optional=True),
        Field("pe", "pe", optional=True),
        Field("change_rate", "changeRate", optional=True),
        Field("timestamp", "timestamp", optional=True),
        Field("hp_volume", "hpVolume", optional=True),
    ],
)

_broker = decoder(
    Broker,
    [
        Field("id", "id"),
        Field("name", "name", text),
        Field("position", "pos"),
        Field("order_id", "orderID", optional=True),
        Field("volume", "volume", optional=True),
    ],
)

# The S2C of a 3014 reply and of a 3015 push have the same fields.
_broker_queue = decoder(
    BrokerQueue,
    [
        Field("security", "security", security_from_pb),
        Field("name", "name", text, optional=True),
        Field("bids", "brokerBidList", many(_broker)),
        Field("asks", "brokerAskList", many(_broker)),
    ],
)

_k_type = enum_value(KLType)
_au_type = enum_value(AuType)


def _s2c(response: Any, what: str) -> Any:
    if not response.HasField("s2c"):
        raise ProtocolError(f"{response.DESCRIPTOR.full_name} without s2c: no {what}")
    return response.s2c


def _context(s2c: Any) -> dict[str, Any]:
    return {
        "security": security_from_pb(s2c.security),
        "name": text(s2c.name) if s2c.HasField("name") else None,
    }


def tickers_from_response(response: Any) -> list[Ticker]:
    """The trades of a 3010 reply or a 3011 push, in OpenD's order (oldest first).

    Raises:
        ProtocolError: the response carries no ``s2c``.
    """
    s2c = _s2c(response, "tickers")
    context = _context(s2c)
    return [_ticker(context, pb) for pb in s2c.tickerList]


def time_share_from_response(response: Any) -> list[TimeSharePoint]:
    """The time-share points of a 3008 reply or a 3009 push, in OpenD's order.

    Raises:
        ProtocolError: the response carries no ``s2c``.
    """
    s2c = _s2c(response, "time-share points")
    context = _context(s2c)
    return [_time_share(context, pb) for pb in s2c.rtList]


def klines_from_response(
    response: Any, k_type: KLType | int | None = None, au_type: AuType | int | None = None
) -> list[KLine]:
    """The bars of a 3006 reply or a 3007 push, in OpenD's order (oldest first).

    A push names its period and adjustment; a reply does not, so the
    caller passes the ``k_type`` and ``au_type`` it asked for (required for
    a 3006 reply, ignored for a push).

    Raises:
        ProtocolError: the response carries no ``s2c``.
        TypeError: a 3006 reply without ``k_type`` and ``au_type`` (a bug).
    """
    s2c = _s2c(response, "K-lines")
    context = _context(s2c)
    if isinstance(response, Qot_GetKL_pb2.Response):
        if k_type is None or au_type is None:
            raise TypeError("a Qot_GetKL reply needs the k_type and au_type asked for")
        context["k_type"], context["au_type"] = _k_type(int(k_type)), _au_type(int(au_type))
    else:
        context["k_type"], context["au_type"] = _k_type(s2c.klType), _au_type(s2c.rehabType)
    return [_kline(context, pb) for pb in s2c.klList]


def broker_queue_from_response(response: Any) -> BrokerQueue:
    """The broker queue of a 3014 reply or a 3015 push.

    Raises:
        ProtocolError: the response carries no ``s2c``.
    """
    return _broker_queue(_s2c(response, "broker queue"))


def _broker_queues(response: Any) -> list[BrokerQueue]:
    return [broker_queue_from_response(response)]


#: Each push of these kinds and its converter.
MARKET_DATA_PUSHES: Mapping[int, Callable[[Any], MarketData]] = MappingProxyType(
    {
        ProtoId.UPDATE_TICKER: tickers_from_response,
        ProtoId.UPDATE_RT: time_share_from_response,
        ProtoId.UPDATE_KL: klines_from_response,
        ProtoId.UPDATE_BROKER: _broker_queues,
    }
)


def market_data_push_from_body(proto_id: int, body: bytes) -> MarketData:
    """The updates a push carries: trades (3011), time-share points (3009),
    K-lines (3007), each a list in OpenD's order, or one broker queue (3015).

    Raises:
        ProtocolError: ``proto_id`` is not one of these pushes, or ``body``
            is not a valid push of it (malformed, a required field missing,
            no ``s2c``).
        OpenDError: the push's ``retType`` is not 0.
    """
    convert = MARKET_DATA_PUSHES.get(proto_id)
    if convert is None:
        raise ProtocolError(
            f"protocol {proto_id} is not a ticker, time-share, K-line or broker push"
        )
    response: Any = parse_response(RESPONSE_TYPES[proto_id], body, proto_id=proto_id)
    return convert(response)
