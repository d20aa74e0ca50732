"""Pushes of tickers, time-share, K-lines and broker queues built and read by the official SDK.

Run with ``sys.executable`` (the SDK cannot share a process with asyncquote,
see ``sdk_process.py``)::

    python sdk_market_data_push_bodies.py

It builds one push of each kind with the SDK's own message classes
(``Qot_UpdateTicker_pb2``, ``Qot_UpdateRT_pb2``, ``Qot_UpdateKL_pb2``,
``Qot_UpdateBroker_pb2``), reads each back with the ``parse_rsp_pb`` of
the SDK's handler class for it, and prints one JSON object: per protocol
id, the body's bytes in hex and what the handler read.
"""

from __future__ import annotations

import json
from typing import Any

CODE = ("HK", 1, "00700")


def _push(module: str) -> tuple[Any, Any]:
    """A push of the SDK's message module ``module``, naming the security: (push, s2c)."""
    import importlib

    response = importlib.import_module(f"futu.common.pb.{module}_pb2").Response
    push = response(retType=0)
    push.s2c.security.market, push.s2c.security.code = CODE[1], CODE[2]
    push.s2c.name = "Tencent"
    return push, push.s2c


def tickers() -> Any:
    push, s2c = _push("Qot_UpdateTicker")
    for index, (direction, kind) in enumerate([(1, 1), (2, 3), (3, 11)]):
        trade = s2c.tickerList.add()
        trade.time = f"2024-05-17 15:59:5{index}"
        trade.sequence = 7_300_000_000 + index
        trade.dir, trade.type, trade.typeSign = direction, kind, 66
        trade.price, trade.volume, trade.turnover = 320.2 + index / 5, 1000 * (index + 1), 3.2e5
        trade.recvTime, trade.timestamp, trade.pushDataType = 1715932797.5, 1715932790.0 + index, 1
    return push


def time_share() -> Any:
    push, s2c = _push("Qot_UpdateRT")
    for minute in (959, 960):
        point = s2c.rtList.add()
        point.time = f"2024-05-17 {minute // 60:02d}:{minute % 60:02d}:00"
        point.minute, point.isBlank = minute, False
        point.price, point.lastClosePrice, point.avgPrice = 320.4, 319.0, 320.1
        point.volume, point.turnover, point.timestamp = 52_000, 1.66e7, 1715932740.0 + minute
    return push


def klines() -> Any:
    push, s2c = _push("Qot_UpdateKL")
    s2c.rehabType, s2c.klType = 2, 1  # backward-adjusted, one minute
    for index in range(2):
        bar = s2c.klList.add()
        bar.time, bar.isBlank = f"2024-05-17 15:5{8 + index}:00", False
        bar.openPrice, bar.closePrice = 319.8 + index, 320.2 + index
        bar.highPrice, bar.lowPrice = 321.0 + index, 319.6 + index
        bar.lastClosePrice, bar.volume, bar.turnover = 319.0, 88_000 + index, 2.8e7
        bar.turnoverRate, bar.pe, bar.changeRate = 0.01, 18.5, 0.4
        bar.timestamp = 1715932680.0 + 60 * index
    return push


def brokers() -> Any:
    push, s2c = _push("Qot_UpdateBroker")
    for side, first in ((s2c.brokerBidList, 8000), (s2c.brokerAskList, 9000)):
        for position in range(2):
            broker = side.add()
            broker.id, broker.name, broker.pos = first + position, f"B{first}", position
            broker.orderID, broker.volume = 5_000 + position, 400 * (position + 1)
    return push


def main() -> None:
    from futu import BrokerHandlerBase, CurKlineHandlerBase, RTDataHandlerBase, TickerHandlerBase

    out = {}
    for proto_id, build, handler in (
        (3011, tickers, TickerHandlerBase),
        (3009, time_share, RTDataHandlerBase),
        (3007, klines, CurKlineHandlerBase),
        (3015, brokers, BrokerHandlerBase),
    ):
        push = build()
        body = push.SerializeToString()
        # What the handler reads: the same bytes, parsed again by the SDK.
        parsed = type(push).FromString(body)
        ret, content = handler.parse_rsp_pb(parsed)
        assert ret == 0, content
        out[proto_id] = {"body": body.hex(), "sdk": content}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
