"""Sequential calls: Python calls per call, and calls/s against the floor.

Starts the benchmark simulator in its own process (as ``python -m benchmarks``
does), then on one connection each:

* counts the Python-level function calls (``sys.setprofile`` "call" events,
  C functions not counted) made by one sequential ``get_user_security`` of a
  5-security group, averaged over ``--count`` calls, and lists the top
  contributors by file and function;
* times blocks of ``--calls`` sequential calls of the floor (``floor.py``)
  and of asyncquote, both connected throughout and taking turns
  ``--rounds`` times, each reading every field of every entry it got
  (``sequential.py``, row 5 of ``issue25``; ``--no-read``: neither reads),
  and prints the medians and the median ratio.

Two modes for asyncquote: ``default`` (the ``sequential`` row of
``python -m benchmarks``: the same group every time, so a reply identical to
the last one reuses its models) and ``entries-known`` (no result memory: each
reply goes through the entry cache, which knows its entries)::

    python -m benchmarks.seq_calls [--rounds 30] [--calls 300] [--top 25] [--mode entries-known]
                                   [--no-read] [--no-profile] [--no-timing]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncquote

from .sequential import sequential_pairs, summarise
from .suite import _HOST, _Forgetful, _simulator
from .watchlist import small_group

_GROUP = small_group(0)


def _forget(client: asyncquote.QuoteClient) -> None:
    client._results = _Forgetful()


@asynccontextmanager
async def _warm_client(port: int, forget: bool) -> AsyncIterator[asyncquote.QuoteClient]:
    """A connected client that has made 20 calls; with ``forget``, no result memory."""
    async with asyncquote.connect(_HOST, port, quotas={3213: None}) as client:
        if forget:
            _forget(client)
        for _ in range(20):
            await client.get_user_security(_GROUP)
        yield client


async def _profiled(port: int, calls: int, forget: bool) -> collections.Counter[Any]:
    counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            path = code.co_filename.split("/")
            counts[("/".join(path[-2:]), code.co_name)] += 1

    async with _warm_client(port, forget) as client:
        # The event loop runs in this thread: sys.setprofile sees all of it.
        sys.setprofile(profile)
        try:
            for _ in range(calls):
                await client.get_user_security(_GROUP)
        finally:
            sys.setprofile(None)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="pairs of blocks")
    parser.add_argument("--calls", type=int, default=300, help="calls per block")
    parser.add_argument("--count", type=int, default=200, help="calls profiled")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--mode", choices=("default", "entries-known"), default="default")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument(
        "--no-read", action="store_true", help="neither side reads the entries it got"
    )
    args = parser.parse_args(argv)
    forget = args.mode == "entries-known"
    print(f"asyncquote from {asyncquote.__file__}; mode {args.mode}")
    with _simulator(2.0, None) as ports:
        port = ports["prompt"]
        if not args.no_profile:
            counts = asyncio.run(_profiled(port, args.count, forget))
            total = sum(counts.values()) / args.count
            print(f"python calls per call: {total:.1f}")
            for (where, name), n in counts.most_common(args.top):
                print(f"  {n / args.count:6.2f}  {where}:{name}")
        if not args.no_timing:
            setup = _forget if forget else None
            pairs = sequential_pairs(
                port, calls=args.calls, pairs=args.rounds, read=not args.no_read, setup=setup
            )
            figures = {key: statistics.median(values) for key, values in summarise(pairs).items()}
            print(
                f"{len(pairs)} pairs of {args.calls} calls, medians:"
                f" floor {figures['floor']:,.0f}/s"
                f" ({figures['floor_cpu_us']:.1f} µs CPU/call), asyncquote {figures['aq']:,.0f}/s"
                f" ({figures['aq_cpu_us']:.1f} µs CPU/call)"
            )
            print(f"median ratio {figures['ratio']:.3f} (target >= 0.85)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
