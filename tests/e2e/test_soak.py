"""Soak: many callers, random delays, out-of-order replies, forced disconnects.

Every call is accounted for: it either returned exactly the right result for
its own request or raised one of the library's typed errors. Zero wrong
results, zero hangs, an empty pending table and no task left at the end.

Bounded to a few seconds by default; set ``ASYNCQUOTE_SOAK_SECONDS`` for a
longer run, e.g. ``ASYNCQUOTE_SOAK_SECONDS=120 pytest tests/e2e/test_soak.py -s``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest

import asyncquote
from asyncquote import ConnectionState, ReconnectPolicy
from asyncquote._models.convert import static_infos_from_pb
from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import NO_QUOTAS, Faults, Simulator

from ..conftest import Runner

pytestmark = pytest.mark.anyio

SECONDS = float(os.environ.get("ASYNCQUOTE_SOAK_SECONDS", "3"))
CALLERS = 100
DROP_EVERY = 2000  # requests between forced disconnects
GROUPS = ["All", "HK", "US", "CN", "Tech", "Futures", "全部", "港股", "no such group"]
# The run, then draining, reconnecting and checking, with room to spare: the
# suite's default per-test timeout would cut a longer soak short.
TIMEOUT = max(120.0, 2 * SECONDS + 60)


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    hangs: int = 0
    drops: int = 0

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())


def test_the_timeout_follows_the_soak_length() -> None:
    """``ASYNCQUOTE_SOAK_SECONDS=120`` must not be cut short by the 120 s default timeout."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tests.e2e.test_soak as soak; "
            "print(soak.test_soak_every_call_is_right_or_a_typed_error"
            ".pytestmark[0].args[0])",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ASYNCQUOTE_SOAK_SECONDS": "120"},
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert float(completed.stdout) >= 120 + 60


@pytest.mark.timeout(TIMEOUT)
async def test_soak_every_call_is_right_or_a_typed_error(loop_name: str) -> None:
    tally = Tally()
    rng = random.Random(20261124)
    faults = Faults(reply_delay=(0.0, 0.004), seed=7)  # replies overtake each other
    async with Simulator(port=0, quotas=NO_QUOTAS, faults=faults) as sim:
        expected = {
            group: static_infos_from_pb(sim.watchlists.securities_in(group))
            for group in GROUPS
            if sim.watchlists.find_group(group) is not None
        }
        policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.1)
        async with asyncquote.connect(
            sim.host, sim.port, quotas=NO_QUOTAS, reconnect=policy, timeout=5
        ) as client:
            stop = anyio.current_time() + SECONDS

            async def one_call(group: str, raw: bool) -> None:
                try:
                    if raw:  # bypasses single-flight: one request per call
                        request = Qot_GetUserSecurity_pb2.Request()
                        request.c2s.groupName = group
                        response = await client.request(
                            3213, request, Qot_GetUserSecurity_pb2.Response
                        )
                        items = static_infos_from_pb(response.s2c.staticInfoList)
                    else:
                        items = await client.get_user_security(group)
                except asyncquote.OpenDError as exc:
                    if group in expected or "Unknown watchlists" not in exc.message:
                        tally.wrong.append(f"{group}: unexpected {exc!r}")
                    tally.outcomes["refused as expected"] += 1
                except asyncquote.AsyncQuoteError as exc:
                    tally.outcomes[type(exc).__name__] += 1
                else:
                    if items != expected.get(group):
                        tally.wrong.append(f"{group}: got {len(items)} items")
                    tally.outcomes["ok"] += 1

            async def caller(seed: int) -> None:
                local = random.Random(seed)
                while anyio.current_time() < stop:
                    group = local.choice(GROUPS)
                    with anyio.move_on_after(30) as scope:
                        await one_call(group, raw=local.random() < 0.7)
                    if scope.cancelled_caught:
                        tally.hangs += 1

            async def chaos() -> None:
                next_drop = DROP_EVERY
                while anyio.current_time() < stop:
                    await anyio.sleep(0.01)
                    if len(sim.requests) >= next_drop:
                        next_drop += DROP_EVERY
                        tally.drops += 1
                        await sim.drop_connections()

            async with anyio.create_task_group() as tg:
                tg.start_soon(chaos)
                for _ in range(CALLERS):
                    tg.start_soon(caller, rng.randrange(2**32))

            with anyio.fail_after(10):
                await client.wait_for_state(ConnectionState.CONNECTED)
            assert client.connection.pending_count == 0
        leftover = [t.name for t in anyio.get_running_tasks() if "asyncquote." in (t.name or "")]
        leftover = [name for name in leftover if name and ".sim." not in name]

    print(
        f"\nsoak ({loop_name}, {SECONDS:g} s): {tally.calls} calls, "
        f"{tally.drops} forced disconnects, {client.reconnects} reconnects, "
        f"outcomes {dict(tally.outcomes)}, wrong results {len(tally.wrong)}, hangs {tally.hangs}"
    )
    assert tally.wrong == []
    assert tally.hangs == 0
    assert leftover == []
    assert tally.outcomes["ok"] > CALLERS
    assert set(tally.outcomes) <= {
        "ok",
        "refused as expected",
        "ConnectionLostError",
        "RequestTimeoutError",
    }


def test_soak_under_plain_asyncio_run_leaves_no_slot_used_and_no_reconnect(
    tmp_path: Path,
) -> None:
    """``benchmarks/soak.py`` in a fresh interpreter (plain ``asyncio.run``,
    sniffio importable), briefly: timeouts and cancellations mixed in, some
    replies arriving after their caller gave up. Its 120 s run is the same
    script with ``--seconds 120``."""
    out = tmp_path / "soak.json"
    root = Path(__file__).resolve().parents[2]
    completed = subprocess.run(
        [
            sys.executable,
            str(root / "benchmarks" / "soak.py"),
            "--seconds",
            "3",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(out.read_text())
    assert report["failures"] == {}
    assert (report["wrong"], report["hung"], report["used"], report["reconnects"]) == (0, 0, 0, 0)
    # The mix happened: callers gave up both ways, and most calls succeeded.
    outcomes = report["outcomes"]
    assert outcomes["timed out"] > 0
    assert outcomes["cancelled"] > 0
    assert outcomes["ok"] > outcomes["timed out"]
