"""How close does the limiter get to the quota without ever exceeding it?

Runs the simulator over real loopback TCP with a scaled window (10 calls per
second by default) and random reply latency, fires all calls at once through
one client, and reports:

* **efficiency**: accepted calls per window divided by the quota, where the
  windows counted are those the arrivals span (target >= 0.97);
* **rejections** at the simulator (target 0);
* the same workload with the limiter turned off (the official SDK's
  behaviour), as the baseline measured in the same run.

    python -m benchmarks.quota_efficiency            # 100 calls, 10/1 s, 0-20 ms latency
    python -m benchmarks.quota_efficiency --quick    # a smoke run of a second or so
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio

import asyncquote
from asyncquote import Quota
from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator

GUS = 3213


@dataclass
class Run:
    """One workload's outcome."""

    name: str
    calls: int
    succeeded: int
    failed: int
    rejections: int
    span_seconds: float
    efficiency: float


async def _run(name: str, calls: int, quota: Quota, latency: float, limited: bool) -> Run:
    faults = Faults(reply_delay=(0.0, latency), seed=1) if latency > 0 else None
    async with Simulator(port=0, quotas={GUS: quota}, faults=faults) as sim:
        client_quotas = {GUS: quota if limited else None}
        outcomes: list[bool] = []
        async with asyncquote.connect(
            sim.host, sim.port, quotas=client_quotas, keepalive=False, quota_retries=0
        ) as client:
            request = Qot_GetUserSecurity_pb2.Request()
            request.c2s.groupName = "All"

            async def call() -> None:
                # client.request, not get_user_security: the latter would merge
                # concurrent calls for one group into a single request.
                try:
                    await client.request(GUS, request, Qot_GetUserSecurity_pb2.Response)
                except asyncquote.AsyncQuoteError:
                    outcomes.append(False)
                else:
                    outcomes.append(True)

            async with anyio.create_task_group() as tg:
                for _ in range(calls):
                    tg.start_soon(call)
        accepted = sorted(r.time for r in sim.requests if r.proto_id == GUS and not r.over_quota)
        span = accepted[-1] - accepted[0] if accepted else 0.0
        windows = span / quota.period + 1
        return Run(
            name=name,
            calls=calls,
            succeeded=outcomes.count(True),
            failed=outcomes.count(False),
            rejections=len(sim.rejections),
            span_seconds=round(span, 3),
            efficiency=round(len(accepted) / windows / quota.max_calls, 4),
        )


async def measure(calls: int, quota: Quota, latency: float) -> list[Run]:
    """The limited run and the unlimited baseline, in one event loop."""
    return [
        await _run("asyncquote (queued)", calls, quota, latency, limited=True),
        await _run("no limiter (baseline)", calls, quota, latency, limited=False),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--max-calls", type=int, default=10, help="quota: calls per window")
    parser.add_argument("--period", type=float, default=1.0, help="quota: window in seconds")
    parser.add_argument("--latency", type=float, default=0.02, help="max reply delay, seconds")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.period, args.latency = 30, 0.2, 0.005
    quota = Quota(args.max_calls, args.period)
    runs = anyio.run(measure, args.calls, quota, args.latency)

    print(
        f"quota efficiency: {args.calls} concurrent get_user_security calls, quota {quota}, "
        f"reply latency 0-{args.latency * 1000:g} ms, simulator over loopback TCP"
    )
    print(f"{'run':<24}{'ok':>5}{'failed':>8}{'rejected':>10}{'span s':>9}{'efficiency':>12}")
    for run in runs:
        # Efficiency means nothing for a run whose calls failed.
        efficiency = f"{run.efficiency:.3f}" if run.failed == 0 else "-"
        print(
            f"{run.name:<24}{run.succeeded:>5}{run.failed:>8}{run.rejections:>10}"
            f"{run.span_seconds:>9.2f}{efficiency:>12}"
        )
    limited = runs[0]
    print(
        f"\nasyncquote: {limited.efficiency:.3f} of the quota used (target >= 0.97), "
        f"{limited.rejections} rejections (target 0); without a limiter "
        f"{runs[1].rejections} of {args.calls} calls were rejected."
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
