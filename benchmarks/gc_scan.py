"""What kept watchlist entries cost the cyclic GC, in CPU time (robust to a loaded machine).

    python -m benchmarks.gc_scan                 # 8 x 20,000 entries kept (issue 25, row 4)
    python -m benchmarks.gc_scan --replies 5 --size 5000   # row 3's five 5,000-entry replies
    python -m benchmarks.gc_scan --json          # one line of JSON (for interleaved runs)

Decodes ``--replies`` never-seen replies of ``--size`` entries through one
:class:`~asyncquote._client.entry_cache.EntryCache`, keeping every result
and reading every field of every entry (as rows 3-4 of
:mod:`benchmarks.issue25` do, without the loop or a gateway), then prints:

* GC-tracked objects per kept security (``gc.get_objects()`` before and
  after, the results alive): what every full collection scans;
* decoding and reading, CPU µs per security, and of it the collector's,
  with the longest single collection (CPU ms) while they were decoded;
* one full collection over everything kept, CPU ms (median of 3): the
  floor of the longest loop turn of a process that keeps these entries,
  since a full collection runs in whatever turn allocates past its threshold.

CPU time (``time.thread_time``) rather than wall time, so that the other
processes of a shared machine do not show as this process's pauses; compare
branches by alternating runs and taking the median of each side.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Sequence

from asyncquote._client.entry_cache import EntryCache

from .cold import _fresh_bodies, _GcClock
from .issue25 import read_every_field

__all__ = ["main", "measure"]


def measure(replies: int, size: int) -> dict[str, float]:
    """The figures above, for ``replies`` replies of ``size`` new entries."""
    bodies = _fresh_bodies(replies, size)
    cache, kept = EntryCache(), []
    gc.collect()
    before = len(gc.get_objects())
    with _GcClock(time.thread_time).running() as clock:
        start = time.thread_time()
        for body in bodies:
            result = cache.decode_reply(body)
            read_every_field(result)
            kept.append(result)
        decode = time.thread_time() - start
    del bodies
    cache.clear()  # only what the application keeps
    gc.collect()
    securities = replies * size
    tracked = (len(gc.get_objects()) - before) / securities
    full = []
    for _ in range(3):
        start = time.thread_time()
        gc.collect()
        full.append(time.thread_time() - start)
    return {
        "tracked_per_security": tracked,
        "decode_read_us": decode * 1e6 / securities,
        "gc_us": clock.seconds * 1e6 / securities,
        "longest_gc_ms": clock.longest * 1e3,
        "full_collection_ms": statistics.median(full) * 1e3,
        "objects": float(len(gc.get_objects())),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gc_scan", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--replies", type=int, default=8)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args(argv)
    figures = measure(args.replies, args.size)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{args.replies} x {args.size:,} new entries kept and read (CPU time)")
    print(f"  GC-tracked objects per kept security  {figures['tracked_per_security']:8.2f}")
    print(f"  decode + read, µs per security         {figures['decode_read_us']:8.2f}")
    print(f"    of it the collector, µs per security  {figures['gc_us']:8.2f}")
    print(f"  longest collection while decoding, ms  {figures['longest_gc_ms']:8.1f}")
    print(f"  one full collection afterwards, ms     {figures['full_collection_ms']:8.1f}")
    print(f"  tracked objects in the process         {figures['objects']:8,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
