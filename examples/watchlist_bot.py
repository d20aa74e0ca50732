"""A bot that reacts to watchlist changes.

It watches groups and, whenever a security is added, does something with it
(here: prints a line; a real bot would subscribe to quotes, place an alert...).

    python examples/watchlist_bot.py --port 11111 HK Tech      # a real OpenD
    python examples/watchlist_bot.py --demo                     # the bundled simulator

With ``--demo`` it starts the simulator in-process and edits the watchlist
itself a few times, so there is something to react to.
"""

from __future__ import annotations

import argparse
import contextlib

import anyio

import asyncquote
from asyncquote.sim import Simulator


async def react(events: asyncquote.WatchlistWatcher, limit: int | None) -> None:
    """Handle events until ``limit`` changes (after the initial ones) were seen."""
    seen = 0
    async for event in events:
        if isinstance(event, asyncquote.WatchError):
            print(f"[{event.group}] poll failed, will retry: {event.error}")
            continue
        if event.initial:
            print(f"[{event.group}] watching {len(event.current)} securities")
            continue
        for item in event.added:
            print(f"[{event.group}] + {item.security} {item.basic.name}: start tracking")
        for item in event.removed:
            print(f"[{event.group}] - {item.security} {item.basic.name}: stop tracking")
        seen += 1
        if limit is not None and seen >= limit:
            return


async def edit_now_and_then(client: asyncquote.QuoteClient) -> None:
    """Demo only: change the watchlist like a user would in the app."""
    for op, code in [
        (asyncquote.ModifyOp.ADD, "US.NVDA"),
        (asyncquote.ModifyOp.MOVE_OUT, "US.TSLA"),
    ]:
        await anyio.sleep(2)
        await client.modify_user_security("Tech", op, [code])


async def run(host: str, port: int, groups: list[str], interval: float, demo: bool) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if demo:
            # A fast scaled quota so the demo finishes in seconds.
            quotas = {3213: asyncquote.Quota(10, 1.0), 3214: asyncquote.Quota(10, 1.0)}
            sim = await stack.enter_async_context(Simulator(port=0, quotas=quotas))
            host, port = sim.host, sim.port
        else:
            quotas = None
        client = await stack.enter_async_context(asyncquote.connect(host, port, quotas=quotas))
        events = await stack.enter_async_context(
            client.watch_user_security(groups, interval=interval)
        )
        async with anyio.create_task_group() as tg:
            if demo:
                tg.start_soon(edit_now_and_then, client)
            await react(events, limit=2 if demo else None)
            tg.cancel_scope.cancel()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="React to watchlist changes.")
    parser.add_argument("groups", nargs="*", default=["Tech"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11111)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    parser.add_argument("--demo", action="store_true", help="use the bundled simulator")
    args = parser.parse_args(argv)
    interval = 0.5 if args.demo else args.interval
    anyio.run(run, args.host, args.port, args.groups, interval, args.demo)


if __name__ == "__main__":
    main()
