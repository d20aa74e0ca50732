"""Subscribe to live quotes on a running simulator with the official SDK; run as a script.

Run with ``sys.executable`` (the SDK cannot share a process with asyncquote,
see ``sdk_client.py``)::

    python sdk_quotes.py [--rsa-key FILE] HOST PORT OUT.json CODE [CODE ...]

It subscribes to QUOTE and ORDER_BOOK of the codes with handlers set
(``StockQuoteHandlerBase``, ``OrderBookHandlerBase``), waits until each code
has been pushed a few times (the simulator's market must move by itself),
then calls ``get_stock_quote``, ``get_order_book``, ``get_market_snapshot``
and ``query_subscription``, tries an unsubscription within the minute, and
writes every ``(ret, data)`` to OUT.json as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

# Pushes each code needs before the script goes on, and how long it waits for them.
_QUOTE_PUSHES = 3
_BOOK_PUSHES = 2
_PATIENCE = 30.0


def _records(data: Any) -> Any:
    """A DataFrame as JSON records; anything else as it is."""
    if hasattr(data, "to_json"):
        return json.loads(data.to_json(orient="records", force_ascii=False))
    return data


def main(argv: list[str]) -> int:
    key_file = None
    if argv[0] == "--rsa-key":
        key_file, argv = argv[1], argv[2:]
    host, port, out_path, *codes = argv
    from futu import (
        RET_OK,
        OpenQuoteContext,
        OrderBookHandlerBase,
        StockQuoteHandlerBase,
        SubType,
        SysConfig,
    )

    if key_file is not None:
        SysConfig.enable_proto_encrypt(True)
        SysConfig.set_init_rsa_file(key_file)
    SysConfig.set_all_thread_daemon(True)

    lock = threading.Lock()
    quotes: list[Any] = []
    books: list[Any] = []
    errors: list[str] = []

    class Quotes(StockQuoteHandlerBase):  # type: ignore[misc]
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            with lock:
                if ret == RET_OK:
                    quotes.extend(_records(data))
                else:
                    errors.append(str(data))
            return ret, data

    class Books(OrderBookHandlerBase):  # type: ignore[misc]
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            with lock:
                if ret == RET_OK:
                    books.append(data)
                else:
                    errors.append(str(data))
            return ret, data

    def pushed_enough() -> bool:
        with lock:
            return all(
                sum(row["code"] == code for row in quotes) >= _QUOTE_PUSHES
                and sum(book["code"] == code for book in books) >= _BOOK_PUSHES
                for code in codes
            )

    context = OpenQuoteContext(host=host, port=int(port))
    result: dict[str, Any] = {}
    try:
        context.set_handler(Quotes())
        context.set_handler(Books())
        ret, data = context.subscribe(codes, [SubType.QUOTE, SubType.ORDER_BOOK])
        result["subscribe"] = [ret, data]
        deadline = time.monotonic() + _PATIENCE
        while not pushed_enough() and time.monotonic() < deadline:
            time.sleep(0.05)
        ret, data = context.get_stock_quote(codes)
        result["get_stock_quote"] = [ret, _records(data)]
        ret, data = context.get_order_book(codes[0], num=5)
        result["get_order_book"] = [ret, data]
        ret, data = context.get_market_snapshot(codes)
        result["get_market_snapshot"] = [ret, _records(data)]
        ret, data = context.query_subscription()
        result["query_subscription"] = [ret, data]
        ret, data = context.query_subscription(is_all_conn=True)
        result["query_subscription_all"] = [ret, data]
        ret, data = context.unsubscribe(codes, [SubType.QUOTE])
        result["unsubscribe"] = [ret, data]
    finally:
        context.close()
    with lock:
        result["quote_pushes"] = list(quotes)
        result["book_pushes"] = list(books)
        result["push_errors"] = list(errors)
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
