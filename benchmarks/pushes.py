"""Live-quote push throughput and latency, beside the official SDK, on one gateway in one run.

``python -m benchmarks.pushes`` (``--quick`` for a smoke run of a few
seconds). The gateway (:mod:`benchmarks.push_gateway`: the simulator in its
own process) pushes a plan of QUOTE updates (:mod:`benchmarks.push_plan`)
to one subscribed reader at a time; each reader runs in a process of its
own, started afresh for each measurement, so that none competes for the
CPU while another is measured:

* **Throughput.** A burst of ``--count`` updates (10,000) over 100
  securities, pushed as fast as the gateway can. The figure is ``count``
  divided by the time from the gateway queueing the first push to the
  reader holding the final state of all 100 securities (updates/s). Readers:
  asyncquote's ``client.subscribe()`` read as a bot reads it
  (:mod:`benchmarks.push_reader`), the SDK's documented
  ``StockQuoteHandlerBase`` (a DataFrame per push) and the same handler
  with the SDK's own parse without the DataFrame (:mod:`benchmarks.push_sdk`),
  and the floor: a raw reader that only parses protobuf. Rounds are
  interleaved (the readers' order rotates each round); each ratio is the
  median of the per-round ratios, asyncquote against each reader of the
  same round.
* **Latency.** ``--seconds`` of updates at each of ``--rates``
  (10,000/s and 1,000/s), for asyncquote, the raw reader (the floor: on a
  2-core machine shared with the gateway process, its p99 is the scheduler's)
  and the SDK's documented handler:
  the time from the gateway stamping an update (the wall clock, just before
  it queues the push; the one clock the processes share) to the reader's
  code holding it, p50 and p99 of the updates delivered, and whether the
  reader reached the final state of every security in time (so that every
  update, or a newer one of its security, was delivered), with no update
  older than one already delivered.

Results go to ``--out``/pushes.json. ``--profile FILE`` adds one burst with
cProfile around asyncquote's reading loop and prints where its time goes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .push_plan import REPORT_PREFIX, SECURITIES

__all__ = ["main"]

BURST_READERS = ("asyncquote", "sdk", "sdk-lean", "raw")
LATENCY_READERS = ("asyncquote", "raw", "sdk")
# (versus, target ratio, what it says) for the throughput ratios of issue 25.
TARGETS = (
    ("sdk", 50.0, "asyncquote >= 50 x the SDK's documented handler"),
    ("sdk-lean", 2.0, "asyncquote >= 2 x the SDK's lean parse"),
    ("raw", 0.5, "asyncquote >= 0.5 x the raw protobuf reader"),
)
LATENCY_TARGET_MS = 2.0
LATENCY_TARGET_RATE = 10_000
_MODULES = {
    "asyncquote": "benchmarks.push_reader",
    "raw": "benchmarks.push_reader",
    "sdk": "benchmarks.push_sdk",
    "sdk-lean": "benchmarks.push_sdk",
}


class _Gateway:
    """The gateway process: commands in on stdin, one JSON answer per line out."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.push_gateway"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = self._answer()
        self.port: int = hello["port"]
        self.codes: list[str] = hello["codes"]

    def _answer(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the push gateway died")
        return json.loads(line)  # type: ignore[no-any-return]

    def command(self, **command: object) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _measure(
    gateway: _Gateway, kind: str, spec: dict[str, Any], command: dict[str, Any]
) -> dict[str, Any]:
    """Start a reader, wait until it is subscribed, have the gateway push, return its result."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            _MODULES[kind],
            kind,
            "127.0.0.1",
            str(gateway.port),
            json.dumps(spec),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    # A reader reports within its own timeout; this only catches one that hangs.
    killer = threading.Timer(spec["timeout"] + 120, proc.kill)
    killer.start()
    try:
        assert proc.stdout is not None

        def report() -> dict[str, Any]:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith(REPORT_PREFIX):
                    return json.loads(line[len(REPORT_PREFIX) :])  # type: ignore[no-any-return]
            raise RuntimeError(f"the {kind} reader ended without a report")

        ready = report()
        sent = gateway.command(**command)
        result = report()
        result.update(ready=ready, sent=sent)
        if result["final_ok"]:
            result["seconds"] = (result["done_ns"] - sent["t0_ns"]) / 1e9
            result["rate"] = spec["count"] / result["seconds"]
        return result
    finally:
        killer.cancel()
        try:
            proc.wait(10)  # the SDK's close() may wait for its busy handler thread
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _spec(gateway: _Gateway, count: int, timeout: float, *, latency: bool) -> dict[str, Any]:
    return {"codes": gateway.codes, "count": count, "timeout": timeout, "latency": latency}


def _burst_rounds(
    gateway: _Gateway, readers: Sequence[str], count: int, rounds: int
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for index in range(rounds):
        order = list(readers[index % len(readers) :]) + list(readers[: index % len(readers)])
        row: dict[str, Any] = {}
        for kind in order:
            spec = _spec(gateway, count, 60.0 + count / 200, latency=False)
            row[kind] = _measure(gateway, kind, spec, {"op": "burst", "count": count})
        results.append(row)
        print(
            f"  burst round {index + 1}: "
            + ", ".join(f"{kind} {_rate_text(row[kind])}" for kind in readers),
            flush=True,
        )
    return results


def _latency_rounds(
    gateway: _Gateway, readers: Sequence[str], rates: Sequence[int], seconds: float, rounds: int
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for index in range(rounds):
        for rate in rates:
            count = max(SECURITIES, int(rate * seconds))
            order = list(readers) if index % 2 == 0 else list(reversed(readers))
            for kind in order:
                # The reader's deadline: the run's length and 5 s for a backlog.
                spec = _spec(gateway, count, seconds + 5.0, latency=True)
                result = _measure(gateway, kind, spec, {"op": "rate", "count": count, "rate": rate})
                result.update(kind=kind, rate=rate, round=index + 1, count=count)
                results.append(result)
    return results


def _rate_text(result: dict[str, Any]) -> str:
    return f"{result['rate']:,.0f}/s" if result.get("final_ok") else "incomplete"


def _summarise_bursts(results: list[dict[str, Any]], readers: Sequence[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for kind in readers:
        rates = [row[kind].get("rate") for row in results]
        complete = [rate for rate in rates if rate is not None]
        summary[kind] = {
            "rates": rates,
            "median": statistics.median(complete) if complete else None,
            "delivered": [row[kind]["delivered"] for row in results],
        }
    for versus, target, text in TARGETS:
        if versus not in readers:
            continue
        ratios = [
            row["asyncquote"]["rate"] / row[versus]["rate"]
            for row in results
            if row["asyncquote"].get("rate") and row[versus].get("rate")
        ]
        summary[f"vs_{versus}"] = {
            "ratios": ratios,
            "median": statistics.median(ratios) if ratios else None,
            "target": target,
            "text": text,
        }
    return summary


def _print_bursts(summary: dict[str, Any], readers: Sequence[str], count: int) -> None:
    print(f"\nthroughput: {count:,} QUOTE updates over {SECURITIES} securities in one burst;")
    print("time until the reader holds the final state of all of them (updates/s)")
    print(f"{'reader':<28}{'rounds':>36}{'median':>12}{'delivered (median)':>20}")
    labels = {
        "asyncquote": "asyncquote subscribe()",
        "sdk": "SDK StockQuoteHandlerBase",
        "sdk-lean": "SDK parse, no DataFrame",
        "raw": "raw protobuf reader",
    }
    for kind in readers:
        row = summary[kind]
        rounds = " ".join("-" if r is None else f"{r:,.0f}" for r in row["rates"])
        median = "-" if row["median"] is None else f"{row['median']:,.0f}"
        delivered = f"{statistics.median(row['delivered']):,.0f}"
        print(f"{labels[kind]:<28}{rounds:>36}{median:>12}{delivered:>20}")
    print()
    for versus, target, text in TARGETS:
        ratio = summary.get(f"vs_{versus}")
        if ratio is None or ratio["median"] is None:
            continue
        spread = ", ".join(f"{r:.2f}" for r in ratio["ratios"])
        verdict = "met" if ratio["median"] >= target else "missed"
        print(f"{text}: {ratio['median']:.2f} x (rounds: {spread}) {verdict}")


def _summarise_latency(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rate in sorted({r["rate"] for r in results}, reverse=True):
        for kind in dict.fromkeys(r["kind"] for r in results):
            runs = [r for r in results if r["rate"] == rate and r["kind"] == kind]
            if not runs:
                continue
            rows.append(
                {
                    "kind": kind,
                    "rate": rate,
                    "count": runs[0]["count"],
                    "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                    "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                    "p99_rounds": [r["p99_ms"] for r in runs],
                    "max_ms": max(r["max_ms"] for r in runs),
                    "final_ok": all(r["final_ok"] for r in runs),
                    "delivered": [r["delivered"] for r in runs],
                    "stale": sum(r["stale"] for r in runs),
                }
            )
    return rows


def _print_latency(rows: list[dict[str, Any]], seconds: float) -> None:
    print(f"\nlatency: {seconds:g} s at a fixed rate; gateway stamp to reader")
    print("(ms, medians of the rounds' p50 and p99; max over the rounds)")
    header = ("reader", "rate/s", "p50", "p99", "max", "all delivered", "delivered/sent", "stale")
    print("{:<12}{:>8}{:>9}{:>9}{:>10}  {:<14}{:>24}  {}".format(*header))
    for row in rows:
        delivered = "/".join(f"{d:,}" for d in row["delivered"]) + f" / {row['count']:,}"
        cells = (
            row["kind"],
            f"{row['rate']:,}",
            f"{row['p50_ms']:.3f}",
            f"{row['p99_ms']:.3f}",
            f"{row['max_ms']:.1f}",
            "yes" if row["final_ok"] else "NO",
            delivered,
            row["stale"],
        )
        print("{:<12}{:>8}{:>9}{:>9}{:>10}  {:<14}{:>24}  {}".format(*cells))
    floor = {r["rate"]: r for r in rows if r["kind"] == "raw"}
    for row in rows:
        if row["kind"] == "asyncquote" and row["rate"] == LATENCY_TARGET_RATE:
            met = row["final_ok"] and row["p99_ms"] <= LATENCY_TARGET_MS and not row["stale"]
            print(
                f"\nat {LATENCY_TARGET_RATE:,}/s p99 <= {LATENCY_TARGET_MS:g} ms with every update "
                f"(or a newer one) delivered: p99 {row['p99_ms']:.3f} ms, "
                f"{'all' if row['final_ok'] else 'NOT all'} delivered: {'met' if met else 'missed'}"
            )
            raw = floor.get(row["rate"])
            if raw is not None:
                # The floor of this machine and gateway: the same path to a
                # reader that does nothing but parse (see the module docstring).
                print(
                    f"the raw reader at the same rate, same rounds: p99 {raw['p99_ms']:.3f} ms "
                    f"(asyncquote / raw, median of rounds: "
                    f"{_median_ratio(row['p99_rounds'], raw['p99_rounds']):.2f})"
                )


def _median_ratio(ours: Sequence[float], floor: Sequence[float]) -> float:
    return statistics.median(a / b for a, b in zip(ours, floor, strict=True) if b > 0)


def _profile(gateway: _Gateway, count: int, path: Path) -> None:
    import pstats

    spec = _spec(gateway, count, 60.0, latency=False)
    spec["profile"] = str(path)
    _measure(gateway, "asyncquote", spec, {"op": "burst", "count": count})
    print(f"\ncProfile of asyncquote's reader during one {count:,}-update burst ({path}):")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(20)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (3; quick: 1)")
    parser.add_argument("--count", type=int, help="updates per burst (10,000; quick: 400)")
    parser.add_argument("--rates", help="latency rates, comma-separated (10000,1000; quick: 2000)")
    parser.add_argument("--seconds", type=float, help="seconds per latency run (3; quick: 0.2)")
    parser.add_argument("--no-sdk", action="store_true", help="skip the official SDK's readers")
    parser.add_argument("--no-latency", action="store_true", help="throughput only")
    parser.add_argument("--no-burst", action="store_true", help="latency only")
    parser.add_argument("--profile", type=Path, help="also profile asyncquote's reader into FILE")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    count = args.count or (400 if args.quick else 10_000)
    rates = [int(r) for r in (args.rates or ("2000" if args.quick else "10000,1000")).split(",")]
    seconds = args.seconds or (0.2 if args.quick else 3.0)
    with_sdk = not args.no_sdk and importlib.util.find_spec("futu") is not None
    if not with_sdk and not args.no_sdk:
        print("the official SDK (futu-api) is not installed: its readers are skipped")
    burst_readers = [k for k in BURST_READERS if with_sdk or not k.startswith("sdk")]
    latency_readers = [k for k in LATENCY_READERS if with_sdk or not k.startswith("sdk")]

    gateway = _Gateway()
    try:
        print(f"push benchmark: gateway on port {gateway.port}, {rounds} round(s)", flush=True)
        bursts = [] if args.no_burst else _burst_rounds(gateway, burst_readers, count, rounds)
        latency = (
            []
            if args.no_latency
            else _latency_rounds(gateway, latency_readers, rates, seconds, rounds)
        )
        if args.profile is not None:
            _profile(gateway, count, args.profile)
    finally:
        gateway.close()
    summary = _summarise_bursts(bursts, burst_readers) if bursts else {}
    if bursts:
        _print_bursts(summary, burst_readers, count)
    latency_rows = _summarise_latency(latency) if latency else []
    if latency_rows:
        _print_latency(latency_rows, seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pushes.json").write_text(
        json.dumps(
            {
                "count": count,
                "rounds": rounds,
                "bursts": bursts,
                "summary": summary,
                "latency": latency,
                "latency_summary": latency_rows,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
