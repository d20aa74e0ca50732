"""Late replies under the runner a user starts a program with: ``asyncio.run``,
``uvloop.run`` or ``trio.run`` -- nothing of anyio set up, ``sniffio`` importable.

Usage: ``python tests/e2e/plain_runner_script.py asyncio|uvloop|trio``

With ``Quota(3, 0.5)`` on 3213 and every reply held back 0.4 s, three calls
with ``timeout=0.1`` give up before their replies come; the replies still come
and must free their quota slots (from the event loop's read callback on
asyncio and uvloop). A fourth call must then succeed on the same connection,
and once the window has passed no slot may be left in use. Prints one line,
``<runner> ok <calls that succeeded> reconnects=<n>``, and exits 0 when all of
that holds; otherwise prints what went wrong and exits 1.
"""

from __future__ import annotations

import asyncio
import sys

import anyio
import sniffio  # noqa: F401 -- imported on purpose: the environment users have

import asyncquote
from asyncquote import Quota
from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator

GUS = 3213
QUOTA = Quota(3, 0.5)
REPLY_DELAY = 0.4
CALL_TIMEOUT = 0.1
# Far beyond what the fourth call needs (a window and a reply): reaching it
# means the call hangs, which is the defect this script looks for.
HANG_AFTER = 10.0
RUNNERS = ("asyncio", "uvloop", "trio")


async def scenario() -> str:
    """Run the late-reply scenario; return the report line (raises on a failure)."""
    async with (
        Simulator(port=0, faults=Faults(reply_delay=REPLY_DELAY)) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, quotas={GUS: QUOTA}) as client,
    ):
        connection = client.connection

        async def fetch(timeout: float) -> object:
            request = Qot_GetUserSecurity_pb2.Request()
            request.c2s.groupName = "All"
            return await client.request(
                GUS, request, Qot_GetUserSecurity_pb2.Response, timeout=timeout
            )

        timed_out = ok = 0
        for _ in range(QUOTA.max_calls):
            try:
                await fetch(CALL_TIMEOUT)
            except asyncquote.RequestTimeoutError:
                timed_out += 1
        if timed_out != QUOTA.max_calls:
            raise AssertionError(f"{timed_out} of {QUOTA.max_calls} calls timed out")
        # The fourth call: it needs a slot freed by a late reply.
        # Not the call's own timeout: that starts only once it has a slot.
        with anyio.move_on_after(HANG_AFTER):
            await fetch(HANG_AFTER)
            ok = 1
        if not ok:
            raise AssertionError(f"the fourth call hung: {client.quota(GUS)}")
        await anyio.sleep(QUOTA.period + REPLY_DELAY)  # every slot's window is over
        status = client.quota(GUS)
        if status.used != 0:
            raise AssertionError(f"slots still in use after the window: {status}")
        if client.reconnects or client.connection is not connection or not connection.is_open:
            raise AssertionError(f"the connection was replaced or lost: {connection.lost_reason}")
        return f"ok {ok} reconnects={client.reconnects}"


def run(runner: str) -> str:
    """Run :func:`scenario` under ``runner`` the way a user's program would."""
    if runner == "asyncio":
        return asyncio.run(scenario())
    if runner == "uvloop":
        import uvloop

        return uvloop.run(scenario())
    if runner == "trio":
        import trio

        return trio.run(scenario)
    raise SystemExit(f"usage: {sys.argv[0]} {'|'.join(RUNNERS)}")


def main(argv: list[str]) -> int:
    runner = argv[1] if len(argv) == 2 else ""
    try:
        line = run(runner)
    except Exception as exc:  # the report is the point: say what failed
        print(f"{runner} FAILED {type(exc).__name__}: {exc}")
        return 1
    print(f"{runner} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
