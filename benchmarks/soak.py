"""Soak under plain ``asyncio.run``: timeouts, cancellations and late replies.

Many callers ask the simulator for watchlists for ``--seconds`` (120 by
default) through one client, in the same process, started the way users start
a program (``asyncio.run``, or ``uvloop.run`` with ``--runner uvloop``; no
anyio runner, ``sniffio`` importable). Replies are held back a random while,
and callers give up often: some calls time out and others are cancelled
before their replies come, so those replies arrive after their caller left
and free their quota slots from the event loop's read callback. 3213 has a
quota on both sides (the simulator refuses what overruns it).

At the end it reports how every call ended -- ok, refused as expected (a
group that does not exist), timed out, cancelled, rate limited, connection
lost, wrong (a reply that is not the one for the caller's own request), hung
(no outcome long after its time) -- and, once every late reply is in and the
quota's window has passed, the slots still in use and the reconnects (none
is planned). It exits 1 if any of wrong, hung, used or reconnects is not 0.

    python benchmarks/soak.py                     # 120 s
    python benchmarks/soak.py --seconds 3 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import sniffio  # noqa: F401 -- imported on purpose: the environment users have

import asyncquote
from asyncquote import Quota
from asyncquote._models.convert import static_infos_from_pb
from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator

GUS = 3213
GROUPS = ["All", "HK", "US", "CN", "Tech", "Futures", "全部", "港股", "no such group"]
QUOTA = Quota(100, 0.5)  # scaled down from OpenD's 10/30 s: many windows per run
MAX_REPLY_DELAY = 0.06
# A call that has no outcome this long after it started is hung: far beyond
# its timeout plus any wait for quota (a few windows at worst).
HANG_AFTER = 30.0
#: The counts that must be 0 for the soak to pass.
MUST_BE_ZERO = ("wrong", "hung", "used", "reconnects")


@dataclass
class Report:
    """How the soak went; see the module docstring."""

    runner: str
    seconds: float
    callers: int
    outcomes: Counter[str] = field(default_factory=Counter)
    wrong: int = 0
    hung: int = 0
    used: int = -1
    reconnects: int = -1
    pending: int = -1
    simulator_refusals: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failures(self) -> dict[str, int]:
        """The counts that must be 0 and are not."""
        return {name: getattr(self, name) for name in MUST_BE_ZERO if getattr(self, name)}

    def line(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items()))
        return (
            f"soak ({self.runner}, {self.seconds:g} s, {self.callers} callers): "
            f"{self.calls} calls: {counts}; wrong {self.wrong}, hung {self.hung}, "
            f"limiter used {self.used}, unplanned reconnects {self.reconnects}, "
            f"pending {self.pending}, simulator refusals {self.simulator_refusals}"
        )


async def soak(seconds: float, callers: int, runner: str, seed: int = 20261206) -> Report:
    """Run the soak for ``seconds`` with ``callers`` concurrent callers."""
    report = Report(runner, seconds, callers)
    faults = Faults(reply_delay=(0.0, MAX_REPLY_DELAY), seed=seed)
    async with Simulator(port=0, quotas={GUS: QUOTA}, faults=faults) as sim:
        expected = {
            group: static_infos_from_pb(sim.watchlists.securities_in(group))
            for group in GROUPS
            if sim.watchlists.find_group(group) is not None
        }
        async with asyncquote.connect(
            sim.host, sim.port, quotas={GUS: QUOTA}, timeout=5, reconnect=True
        ) as client:
            outcomes = report.outcomes

            def wrong(text: str) -> None:
                report.wrong += 1
                if len(report.examples) < 10:
                    report.examples.append(text)

            async def one_call(group: str, raw: bool, timeout: float) -> None:
                try:
                    if raw:  # bypasses single-flight: one request per call
                        request = Qot_GetUserSecurity_pb2.Request()
                        request.c2s.groupName = group
                        response = await client.request(
                            GUS, request, Qot_GetUserSecurity_pb2.Response, timeout=timeout
                        )
                        items = static_infos_from_pb(response.s2c.staticInfoList)
                    else:
                        items = await client.get_user_security(group, timeout=timeout)
                except asyncquote.RequestTimeoutError:
                    outcomes["timed out"] += 1
                except asyncquote.RateLimitError:
                    outcomes["rate limited"] += 1
                except asyncquote.ConnectionLostError:
                    outcomes["connection lost"] += 1
                except asyncquote.OpenDError as exc:
                    if group in expected or "Unknown watchlists" not in exc.message:
                        wrong(f"{group}: unexpected {exc!r}")
                    outcomes["refused as expected"] += 1
                else:
                    if items != expected.get(group):
                        wrong(f"{group}: got {len(items)} items")
                    outcomes["ok"] += 1

            async def caller(local: random.Random, stop: float) -> None:
                while anyio.current_time() < stop:
                    group = local.choice(GROUPS)
                    raw = local.random() < 0.7
                    mode = local.random()
                    # A third of the calls have a timeout shorter than some
                    # replies take; a fifth are cancelled at a random moment
                    # (queued for quota, or on the wire); the rest wait.
                    timeout = local.uniform(0.005, 0.08) if mode < 0.35 else 5.0
                    give_up = local.uniform(0.0, 0.08) if 0.35 <= mode < 0.55 else None
                    with anyio.move_on_after(HANG_AFTER) as guard:
                        with anyio.move_on_after(give_up) as cancel:
                            await one_call(group, raw, timeout)
                        if cancel.cancelled_caught:
                            outcomes["cancelled"] += 1
                    if guard.cancelled_caught:
                        report.hung += 1

            rng = random.Random(seed)
            stop = anyio.current_time() + seconds
            async with anyio.create_task_group() as tg:
                for _ in range(callers):
                    tg.start_soon(caller, random.Random(rng.randrange(2**32)), stop)

            # Every late reply is in after the longest delay; every slot is
            # free a window after that.
            await anyio.sleep(MAX_REPLY_DELAY + QUOTA.period + 0.1)
            report.used = client.quota(GUS).used
            report.reconnects = client.reconnects
            # No connection at the end: pending stays -1 (and there was a reconnect).
            with contextlib.suppress(asyncquote.ConnectionLostError):
                report.pending = client.connection.pending_count
        report.simulator_refusals = len(sim.rejections)
    return report


def run(runner: str, seconds: float, callers: int) -> Report:
    """:func:`soak` under ``runner`` ("asyncio" or "uvloop"), as a user's program runs."""
    main = soak(seconds, callers, runner)
    if runner == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--runner", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = run(args.runner, args.seconds, args.callers)
    print(report.line())
    for example in report.examples:
        print("  wrong:", example)
    if args.json is not None:
        # Not asdict(): it would rebuild the Counter from (key, value) pairs.
        data = vars(report) | {"calls": report.calls, "failures": report.failures}
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    if report.failures:
        print("FAILED:", ", ".join(f"{k}={v}" for k, v in report.failures.items()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
