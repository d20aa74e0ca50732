"""The gateway of the push benchmark: the simulator in its own process, pushing planned quotes.

The simulator (every quota lifted, its market still: ``quote_rate=0``)
answers the readers' handshakes, subscriptions and keepalives as for any
client; the benchmark adds one thing, driven from standard input: pushing a
*plan* of Qot_UpdateBasicQot (3005) updates (:mod:`benchmarks.push_plan`)
to the connections subscribed to QUOTE of the plan's securities, one
update per push, as OpenD sends them. Each command is one JSON line; the
answer is one JSON line on standard output once every push is queued:

* ``{"op": "burst", "count": N}``: the N bodies are built first, then pushed
  as fast as the simulator can queue and write them (in chunks of
  :data:`CHUNK`, letting its writer send between chunks). Answers
  ``{"t0_ns": ..., "queued_ns": ..., "pushed": ...}``: the wall clock before
  the first push was queued and after the last.
* ``{"op": "rate", "count": N, "rate": R}``: N updates at R a second, each
  built (and stamped, see :mod:`benchmarks.push_plan`) just before it is
  queued; the simulator's writer sends it at its next turn.

The pushes go through the simulator's own per-connection outbox, framing
and writer task (``Simulator._table.push``, private: the benchmark reaches
in so that the pushes' *content* is planned while their path is the
simulator's). It prints ``{"port": PORT, "codes": [...]}`` once it listens
and exits when its standard input closes::

    python -m benchmarks.push_gateway
"""

from __future__ import annotations

import json
import sys
import time

import anyio
import anyio.lowlevel

from asyncquote._opend.vocabulary import parse_code
from asyncquote._pb import Qot_Common_pb2, Qot_UpdateBasicQot_pb2
from asyncquote.sim import NO_QUOTAS, Simulator
from asyncquote.sim._quote_messages import basic_qot

from .push_plan import SECURITIES, VOLUME_BASE
from .watchlist import benchmark_store

__all__ = ["CHUNK", "plan_codes"]

#: Pushes queued between two chances for the simulator's writer to send.
CHUNK = 256

_UPDATE_BASIC_QOT = 3005
_QUOTE = 1  # Qot_Common.SubType_Basic


def plan_codes(sim: Simulator, count: int = SECURITIES) -> list[str]:
    """The first ``count`` plain securities the simulator lists (no option,
    future or warrant data, so that every reader parses the same kind of quote)."""
    codes = []
    for code in sim.market.codes:
        message = basic_qot(sim.market.quote(code))
        if not any(
            message.HasField(part) for part in ("optionExData", "futureExData", "warrantExData")
        ):
            codes.append(code)
        if len(codes) == count:
            return codes
    raise RuntimeError(f"the simulator lists fewer than {count} plain securities")


class _Planner:
    """Builds update ``j`` of a plan: a copy of its security's quote, moved."""

    def __init__(self, sim: Simulator, codes: list[str]) -> None:
        self._templates = [basic_qot(sim.market.quote(code)) for code in codes]
        self._keys = []
        for code in codes:
            market, symbol = parse_code(code)
            self._keys.append(((int(market), symbol), _QUOTE))

    def body(self, j: int) -> bytes:
        quote: Qot_Common_pb2.BasicQot = self._templates[j % len(self._templates)]
        step = (j // len(self._templates)) % 20
        quote.curPrice = quote.lastClosePrice + quote.priceSpread * (step - 10)
        quote.volume = VOLUME_BASE + j
        stamp = time.time_ns() / 1e9
        quote.turnover = stamp
        quote.updateTimestamp = stamp
        response = Qot_UpdateBasicQot_pb2.Response(retType=0)
        response.s2c.basicQotList.append(quote)
        return response.SerializeToString()

    def key(self, j: int) -> tuple[tuple[int, str], int]:
        return self._keys[j % len(self._keys)]


def _push(sim: Simulator, key: tuple[tuple[int, str], int], body: bytes) -> int:
    conns = list(sim._state.subscriptions.pushed_to(key))
    return sim._table.push(conns, _UPDATE_BASIC_QOT, body)


async def _burst(sim: Simulator, planner: _Planner, count: int) -> dict[str, int]:
    plan = [(planner.key(j), planner.body(j)) for j in range(count)]
    pushed = 0
    t0 = time.time_ns()
    for start in range(0, count, CHUNK):
        for key, body in plan[start : start + CHUNK]:
            pushed += _push(sim, key, body)
        await anyio.lowlevel.checkpoint()
    return {"t0_ns": t0, "queued_ns": time.time_ns(), "pushed": pushed}


async def _at_rate(sim: Simulator, planner: _Planner, count: int, rate: float) -> dict[str, int]:
    pushed = sent = 0
    t0 = time.time_ns()
    start = time.monotonic()
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        for j in range(sent, due):
            pushed += _push(sim, planner.key(j), planner.body(j))
        sent = due
        await anyio.sleep(0.0005)
    return {"t0_ns": t0, "queued_ns": time.time_ns(), "pushed": pushed}


async def _run() -> None:
    async with Simulator(
        port=0,
        watchlists=benchmark_store(),
        quotas=NO_QUOTAS,
        subscription_quota=100_000,
        push_backlog=1_000_000,
        quote_rate=0,
    ) as sim:
        codes = plan_codes(sim)
        planner = _Planner(sim, codes)
        print(json.dumps({"port": sim.port, "codes": codes}), flush=True)
        while True:
            line = await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
            if not line:
                return
            command = json.loads(line)
            if command["op"] == "burst":
                answer = await _burst(sim, planner, command["count"])
            else:
                answer = await _at_rate(sim, planner, command["count"], command["rate"])
            print(json.dumps(answer), flush=True)


def main() -> int:
    anyio.run(_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
