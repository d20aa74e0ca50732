"""The market's trades and their aggregates as OpenD's messages: tickers, K-lines, RT, brokers.

One job: turn :mod:`._market`'s tickers, K-lines, time-share points and
broker queues into the protobuf items of Qot_GetKL (3006) / Qot_UpdateKL
(3007), Qot_GetRT (3008) / Qot_UpdateRT (3009), Qot_GetTicker (3010) /
Qot_UpdateTicker (3011) and Qot_GetBroker (3014) / Qot_UpdateBroker (3015),
and the bodies of those pushes. Pure.

Times are written in the security's market's own time zone, as
:func:`._quote_messages.market_time` does (tickers to the millisecond),
beside the epoch timestamps. The simulator knows nothing of shares
outstanding, earnings or corporate actions: a K-line's turnover rate and
P/E are 0, and its prices are the same whatever the adjustment asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from .._opend.quotes import KLINE_SUB_TYPES, AuType, KLType, PushDataType, SubType
from .._opend.vocabulary import RetType, SecurityKey
from .._pb import (
    Qot_Common_pb2,
    Qot_GetBroker_pb2,
    Qot_UpdateBroker_pb2,
    Qot_UpdateKL_pb2,
    Qot_UpdateRT_pb2,
    Qot_UpdateTicker_pb2,
)
from ._market import BrokerQueue, MarketKLine, MarketTicker, MarketTimeShare
from ._quote_messages import market_time

__all__ = [
    "KL_TYPES",
    "broker_push",
    "fill_broker_queue",
    "kline",
    "kline_push",
    "rt_push",
    "ticker",
    "ticker_push",
    "time_share",
]

#: The K-line period (``KLType``) of each K-line subscription kind.
KL_TYPES: Mapping[SubType, KLType] = MappingProxyType(
    {sub_type: period for period, sub_type in KLINE_SUB_TYPES.items()}
)


def _security(key: SecurityKey) -> Qot_Common_pb2.Security:
    market, code = key
    return Qot_Common_pb2.Security(market=market, code=code)


def ticker(trade: MarketTicker, *, pushed: bool = False) -> Qot_Common_pb2.Ticker:
    """``trade`` as a Ticker; a pushed one says it is live (``REALTIME``)."""
    item = Qot_Common_pb2.Ticker(
        time=market_time(trade.time, trade.key[0], milliseconds=True),
        sequence=trade.sequence,
        dir=trade.direction,
        price=trade.price,
        volume=trade.volume,
        turnover=trade.turnover,
        type=trade.type,
        timestamp=trade.time,
    )
    if pushed:
        item.pushDataType = PushDataType.REALTIME
    return item


def kline(bar: MarketKLine) -> Qot_Common_pb2.KLine:
    """``bar`` as a KLine, named by its interval's start."""
    last_close = bar.last_close_price
    change = (bar.close_price - last_close) / last_close * 100 if last_close else 0.0
    return Qot_Common_pb2.KLine(
        time=market_time(bar.start, bar.key[0]),
        isBlank=False,
        highPrice=bar.high_price,
        openPrice=bar.open_price,
        lowPrice=bar.low_price,
        closePrice=bar.close_price,
        lastClosePrice=last_close,
        volume=bar.volume,
        turnover=bar.turnover,
        turnoverRate=0.0,
        pe=0.0,
        changeRate=change,
        timestamp=bar.start,
    )


def time_share(point: MarketTimeShare) -> Qot_Common_pb2.TimeShare:
    """``point`` as a TimeShare, named by its minute's start."""
    return Qot_Common_pb2.TimeShare(
        time=market_time(point.start, point.key[0]),
        minute=point.minute,
        isBlank=False,
        price=point.price,
        lastClosePrice=point.last_close_price,
        avgPrice=point.average_price,
        volume=point.volume,
        turnover=point.turnover,
        timestamp=point.start,
    )


def fill_broker_queue(
    s2c: Qot_GetBroker_pb2.S2C | Qot_UpdateBroker_pb2.S2C, queue: BrokerQueue, name: str
) -> None:
    """Fill a 3014 or 3015 ``s2c`` with ``queue``."""
    s2c.security.CopyFrom(_security(queue.key))
    s2c.name = name
    for brokers, items in ((queue.bids, s2c.brokerBidList), (queue.asks, s2c.brokerAskList)):
        items.extend(
            Qot_Common_pb2.Broker(id=broker.broker_id, name=broker.name, pos=broker.position)
            for broker in brokers
        )


def ticker_push(key: SecurityKey, name: str, trades: Iterable[MarketTicker]) -> bytes:
    """The body of a Qot_UpdateTicker (3011) push of ``trades``, oldest first."""
    response = Qot_UpdateTicker_pb2.Response(retType=RetType.OK)
    s2c = response.s2c
    s2c.security.CopyFrom(_security(key))
    s2c.name = name
    s2c.tickerList.extend(ticker(trade, pushed=True) for trade in trades)
    return response.SerializeToString()


def kline_push(
    key: SecurityKey, name: str, period: SubType, au_type: AuType, bars: Iterable[MarketKLine]
) -> bytes:
    """The body of a Qot_UpdateKL (3007) push of ``bars`` of ``period`` (a K-line SubType)."""
    response = Qot_UpdateKL_pb2.Response(retType=RetType.OK)
    s2c = response.s2c
    s2c.rehabType = au_type
    s2c.klType = KL_TYPES[period]
    s2c.security.CopyFrom(_security(key))
    s2c.name = name
    s2c.klList.extend(kline(bar) for bar in bars)
    return response.SerializeToString()


def rt_push(key: SecurityKey, name: str, points: Iterable[MarketTimeShare]) -> bytes:
    """The body of a Qot_UpdateRT (3009) push of ``points``."""
    response = Qot_UpdateRT_pb2.Response(retType=RetType.OK)
    s2c = response.s2c
    s2c.security.CopyFrom(_security(key))
    s2c.name = name
    s2c.rtList.extend(time_share(point) for point in points)
    return response.SerializeToString()


def broker_push(queue: BrokerQueue, name: str) -> bytes:
    """The body of a Qot_UpdateBroker (3015) push of ``queue``."""
    response = Qot_UpdateBroker_pb2.Response(retType=RetType.OK)
    fill_broker_queue(response.s2c, queue, name)
    return response.SerializeToString()
