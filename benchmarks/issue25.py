"""Every row of issue 25's table in one run, each against its baseline measured in the same run.

::

    python -m benchmarks.issue25                    # the full run, ~10 minutes here
    python -m benchmarks.issue25 --quick            # a smoke run (tests/repo/test_benchmarks.py)
    options: --rounds N  --backend asyncio|trio  --no-sdk  --no-pushes  --out DIR

The application keeps each result (as a bot keeps its watchlist) and reads
every field of every entry it got, inside the timed section, so that a result
that is built lazily and never read cannot look fast; the SDK's side reads
every cell of its DataFrame. Rounds are interleaved with their baseline and
each figure is the median of the rounds. Rows (the gateways run in their own
processes; the code is reused from the modules named):

1. 500 never-seen entries per call vs the official SDK, mean and median
   (:mod:`benchmarks.cold`, :mod:`benchmarks.cold_gateway`).
2. Decoding never-seen entries, µs per security, collector included (the
   client's entry cache, as :mod:`benchmarks.cold` does), beside the bare
   protobuf parse of the same replies.
3. Longest event-loop stall while five 5,000-entry replies decode, every
   result kept, collector pauses included; beside the same ticker on an
   idle loop (the machine's own noise).
4. Longest loop turn while 8 concurrent 20,000-entry replies decode, on
   asyncio and on trio; beside the idle ticker.
5. Sequential calls vs the minimal raw-socket client (:mod:`benchmarks.floor`)
   on the same gateway (:mod:`benchmarks.sim_process`), both reading every
   field they got, in short alternating blocks (:mod:`benchmarks.sequential`).
6. Live QUOTE pushes (:mod:`benchmarks.pushes`): throughput vs the SDK's
   handler, its lean parse and the raw reader; p99 at 10,000 updates/s.

Loop-dependent rows (1, 3, 5) run on ``--backend``; row 4 runs on both.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import operator
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
from pydantic import BaseModel

import asyncquote
from asyncquote._client.entry_cache import EntryCache
from asyncquote._pb import Qot_GetUserSecurity_pb2

from . import pushes
from .cold import Block, _fresh_bodies, _gateway, _GcClock, _Sdk, _ticker
from .cold_gateway import fresh_group
from .issue25_report import build_lines, render
from .sequential import sequential_pairs, summarise
from .suite import _simulator

__all__ = ["Plan", "main", "read_every_field", "read_in_slices"]

_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Plan:
    """How much each row does; ``--quick`` shrinks it all."""

    rounds: int = 5
    cold_calls: int = 15  # row 1: 500-entry calls per block
    decode_replies: int = 40  # row 2: 500-entry replies per round
    stall_replies: int = 5  # row 3: 5,000-entry replies per round
    wide_size: int = 20_000  # row 4
    wide_callers: int = 8
    sequential: int = 200  # row 5: calls per block, 6 pairs of blocks per round
    push_count: int = 10_000  # row 6
    push_rates: tuple[int, ...] = (10_000,)
    push_seconds: float = 3.0
    push_rounds: int = 3


QUICK = replace(Plan(), rounds=1, cold_calls=2, decode_replies=3, stall_replies=1, sequential=20)
QUICK = replace(QUICK, wide_size=2_000, wide_callers=2, push_count=400, push_rates=(2_000,))
QUICK = replace(QUICK, push_seconds=0.2, push_rounds=1)


def read_every_field(entries: Sequence[BaseModel]) -> int:
    """Read every field of every model, nested models included; the number of leaf values."""
    count = 0
    stack: list[BaseModel] = list(entries)
    while stack:
        model = stack.pop()
        getter = _GETTERS.get(type(model))
        if getter is None:
            getter = _GETTERS[type(model)] = _getter(type(model))
        for value in getter(model):
            if isinstance(value, BaseModel):
                stack.append(value)
            else:
                count += 1
    return count


def _getter(cls: type[BaseModel]) -> Callable[[BaseModel], tuple[Any, ...]]:
    names = tuple(cls.model_fields)
    if len(names) == 1:  # attrgetter of one name returns the value, not a tuple
        one = operator.attrgetter(names[0])
        return lambda model: (one(model),)
    return operator.attrgetter(*names)


# A reader that looks a class's fields up once, as an application's code names them once.
_GETTERS: dict[type[BaseModel], Callable[[BaseModel], tuple[Any, ...]]] = {}

# Entries read per loop turn by the rows that measure the loop (3 and 4): ~1.5 ms here.
_READ_SLICE = 500


async def read_in_slices(entries: Sequence[BaseModel]) -> int:
    """:func:`read_every_field`, letting other tasks run every :data:`_READ_SLICE` entries.

    What an application that cares about its loop does with 20,000 entries:
    read at once (~60 ms here) they would be the longest turn of rows 3 and 4,
    the application's turn rather than the library's.
    """
    count = 0
    for start in range(0, len(entries), _READ_SLICE):
        count += read_every_field(entries[start : start + _READ_SLICE])
        await anyio.lowlevel.checkpoint()
    return count


# -- rows 1 and 3: the cold gateway ---------------------------------------------


async def _cold_block(client: asyncquote.QuoteClient, group: str, calls: int) -> Block:
    """Sequential calls, each result kept and read, while the ticker measures the loop."""
    block, stop, kept = Block([]), anyio.Event(), []
    with _GcClock().running() as clock:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_ticker, stop, block, clock)
            await anyio.sleep(0.002)  # the ticker is running
            for _ in range(calls):
                start = time.perf_counter()
                result = await client.get_user_security(group)
                await read_in_slices(result)
                kept.append(result)
                block.seconds.append(time.perf_counter() - start)
            stop.set()
    block.gc_longest = clock.longest
    return block


async def _idle_stall() -> float:
    """The ticker on an idle loop for 0.3 s: the machine's own lateness, seconds."""
    block, stop = Block([]), anyio.Event()
    with _GcClock().running() as clock:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_ticker, stop, block, clock)
            await anyio.sleep(0.3)
            stop.set()
    return block.stall_wall


async def _cold_rows(
    port: int, plan: Plan, sdk: _Sdk | None, which: frozenset[int] = frozenset({1, 3})
) -> dict[str, Any]:
    """Rows 1 and 3 (those of ``which``) on one client, the cold gateway."""
    rows: dict[str, list[Any]] = {"ratio_mean": [], "ratio_median": [], "stall": [], "idle": []}
    rows.update(aq_ms=[], sdk_ms=[], gc_longest=[])
    async with asyncquote.connect(_HOST, port, quotas={3213: None}) as client:
        read_every_field(await client.get_user_security(fresh_group(500)))  # warm up
        if sdk is not None and 1 in which:
            await anyio.to_thread.run_sync(lambda: sdk.block(500, 1, read=True))
        for number in range(plan.rounds):
            if 1 in which:
                ours = theirs = None
                for who in ("sdk", "aq") if number % 2 == 0 else ("aq", "sdk"):
                    if who == "aq":
                        ours = await _cold_block(client, fresh_group(500), plan.cold_calls)
                    elif sdk is not None:
                        theirs = await anyio.to_thread.run_sync(
                            lambda: sdk.block(500, plan.cold_calls, read=True)
                        )
                assert ours is not None
                rows["aq_ms"].append(statistics.median(ours.seconds) * 1e3)
                if theirs is not None:
                    rows["sdk_ms"].append(statistics.median(theirs.seconds) * 1e3)
                    mean = statistics.fmean(theirs.seconds) / statistics.fmean(ours.seconds)
                    rows["ratio_mean"].append(mean)
                    median = statistics.median(theirs.seconds) / statistics.median(ours.seconds)
                    rows["ratio_median"].append(median)
            if 3 in which:
                rows["idle"].append(await _idle_stall() * 1e3)
                big = await _cold_block(client, fresh_group(5000), plan.stall_replies)
                rows["stall"].append(big.stall_wall * 1e3)
                rows["gc_longest"].append(big.gc_longest * 1e3)
    return rows


# -- row 4: concurrent wide replies, per backend --------------------------------


async def _wide_round(port: int, plan: Plan) -> dict[str, float]:
    idle = await _idle_stall()
    block, stop, kept = Block([]), anyio.Event(), []
    async with asyncquote.connect(_HOST, port, quotas={3213: None}) as client:

        async def call(tag: str) -> None:
            result = await client.get_user_security(fresh_group(plan.wide_size, tag))
            await read_in_slices(result)
            kept.append(result)

        with _GcClock().running() as clock:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_ticker, stop, block, clock)
                await anyio.sleep(0.002)
                async with anyio.create_task_group() as callers:
                    for index in range(plan.wide_callers):
                        callers.start_soon(call, str(index))
                stop.set()
    return {"turn": block.stall_wall * 1e3, "idle": idle * 1e3, "gc": clock.longest * 1e3}


# -- row 2: decoding alone -------------------------------------------------------


def _decode_round(replies: int, first: int, size: int = 500) -> dict[str, float]:
    """µs per security: the client's entry cache (collector included) and the bare parse.

    Each result is read in full inside the timed section (a lazy model pays
    there); then, outside it, read again three times: the quickest of those,
    which is reading alone, is subtracted, so the figure is decoding plus
    whatever a first read costs beyond a plain read. (The quickest, since a
    re-read the machine preempted would make the difference meaningless.)
    """
    bodies = _fresh_bodies(replies + first, size)[first:]
    start = time.perf_counter()
    for body in bodies:
        len(Qot_GetUserSecurity_pb2.Response.FromString(body).s2c.staticInfoList)
    parse = (time.perf_counter() - start) * 1e6 / (size * replies)
    cache, kept = EntryCache(), None
    timed = timed_cpu = reading = reading_cpu = 0.0
    gc.collect()
    for body in bodies:
        start, start_cpu = time.perf_counter(), time.thread_time()
        kept = cache.decode_reply(body)  # the previous result is freed, as the client's is
        read_every_field(kept)
        timed += time.perf_counter() - start
        timed_cpu += time.thread_time() - start_cpu
        alone = []
        for _ in range(3):
            again, again_cpu = time.perf_counter(), time.thread_time()
            read_every_field(kept)
            alone.append((time.perf_counter() - again, time.thread_time() - again_cpu))
        reading += min(wall for wall, _ in alone)
        reading_cpu += min(cpu for _, cpu in alone)
    total = timed - reading
    # The same in this thread's CPU time: what a loaded machine's other processes do not skew.
    total_cpu = timed_cpu - reading_cpu
    del kept
    scale = 1e6 / (size * replies)
    return {
        "us": total * scale,
        "cpu_us": total_cpu * scale,
        "read_us": reading * scale,
        "parse_us": parse,
    }


# -- row 5: sequential calls vs the floor (benchmarks.sequential) ----------------


def _sequential_rows(plan: Plan, backend: str) -> dict[str, list[float]]:
    with _simulator(2.0, None) as ports:
        rows = sequential_pairs(
            ports["prompt"], calls=plan.sequential, pairs=plan.rounds * 6, backend=backend
        )
    return summarise(rows)


# -- row 6: pushes ----------------------------------------------------------------


def _push_rows(plan: Plan, with_sdk: bool) -> dict[str, Any]:
    readers = [k for k in pushes.BURST_READERS if with_sdk or not k.startswith("sdk")]
    gateway = pushes._Gateway()
    try:
        bursts = pushes._burst_rounds(gateway, readers, plan.push_count, plan.push_rounds)
        latency = pushes._latency_rounds(
            gateway, ["asyncquote"], plan.push_rates, plan.push_seconds, plan.push_rounds
        )
    finally:
        gateway.close()
    return {
        "bursts": pushes._summarise_bursts(bursts, readers),
        "latency": pushes._summarise_latency(latency),
    }


ROWS = (1, 2, 3, 4, 5, 6)


def measure(
    plan: Plan,
    *,
    backend: str,
    sdk: bool,
    with_pushes: bool,
    rows: Sequence[int] = ROWS,
) -> dict[str, Any]:
    """Run the rows of ``rows`` in this process; the raw figures (a key per group of rows)."""
    which = frozenset(rows) - (frozenset() if with_pushes else {6})
    use_sdk = sdk and importlib.util.find_spec("futu") is not None
    raw: dict[str, Any] = {}
    if which & {1, 3, 4}:
        pool = 1000
        if which & {1, 3}:
            pool += plan.rounds * (500 * plan.cold_calls * 2 + 5000 * plan.stall_replies)
        with _gateway(pool) as port, tempfile.TemporaryDirectory() as home:
            if which & {1, 3}:
                client_sdk = _Sdk(port, home) if use_sdk and 1 in which else None
                try:
                    raw["cold"] = anyio.run(
                        _cold_rows, port, plan, client_sdk, which & {1, 3}, backend=backend
                    )
                finally:
                    if client_sdk is not None:
                        client_sdk.close()
            if 4 in which:
                raw["wide"] = {
                    name: [
                        anyio.run(_wide_round, port, plan, backend=name) for _ in range(plan.rounds)
                    ]
                    for name in ("asyncio", "trio")
                    if name == "asyncio" or importlib.util.find_spec("trio") is not None
                }
    if 2 in which:
        gc.collect()
        raw["decode"] = [
            _decode_round(plan.decode_replies, n * plan.decode_replies) for n in range(plan.rounds)
        ]
    if 5 in which:
        raw["sequential"] = _sequential_rows(plan, backend)
    if 6 in which:
        raw["pushes"] = _push_rows(plan, use_sdk)
    return raw


# Rows measured together (they share a client or a gateway's warm-up), each group
# in a process of its own unless --same-process.
_GROUPS = ((1, 3), (2,), (4,), (5,), (6,))


def _measure_apart(args: argparse.Namespace, rows: Sequence[int]) -> dict[str, Any]:
    """Each group of the selected rows in a fresh process; their raw figures merged."""
    raw: dict[str, Any] = {}
    for group in _GROUPS:
        chosen = [row for row in group if row in rows]
        if not chosen or (chosen == [6] and args.no_pushes):
            continue
        with tempfile.TemporaryDirectory() as out:
            command = [sys.executable, "-m", "benchmarks.issue25", "--same-process"]
            command += ["--rows", ",".join(map(str, chosen)), "--out", out, "--quiet"]
            command += ["--backend", args.backend]
            command += ["--quick"] * args.quick + ["--no-sdk"] * args.no_sdk
            command += ["--rounds", str(args.rounds)] if args.rounds else []
            subprocess.run(command, check=True)
            raw.update(json.loads((Path(out) / "issue25.json").read_text())["raw"])
    return raw


def _rows(text: str) -> tuple[int, ...]:
    try:
        rows = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of rows: {text!r}") from None
    if not rows or not set(rows) <= set(ROWS):
        raise argparse.ArgumentTypeError(f"rows are 1-6, not {text!r}")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.issue25", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (5; quick: 1)")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--no-sdk", action="store_true", help="skip the official SDK")
    parser.add_argument("--no-pushes", action="store_true", help="skip row 6 (~5 minutes)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--rows", type=_rows, default=ROWS, help="e.g. 2,4 (all: 1-6)")
    parser.add_argument(
        "--same-process", action="store_true", help="every row in this process (skews rows 2-4)"
    )
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.rounds:
        plan = replace(plan, rounds=args.rounds)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if args.same_process:
        raw = measure(
            plan,
            backend=args.backend,
            sdk=not args.no_sdk,
            with_pushes=not args.no_pushes,
            rows=args.rows,
        )
    else:
        raw = _measure_apart(args, args.rows)
    lines = [] if args.quiet else build_lines(raw, plan, args.backend)
    if not args.quiet:
        python = sys.version.split()[0]
        print(f"\nissue 25 targets (Python {python}, {args.backend}, medians of rounds)")
        print(render(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "issue25.json"
    report = {"when": started, "python": sys.version, "backend": args.backend, "plan": asdict(plan)}
    report["lines"] = [{**asdict(line), "met": line.met} for line in lines]
    path.write_text(json.dumps({**report, "raw": raw}, indent=1))
    if not args.quiet:
        print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
