"""A gateway process whose watchlist entries are new on every call: the cold path.

The simulator, in its own process, with one kind of group more: asking for
``"Fresh<N>"`` (``"Fresh500"``, ``"Fresh5000"``) returns N securities never
sent before, with new codes, ids and names, on every call, so that no client
can reuse anything it decoded earlier. The entries are built before the
gateway listens (``--pool`` of them), so that building them does not compete
with the clients for the CPU; past the pool they are built on demand. It
prints ``{"port": PORT}`` as one JSON line once it listens, and exits when
its standard input closes::

    python -m benchmarks.cold_gateway [--pool N]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import anyio

from asyncquote._pb import Qot_Common_pb2
from asyncquote.sim import NO_QUOTAS, Simulator, WatchlistStore, serve

from .watchlist import entry

__all__ = ["FRESH_PREFIX", "FreshStore", "fresh_group"]

FRESH_PREFIX = "Fresh"
# Far from the benchmark store's own securities, whose numbers start at 0.
_FIRST_INDEX = 10_000_000


def fresh_group(size: int, tag: str = "") -> str:
    """The name of the group that answers ``size`` new securities per call.

    A ``tag`` makes groups of one size distinct (``Fresh20000.3``), so that
    concurrent calls are not merged into one request by single-flight.
    """
    return f"{FRESH_PREFIX}{size}" + (f".{tag}" if tag else "")


class FreshStore(WatchlistStore):
    """The bundled sample store, plus ``Fresh<N>`` groups of securities new on every call."""

    def __init__(self, pool: int) -> None:
        sample = WatchlistStore.sample()
        securities = [sample.security(key) for group in sample.groups for key in group.members]
        unique = {(i.basic.security.market, i.basic.security.code): i for i in securities}
        super().__init__(unique.values(), sample.groups)
        self._next = _FIRST_INDEX
        self._pool = [entry(index) for index in range(self._next, self._next + pool)]
        self._taken = 0

    def securities_in(self, name: str) -> list[Qot_Common_pb2.SecurityStaticInfo]:
        """As :meth:`WatchlistStore.securities_in`; a ``Fresh<N>`` group is N new securities."""
        if not name.startswith(FRESH_PREFIX):
            return super().securities_in(name)
        size = int(name[len(FRESH_PREFIX) :].partition(".")[0])
        taken = self._pool[self._taken : self._taken + size]
        self._taken += len(taken)
        self._next += size
        missing = size - len(taken)
        taken += [entry(index) for index in range(self._next - missing, self._next)]
        return taken


async def _run(pool: int) -> None:
    def ready(sim: Simulator) -> None:
        print(json.dumps({"port": sim.port}), flush=True)

    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: serve(port=0, watchlists=FreshStore(pool), quotas=NO_QUOTAS, ready=ready)
        )
        # Blocks a worker thread until the parent closes our stdin (or dies).
        await anyio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)
        tg.cancel_scope.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=0, help="new securities built in advance")
    args = parser.parse_args(argv)
    anyio.run(_run, args.pool)
    return 0


if __name__ == "__main__":
    sys.exit(main())
