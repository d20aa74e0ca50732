"""The command line's argument parser: ``_build_parser()`` and its argument types.

One job: turn ``argv`` into an :class:`argparse.Namespace`, rejecting bad
values (ports, seconds, quota and fault specs) as usage errors (exit 2)
before anything runs. Nothing here does I/O or connects; the commands are
in :mod:`asyncquote._cli_commands`, ``main()`` in :mod:`asyncquote._cli`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from . import __version__
from ._opend import Quota
from .sim._faults import FAULT_USAGE
from .sim._gateway import GATEWAY_STATUSES, StatusChange
from .sim._server import DEFAULT_HANDSHAKE_TIMEOUT

_BACKENDS = ("asyncio", "trio")


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


def _count(text: str) -> int:
    """A whole number above 0."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count} must be 1 or more")
    return count


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
        "to encrypt the connection; needs the crypto extra (docs/install.md)",
    )


def _quota_spec(spec: str) -> tuple[int, Quota | None]:
    from .sim import parse_quota_spec

    try:
        return parse_quota_spec(spec)
    except ValueError as exc:
        # argparse shows an ArgumentTypeError's own text; any other error
        # would become a bare "invalid _quota_spec value".
        raise argparse.ArgumentTypeError(str(exc)) from None


def _status_change(spec: str) -> StatusChange:
    from .sim import parse_status_change

    try:
        return parse_status_change(spec)
    except ValueError as exc:
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
    sim.add_argument(
        "--websocket-port",
        type=_port,
        metavar="PORT",
        help="also serve the JavaScript SDK (npm futu-api) over WebSocket on this port "
        "(0: any free one), as OpenD does with websocket_port; needs asyncquote[websocket]",
    )
    sim.add_argument(
        "--websocket-key",
        metavar="KEY",
        help="the key WebSocket clients must be configured with (OpenD's websocket_key_md5 "
        "is its MD5); any key is accepted without it",
    )
    sim.add_argument(
        "--gateway-status",
        choices=tuple(GATEWAY_STATUSES),
        default="ready",
        metavar="STATUS",
        help=f"start in this status, one of {', '.join(GATEWAY_STATUSES)}: anything but "
        "ready is logged out of Futu's servers, so GetGlobalState says so and watchlist "
        "calls are refused",
    )
    sim.add_argument(
        "--gateway-change",
        dest="gateway_changes",
        action="append",
        type=_status_change,
        default=[],
        metavar="SECONDS=STATUS",
        help="move to STATUS (as for --gateway-status) SECONDS after start, pushing "
        "the Notify OpenD sends, e.g. 30=logged-out (kicked out) then 60=ready; "
        "repeatable; none by default",
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

    status = command(
        "status",
        "print OpenD's global state: logins, program status, markets "
        "(exits 1, after printing, when OpenD is not ready)",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_gateway_options(status)

    events = command(
        "events", "print OpenD's events (Notify pushes, connection changes) as they come"
    )
    events.add_argument(
        "--count", type=_count, metavar="N", help="stop after N events (default: until Ctrl-C)"
    )
    events.add_argument("--json", action="store_true", help="print one JSON object per event")
    _add_gateway_options(events)

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
