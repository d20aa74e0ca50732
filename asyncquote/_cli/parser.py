"""The command line's argument parser: ``_build_parser()``.

One job: turn ``argv`` into an :class:`argparse.Namespace`, rejecting bad
values (ports, seconds, quota and fault specs) as usage errors (exit 2)
before anything runs. The connection options are taken before the command
as well as after it (``asyncquote --port 11112 watchlist HK``); the top-level
parser settles them (:class:`_Parser`). Nothing here does I/O or connects; the
argument types are in :mod:`asyncquote._cli.types`, the commands in
:mod:`asyncquote._cli.commands`, ``main()`` in :mod:`asyncquote._cli.main`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from .._base.version import __version__
from ..sim._faults import FAULT_USAGE
from ..sim._gateway import GATEWAY_STATUSES
from ..sim._server import DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_QUOTE_RATE
from ..sim._subscriptions import DEFAULT_SUBSCRIPTION_QUOTA
from .market_data import add_market_data_commands
from .quotes import add_quote_commands
from .types import (
    _clock_start,
    _count,
    _FaultAction,
    _gateway_port,
    _port,
    _quota_spec,
    _rate,
    _seconds,
    _status_change,
    _timeout,
    _websocket_key,
    _whole,
)

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


#: The connection options' defaults. They are filled in after parsing
#: (:meth:`_Parser.parse_args`): the options are taken before the command
#: and after it, and a default the command's own parser set would hide a
#: value given before the command.
_CONNECTION_DEFAULTS: dict[str, object] = {
    "host": "127.0.0.1",
    "port": 11111,
    "timeout": 12.0,
    "connect_timeout": 10.0,
    "rsa_key": None,
}

#: The commands that connect to OpenD (all but demo and sim).
_GATEWAY_COMMANDS = (
    *("groups", "watchlist", "watch", "status", "events", "add", "remove"),
    *("quote", "subscribe", "follow"),
    "kline",
)


def _add_gateway_options(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """The connection options; ``prefix`` names their dests (the global ones', ``global_``)."""
    default = None if prefix else argparse.SUPPRESS
    # Given before the command, --host, --port and --rsa-key serve sim too.
    for_sim = {
        "host": "; for sim, the address to bind",
        "port": "; for sim, the port to bind, 0 for any free one",
        "rsa_key": "; for sim, the key to encrypt with",
    }
    if not prefix:
        for_sim = dict.fromkeys(for_sim, "")
    parser.add_argument(
        "--host",
        dest=f"{prefix}host",
        metavar="HOST",
        default=default,
        help=f"OpenD host (default: 127.0.0.1{for_sim['host']})",
    )
    parser.add_argument(
        "--port",
        dest=f"{prefix}port",
        metavar="PORT",
        # Before the command, which rule applies is not known yet: checked in parse_args.
        type=str if prefix else _gateway_port,
        default=default,
        help=f"OpenD port (default: 11111{for_sim['port']})",
    )
    parser.add_argument(
        "--timeout",
        dest=f"{prefix}timeout",
        metavar="SECONDS",
        type=_timeout,
        default=default,
        help="seconds each request waits for its reply once connected, inf for no "
        "limit; not the connect and handshake (see --connect-timeout) (default: 12.0)",
    )
    parser.add_argument(
        "--connect-timeout",
        dest=f"{prefix}connect_timeout",
        metavar="SECONDS",
        type=_timeout,
        default=default,
        help="seconds for the TCP connect plus the InitConnect handshake (default: 10.0)",
    )
    parser.add_argument(
        "--rsa-key",
        dest=f"{prefix}rsa_key",
        metavar="FILE",
        default=default,
        help="RSA private key (PEM) OpenD is configured with (its rsa_private_key), "
        f"to encrypt the connection{for_sim['rsa_key']}; needs the crypto extra "
        "(docs/install.md)",
    )


#: A value that starts like a negative number but is not one (``-5=ready``):
#: argparse takes it for an option and says "expected one argument".
_NEGATIVE_SPEC = re.compile(r"-\d.*=")


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--option -5=x`` as ``--option=-5=x``, so the option's own check explains the value."""
    joined: list[str] = []
    for arg in argv:
        previous = joined[-1] if joined else ""
        is_option = previous.startswith("--") and previous != "--" and "=" not in previous
        if is_option and _NEGATIVE_SPEC.match(arg):
            joined[-1] = f"{previous}={arg}"
        else:
            joined.append(arg)
    return joined


class _Parser(argparse.ArgumentParser):
    """The top-level parser: fills in the connection options wherever they were given."""

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: None = None
    ) -> argparse.Namespace:
        argv = sys.argv[1:] if args is None else args
        parsed = super().parse_args(_join_negative_values(argv))
        self._settle_connection_options(parsed)
        return parsed

    def _settle_connection_options(self, args: argparse.Namespace) -> None:
        """The command's option, else the global one, else the default; checked for the command."""
        given = {
            name: getattr(args, f"global_{name}")
            for name in _CONNECTION_DEFAULTS
            if getattr(args, f"global_{name}") is not None
        }
        for name in _CONNECTION_DEFAULTS:
            delattr(args, f"global_{name}")
        if args.command == "demo" and given:
            options = ", ".join(f"--{name.replace('_', '-')}" for name in given)
            self.error(
                f"demo runs its own simulator: leave out {options}, or run "
                "`asyncquote sim` and use the other commands"
            )
        if args.command == "sim":
            timeouts = [name for name in ("timeout", "connect_timeout") if name in given]
            if timeouts:
                option = timeouts[0].replace("_", "-")
                self.error(
                    f"--{option} is for the commands that connect to OpenD; "
                    "sim takes --handshake-timeout"
                )
        if "port" in given:
            port_type = _gateway_port if args.command in _GATEWAY_COMMANDS else _port
            try:
                given["port"] = port_type(str(given["port"]))
            except argparse.ArgumentTypeError as exc:
                self.error(f"argument --port: {exc}")
        names: tuple[str, ...] = ()
        if args.command in _GATEWAY_COMMANDS:
            names = tuple(_CONNECTION_DEFAULTS)
        elif args.command == "sim":
            names = ("host", "port", "rsa_key")
        for name in names:
            if not hasattr(args, name):
                setattr(args, name, given.get(name, _CONNECTION_DEFAULTS[name]))


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="asyncquote",
        description="Async client for the Futu/moomoo OpenD gateway.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"asyncquote {__version__}")
    parser.add_argument(
        "--backend", choices=_BACKENDS, default="asyncio", help="event loop to run on"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log what asyncquote does: connecting, reconnecting, quota waits (debug level)",
    )
    _add_gateway_options(parser, prefix="global_")
    subparsers = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        # Only the top-level parser settles the connection options.
        parser_class=argparse.ArgumentParser,
    )

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
    sim.add_argument(
        "--host", default=argparse.SUPPRESS, help="address to bind (default: 127.0.0.1)"
    )
    sim.add_argument(
        "--port",
        type=_port,
        default=argparse.SUPPRESS,
        help="port to bind (0: any free one) (default: 11111)",
    )
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
        "--seed",
        type=int,
        help="seed the faults' random choices and the market's prices, to repeat a run "
        "exactly (default: random faults, market seed 0)",
    )
    sim.add_argument(
        "--quote-rate",
        type=_rate,
        default=DEFAULT_QUOTE_RATE,
        metavar="PER_SECOND",
        help="how many times a second every security's price moves, pushed to the "
        "connections subscribed (0: prices move only when a test sets them)",
    )
    sim.add_argument(
        "--clock-start",
        type=_clock_start,
        metavar="ISO8601",
        help="start the market's clock at this moment, with its UTC offset, e.g. "
        "2026-01-05T08:00-05:00 (pre-market in New York); it then runs at real speed "
        "(default: now)",
    )
    sim.add_argument(
        "--subscription-quota",
        type=_whole,
        default=DEFAULT_SUBSCRIPTION_QUOTA,
        metavar="PAIRS",
        help="the account's subscription quota: (security, kind) pairs subscribed at once; "
        "Futu's tiers are 100, 300, 1000 and 2000",
    )
    sim.add_argument(
        "--rsa-key",
        metavar="FILE",
        default=argparse.SUPPRESS,
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
        "(0: any free one), as OpenD does with websocket_port; "
        "needs the websocket extra (docs/install.md)",
    )
    sim.add_argument(
        "--websocket-key",
        type=_websocket_key,
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
    add_quote_commands(command, _add_gateway_options, _count, _seconds)
    add_market_data_commands(command, _add_gateway_options)
    return parser
