"""What every process of the push benchmark agrees on; imports nothing of asyncquote's.

The official SDK's reader imports this too, and the SDK's protobuf modules
clash with ours in one process, so this module is plain data and arithmetic.

**The plan.** A run of ``count`` updates goes round-robin over ``securities``
securities: update ``j`` is for security ``j % securities`` and carries
``volume = VOLUME_BASE + j``, so a security's updates have growing volumes and
its *final state* is the update with the largest ``j`` for it. A reader holds
the final state of every security exactly when it holds, for each, the volume
:func:`final_volumes` names. The volume base is far above anything the
simulator's market reaches, so the current state pushed on subscribing
(``isFirstPush``) is never mistaken for a planned update.

**The stamp.** The gateway writes the time it built each update into its
``turnover`` field, as epoch seconds from :func:`time.time_ns` (a float
keeps about 0.25 µs of it). ``turnover`` is a field every reader gets, the
official SDK's ``StockQuoteHandlerBase`` DataFrame included (it drops
``updateTimestamp``); the wall clock is the one clock all processes on the
host share.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = [
    "REPORT_PREFIX",
    "SECURITIES",
    "VOLUME_BASE",
    "Tally",
    "final_volumes",
    "percentile",
    "report",
]

#: Securities a run pushes to (the issue's 100).
SECURITIES = 100

#: Starts every line a reader reports (the SDK logs to the console too).
REPORT_PREFIX = "PUSHBENCH "

#: Volumes of planned updates start here (the simulator's market stays far below).
VOLUME_BASE = 7_000_000_000_000


def final_volumes(count: int, securities: int = SECURITIES) -> list[int]:
    """The volume of each security's last update in a plan of ``count`` updates."""
    if count < securities:
        raise ValueError(f"a plan needs at least {securities} updates, not {count}")
    return [
        VOLUME_BASE + i + securities * ((count - 1 - i) // securities) for i in range(securities)
    ]


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (``nan`` if empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-int(fraction * 1_000_000) * len(sorted_values) // 1_000_000))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def report(result: dict[str, object]) -> None:
    """A reader's result: one JSON line on standard output, which the parent reads."""
    sys.stdout.write(REPORT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


class Tally:
    """What a reader saw: the final states reached, stale updates, latencies.

    ``spec`` is the reader's (``count`` and ``latency`` are read).
    """

    def __init__(self, codes: list[str], spec: dict[str, Any]) -> None:
        self.final = dict(zip(codes, final_volumes(spec["count"], len(codes)), strict=True))
        self.newest: dict[str, int] = {}
        self.done: set[str] = set()
        self.latency = bool(spec["latency"])
        self.latencies: list[float] = []
        self.delivered = 0
        self.stale = 0
        self.done_ns = 0

    def see(self, code: str, volume: int, stamp: float) -> bool:
        """One planned update read; whether the final state of every security is now held."""
        if volume < VOLUME_BASE:
            return False  # the current state pushed on subscribing
        self.delivered += 1
        if self.latency:
            self.latencies.append(time.time_ns() / 1e9 - stamp)
        if volume < self.newest.get(code, 0):
            self.stale += 1
        self.newest[code] = volume
        if volume == self.final[code]:
            self.done.add(code)
            if len(self.done) == len(self.final):
                self.done_ns = time.time_ns()
                return True
        return False

    def result(self, **extra: object) -> dict[str, object]:
        ordered = sorted(self.latencies)
        out: dict[str, object] = {
            "final_ok": len(self.done) == len(self.final),
            "missing": len(self.final) - len(self.done),
            "done_ns": self.done_ns,
            "delivered": self.delivered,
            "stale": self.stale,
        }
        if self.latency:
            out["p50_ms"] = percentile(ordered, 0.50) * 1e3
            out["p99_ms"] = percentile(ordered, 0.99) * 1e3
            out["max_ms"] = (ordered[-1] if ordered else float("nan")) * 1e3
        out.update(extra)
        return out
