"""How long one read callback takes for a batch of quote pushes, in process.

``python -m benchmarks.push_turn [--pushes N] [--rounds R]``

The receive path of live quotes runs inside the connection's read callback:
while it works, nothing else on the event loop runs, the stream's reader
included. A burst arrives as a few large reads (about 900 pushes each in the
push benchmark), so the cost per push bounds the loop's longest turn. This
feeds ``N`` Qot_UpdateBasicQot (3005) frames over 100 subscribed securities,
as one read, through what the connection does with it: the protocol's
framing and routing (``ClientProtocol.receive_data``), then the live-quote
routing into a subscribed stream (``LiveQuotes.on_push``), and times each
part; then the reader taking the 100 newest updates (with their models, if
the code under test builds them when read). Minimum and median of the rounds.

Uses only what asyncquote had before the push path was reworked, so the same
script measures an older checkout: ``PYTHONPATH=<checkout> python
benchmarks/push_turn.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import asyncquote
from asyncquote._opend.framing import Frame, encode_frame
from asyncquote._opend.protocol import ClientProtocol
from asyncquote._pb import Qot_UpdateBasicQot_pb2
from asyncquote._quotes.live import LiveQuotes
from asyncquote._quotes.stream import QuoteStream

try:  # older checkouts wrap each push in a Push event
    from asyncquote._opend.protocol import Push as _Push  # type: ignore[attr-defined]
except ImportError:
    _Push = None

SECURITIES = 100
MARKET_HK = 1


def push_body(j: int) -> bytes:
    """Update ``j``: security ``j % 100``, every required field, as the simulator fills them."""
    response = Qot_UpdateBasicQot_pb2.Response(retType=0)
    quote = response.s2c.basicQotList.add()
    quote.security.market = MARKET_HK
    quote.security.code = f"{j % SECURITIES:05d}"
    quote.name = "Some Co"
    quote.isSuspended = False
    quote.listTime = "2004-06-16"
    quote.priceSpread = 0.2
    quote.updateTime = "2026-12-06 10:00:00"
    quote.highPrice = quote.openPrice = quote.lowPrice = quote.lastClosePrice = 300.0
    quote.curPrice = 300.0 + j * 0.01
    quote.volume = 7 * 10**12 + j
    quote.turnover = 1.0e9
    quote.turnoverRate = 0.1
    quote.amplitude = 1.0
    quote.updateTimestamp = 1.7e9
    return response.SerializeToString()


def one_round(wire: bytes, pushes: int) -> tuple[float, float, float]:
    """Seconds for framing and routing, for the live-quote routing, and for the reader."""
    live = LiveQuotes()
    stream: QuoteStream[Any] = QuoteStream("bench", SECURITIES)
    live.register(stream, [((MARKET_HK, f"{i:05d}"), 1) for i in range(SECURITIES)])
    protocol = ClientProtocol(address="bench")
    t0 = time.perf_counter()
    events = protocol.receive_data(wire)
    t1 = time.perf_counter()
    for event in events:
        # A push is its Frame; older checkouts wrapped it (Push.frame).
        frame = getattr(event, "frame", None) if _Push and isinstance(event, _Push) else event
        if isinstance(frame, Frame):
            live.on_push(frame)
    t2 = time.perf_counter()

    async def read() -> list[object]:
        return [await stream.__anext__() for _ in range(stream.pending)]

    t3 = time.perf_counter()
    taken = asyncio.run(read())
    t4 = time.perf_counter()
    if len(taken) != SECURITIES or getattr(taken[-1], "volume", None) != 7 * 10**12 + pushes - 1:
        raise RuntimeError("the reader did not get the final state")
    return t1 - t0, t2 - t1, t4 - t3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=1000, help="pushes in the one read (1000)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds (15)")
    args = parser.parse_args(argv)
    wire = b"".join(encode_frame(3005, 0, push_body(j)) for j in range(args.pushes))
    one_round(wire, args.pushes)  # warm-up
    rounds = [one_round(wire, args.pushes) for _ in range(args.rounds)]
    print(f"asyncquote from {asyncquote.__file__}")
    what = f"{args.pushes:,} QUOTE pushes over {SECURITIES} securities"
    print(f"one read of {what}, {args.rounds} rounds")
    print(f"{'part':40s} {'min ms':>8s} {'median ms':>10s} {'min µs/push':>12s}")
    names = ("framing and protocol routing", "live-quote routing (LiveQuotes.on_push)")
    for index, name in enumerate(names):
        values = [r[index] for r in rounds]
        low, mid = min(values), statistics.median(values)
        print(f"{name:40s} {low * 1e3:8.3f} {mid * 1e3:10.3f} {low / args.pushes * 1e6:12.2f}")
    turns = [r[0] + r[1] for r in rounds]
    low, mid = min(turns), statistics.median(turns)
    print(f"{'the read callback in all':40s} {low * 1e3:8.3f} {mid * 1e3:10.3f}")
    reads = [r[2] for r in rounds]
    print(
        f"{'reader: the 100 newest updates':40s} {min(reads) * 1e3:8.3f} "
        f"{statistics.median(reads) * 1e3:10.3f}"
    )


if __name__ == "__main__":
    main()
