"""Command line: ``asyncquote …`` or ``python -m asyncquote …``.

Subcommands:

* ``demo`` — start the bundled simulator in-process, fetch watchlists from it
  over real TCP, print them. Needs no OpenD and no account.
* ``sim`` — run the simulator as a stand-alone OpenD stand-in.
* ``watchlist GROUP`` — print a watchlist group from a real (or simulated) OpenD.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

import anyio

from . import __version__
from .client import QuoteClient, connect
from .errors import AsyncQuoteError
from .ratelimit import Quota
from .table import render_watchlist

__all__ = ["main"]

_BACKENDS = ("asyncio", "trio")


def _add_gateway_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="OpenD host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=11111, help="OpenD port (default 11111)")
    parser.add_argument(
        "--timeout", type=float, default=12.0, help="seconds to wait for each reply"
    )


def _quota_spec(spec: str) -> tuple[int, Quota | None]:
    from .sim import parse_quota_spec

    try:
        return parse_quota_spec(spec)
    except ValueError as exc:
        # argparse shows an ArgumentTypeError's own text; any other error
        # would become a bare "invalid _quota_spec value".
        raise argparse.ArgumentTypeError(str(exc)) from None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncquote", description="Async client for the Futu/moomoo OpenD gateway."
    )
    parser.add_argument("--version", action="version", version=f"asyncquote {__version__}")
    parser.add_argument(
        "--backend", choices=_BACKENDS, default="asyncio", help="event loop to run on"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run against the bundled simulator (no OpenD needed)")
    demo.add_argument(
        "groups",
        nargs="*",
        default=["All", "港股", "Tech"],
        help="groups to fetch concurrently (default: All 港股 Tech)",
    )

    sim = commands.add_parser("sim", help="run the OpenD simulator")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=11111, help="port to bind (default 11111)")
    sim.add_argument(
        "--quota",
        action="append",
        type=_quota_spec,
        default=[],
        metavar="PROTO=CALLS/SECONDS|PROTO=off",
        help="change or lift (off) a protocol's quota, e.g. 3213=10/30 or 3222=off; "
        "repeatable (default: OpenD's, 10 per 30 s for 3213, 3214 and 3222)",
    )
    sim.add_argument(
        "--language",
        choices=("en", "zh"),
        default="en",
        help="language of the watchlist refusals: quotas, groups, securities (default en)",
    )
    sim.add_argument(
        "--state",
        metavar="FILE",
        help="keep the watchlists in this JSON file: loaded if it exists, else created "
        "from the bundled sample; saved after every change (default: in memory only)",
    )

    watchlist = commands.add_parser("watchlist", help="print one watchlist group")
    watchlist.add_argument("group", help='group name, e.g. "All", "全部", "HK" or a custom name')
    watchlist.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_gateway_options(watchlist)
    return parser


async def _print_groups(client: QuoteClient, groups: Sequence[str]) -> None:
    results: dict[str, str] = {}

    async def fetch(group: str) -> None:
        try:
            items = await client.get_user_security(group)
        except AsyncQuoteError as exc:
            results[group] = f"error: {exc}"
        else:
            results[group] = f"{len(items)} securities\n{render_watchlist(items)}"

    # All groups go out at once over the one connection.
    async with anyio.create_task_group() as tg:
        for group in groups:
            tg.start_soon(fetch, group)
    for group in groups:
        print(f"\n== {group}: {results[group]}")


async def _demo(groups: Sequence[str]) -> None:
    from .sim import Simulator

    async with Simulator(port=0) as sim:
        print(f"simulator listening on {sim.host}:{sim.port}")
        async with connect(sim.host, sim.port) as client:
            info = client.info
            print(
                f"connected: connID={info.conn_id} serverVer={info.server_version} "
                f"keepalive={info.keepalive_interval:g}s"
            )
            await _print_groups(client, groups)


async def _watchlist(args: argparse.Namespace) -> None:
    async with connect(args.host, args.port, timeout=args.timeout) as client:
        items = await client.get_user_security(args.group)
    if args.json:
        print(
            json.dumps(
                [item.model_dump(mode="json") for item in items], ensure_ascii=False, indent=2
            )
        )
    else:
        print(render_watchlist(items))


async def _sim(args: argparse.Namespace) -> None:
    from .sim import Simulator, serve

    def announce(sim: Simulator) -> None:
        print(f"OpenD simulator listening on {sim.host}:{sim.port} (Ctrl-C to stop)", flush=True)
        quotas = ", ".join(f"{proto_id}: {quota}" for proto_id, quota in sorted(sim.quotas.items()))
        print(f"quotas: {quotas or 'none'}", flush=True)
        print(f"watchlists: {sim.state_path or 'in memory'}", flush=True)

    # A state file that cannot be loaded raises StateFileError, an
    # AsyncQuoteError, before anything listens: main() prints it and exits 1.
    await serve(
        args.host,
        args.port,
        quotas=dict(args.quota),
        language=args.language,
        state_path=args.state,
        ready=announce,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "demo":
            anyio.run(_demo, args.groups, backend=args.backend)
        elif args.command == "sim":
            anyio.run(_sim, args, backend=args.backend)
        elif args.command == "watchlist":
            anyio.run(_watchlist, args, backend=args.backend)
    except AsyncQuoteError as exc:
        print(f"asyncquote: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
