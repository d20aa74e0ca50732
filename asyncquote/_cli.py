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
import contextlib
import csv
import enum
import errno
import json
import logging
import math
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import anyio

from . import __version__
from ._client import QuoteClient
from ._connect import connect
from ._dataframes import COLUMNS, to_rows
from ._errors import (
    AsyncQuoteError,
    ConnectError,
    InvalidArgumentError,
    OpenDError,
    RequestTimeoutError,
)
from ._opend import GroupType, ModifyOp, Quota
from ._table import render_watchlist
from ._watch import WatchError, WatchlistChange
from .sim._faults import FAULT_USAGE
from .sim._server import DEFAULT_HANDSHAKE_TIMEOUT

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["main"]

_BACKENDS = ("asyncio", "trio")

#: Exit status after a closed pipe (``asyncquote watchlist All | head``): what
#: a shell reports for a command ended by SIGPIPE.
_BROKEN_PIPE_STATUS = 141

#: Error messages longer than this are cut (a refusal naming thousands of codes, say).
_MAX_MESSAGE = 300


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default, unless its help text already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "default" in help_text or any(
            action.default is nothing for nothing in (None, False, argparse.SUPPRESS)
        ):
            return help_text
        return super()._get_help_string(action)


def _port(text: str) -> int:
    """A TCP port number, 0 to 65535 (0: any free port, where that makes sense)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def _gateway_port(text: str) -> int:
    port = _port(text)
    if port == 0:
        raise argparse.ArgumentTypeError("0 is not a port OpenD can listen on (1 to 65535)")
    return port


def _seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"{text} must be a number of seconds above 0")
    return seconds


def _add_gateway_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="OpenD host")
    parser.add_argument("--port", type=_gateway_port, default=11111, help="OpenD port")
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=12.0,
        help="seconds each request waits for its reply once connected; "
        "not the connect and handshake (see --connect-timeout)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=_seconds,
        default=10.0,
        help="seconds for the TCP connect plus the InitConnect handshake",
    )
    parser.add_argument(
        "--rsa-key",
        metavar="FILE",
        help="RSA private key (PEM) OpenD is configured with (its rsa_private_key), "
        'to encrypt the connection; needs pip install "asyncquote[crypto]"',
    )


def _connect(args: argparse.Namespace) -> contextlib.AbstractAsyncContextManager[QuoteClient]:
    """Connect as the gateway options in ``args`` say."""
    return connect(
        args.host,
        args.port,
        timeout=args.timeout,
        connect_timeout=args.connect_timeout,
        rsa_key=args.rsa_key,
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
        prog="asyncquote",
        description="Async client for the Futu/moomoo OpenD gateway.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"asyncquote {__version__}")
    parser.add_argument(
        "--backend", choices=_BACKENDS, default="asyncio", help="event loop to run on"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(
            name, help=help_text, description=help_text, formatter_class=_HelpFormatter
        )

    demo = command("demo", "run against the bundled simulator (no OpenD needed)")
    demo.add_argument(
        "groups",
        nargs="*",
        default=["All", "港股", "Tech"],
        help="groups to fetch concurrently (default: All 港股 Tech)",
    )

    sim = command("sim", "run the OpenD simulator")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind")
    sim.add_argument("--port", type=_port, default=11111, help="port to bind (0: any free one)")
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
        help="language of the watchlist refusals: quotas, groups, securities",
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
        help="misbehave on purpose, to test clients; repeatable (NAME may be spelled with - "
        f"or _). NAME is one of {FAULT_USAGE}. See asyncquote.sim.Faults",
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
    sim.add_argument(
        "--handshake-timeout",
        type=_seconds,
        default=DEFAULT_HANDSHAKE_TIMEOUT,
        metavar="SECONDS",
        help="close a connection that has not sent its InitConnect by then",
    )

    groups = command("groups", "list the watchlist groups")
    groups.add_argument(
        "--type", choices=("all", "custom", "system"), default="all", help="which groups"
    )
    groups.add_argument("--json", action="store_true", help="print JSON instead of a list")
    _add_gateway_options(groups)

    watchlist = command("watchlist", "print one watchlist group")
    watchlist.add_argument("group", help='group name, e.g. "All", "全部", "HK" or a custom name')
    output = watchlist.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    output.add_argument(
        "--csv", action="store_true", help="print CSV with the official SDK's columns"
    )
    _add_gateway_options(watchlist)

    watch = command("watch", "print changes to groups as they happen")
    watch.add_argument("groups", nargs="+", metavar="GROUP")
    watch.add_argument(
        "--interval",
        type=_seconds,
        default=30.0,
        help="seconds between polls of a group (stretched to leave half the quota free)",
    )
    _add_gateway_options(watch)

    for name, help_text in (
        ("add", "add securities to a group"),
        ("remove", "take securities out of a group"),
    ):
        edit = command(name, help_text)
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


async def _print_groups(client: QuoteClient, groups: Sequence[str]) -> int:
    """Fetch and print ``groups``; return how many could not be fetched."""
    results: dict[str, str] = {}
    failed: set[str] = set()

    async def fetch(group: str) -> None:
        try:
            items = await client.get_user_security(group)
        except AsyncQuoteError as exc:
            results[group] = f"error: {exc}"
            failed.add(group)
        else:
            results[group] = f"{len(items)} securities\n{render_watchlist(items)}"

    # All groups go out at once over the one connection.
    async with anyio.create_task_group() as tg:
        for group in groups:
            tg.start_soon(fetch, group)
    for group in groups:
        print(f"\n== {group}: {results[group]}")
    return len(failed)


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
            failed = await _print_groups(client, groups)
    if failed:
        raise _CommandFailed(
            f"{failed} of {len(set(groups))} groups could not be fetched (see above); "
            "`asyncquote groups` lists the groups there are"
        )


async def _groups(args: argparse.Namespace) -> None:
    group_type = {"all": GroupType.ALL, "custom": GroupType.CUSTOM, "system": GroupType.SYSTEM}
    async with _connect(args) as client:
        groups = await client.get_user_security_group(group_type[args.type])
    if args.json:
        rows = [
            {
                "name": group.name,
                "type": _enum_name(group.type),
                "type_id": int(group.type),
                "english": None if group.system_group is None else group.system_group.english,
            }
            for group in groups
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for group in groups:
        kind = group.type.name.lower() if isinstance(group.type, GroupType) else group.type
        system = group.system_group
        other_name = "" if system is None else f"\t{system.english}"
        print(f"{group.name}\t{kind}{other_name}")


def _enum_name(value: object) -> object:
    """An enum member's name; anything else (an int a newer gateway sent) as it is."""
    return value.name if isinstance(value, enum.Enum) else value


def _json_ready(value: Any) -> Any:
    """``model_dump()`` output with enum members as their names, for ``--json``."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    return _enum_name(value)


async def _watchlist(args: argparse.Namespace) -> None:
    async with _connect(args) as client:
        items = await client.get_user_security(args.group)
    if args.json:
        rows = [_json_ready(item.model_dump()) for item in items]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
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
    async with _connect(args) as client:
        await client.modify_user_security(args.group, op, args.codes)
    # OpenD answers only "done": it does not say what changed (a security
    # already in the group, say), so report what was asked for.
    count = f"{len(args.codes)} {'security' if len(args.codes) == 1 else 'securities'}"
    request = {
        ModifyOp.ADD: f"add {count} to {args.group}",
        ModifyOp.MOVE_OUT: f"move {count} out of {args.group}",
    }.get(op, f"delete {count} from the whole watchlist")
    print(f"asked OpenD to {request}")


@contextlib.contextmanager
def _quiet_watcher_warnings() -> Iterator[None]:
    """Drop the watcher's WARNING about a failed poll: ``watch`` prints each one itself."""
    watcher_log = logging.getLogger("asyncquote.watch")

    def keep(record: logging.LogRecord) -> bool:
        return record.levelno != logging.WARNING

    watcher_log.addFilter(keep)
    try:
        yield
    finally:
        watcher_log.removeFilter(keep)


async def _watch(args: argparse.Namespace) -> None:
    with _quiet_watcher_warnings():
        await _watch_groups(args)


async def _watch_groups(args: argparse.Namespace) -> None:
    async with (
        _connect(args) as client,
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

    listening = False

    def announce(sim: Simulator) -> None:
        nonlocal listening
        listening = True
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
    try:
        await serve(
            args.host,
            args.port,
            quotas=dict(args.quota),
            language=args.language,
            faults=faults,
            state_path=args.state,
            rsa_key=args.rsa_key,
            handshake_timeout=args.handshake_timeout,
            ready=announce,
        )
    except OSError as exc:
        if listening:
            raise
        raise _CommandFailed(_listen_failure(args.host, args.port, exc)) from exc


def _listen_failure(host: str, port: int, exc: OSError) -> str:
    address = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {address}: the port is already in use (an OpenD or another "
            "simulator?); stop it or choose another --port (0 picks a free one)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {address}: no network interface of this machine has that "
            "address; give --host one of its own addresses, e.g. 127.0.0.1 or 0.0.0.0"
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen on {address}: permission denied (ports below 1024 need "
            "privileges); choose a --port above 1023"
        )
    reason = exc.strerror or str(exc)
    return f"cannot listen on {address}: {reason}; check --host and --port"


class _CommandFailed(Exception):
    """A command failed in a way already described by its message."""


def _leaf(exc: BaseException) -> BaseException:
    """The one exception inside (nested) exception groups of one member, else ``exc``."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _shorten(message: str) -> str:
    """``message`` on one line, cut to a readable length."""
    message = " ".join(message.split())
    if len(message) <= _MAX_MESSAGE:
        return message
    cut = message[:_MAX_MESSAGE].rsplit(" ", 1)[0]
    return f"{cut} … (cut; {len(message):,} characters in all)"


def _fail(message: str) -> int:
    print(f"asyncquote: error: {message}", file=sys.stderr, flush=True)
    return 1


# OpenD's refusal of an unknown group, in English and in Chinese.
_UNKNOWN_GROUP_TEXTS = ("Unknown watchlists", "未知自选股分组")


def _hint(exc: AsyncQuoteError) -> str:
    """What to do about ``exc``, for the error line ("" when its message says it)."""
    if isinstance(exc, ConnectError):
        return (
            "is OpenD (or `asyncquote sim`) running there? Check --host and --port; an "
            "encrypted OpenD needs --rsa-key"
        )
    if isinstance(exc, RequestTimeoutError):
        return "OpenD is slow or stuck: try again, or raise --timeout"
    if isinstance(exc, OpenDError) and any(t in exc.message for t in _UNKNOWN_GROUP_TEXTS):
        return "`asyncquote groups` lists the groups there are"
    return ""


def _describe_failure(exc: BaseException) -> str:
    """One line for ``exc``: its message, cut to a readable length, and what to do."""
    if isinstance(exc, AsyncQuoteError):
        hint = _hint(exc)
        return f"{_shorten(str(exc))}; {hint}" if hint else _shorten(str(exc))
    if isinstance(exc, (_CommandFailed, ImportError)):
        # The crypto extra's install hint is part of the ImportError (see _crypto.py).
        return _shorten(str(exc))
    if isinstance(exc, BaseExceptionGroup):
        reasons = "; ".join(_describe_failure(_leaf(inner)) for inner in exc.exceptions)
        return f"{len(exc.exceptions)} errors: {reasons}"
    return (
        f"unexpected {type(exc).__name__}: {_shorten(str(exc))} (a bug in asyncquote: "
        "please report it, with the command that caused it)"
    )


def _quiet_broken_pipe() -> int:
    # Python would complain again when flushing stdout at exit: point the
    # descriptor at /dev/null so that flush has nowhere to fail.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return _BROKEN_PIPE_STATUS


def _run(args: argparse.Namespace) -> None:
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
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Usage errors exit 2 (argparse), any other failure 1 with one line on
    stderr, Ctrl-C 130 and a closed stdout pipe 141, quietly. Never a traceback.
    """
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        _run(args)
    except BaseException as raised:
        exc = _leaf(raised)
        if isinstance(exc, KeyboardInterrupt):
            return 130
        if isinstance(exc, BrokenPipeError):
            return _quiet_broken_pipe()
        if isinstance(exc, SystemExit):
            raise exc from None
        if not isinstance(exc, Exception):
            raise
        return _fail(_describe_failure(exc))
    return 0
