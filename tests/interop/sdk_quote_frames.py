"""Parse quote replies with the official SDK's own code; run as a script, never imported.

The SDK cannot share a process with asyncquote, so ``test_quote_frames_match_sdk.py`` runs::

    python sdk_quote_frames.py IN_FILE OUT_FILE

``IN_FILE`` is a pickled list of ``(kind, body)``: ``kind`` is ``"quote"``
(a 3004 reply), ``"snapshot"`` (3203), ``"order_book"`` (3012),
``"ticker"`` (3010), ``"rt"`` (3008), ``"kline"`` (3006, asked as ``K_1M``
and ``qfq``) or ``"broker"`` (3014); ``body`` the reply's bytes. Each is
parsed into the SDK's own message class and handed to the SDK's
``get_stock_quote``, ``get_market_snapshot``, ``get_order_book``,
``get_rt_ticker``, ``get_rt_data``, ``get_cur_kline`` or
``get_broker_queue`` in place of a gateway's answer, so the SDK's own
parsing and column lists build the result. ``OUT_FILE`` gets the pickled
list of what each call returned: ``(ret, data)`` with a DataFrame or the
order book's dict, or ``(ret, bids, asks)`` for a broker queue.
(``test_quote_frames_match_sdk.py`` and ``test_market_data_frames_match_sdk.py``
use it.)
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    in_file, out_file = argv
    # Imported only here, so a missing SDK fails this process and not the test's.
    from futu import AuType, KLType, OpenQuoteContext
    from futu.common.pb import (
        Qot_GetBasicQot_pb2,
        Qot_GetBroker_pb2,
        Qot_GetKL_pb2,
        Qot_GetOrderBook_pb2,
        Qot_GetRT_pb2,
        Qot_GetSecuritySnapshot_pb2,
        Qot_GetTicker_pb2,
    )

    code = "HK.00700"
    kinds: dict[str, tuple[Any, Any]] = {
        "quote": (Qot_GetBasicQot_pb2.Response, lambda c: c.get_stock_quote([code])),
        "snapshot": (Qot_GetSecuritySnapshot_pb2.Response, lambda c: c.get_market_snapshot([code])),
        "order_book": (Qot_GetOrderBook_pb2.Response, lambda c: c.get_order_book(code)),
        "ticker": (Qot_GetTicker_pb2.Response, lambda c: c.get_rt_ticker(code, 100)),
        "rt": (Qot_GetRT_pb2.Response, lambda c: c.get_rt_data(code)),
        "kline": (
            Qot_GetKL_pb2.Response,
            lambda c: c.get_cur_kline(code, 100, KLType.K_1M, AuType.QFQ),
        ),
        "broker": (Qot_GetBroker_pb2.Response, lambda c: c.get_broker_queue(code)),
    }

    class Offline(OpenQuoteContext):  # type: ignore[misc]
        """A context that answers every request with one given response, never connecting."""

        def __init__(self, response: Any) -> None:
            self._response = response
            self._OpenQuoteContext__security_firm = None

        def _get_sync_query_processor(self, pack: Any, unpack: Any) -> Any:
            return lambda **kwargs: unpack(self._response)

        def get_sync_conn_id(self) -> int:
            return 0

        def __del__(self) -> None:
            pass

    results = []
    for kind, body in pickle.loads(Path(in_file).read_bytes()):
        response_type, call = kinds[kind]
        results.append(call(Offline(response_type.FromString(body))))
    Path(out_file).write_bytes(pickle.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
