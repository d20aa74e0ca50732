"""The cold path: watchlists whose every entry is new, end to end, against the official SDK.

A gateway in its own process (:mod:`benchmarks.cold_gateway`) answers every
call with securities never sent before, so nothing decoded earlier can be
reused; asyncquote goes through its real path, entry cache included. Blocks
of sequential calls alternate between the official SDK (its own process,
:mod:`benchmarks.cold_sdk`) and asyncquote, so a slow patch of the machine
hits both. Reported, from the calls of every round together:

* per call, mean and median, for a 500-security and a 5,000-security group
  (the "All" group of a heavy user), and the ratio SDK / asyncquote;
* asyncquote's cyclic-GC time per call (``gc.callbacks``);
* the longest event-loop stall while asyncquote's calls run: a ticker task
  sleeps 1 ms at a time and measures its own lateness, in wall time (which
  includes other processes taking the CPU) and in this thread's CPU time
  (which does not);
* decoding alone: 500 new entries through the client's entry cache, µs per
  security, mean and median, GC included.

::

    python -m benchmarks.cold            # about a minute
    python -m benchmarks.cold --quick    # a smoke run
    options: --rounds N  --no-sdk  --out DIR  --gc-freeze

``--gc-freeze`` measures advice for applications, not the library: the
benchmark process calls :func:`gc.freeze` once it has connected and warmed
up, so that full collections no longer scan the objects made at start-up
(modules, classes, pydantic's schemas: about 36,000 here).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

import asyncquote
from asyncquote._client.entry_cache import EntryCache
from asyncquote._pb import Qot_GetUserSecurity_pb2

from .cold_gateway import fresh_group
from .watchlist import entry

__all__ = ["ColdCounts", "main"]

_HOST = "127.0.0.1"
_ROOT = Path(__file__).resolve().parent.parent
_SIZES = (500, 5000)
_TICK = 0.001
_SUBPROCESS_TIMEOUT = 600


@dataclass(frozen=True)
class ColdCounts:
    """How many calls each block makes; ``--quick`` shrinks it all."""

    rounds: int = 4
    calls: dict[int, int] = field(default_factory=lambda: {500: 15, 5000: 2})
    decode_replies: int = 60
    #: Whether the process calls gc.freeze() after warming up (see --gc-freeze).
    gc_freeze: bool = False


QUICK = ColdCounts(rounds=1, calls={500: 2, 5000: 1}, decode_replies=3)


@dataclass
class Block:
    """One block of sequential calls by one client."""

    seconds: list[float]
    gc_seconds: float = 0.0
    gc_longest: float = 0.0
    stall_wall: float = 0.0
    stall_cpu: float = 0.0
    stall_without_gc: float = 0.0


class _GcClock:
    """Time spent in the cyclic GC, from ``gc.callbacks``: in total and the longest
    collection, on ``clock`` (wall time by default; ``time.thread_time`` for CPU)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds = 0.0
        self.longest = 0.0
        self._started = 0.0
        self._clock = clock

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = self._clock()
        else:
            pause = self._clock() - self._started
            self.seconds += pause
            self.longest = max(self.longest, pause)

    @contextmanager
    def running(self) -> Iterator[_GcClock]:
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


async def _ticker(stop: anyio.Event, block: Block, clock: _GcClock) -> None:
    """Sleep a tick at a time and record the longest lateness: wall, CPU, and wall minus GC."""
    wall, cpu, collecting = time.perf_counter(), time.thread_time(), clock.seconds
    while not stop.is_set():
        await anyio.sleep(_TICK)
        now, now_cpu, now_collecting = time.perf_counter(), time.thread_time(), clock.seconds
        late = now - wall - _TICK
        block.stall_wall = max(block.stall_wall, late)
        block.stall_cpu = max(block.stall_cpu, now_cpu - cpu)
        block.stall_without_gc = max(block.stall_without_gc, late - (now_collecting - collecting))
        wall, cpu, collecting = now, now_cpu, now_collecting


async def _asyncquote_block(client: asyncquote.QuoteClient, size: int, calls: int) -> Block:
    block = Block([])
    group = fresh_group(size)
    stop = anyio.Event()
    with _GcClock().running() as clock:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_ticker, stop, block, clock)
            await anyio.sleep(_TICK * 2)  # the ticker is running
            for _ in range(calls):
                start = time.perf_counter()
                await client.get_user_security(group)
                block.seconds.append(time.perf_counter() - start)
            stop.set()
    block.gc_seconds = clock.seconds
    block.gc_longest = clock.longest
    return block


class _Sdk:
    """The official SDK in its own process, one block of calls at a time."""

    def __init__(self, port: int, home: str) -> None:
        self._out = Path(home) / "cold_sdk.json"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.cold_sdk", _HOST, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=_ROOT,
            env={**os.environ, "HOME": home},  # the SDK writes its logs under $HOME
        )
        self._wait_done()

    def _wait_done(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith("@@done"):
                return
        raise RuntimeError("the SDK process ended early")

    def block(self, size: int, calls: int, *, read: bool = False) -> Block:
        """``calls`` sequential calls; with ``read``, each also reads every cell it got."""
        assert self._process.stdin is not None
        mode = " read" if read else ""
        self._process.stdin.write(f"{fresh_group(size)} {calls} {self._out}{mode}\n")
        self._process.stdin.flush()
        self._wait_done()
        return Block(json.loads(self._out.read_text()))

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@contextmanager
def _gateway(pool: int) -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.cold_gateway", "--pool", str(pool)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=_ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the cold gateway process failed to start")
        yield int(json.loads(line)["port"])
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _fresh_bodies(count: int, size: int) -> list[bytes]:
    bodies = []
    for number in range(count):
        response = Qot_GetUserSecurity_pb2.Response(retType=0)
        first = number * size
        response.s2c.staticInfoList.extend(entry(i) for i in range(first, first + size))
        bodies.append(response.SerializeToString())
    return bodies


def _decode_new_entries(replies: int, size: int = 500) -> dict[str, float]:
    """µs per security to decode replies of new entries through the entry cache, GC included.

    ``decode_reply`` does what the client does, minus the awaits between
    slices; it is also what the cache offered before replies were sliced, so
    that the same row can measure the library before and after.
    """
    bodies = _fresh_bodies(replies, size)
    cache = EntryCache()
    kept: list[Any] = []  # the last result stays alive, as the client keeps it
    samples = []
    gc.collect()
    with _GcClock().running() as clock:
        for body in bodies:
            start = time.perf_counter()
            kept = cache.decode_reply(body)
            samples.append((time.perf_counter() - start) * 1e6 / size)
    del kept
    return {
        "mean": statistics.fmean(samples),
        "median": statistics.median(samples),
        "gc": clock.seconds * 1e6 / (size * replies),
    }


async def _measure_async(port: int, counts: ColdCounts, sdk: _Sdk | None) -> dict[str, Any]:
    blocks: dict[str, list[Block]] = {
        f"{who}_{size}": [] for who in ("aq", "sdk") for size in _SIZES
    }
    async with asyncquote.connect(_HOST, port, quotas={3213: None}) as client:
        for size in _SIZES:  # warm up both: imports, connections, first calls
            await client.get_user_security(fresh_group(size))
            if sdk is not None:
                await anyio.to_thread.run_sync(sdk.block, size, 1)
        if counts.gc_freeze:
            gc.collect()
            gc.freeze()
        for number in range(counts.rounds):
            for size in _SIZES:
                calls = counts.calls[size]
                order = ("sdk", "aq") if number % 2 == 0 else ("aq", "sdk")
                for who in order:
                    if who == "aq":
                        blocks[f"aq_{size}"].append(await _asyncquote_block(client, size, calls))
                    elif sdk is not None:
                        block = await anyio.to_thread.run_sync(sdk.block, size, calls)
                        blocks[f"sdk_{size}"].append(block)
    return {key: [asdict(block) for block in value] for key, value in blocks.items()}


def measure(counts: ColdCounts, *, sdk: bool) -> dict[str, Any]:
    """Run the workloads; the raw blocks and the decode figures."""
    use_sdk = sdk and importlib.util.find_spec("futu") is not None
    per_client = sum(size * (1 + counts.rounds * counts.calls[size]) for size in _SIZES)
    with (
        _gateway(per_client * (2 if use_sdk else 1)) as port,
        tempfile.TemporaryDirectory() as home,
    ):
        client_sdk = _Sdk(port, home) if use_sdk else None
        try:
            raw = anyio.run(_measure_async, port, counts, client_sdk)
        finally:
            if counts.gc_freeze:
                gc.unfreeze()  # also on failure; the decode row runs as usual either way
            if client_sdk is not None:
                client_sdk.close()
    gc.collect()
    raw["decode"] = _decode_new_entries(counts.decode_replies)
    return raw


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Means, medians, ratios, GC and stalls from the raw blocks."""
    summary: dict[str, Any] = {"decode": raw["decode"]}
    for size in _SIZES:
        ours = raw[f"aq_{size}"]
        seconds = [s for block in ours for s in block["seconds"]]
        row: dict[str, Any] = {
            "asyncquote_mean_ms": statistics.fmean(seconds) * 1e3,
            "asyncquote_median_ms": statistics.median(seconds) * 1e3,
            "gc_ms_per_call": sum(b["gc_seconds"] for b in ours) / len(seconds) * 1e3,
            "stall_wall_ms": max(b["stall_wall"] for b in ours) * 1e3,
            "stall_cpu_ms": max(b["stall_cpu"] for b in ours) * 1e3,
            "gc_longest_ms": max(b["gc_longest"] for b in ours) * 1e3,
            "stall_without_gc_ms": max(b["stall_without_gc"] for b in ours) * 1e3,
            "calls": len(seconds),
        }
        theirs = [s for block in raw[f"sdk_{size}"] for s in block["seconds"]]
        if theirs:
            row["sdk_mean_ms"] = statistics.fmean(theirs) * 1e3
            row["sdk_median_ms"] = statistics.median(theirs) * 1e3
            row["vs_sdk_mean"] = row["sdk_mean_ms"] / row["asyncquote_mean_ms"]
            row["vs_sdk_median"] = row["sdk_median_ms"] / row["asyncquote_median_ms"]
        summary[str(size)] = row
    return summary


def targets(summary: dict[str, Any]) -> list[tuple[str, float | None, bool | None]]:
    """The issue's targets: text, measured value, met."""
    small, large, decode = summary["500"], summary["5000"], summary["decode"]

    def check(value: float | None, goal: float, higher: bool) -> bool | None:
        if value is None:
            return None
        return value >= goal if higher else value <= goal

    mean, median = small.get("vs_sdk_mean"), small.get("vs_sdk_median")
    return [
        ("500 new entries: >= 2 x SDK (mean)", mean, check(mean, 2.0, True)),
        ("500 new entries: >= 2.5 x SDK (median)", median, check(median, 2.5, True)),
        (
            "decode new entries: <= 3.5 µs/security (mean)",
            decode["mean"],
            check(decode["mean"], 3.5, False),
        ),
        (
            "5,000 new entries: longest stall <= 10 ms (wall)",
            large["stall_wall_ms"],
            check(large["stall_wall_ms"], 10.0, False),
        ),
        (
            "  ... not counting the collector's pauses",
            large["stall_without_gc_ms"],
            check(large["stall_without_gc_ms"], 10.0, False),
        ),
    ]


def _figure(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{suffix}"


def render(summary: dict[str, Any]) -> str:
    """The table as text."""
    head = (
        f"{'every entry new':<24}{'aq mean':>9}{'aq med':>9}{'SDK mean':>10}{'SDK med':>9}"
        f"{'x mean':>8}{'x med':>8}{'GC/call':>9}{'stall':>8}{'CPU':>7}{'-GC':>7}{'GC max':>8}"
    )
    lines = [head, "-" * len(head)]
    for size in _SIZES:
        row = summary[str(size)]
        lines.append(
            f"{f'{size:,}-security, ms/call':<24}"
            f"{_figure(row['asyncquote_mean_ms']):>9}{_figure(row['asyncquote_median_ms']):>9}"
            f"{_figure(row.get('sdk_mean_ms')):>10}{_figure(row.get('sdk_median_ms')):>9}"
            f"{_figure(row.get('vs_sdk_mean'), 'x'):>8}{_figure(row.get('vs_sdk_median'), 'x'):>8}"
            f"{_figure(row['gc_ms_per_call']):>9}{_figure(row['stall_wall_ms']):>8}"
            f"{_figure(row['stall_cpu_ms']):>7}{_figure(row['stall_without_gc_ms']):>7}"
            f"{_figure(row['gc_longest_ms']):>8}"
        )
    decode = summary["decode"]
    lines += [
        "",
        f"decode of 500 new entries (entry cache, GC on): mean {decode['mean']:.2f}, "
        f"median {decode['median']:.2f}, of which GC {decode['gc']:.2f} µs/security",
        "x = SDK time / asyncquote time (>1: asyncquote faster); GC/call, stall: asyncquote, ms;",
        "stall: the ticker's longest lateness (wall; CPU: this thread's CPU time between ticks;",
        "-GC: wall minus the collector's pauses in that interval);",
        "GC max: the longest single collection (a full one scans every object in the process)",
        "",
        "targets:",
    ]
    for text, value, met in targets(summary):
        verdict = {True: "met", False: "MISSED", None: "not measured"}[met]
        lines.append(f"  {text:<50} measured {_figure(value):>8}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cold", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--rounds", type=int, help="rounds of interleaved blocks")
    parser.add_argument("--no-sdk", action="store_true", help="skip the official SDK")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after warming up (advice to users)"
    )
    args = parser.parse_args(argv)
    counts = QUICK if args.quick else ColdCounts()
    counts = replace(counts, rounds=args.rounds or counts.rounds, gc_freeze=args.gc_freeze)
    raw = measure(counts, sdk=not args.no_sdk)
    summary = summarize(raw)
    print(render(summary))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "cold.json"
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "counts": asdict(counts)}
    path.write_text(json.dumps({**report, "summary": summary, "raw": raw}, indent=2))
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
