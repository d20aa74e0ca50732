"""The library as users start it: ``asyncio.run``, ``uvloop.run``, ``trio.run``.

Each runner gets a fresh interpreter running ``plain_runner_script.py``: no
anyio runner and no pytest plugin has set anything up there, and ``sniffio``
is importable (as it is wherever trio or httpx is installed).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import sniffio

import asyncquote
from asyncquote import Quota
from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator

SCRIPT = Path(__file__).with_name("plain_runner_script.py")
ROOT = Path(__file__).resolve().parents[2]
GUS = 3213
PACKAGE = str(Path(asyncquote.__file__).parent)


@pytest.mark.parametrize("runner", ["asyncio", "uvloop", "trio"])
def test_late_replies_free_their_quota_slots_on_the_same_connection(runner: str) -> None:
    """Three calls time out, their replies come late and free their slots
    (from the loop's read callback on asyncio and uvloop); a fourth call
    succeeds, no slot is left in use and the connection is never replaced."""
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), runner],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert completed.stdout.strip() == f"{runner} ok 1 reconnects=0", completed.stderr
    assert completed.returncode == 0
    assert "internal error" not in completed.stderr


# -- the audit: nothing outside a task asks which event loop is running --------


def _lookups_outside_a_task(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every backend lookup (sniffio's, which anyio makes for
    ``current_time``, ``Event()``, cancel scopes...) made where no task runs:
    a loop callback. Plain ``asyncio.run`` has nothing there for sniffio to
    find; some such lookups fail, others fall back quietly. Either way the
    code that makes one depends on luck."""
    seen: list[str] = []
    lookup = sniffio.current_async_library

    def watched() -> str:
        if asyncio.current_task() is None:
            ours = [f for f in traceback.extract_stack() if f"{PACKAGE}/" in f.filename]
            where = (f"{f.name} ({Path(f.filename).name}:{f.lineno})" for f in reversed(ours))
            seen.append(" <- ".join(where))
        return lookup()

    monkeypatch.setattr(sniffio, "current_async_library", watched)
    return seen


async def _every_path_outside_a_task() -> None:
    with anyio.fail_after(30):  # a path that breaks may leave a caller waiting for good
        await _exercise_every_path_outside_a_task()


@asynccontextmanager
async def _client_of_a_slow_simulator(
    quota: Quota, reconnect: bool | asyncquote.ReconnectPolicy
) -> AsyncIterator[tuple[Simulator, asyncquote.QuoteClient]]:
    async with (
        Simulator(port=0, faults=Faults(reply_delay=0.05)) as sim,
        asyncquote.connect(
            sim.host, sim.port, keepalive=False, quotas={GUS: quota}, reconnect=reconnect
        ) as client,
    ):
        yield sim, client


async def _call(client: asyncquote.QuoteClient, timeout: float) -> None:
    request = Qot_GetUserSecurity_pb2.Request()
    request.c2s.groupName = "All"
    await client.request(GUS, request, Qot_GetUserSecurity_pb2.Response, timeout=timeout)


async def _exercise_every_path_outside_a_task() -> None:
    """Late replies, Notify pushes to a waiting subscriber, a dropped
    connection (reconnecting) and one that closes the client (a caller
    queued for quota, subscribers waiting): each is handled in a callback."""
    fast = asyncquote.ReconnectPolicy(initial_delay=0.01, max_delay=0.05)
    async with (
        _client_of_a_slow_simulator(Quota(1, 0.2), fast) as (sim, client),
        client.events() as events,
        client.state_changes() as states,
        anyio.create_task_group() as tg,
    ):
        seen_states: list[asyncquote.ConnectionState] = []

        async def read_states() -> None:  # a reader waiting when the state changes
            async for state in states:
                seen_states.append(state)

        tg.start_soon(read_states)
        with pytest.raises(asyncquote.RequestTimeoutError):
            await _call(client, 0.01)  # its reply comes late, in a callback
        await _call(client, 5)
        sim.log_out()  # a Notify: published to the waiting subscriber
        assert await events.__anext__() is not None
        tg.start_soon(_call, client, 5)
        await anyio.wait_all_tasks_blocked()  # the call is on the wire
        await sim.drop_connections()  # the call is lost (and retried); reconnecting
        await client.wait_for_state(asyncquote.ConnectionState.CONNECTED)
        await anyio.wait_all_tasks_blocked()
        assert seen_states[-2:] == [
            asyncquote.ConnectionState.RECONNECTING,
            asyncquote.ConnectionState.CONNECTED,
        ]
        tg.cancel_scope.cancel()

    async with (
        _client_of_a_slow_simulator(Quota(1, 30), reconnect=False) as (sim, client),
        client.events() as events,
    ):
        outcome: list[BaseException] = []

        async def queued() -> None:
            try:
                await _call(client, 5)
            except asyncquote.ConnectionLostError as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as tg:
            await _call(client, 5)
            tg.start_soon(queued)  # waits ~30 s for the quota
            await anyio.wait_all_tasks_blocked()
            await sim.drop_connections()  # closes the client: the queued caller fails now
        assert len(outcome) == 1
        assert [event async for event in events]  # ends: the client closed


@pytest.mark.parametrize("runner", ["asyncio", "uvloop"])
def test_no_callback_path_needs_a_running_task(
    runner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _lookups_outside_a_task(monkeypatch)
    if runner == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        uvloop.run(_every_path_outside_a_task())
    else:
        asyncio.run(_every_path_outside_a_task())
    assert sorted(set(seen)) == []
