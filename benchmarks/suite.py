"""Throughput, latency, decoding and memory: asyncquote against a floor and the official SDK.

Everything runs against the simulator in a separate process over loopback
TCP, with every quota off (``NO_QUOTAS`` there, ``quotas={3213: None}`` here),
and every figure is reported as a ratio to the same workload measured in the
same run by the hand-written floor client (:mod:`benchmarks.floor`) and by
the official SDK (:mod:`benchmarks.sdk_worker`, when ``futu-api`` is
installed). See ``benchmarks/README.md`` for what each row means::

    python -m benchmarks              # the full run, about a minute
    python -m benchmarks --quick      # a smoke run of a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio

import asyncquote
from asyncquote._client.entry_cache import EntryCache, ReplyDecoding
from asyncquote._pb import Qot_GetUserSecurity_pb2

from .floor import FloorClient
from .watchlist import LARGE_GROUP, LARGE_GROUP_SIZE, benchmark_store, small_group

__all__ = ["Counts", "Row", "main"]

_HOST = "127.0.0.1"
# Subprocesses run ``-m benchmarks.…`` from here, wherever the suite was started.
_ROOT = Path(__file__).resolve().parent.parent
_FLOOR_WINDOW = 100
_SDK_THREADS = 8
_SUBPROCESS_TIMEOUT = 600


@dataclass(frozen=True)
class Counts:
    """How much work each workload does; ``--quick`` shrinks it all."""

    sequential: int = 3000
    concurrent: int = 30_000
    callers: tuple[int, ...] = (10, 100, 1000)
    large: int = 150
    decode_repeats: int = 200
    sdk_sequential: int = 1000
    sdk_per_thread: int = 250
    sdk_large: int = 40
    in_flight: int = 10_000
    reply_delay: float = 3.0
    rounds: int = 3


QUICK = Counts(
    sequential=100,
    concurrent=1000,
    large=3,
    decode_repeats=5,
    sdk_sequential=30,
    sdk_per_thread=5,
    sdk_large=2,
    in_flight=300,
    reply_delay=0.4,
    rounds=1,
)


@dataclass
class Row:
    """One line of the table: a workload measured three ways.

    ``higher_is_better`` says how to read ``unit``; every ratio is written so
    that above 1 means asyncquote did better than the reference.
    """

    name: str
    unit: str
    higher_is_better: bool
    asyncquote: float
    floor: float | None = None
    sdk: float | None = None
    note: str = ""
    vs_floor: float | None = field(default=None, init=False)
    vs_sdk: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.vs_floor = self._ratio(self.floor)
        self.vs_sdk = self._ratio(self.sdk)

    def _ratio(self, reference: float | None) -> float | None:
        if reference is None or reference <= 0 or self.asyncquote <= 0:
            return None
        if self.higher_is_better:
            return self.asyncquote / reference
        return reference / self.asyncquote


@dataclass(frozen=True)
class Target:
    """A goal from the issue, checked against a ratio from this run."""

    text: str
    measured: float | None
    goal: float
    higher_is_better: bool = True

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        if self.higher_is_better:
            return self.measured >= self.goal
        return self.measured <= self.goal


# -- the simulator ----------------------------------------------------------


@contextmanager
def _simulator(reply_delay: float, cpu: int | None) -> Iterator[dict[str, int]]:
    """Run ``benchmarks.sim_process`` and yield its ports; it exits when we close its stdin."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sim_process", "--reply-delay", str(reply_delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=_ROOT,
    )
    try:
        if cpu is not None:
            os.sched_setaffinity(process.pid, {cpu})
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process failed to start")
        yield json.loads(line)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the floor ----------------------------------------------------------------


async def _floor_round(port: int, counts: Counts) -> dict[str, float]:
    client = await FloorClient.connect(_HOST, port)
    try:
        await client.sequential([small_group(0)], 20)
        seconds = await client.sequential([small_group(0)], counts.sequential)
        result = {"sequential": counts.sequential / seconds}
        groups = [small_group(i) for i in range(_FLOOR_WINDOW)]
        seconds = await client.windowed(groups, counts.concurrent, _FLOOR_WINDOW)
        result["windowed"] = counts.concurrent / seconds
        seconds = await client.sequential([LARGE_GROUP], counts.large)
        result["large"] = counts.large / seconds
        return result
    finally:
        await client.close()


# -- asyncquote ---------------------------------------------------------------


class _Forgetful(OrderedDict[str, Any]):
    """A result memory that never finds anything: no reply counts as seen."""

    def get(self, key: str, default: Any = None) -> Any:
        return default


class _Uncached(EntryCache):
    """An entry cache that never finds anything: every entry counts as new.

    Each reply goes through a cache of its own, so it takes the client's
    real path (raw view, one parse, window and doorkeeper, slices) with
    nothing to find.
    """

    def start(self, body: bytes) -> ReplyDecoding:
        return EntryCache().start(body)


@contextmanager
def _no_reuse(client: asyncquote.QuoteClient, *, entries: bool = True) -> Iterator[None]:
    """Make ``client`` treat every reply (and, with ``entries``, every entry) as new.

    The client recognises a reply identical to a group's last one, and
    entries it has decoded before, and reuses their models. Measuring the
    decoding itself needs both off; there is no public switch (nothing but
    a benchmark wants one), so this swaps the two private attributes.
    """
    saved = client._results, client._entries
    client._results = _Forgetful()
    if entries:
        client._entries = _Uncached()
    try:
        yield
    finally:
        client._results, client._entries = saved


async def _asyncquote_round(port: int, counts: Counts) -> dict[str, float]:
    async with asyncquote.connect(_HOST, port, quotas={3213: None}) as client:
        for _ in range(20):
            await client.get_user_security(small_group(0))

        start = time.perf_counter()
        for _ in range(counts.sequential):
            await client.get_user_security(small_group(0))
        result = {"sequential": counts.sequential / (time.perf_counter() - start)}

        async def concurrently(callers: int) -> float:
            calls_each = max(1, counts.concurrent // callers)

            async def caller(index: int) -> None:
                # Its own group: concurrent calls for one group are merged
                # into a single request, and requests are what is measured.
                group = small_group(index)
                for _ in range(calls_each):
                    await client.get_user_security(group)

            start = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for index in range(callers):
                    tg.start_soon(caller, index)
            return callers * calls_each / (time.perf_counter() - start)

        for callers in counts.callers:
            result[f"callers_{callers}"] = await concurrently(callers)
        with _no_reuse(client):
            result["callers_100_decoded"] = await concurrently(100)

        async def large() -> float:
            start = time.perf_counter()
            for _ in range(counts.large):
                await client.get_user_security(LARGE_GROUP)
            return counts.large / (time.perf_counter() - start)

        result["large_reused"] = await large()
        # As if the watchlist changed between calls, but its entries had
        # been seen before (one security added, say): only entries are reused.
        with _no_reuse(client, entries=False):
            result["large_known"] = await large()
        # Every entry new: the decode-bound figure.
        with _no_reuse(client):
            result["large"] = await large()
    return result


def _large_reply_body() -> bytes:
    """The body of the simulator's 3213 reply for the large group."""
    response = Qot_GetUserSecurity_pb2.Response(retType=0)
    response.s2c.staticInfoList.extend(benchmark_store().securities_in(LARGE_GROUP))
    return response.SerializeToString()


def _decode_microseconds(body: bytes, repeats: int) -> dict[str, float]:
    """µs per security to parse the reply (the floor), and to parse it and build models.

    ``asyncquote`` is every entry new: the reply through an entry cache that
    has never seen it (the client's real path). ``asyncquote_known`` is the
    same reply through the client's entry cache once it has seen the entries
    (twice: an entry is kept once asked for again): the reply read as raw
    entries and each found by its bytes. The cyclic GC stays on, as in an
    application. The medians are what the table shows: they leave out the
    occasional full collection, which the means include.
    """
    per_security = 1e6 / LARGE_GROUP_SIZE
    parse: list[float] = []
    convert: list[float] = []
    known: list[float] = []
    parse_message = Qot_GetUserSecurity_pb2.Response.FromString
    cache = EntryCache()
    cache.decode_reply(body)
    cache.decode_reply(body)
    for _ in range(repeats):
        start = time.perf_counter()
        parse_message(body)
        middle = time.perf_counter()
        EntryCache().decode_reply(body)
        end = time.perf_counter()
        cache.decode_reply(body)
        parse.append((middle - start) * per_security)
        convert.append((end - middle) * per_security)
        known.append((time.perf_counter() - end) * per_security)
    return {
        "floor": statistics.median(parse),
        "asyncquote": statistics.median(convert),
        "asyncquote_known": statistics.median(known),
        "floor_mean": statistics.fmean(parse),
        "asyncquote_mean": statistics.fmean(convert),
    }


# -- the official SDK ---------------------------------------------------------


def _sdk_installed() -> bool:
    return importlib.util.find_spec("futu") is not None


def _run_sdk(port: int, counts: Counts, workdir: Path, body: bytes) -> dict[str, Any]:
    body_path = workdir / "large_reply.bin"
    body_path.write_bytes(body)
    spec = {
        "small_groups": [small_group(i) for i in range(_SDK_THREADS)],
        "warmup": 10,
        "sequential": counts.sdk_sequential,
        "threads": _SDK_THREADS,
        "calls_per_thread": counts.sdk_per_thread,
        "large": counts.sdk_large,
        "large_group": LARGE_GROUP,
        "large_body": str(body_path),
        "decode_repeats": max(3, counts.decode_repeats // 10),
    }
    spec_path, out_path = workdir / "sdk_spec.json", workdir / "sdk_result.json"
    spec_path.write_text(json.dumps(spec))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.sdk_worker",
            _HOST,
            str(port),
            str(out_path),
            str(spec_path),
        ],
        # The SDK writes its logs under $HOME and chats on the console.
        env={**os.environ, "HOME": str(workdir)},
        cwd=_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=_SUBPROCESS_TIMEOUT,
    )
    result: dict[str, Any] = json.loads(out_path.read_text())
    return result


# -- memory -------------------------------------------------------------------


def _run_memory(client: str, port: int, calls: int, mode: str) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", client, str(port), str(calls), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=_SUBPROCESS_TIMEOUT,
        cwd=_ROOT,
    )
    result: dict[str, float] = json.loads(completed.stdout)
    return result


# -- the run --------------------------------------------------------------------


def _best(rounds: Sequence[dict[str, float]]) -> dict[str, float]:
    """The best of each figure over the rounds: noise only ever slows a run down."""
    return {key: max(r[key] for r in rounds) for key in rounds[0]}


def _timed(label: str, work: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    print(f"  {label} ...", end="", flush=True)
    result = work()
    print(f" {time.perf_counter() - start:.1f} s", flush=True)
    return result


def measure(counts: Counts, *, sdk: bool, memory: bool, pin: bool) -> dict[str, Any]:
    """Run every workload and return the raw figures."""
    client_cpu, sim_cpu = (0, 1) if pin else (None, None)
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    raw: dict[str, Any] = {}
    body = _large_reply_body()
    with _simulator(counts.reply_delay, sim_cpu) as ports, tempfile.TemporaryDirectory() as tmp:
        prompt, delayed = ports["prompt"], ports["delayed"]
        floor_rounds: list[dict[str, float]] = []
        asyncquote_rounds: list[dict[str, float]] = []
        for number in range(1, counts.rounds + 1):
            # Interleaved, so that a slow patch of the machine hits both alike.
            floor_rounds.append(
                _timed(f"round {number}: floor", lambda: asyncio.run(_floor_round(prompt, counts)))
            )
            asyncquote_rounds.append(
                _timed(
                    f"round {number}: asyncquote",
                    lambda: anyio.run(_asyncquote_round, prompt, counts),
                )
            )
        raw["floor"] = _best(floor_rounds)
        raw["asyncquote"] = _best(asyncquote_rounds)
        gc.collect()
        raw["decode"] = _decode_microseconds(body, counts.decode_repeats)
        if sdk and _sdk_installed():
            raw["sdk"] = _timed("official SDK", lambda: _run_sdk(prompt, counts, Path(tmp), body))
        if memory:
            raw["memory"] = {}
            for client in ("floor", "asyncquote"):
                for mode in ("rss", "tracemalloc"):
                    raw["memory"][f"{client}_{mode}"] = _timed(
                        f"memory: {client} ({mode})",
                        functools.partial(_run_memory, client, delayed, counts.in_flight, mode),
                    )
    return raw


def build_rows(raw: dict[str, Any], counts: Counts) -> list[Row]:
    """The table, from the raw figures."""
    floor, ours, sdk = raw["floor"], raw["asyncquote"], raw.get("sdk")
    rows = [
        Row(
            "sequential",
            "calls/s",
            True,
            ours["sequential"],
            floor["sequential"],
            sdk and sdk["sequential"],
        )
    ]
    concurrent_note = f"floor: {_FLOOR_WINDOW} in flight; SDK: {_SDK_THREADS} threads"
    for callers in counts.callers:
        rows.append(
            Row(
                f"{callers} concurrent callers",
                "calls/s",
                True,
                ours[f"callers_{callers}"],
                floor["windowed"],
                sdk and sdk["threads"],
                note=concurrent_note,
            )
        )
    rows.append(
        Row(
            "100 callers, every entry new",
            "calls/s",
            True,
            ours["callers_100_decoded"],
            floor["windowed"],
            sdk and sdk["threads"],
            note="asyncquote's reply and entry reuse off: every entry decoded; " + concurrent_note,
        )
    )
    for key, name, note in (
        ("large", "watchlist, every entry new", "end to end, sequential, every entry decoded"),
        (
            "large_known",
            "watchlist, entries known",
            "a reply not seen before, made of entries seen before: their models are reused",
        ),
        (
            "large_reused",
            "watchlist, unchanged",
            "the same reply again: asyncquote reuses the last models (same SHA-1)",
        ),
    ):
        rows.append(
            Row(
                f"{LARGE_GROUP_SIZE}-security {name}",
                "calls/s",
                True,
                ours[key],
                floor["large"],
                sdk and sdk["large"],
                note=note,
            )
        )
    sdk_decode = sdk.get("decode_seconds") if sdk else None
    rows.append(
        Row(
            "decode to models",
            "µs/security",
            False,
            raw["decode"]["asyncquote"],
            raw["decode"]["floor"],
            sdk_decode and sdk_decode * 1e6 / LARGE_GROUP_SIZE,
            note="every entry new; floor: protobuf parse only; SDK: to DataFrame",
        )
    )
    rows.append(
        Row(
            "decode, entries known",
            "µs/security",
            False,
            raw["decode"]["asyncquote_known"],
            raw["decode"]["floor"],
            sdk_decode and sdk_decode * 1e6 / LARGE_GROUP_SIZE,
            note="raw entries looked up by their bytes in the client's entry cache",
        )
    )
    memory = raw.get("memory")
    if memory:
        in_flight = f"{counts.in_flight:,} calls in flight"
        tasks_mb = memory["asyncquote_tracemalloc"]["tasks_mb"]
        for name, unit, mode, figure, note in (
            (
                in_flight,
                "MB (RSS)",
                "rss",
                "in_flight_mb",
                "above baseline, callers' tasks included; SDK: blocking calls, one thread each",
            ),
            (
                in_flight,
                "MB (heap)",
                "tracemalloc",
                "in_flight_mb",
                f"tracemalloc; {tasks_mb:.1f} MB of it are the bare asyncio tasks",
            ),
            (
                f"{counts.in_flight:,} calls, replies decoded",
                "MB (RSS)",
                "rss",
                "burst_mb",
                "peak of the whole burst; asyncquote keeps each group's last result",
            ),
        ):
            ours_mb = memory[f"asyncquote_{mode}"][figure]
            floor_mb = memory[f"floor_{mode}"][figure]
            rows.append(Row(name, unit, False, ours_mb, floor_mb, note=note))
    return rows


def build_targets(rows: list[Row], counts: Counts) -> list[Target]:
    """The issue's targets, each against its ratio from this run."""
    by_name = {(row.name, row.unit): row for row in rows}
    sequential = by_name[("sequential", "calls/s")]
    hundred = by_name.get(("100 concurrent callers", "calls/s"))
    hundred_new = by_name[("100 callers, every entry new", "calls/s")]
    large = by_name[(f"{LARGE_GROUP_SIZE}-security watchlist, every entry new", "calls/s")]
    large_known = by_name[(f"{LARGE_GROUP_SIZE}-security watchlist, entries known", "calls/s")]
    decode = by_name[("decode to models", "µs/security")]
    decode_known = by_name[("decode, entries known", "µs/security")]
    memory = by_name.get((f"{counts.in_flight:,} calls in flight", "MB (RSS)"))
    targets = [
        Target("sequential: >= 0.8 x floor", sequential.vs_floor, 0.8),
        Target("sequential: >= 3 x SDK", sequential.vs_sdk, 3.0),
    ]
    # Each goal is shown for the default client, which reuses what it has
    # decoded before, and with every entry decoded afresh.
    if hundred is not None:
        targets += [
            Target("100 callers: >= 0.6 x floor (pipelined)", hundred.vs_floor, 0.6),
            Target("  ... every entry new", hundred_new.vs_floor, 0.6),
            Target("100 callers: >= 20 x SDK (8 threads)", hundred.vs_sdk, 20.0),
            Target("  ... every entry new", hundred_new.vs_sdk, 20.0),
        ]
    targets += [
        Target(f"{LARGE_GROUP_SIZE}-security watchlist: >= 5 x SDK", large_known.vs_sdk, 5.0),
        Target("  ... every entry new", large.vs_sdk, 5.0),
        Target("decode: <= 2 µs per security", decode_known.asyncquote, 2.0, False),
        Target("  ... every entry new", decode.asyncquote, 2.0, higher_is_better=False),
    ]
    if memory is not None:
        targets.append(
            Target(
                f"{counts.in_flight:,} in flight: < 50 MB above baseline",
                memory.asyncquote,
                50.0,
                higher_is_better=False,
            )
        )
    return targets


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def render(rows: list[Row], targets: list[Target]) -> str:
    """The table and the targets as text."""
    width = max(len("workload"), *(len(row.name) for row in rows)) + 2
    header = (
        f"{'workload':<{width}}{'unit':>12}{'asyncquote':>12}{'floor':>10}{'vs floor':>10}"
        f"{'SDK':>10}{'vs SDK':>9}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.name:<{width}}{row.unit:>12}{_number(row.asyncquote):>12}"
            f"{_number(row.floor):>10}{_ratio(row.vs_floor):>10}{_number(row.sdk):>10}"
            f"{_ratio(row.vs_sdk):>9}"
        )
    lines.append("")
    lines.append(
        "vs = how asyncquote compares, >1 is better: a throughput ratio, or the inverse "
        "ratio for µs and MB."
    )
    lines.extend(f"  {row.name} ({row.unit}): {row.note}" for row in rows if row.note)
    lines.append("")
    lines.append("targets:")
    for target in targets:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target.met]
        measured = "-" if target.measured is None else f"{target.measured:.2f}"
        lines.append(f"  {target.text:<46} measured {measured:>8}  {verdict}")
    return "\n".join(lines)


def _chart(rows: list[Row], path: Path) -> bool:
    """Draw the ratios as bars, if matplotlib is installed; say whether it was."""
    if importlib.util.find_spec("matplotlib") is None:
        return False
    # By name: matplotlib is optional and not a dependency, so it has no stubs here.
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")

    labels = [f"{row.name}\n({row.unit})" for row in rows]
    figure, axes = plt.subplots(figsize=(10, 5))
    positions = range(len(rows))
    axes.bar(
        [p - 0.2 for p in positions], [row.vs_floor or 0 for row in rows], 0.4, label="vs floor"
    )
    axes.bar([p + 0.2 for p in positions], [row.vs_sdk or 0 for row in rows], 0.4, label="vs SDK")
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xticks(list(positions), labels, rotation=30, ha="right", fontsize=8)
    axes.set_ylabel("asyncquote relative to reference (>1 is better)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--rounds", type=int, help="rounds of the throughput workloads")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results"), help="where JSON and PNG go"
    )
    parser.add_argument("--no-sdk", action="store_true", help="skip the official SDK")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument(
        "--pin", action="store_true", help="pin this process to CPU 0 and the simulator to CPU 1"
    )
    args = parser.parse_args(argv)
    counts = QUICK if args.quick else Counts()
    if args.rounds:
        counts = Counts(**{**asdict(counts), "rounds": args.rounds})

    print(
        f"asyncquote benchmark{' (quick)' if args.quick else ''}: simulator in a separate "
        f"process over loopback TCP, quotas off; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, asyncio"
    )
    raw = measure(counts, sdk=not args.no_sdk, memory=not args.no_memory, pin=args.pin)
    rows = build_rows(raw, counts)
    targets = build_targets(rows, counts)
    print()
    print(render(rows, targets))

    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "pinned": args.pin,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "counts": asdict(counts),
        "raw": raw,
        "rows": [asdict(row) for row in rows],
        "targets": [{**asdict(t), "met": t.met} for t in targets],
    }
    json_path = args.out / "benchmark.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nJSON: {json_path}")
    chart_path = args.out / "benchmark.png"
    if _chart(rows, chart_path):
        print(f"chart: {chart_path}")
    else:
        print("chart: skipped (matplotlib is not installed)")
    return 0
