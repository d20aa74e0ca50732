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
from collections.abc import Sequence

__all__ = [
    "REPORT_PREFIX",
    "SECURITIES",
    "VOLUME_BASE",
    "final_volumes",
    "percentile",
    "plan_index",
    "report",
]

#: Securities a run pushes to (the issue's 100).
SECURITIES = 100

#: Starts every line a reader reports (the SDK logs to the console too).
REPORT_PREFIX = "PUSHBENCH "

#: Volumes of planned updates start here (the simulator's market stays far below).
VOLUME_BASE = 7_000_000_000_000


def plan_index(volume: int) -> int:
    """The plan index ``j`` of an update with ``volume``; negative for one outside the plan."""
    return volume - VOLUME_BASE


def final_volumes(count: int, securities: int = SECURITIES) -> list[int]:
    """The volume of each security's last update in a plan of ``count`` updates."""
    if count < securities:
        raise ValueError(f"a plan needs at least {securities} updates, not {count}")
    return [VOLUME_BASE + i + securities * ((count - 1 - i) // securities) for i in range(securities)]


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
