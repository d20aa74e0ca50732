"""The command line's commands: demo, sim, groups, watchlist, watch, add, remove.

One job: run one parsed command against OpenD (or the simulator) and print
its output (table, JSON, CSV, change lines). Each command is a coroutine
``main()`` (in :mod:`asyncquote._cli.main`) runs under ``anyio.run``; a command
fails by raising, never by printing an error or exiting itself: a failure
its message already describes is a :class:`_CommandFailed`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import enum
import errno
import json
import logging
import select
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import anyio

from .._base.errors import AsyncQuoteError, InvalidArgumentError, OpenDError
from .._client.client import QuoteClient
from .._client.connect import connect
from .._client.watch import WatchError, WatchlistChange
from .._io.taskgroups import single_errors
from .._models.dataframes import COLUMNS, to_rows
from .._models.groups import WatchlistGroup, check_group_name
from .._models.watchlist import Security
from .._opend.rsa import load_rsa_private_key
from .._opend.vocabulary import GroupType, ModifyOp
from .table import render_watchlist

#: The command line's own log: with ``-v``, the connection's story.
logger = logging.getLogger("asyncquote.cli")


@contextlib.asynccontextmanager
async def _connect(args: argparse.Namespace) -> AsyncIterator[QuoteClient]:
    """Connect as the gateway options in ``args`` say, logging how it goes (``-v``)."""
    address = f"{args.host}:{args.port}"
    encryption = "not encrypted" if args.rsa_key is None else f"encrypted with {args.rsa_key}"
    logger.info("connecting to OpenD at %s (%s)", address, encryption)
    async with connect(
        args.host,
        args.port,
        timeout=args.timeout,
        connect_timeout=args.connect_timeout,
        rsa_key=args.rsa_key,
    ) as client:
        info = client.info
        logger.info(
            "connected to OpenD at %s: connID %d, OpenD version %d, keepalive every %g s",
            address,
            info.conn_id,
            info.server_version,
            info.keepalive_interval,
        )
        yield client
    logger.info("closed the connection to OpenD at %s", address)


# OpenD's refusal of an unknown group, in English and in Chinese.
_UNKNOWN_GROUP_TEXTS = ("Unknown watchlists", "未知自选股分组")


def _is_unknown_group(exc: BaseException) -> bool:
    """Whether ``exc`` is OpenD refusing a group it does not have."""
    return isinstance(exc, OpenDError) and any(t in exc.message for t in _UNKNOWN_GROUP_TEXTS)


def _check_arguments(args: argparse.Namespace) -> None:
    """Check group names and codes as the library will, before connecting.

    A bad argument is then reported as such, whether or not OpenD is
    reachable, and nothing is sent.

    Raises:
        _CommandFailed: the library's reason, and what to give instead.
    """
    groups: list[str] = []
    if args.command == "watchlist":
        groups = [args.group]
    elif args.command == "watch":
        groups = list(args.groups)
    elif args.command in ("add", "remove"):
        groups = [args.group]
    try:
        for group in groups:
            # OpenD refuses edits of system groups with its own message.
            check_group_name(group, queryable=args.command in ("watchlist", "watch"))
    except InvalidArgumentError as exc:
        raise _CommandFailed(
            f"{exc}; give a group name: `asyncquote groups` lists the groups there are"
        ) from None
    for code in getattr(args, "codes", ()):
        Security.parse(code)  # its InvalidArgumentError says what a code looks like
    if args.command == "sim":
        # Options that cannot go together, before the key's contents are looked at.
        if args.websocket_port is not None and args.rsa_key is not None:
            raise InvalidArgumentError(
                "--websocket-port cannot be combined with --rsa-key (the JavaScript SDK's "
                "encryption is not served); leave out one of them"
            )
        if args.websocket_key is not None and args.websocket_port is None:
            # Else the simulator would start serving no WebSocket at all, silently.
            raise InvalidArgumentError(
                "--websocket-key needs --websocket-port PORT (0 for any free one): the key "
                "is for the WebSocket clients served there"
            )
    rsa_key = getattr(args, "rsa_key", None)
    if getattr(args, "websocket_port", None) is not None and rsa_key is not None:
        # Before the key file is read: with both, no key file would do.
        raise InvalidArgumentError("--websocket-port cannot be combined with --rsa-key")
    if rsa_key is not None:
        # Read here as the library will, to add what the option wants.
        try:
            load_rsa_private_key(rsa_key)
        except InvalidArgumentError as exc:
            raise _CommandFailed(
                f"{exc}; --rsa-key FILE takes a PEM file holding an unencrypted RSA "
                "private key (OpenD's rsa_private_key)"
            ) from None


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
    from ..sim import Simulator

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
                # The simulator stops with the demo: `asyncquote groups` would
                # find nothing to ask, so name its groups here.
                there = await client.get_user_security_group(GroupType.ALL)
    if failed:
        raise _CommandFailed(
            f"{failed} of {len(set(groups))} groups could not be fetched (see above); "
            f"name groups the demo's simulator has: {_group_names(there)}"
        )


def _group_names(groups: Sequence[WatchlistGroup]) -> str:
    """The names of ``groups`` that can be fetched, a system group's English name in brackets."""
    names = []
    for group in groups:
        try:
            check_group_name(group.name)
        except InvalidArgumentError:
            continue  # a group OpenD lists but never returns (Positions, ...)
        system = group.system_group
        names.append(group.name if system is None else f"{group.name} ({system.english})")
    return ", ".join(names)


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
        single_errors(),  # an unknown group's OpenDError as itself, as `watchlist` raises it
        anyio.create_task_group() as tg,
    ):
        if events.period > args.interval:
            print(
                f"polling each group every {events.period:g} s to leave quota for other calls",
                file=sys.stderr,
                flush=True,
            )
        tg.start_soon(_report_quota_waits, client)
        tg.start_soon(_end_when_stdout_closes)
        shown: set[str] = set()
        async for event in events:
            if isinstance(event, WatchError):
                if event.group not in shown and _is_unknown_group(event.error):
                    # A group that is not there at start will not appear by
                    # itself: the same error as `watchlist GROUP`.
                    raise event.error
                print(f"[{event.group}] poll failed: {event.error}", file=sys.stderr, flush=True)
            elif isinstance(event, WatchlistChange):
                shown.add(event.group)
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


async def _end_when_stdout_closes() -> None:
    """Raise BrokenPipeError once nobody reads stdout any more.

    ``asyncquote watch Tech | head -3``: head leaves after its lines, but a
    write is what would fail, and watch (or events) may have nothing to
    write for hours. A pipe whose reader is gone reports an error to poll().
    Not where there is no poll() (Windows) or stdout is no file (a test's
    capture): there the next write still finds out.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return
    poller = select.poll()
    poller.register(fd, 0)  # no events asked for: only errors and hang-ups are reported
    # Nothing to wait on in the event loop (a pipe is writable all along):
    # look once a second, as _report_quota_waits does.
    while True:
        if poller.poll(0):
            raise BrokenPipeError(errno.EPIPE, "nobody reads stdout any more")
        await anyio.sleep(1)


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
    from ..sim import Faults, GatewayState, Simulator, StateFileError, serve
    from ..sim._websocket import WebSocketListenError

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
        if sim.websocket_port is not None:
            key = "required" if args.websocket_key is not None else "any"
            print(f"websocket: ws://{sim.host}:{sim.websocket_port} (key: {key})", flush=True)
        changes = "".join(
            f", then {change.status} at {change.after:g} s" for change in args.gateway_changes
        )
        print(f"gateway: {args.gateway_status}{changes}", flush=True)
        quota = sim.subscription_quota
        print(f"market: {sim.market.describe()}; subscription quota: {quota}", flush=True)

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
            websocket_port=args.websocket_port,
            websocket_key=args.websocket_key,
            gateway=GatewayState.in_status(args.gateway_status),
            status_changes=args.gateway_changes,
            quote_rate=args.quote_rate,
            market_seed=0 if args.seed is None else args.seed,
            subscription_quota=args.subscription_quota,
            clock_start=args.clock_start,
            ready=announce,
        )
    except StateFileError as exc:
        raise _CommandFailed(
            f"{exc}; --state FILE takes a JSON file the simulator saved, or a new file in "
            "a writable directory (created from the bundled sample)"
        ) from None
    except OSError as exc:
        if listening:
            raise
        if isinstance(exc, WebSocketListenError):
            failure = _listen_failure(args.host, args.websocket_port, exc, "--websocket-port")
        else:
            failure = _listen_failure(args.host, args.port, exc, "--port")
        raise _CommandFailed(failure) from exc


def _listen_failure(host: str, port: int, exc: OSError, option: str) -> str:
    address = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {address}: the port is already in use (an OpenD or another "
            f"simulator?); stop it or choose another {option} (0 picks a free one)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {address}: no network interface of this machine has that "
            "address; give --host one of its own addresses, e.g. 127.0.0.1 or 0.0.0.0"
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen on {address}: permission denied (ports below 1024 need "
            f"privileges); choose a {option} above 1023"
        )
    reason = exc.strerror or str(exc)
    return f"cannot listen on {address}: {reason}; check --host and {option}"


class _CommandFailed(Exception):
    """A command failed in a way already described by its message."""
