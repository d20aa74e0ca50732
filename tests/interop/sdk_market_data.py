"""Tickers, K-lines, time-share, broker queues, odd-lot books from a simulator with the SDK.

Run with ``sys.executable`` (the SDK cannot share a process with asyncquote,
see ``sdk_client.py``)::

    python sdk_market_data.py HOST PORT OUT.json CODE

It sets the five handlers (``TickerHandlerBase``, ``CurKlineHandlerBase``,
``RTDataHandlerBase``, ``BrokerHandlerBase``, ``OrderBookHandlerBase``),
subscribes to TICKER, K_1M, RT_DATA, BROKER and ORDER_BOOK_ODD of the code
(the first push of each reaches its handler), waits for one push of each
kind, then calls ``get_rt_ticker``, ``get_cur_kline``, ``get_rt_data``,
``get_broker_queue`` and ``get_order_book`` of the odd-lot book and writes
every ``(ret, data)`` and push to OUT.json as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

_PATIENCE = 30.0


def _records(data: Any) -> Any:
    """A DataFrame as JSON records; anything else as it is."""
    if hasattr(data, "to_json"):
        return json.loads(data.to_json(orient="records", force_ascii=False))
    return data


def _parts(data: Any) -> list[Any]:
    return list(data) if isinstance(data, list) else [data]


def main(argv: list[str]) -> int:
    host, port, out_path, code = argv
    from futu import (
        RET_OK,
        AuType,
        BrokerHandlerBase,
        CurKlineHandlerBase,
        KLType,
        OpenQuoteContext,
        OrderBookHandlerBase,
        OrderBookType,
        RTDataHandlerBase,
        SubType,
        SysConfig,
        TickerHandlerBase,
    )

    SysConfig.set_all_thread_daemon(True)
    lock = threading.Lock()
    pushes: dict[str, list[Any]] = {
        "ticker": [],
        "kline": [],
        "rt": [],
        "broker": [],
        "odd_book": [],
    }
    errors: list[str] = []

    def recorder(base: Any, kind: str) -> Any:
        class Recorder(base):  # type: ignore[misc,valid-type]
            def on_recv_rsp(self, rsp_pb: Any) -> Any:
                result = super().on_recv_rsp(rsp_pb)
                ret, data = result[0], result[1:]
                with lock:
                    if ret == RET_OK:
                        # BrokerHandlerBase gives (code, [bids, asks]); the others (frame,).
                        parts = [p for part in data for p in _parts(part)]
                        pushes[kind].append([_records(part) for part in parts])
                    else:
                        errors.append(str(data))
                return result

        return Recorder()

    context = OpenQuoteContext(host=host, port=int(port))
    result: dict[str, Any] = {}
    try:
        context.set_handler(recorder(TickerHandlerBase, "ticker"))
        context.set_handler(recorder(CurKlineHandlerBase, "kline"))
        context.set_handler(recorder(RTDataHandlerBase, "rt"))
        context.set_handler(recorder(BrokerHandlerBase, "broker"))
        context.set_handler(recorder(OrderBookHandlerBase, "odd_book"))
        kinds = [
            SubType.TICKER,
            SubType.K_1M,
            SubType.RT_DATA,
            SubType.BROKER,
            SubType.ORDER_BOOK_ODD,
        ]
        ret, data = context.subscribe([code], kinds)
        result["subscribe"] = [ret, data]
        deadline = time.monotonic() + _PATIENCE
        while time.monotonic() < deadline:
            with lock:
                if all(pushes.values()):
                    break
            time.sleep(0.05)
        ret, data = context.get_rt_ticker(code, 100)
        result["get_rt_ticker"] = [ret, _records(data)]
        ret, data = context.get_cur_kline(code, 100, KLType.K_1M, AuType.QFQ)
        result["get_cur_kline"] = [ret, _records(data)]
        ret, data = context.get_rt_data(code)
        result["get_rt_data"] = [ret, _records(data)]
        ret, *data = context.get_broker_queue(code)
        result["get_broker_queue"] = [ret, [_records(part) for part in data]]
        ret, data = context.get_order_book(code, num=5, order_book_type=OrderBookType.ODD)
        result["get_order_book_odd"] = [ret, data]
    finally:
        context.close()
    with lock:
        result["pushes"] = pushes
        result["push_errors"] = list(errors)
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
