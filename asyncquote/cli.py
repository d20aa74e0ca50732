"""Command line: ``asyncquote …`` or ``python -m asyncquote …``.

Subcommands:

* ``demo`` — start the bundled simulator in-process, fetch watchlists from it
  over real TCP, print them. Needs no OpenD and no account.
* ``sim`` — run the simulator as a stand-alone OpenD stand-in.
* ``groups`` — list the watchlist groups.
* ``watchlist GROUP`` — print a watchlist group (table, JSON or CSV).
* ``watch GROUP...`` — print changes to groups as they happen.
* ``add GROUP CODE...`` / ``remove GROUP CODE...`` — edit a group.

All but ``demo`` and ``sim`` talk to a real (or simulated) OpenD, by default
at 127.0.0.1:11111.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Sequence

import anyio

from . import __version__
from .client import QuoteClient, connect
from .errors import AsyncQuoteError, InvalidArgumentError
from .frames import COLUMNS, to_rows
from .groups import GroupType, ModifyOp
from .ratelimit import Quota
from .table import render_watchlist
from .watch import WatchError, WatchlistChange

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


class _FaultAction(argparse.Action):
    """Collects ``--fault NAME[=VALUE]`` options, checking each and how they combine."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        from .sim import Faults, parse_fault_spec

        chosen: dict[str, object] = dict(getattr(namespace, self.dest) or {})
        try:
            name, value = parse_fault_spec(str(values))
            if name in chosen:
                raise ValueError(f"{name.replace('_', '-')} is given twice")
            chosen[name] = value
            # Options that are fine alone can still clash (reorder with
            # reply-delay). Shuffle is left out: its reorder may come later.
            Faults(**{key: v for key, v in chosen.items() if key != "shuffle"})  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentError(self, str(exc)) from None
        setattr(namespace, self.dest, chosen)


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
    sim.add_argument(
        "--fault",
        dest="faults",
        action=_FaultAction,
        default={},
        metavar="NAME[=VALUE]",
        help="misbehave on purpose, to test clients; repeatable. NAME is one of "
        "reply-delay=SECONDS|LOW:HIGH, reorder=N, shuffle, reorder-wait=SECONDS, "
        "corrupt-sha1|garbage|unknown-serial|duplicate[=N|P] (every Nth reply, or with "
        "probability P; default every reply), drop-after|truncate-after|oversize-after|"
        "silence-after=N (requests answered first), handshake-delay=SECONDS, "
        "refuse-handshake. See asyncquote.sim.Faults",
    )
    sim.add_argument(
        "--seed", type=int, help="seed the faults' random choices, to repeat a run exactly"
    )
    sim.add_argument(
        "--rsa-key",
        metavar="FILE",
        help="encrypt connections with this RSA private key (PEM), as OpenD does with "
        "rsa_private_key; the official SDK needs a 1024-bit PKCS#1 key",
    )

    groups = commands.add_parser("groups", help="list the watchlist groups")
    groups.add_argument(
        "--type", choices=("all", "custom", "system"), default="all", help="which groups"
    )
    groups.add_argument("--json", action="store_true", help="print JSON instead of a list")
    _add_gateway_options(groups)

    watchlist = commands.add_parser("watchlist", help="print one watchlist group")
    watchlist.add_argument("group", help='group name, e.g. "All", "全部", "HK" or a custom name')
    output = watchlist.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    output.add_argument(
        "--csv", action="store_true", help="print CSV with the official SDK's columns"
    )
    _add_gateway_options(watchlist)

    watch = commands.add_parser("watch", help="print changes to groups as they happen")
    watch.add_argument("groups", nargs="+", metavar="GROUP")
    watch.add_argument(
        "--interval", type=float, default=30.0, help="seconds between polls of a group"
    )
    _add_gateway_options(watch)

    for name, help_text in (
        ("add", "add securities to a group"),
        ("remove", "take securities out of a group"),
    ):
        edit = commands.add_parser(name, help=help_text)
        edit.add_argument("group")
        edit.add_argument("codes", nargs="+", metavar="CODE", help="e.g. HK.00700 US.AAPL")
        if name == "remove":
            edit.add_argument(
                "--everywhere",
                action="store_true",
                help="delete from the whole watchlist, not just this group",
            )
        _add_gateway_options(edit)
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


async def _groups(args: argparse.Namespace) -> None:
    group_type = {"all": GroupType.ALL, "custom": GroupType.CUSTOM, "system": GroupType.SYSTEM}
    async with connect(args.host, args.port, timeout=args.timeout) as client:
        groups = await client.get_user_security_group(group_type[args.type])
    if args.json:
        rows = [group.model_dump(mode="json") for group in groups]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for group in groups:
        kind = group.type.name.lower() if isinstance(group.type, GroupType) else group.type
        print(f"{group.name}\t{kind}")


async def _watchlist(args: argparse.Namespace) -> None:
    async with connect(args.host, args.port, timeout=args.timeout) as client:
        items = await client.get_user_security(args.group)
    if args.json:
        print(
            json.dumps(
                [item.model_dump(mode="json") for item in items], ensure_ascii=False, indent=2
            )
        )
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(to_rows(items))
    else:
        print(render_watchlist(items))


async def _edit(args: argparse.Namespace) -> None:
    if args.command == "add":
        op = ModifyOp.ADD
    else:
        op = ModifyOp.DELETE if args.everywhere else ModifyOp.MOVE_OUT
    async with connect(args.host, args.port, timeout=args.timeout) as client:
        await client.modify_user_security(args.group, op, args.codes)
    verb = {ModifyOp.ADD: "added to", ModifyOp.MOVE_OUT: "moved out of"}.get(
        op, "deleted from the watchlist, including"
    )
    noun = "security" if len(args.codes) == 1 else "securities"
    print(f"{len(args.codes)} {noun} {verb} {args.group}")


async def _watch(args: argparse.Namespace) -> None:
    async with (
        connect(args.host, args.port, timeout=args.timeout) as client,
        client.watch_user_security(args.groups, interval=args.interval) as events,
        anyio.create_task_group() as tg,
    ):
        if events.period > args.interval:
            print(
                f"polling each group every {events.period:g} s to leave quota for other calls",
                file=sys.stderr,
                flush=True,
            )
        tg.start_soon(_report_quota_waits, client)
        async for event in events:
            if isinstance(event, WatchError):
                print(f"[{event.group}] poll failed: {event.error}", file=sys.stderr, flush=True)
            elif isinstance(event, WatchlistChange):
                _print_change(event)
        tg.cancel_scope.cancel()


def _print_change(event: WatchlistChange) -> None:
    if event.initial:
        print(f"[{event.group}] {len(event.current)} securities", flush=True)
        for item in event.current:
            print(f"  {item.security}  {item.basic.name}", flush=True)
        return
    for item in event.added:
        print(f"[{event.group}] + {item.security}  {item.basic.name}", flush=True)
    for item in event.removed:
        print(f"[{event.group}] - {item.security}  {item.basic.name}", flush=True)
    if not event.added and not event.removed:
        print(f"[{event.group}] changed (order or details)", flush=True)


async def _report_quota_waits(client: QuoteClient) -> None:
    """Say on stderr when calls are queued for quota, once per episode."""
    waiting = False
    while True:
        status = client.quota(3213)
        if status.queued and not waiting:
            print(
                f"waiting on quota ({status.quota}): next slot in {status.next_free_in:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        waiting = status.queued > 0
        await anyio.sleep(1)


async def _sim(args: argparse.Namespace) -> None:
    from .sim import Faults, Simulator, serve

    def announce(sim: Simulator) -> None:
        print(f"OpenD simulator listening on {sim.host}:{sim.port} (Ctrl-C to stop)", flush=True)
        quotas = ", ".join(f"{proto_id}: {quota}" for proto_id, quota in sorted(sim.quotas.items()))
        print(f"quotas: {quotas or 'none'}", flush=True)
        print(f"watchlists: {sim.state_path or 'in memory'}", flush=True)
        print(f"faults: {sim.faults.describe()}", flush=True)
        encryption = "RSA handshake, then AES bodies" if sim.encrypted else "off"
        print(f"encryption: {encryption}", flush=True)

    try:
        faults = Faults(**args.faults, seed=args.seed)
    except ValueError as exc:
        # Only "shuffle without reorder" gets this far; see _FaultAction.
        raise InvalidArgumentError(f"--fault: {exc}") from None
    # A state file or RSA key that cannot be loaded raises an AsyncQuoteError
    # before anything listens: main() prints it and exits 1.
    await serve(
        args.host,
        args.port,
        quotas=dict(args.quota),
        language=args.language,
        faults=faults,
        state_path=args.state,
        rsa_key=args.rsa_key,
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
        elif args.command == "groups":
            anyio.run(_groups, args, backend=args.backend)
        elif args.command == "watch":
            anyio.run(_watch, args, backend=args.backend)
        elif args.command in ("add", "remove"):
            anyio.run(_edit, args, backend=args.backend)
    except AsyncQuoteError as exc:
        print(f"asyncquote: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
