"""The simulator as its own process, so that it does not share the client's interpreter.

Serves the benchmark watchlists (:func:`benchmarks.watchlist.benchmark_store`)
with every quota lifted, on two ports: one answering at once, one holding each
reply back (for the memory benchmark, whose calls must really be in flight).
It prints ``{"prompt": PORT, "delayed": PORT}`` as one JSON line once both
listen, and exits when its standard input closes, so that it cannot outlive a
benchmark that died::

    python -m benchmarks.sim_process [--reply-delay SECONDS] [--size N]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

import anyio

from asyncquote.sim import NO_QUOTAS, Faults, Simulator, serve

from .watchlist import LARGE_GROUP_SIZE, benchmark_store


async def _run(reply_delay: float, size: int) -> None:
    ports: dict[str, int] = {}

    def ready(name: str) -> Callable[[Simulator], None]:
        def record(sim: Simulator) -> None:
            ports[name] = sim.port
            if len(ports) == 2:
                print(json.dumps(ports), flush=True)

        return record

    async with anyio.create_task_group() as tg:
        # Each simulator gets its own store: neither changes it, but sharing
        # one would be a coupling the benchmark does not need.
        tg.start_soon(
            lambda: serve(
                port=0, watchlists=benchmark_store(size), quotas=NO_QUOTAS, ready=ready("prompt")
            )
        )
        tg.start_soon(
            lambda: serve(
                port=0,
                watchlists=benchmark_store(size),
                quotas=NO_QUOTAS,
                faults=Faults(reply_delay=reply_delay),
                ready=ready("delayed"),
            )
        )
        # Blocks a worker thread until the parent closes our stdin (or dies).
        await anyio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)
        tg.cancel_scope.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reply-delay", type=float, default=2.0, help="seconds, delayed port")
    parser.add_argument("--size", type=int, default=LARGE_GROUP_SIZE, help="large group size")
    args = parser.parse_args(argv)
    anyio.run(_run, args.reply_delay, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
