"""Poll several watchlist groups concurrently, over one connection, within quota.

Every group is fetched by its own task; the client multiplexes them over one
connection and queues whatever exceeds OpenD's 10-per-30-s quota, so the
loop never has to sleep or retry by hand.

    python examples/poll_groups.py --port 11111 HK US Tech
    python examples/poll_groups.py --demo
"""

from __future__ import annotations

import argparse
import contextlib

import anyio

import asyncquote
from asyncquote.sim import Simulator


async def poll_once(client: asyncquote.QuoteClient, groups: list[str]) -> dict[str, int]:
    """Fetch every group at once; return how many securities each holds."""
    sizes: dict[str, int] = {}

    async def fetch(group: str) -> None:
        try:
            sizes[group] = len(await client.get_user_security(group))
        except asyncquote.OpenDError as exc:
            print(f"{group}: {exc.message}")

    async with anyio.create_task_group() as tg:
        for group in groups:
            tg.start_soon(fetch, group)
    return sizes


async def run(host: str, port: int, groups: list[str], rounds: int, demo: bool) -> None:
    async with contextlib.AsyncExitStack() as stack:
        quotas = {3213: asyncquote.Quota(10, 1.0)} if demo else None
        if demo:
            sim = await stack.enter_async_context(Simulator(port=0, quotas=quotas))
            host, port = sim.host, sim.port
        client = await stack.enter_async_context(asyncquote.connect(host, port, quotas=quotas))
        for round_no in range(1, rounds + 1):
            sizes = await poll_once(client, groups)
            status = client.quota(3213)
            print(
                f"round {round_no}: "
                + ", ".join(f"{g}={n}" for g, n in sorted(sizes.items()))
                + f"  (quota {status.used}/{status.quota.max_calls if status.quota else '-'} used)"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Poll watchlist groups concurrently.")
    parser.add_argument("groups", nargs="*", default=["All", "HK", "US", "Tech", "CN", "Futures"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11111)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--demo", action="store_true", help="use the bundled simulator")
    args = parser.parse_args(argv)
    anyio.run(run, args.host, args.port, args.groups, args.rounds, args.demo)


if __name__ == "__main__":
    main()
