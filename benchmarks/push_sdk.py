"""Readers of the push benchmark that use the official SDK; one per process.

The SDK's protobuf modules clash with asyncquote's in one process, so this
file imports nothing of asyncquote's (only :mod:`benchmarks.push_plan`)::

    python -m benchmarks.push_sdk KIND HOST PORT SPEC

KIND is

* ``sdk``: the documented way, a ``StockQuoteHandlerBase`` subclass whose
  ``on_recv_rsp`` calls the base class's (which parses the push and builds
  a DataFrame of it) and reads the frame's code, price, volume and
  turnover columns;
* ``sdk-lean``: the same handler without the DataFrame: ``on_recv_rsp``
  calls the SDK's own parse of the push (``parse_rsp_pb``, a list of dicts)
  and reads the same values from it.

SPEC and the reports are as for :mod:`benchmarks.push_reader`. The handler
runs on the SDK's own threads; the final state is noted there.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from .push_plan import VOLUME_BASE, Tally, report

_FIRST_PUSH_WAIT = 5.0


def main(argv: list[str]) -> int:
    kind, host, port, spec_text = argv
    spec: dict[str, Any] = json.loads(spec_text)
    # pandas and the SDK ship no type information.
    from futu import (  # type: ignore[import-untyped]
        RET_OK,
        OpenQuoteContext,
        StockQuoteHandlerBase,
        SubType,
        SysConfig,
    )

    codes: list[str] = spec["codes"]
    tally = Tally(codes, spec)
    first: set[str] = set()
    first_done = threading.Event()
    finished = threading.Event()
    latest: dict[str, tuple[float, int, float]] = {}

    def see(code: str, price: float, volume: int, stamp: float) -> None:
        latest[code] = (price, volume, stamp)  # what a bot keeps
        if volume < VOLUME_BASE:  # the current state, pushed on subscribing
            first.add(code)
            if len(first) == len(codes):
                first_done.set()
        elif tally.see(code, volume, stamp):
            finished.set()

    class Documented(StockQuoteHandlerBase):  # type: ignore[misc]
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, frame = super().on_recv_rsp(rsp_pb)
            if ret != RET_OK:
                return ret, frame
            for code, price, volume, turnover in zip(
                frame["code"], frame["last_price"], frame["volume"], frame["turnover"], strict=True
            ):
                see(code, float(price), int(volume), float(turnover))
            return RET_OK, frame

    class Lean(StockQuoteHandlerBase):  # type: ignore[misc]
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, rows = self.parse_rsp_pb(rsp_pb)
            if ret != RET_OK:
                return ret, rows
            for row in rows:
                see(row["code"], row["last_price"], row["volume"], row["turnover"])
            return RET_OK, rows

    handler = {"sdk": Documented, "sdk-lean": Lean}[kind]()
    # The SDK's threads would otherwise keep this process alive if close() hangs.
    SysConfig.set_all_thread_daemon(True)
    context = OpenQuoteContext(host=host, port=int(port))
    try:
        context.set_handler(handler)
        ret, message = context.subscribe(codes, [SubType.QUOTE])
        if ret != RET_OK:
            raise RuntimeError(f"the SDK could not subscribe: {message}")
        first_done.wait(_FIRST_PUSH_WAIT)
        report({"ready": True, "first": len(first)})
        finished.wait(spec["timeout"])
        result = tally.result()
        report(result)
    finally:
        context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
