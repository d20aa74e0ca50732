"""The command line's live-quote commands: ``quote``, ``subscribe`` and ``follow``.

``quote CODE...`` prints a snapshot of each security (3203) as a table, or
JSON. ``subscribe CODE... --type QUOTE,TICKER,K_1M`` and ``follow GROUP``
take every type streams deliver (:data:`STREAMED_SUB_TYPES`, by the SDK's
names) and print one line per update (or one JSON object each) as they
come, until Ctrl-C or ``--count``; ``follow`` adds a line for each change of
the group's members, and a stream whose buffer overflowed (trades faster
than the terminal) a line saying how many updates it dropped. A gap after a
reconnect and a failed poll go to stderr, as notes, not updates. The
arguments are checked by argparse (exit 2) before anything connects; like
every command, these fail by raising (see :mod:`asyncquote._cli.commands`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from typing import Any

import anyio

from .._base.errors import InvalidArgumentError
from .._client.watch import WatchError, WatchlistChange
from .._io.taskgroups import single_errors
from .._models.groups import check_group_name
from .._models.market_data import Broker, BrokerQueue, Ticker, TimeSharePoint
from .._models.quotes import BasicQuote, OrderBook
from .._models.snapshots import Snapshot
from .._models.watchlist import Security, _Model
from .._opend.quotes import AuType, OrderBookType, Session, SubType
from .._quotes.args import STREAMED_SUB_TYPES
from .._quotes.follow import NotFollowed
from .._quotes.market_data_pushes import KLineUpdate
from .._quotes.market_data_requests import check_au_type
from .._quotes.stream import StreamDropped, StreamGap
from .commands import (
    _CommandFailed,
    _connect,
    _end_when_stdout_closes,
    _json_ready,
    _quiet_watcher_warnings,
)
from .table import _number, _pad, _type_name, _width

__all__ = ["add_autype_option", "add_quote_commands", "quote_commands"]

Command = Callable[[str, str], argparse.ArgumentParser]


# -- argument types (argparse turns their errors into usage errors, exit 2) ------------


def _code(text: str) -> str:
    """A security code such as ``HK.00700``."""
    try:
        return str(Security.parse(text))
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _sub_types(text: str) -> list[SubType]:
    """Comma-separated subscription types by the SDK's names, e.g. ``QUOTE,TICKER,K_1M``."""
    names = [name.strip().upper() for name in text.split(",") if name.strip()]
    known = {sub_type.name: sub_type for sub_type in STREAMED_SUB_TYPES}
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        held = [name for name in unknown if name in SubType.__members__ and name != "NONE"]
        why = f"{', '.join(held)} is not delivered by streams; " if held else ""
        raise argparse.ArgumentTypeError(
            f"{text!r}: {why}use one or more of {', '.join(known)} (comma-separated)"
        )
    return list(dict.fromkeys(known[name] for name in names))


def _session(text: str) -> Session:
    """A part of the US trading day by its name, e.g. ``ETH`` (any case)."""
    found = Session.__members__.get(text.upper())
    if found is None:
        names = ", ".join(Session.__members__)
        raise argparse.ArgumentTypeError(f"{text!r} is not a session: use one of {names}")
    return found


def _checked(check: Callable[[str], object]) -> Callable[[str], Any]:
    """An argparse type from a library check: its error becomes a usage error."""

    def convert(text: str) -> object:
        try:
            return check(text)
        except InvalidArgumentError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


# A K-line adjustment by the official SDK's name: qfq, hfq or None.
_au_type = _checked(check_au_type)


def add_autype_option(parser: argparse.ArgumentParser) -> None:
    """``--autype``, as ``kline``, ``subscribe`` and ``follow`` take it."""
    parser.add_argument(
        "--autype",
        type=_au_type,
        default=AuType.QFQ,
        metavar="ADJUST",
        help="price adjustment of K-lines: qfq (forward), hfq (backward) or None (default: qfq)",
    )


def _group(text: str) -> str:
    """A watchlist group's name."""
    try:
        return check_group_name(text)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_quote_commands(
    command: Command,
    add_gateway_options: Callable[[argparse.ArgumentParser], None],
    count: Callable[[str], int],
    seconds: Callable[[str], float],
) -> None:
    """Add ``quote``, ``subscribe`` and ``follow`` to the parser ``command`` makes them in."""
    quote = command("quote", "print a snapshot of securities (price, change, volume...)")
    quote.add_argument("codes", nargs="+", type=_code, metavar="CODE", help="e.g. HK.00700")
    quote.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_gateway_options(quote)

    subscribe = command("subscribe", "print live quotes of securities as they come")
    subscribe.add_argument("codes", nargs="+", type=_code, metavar="CODE", help="e.g. HK.00700")
    follow = command("follow", "print a watchlist group's changes and its live quotes")
    follow.add_argument("group", type=_group, metavar="GROUP", help='group name, e.g. "Tech"')
    follow.add_argument(
        "--interval",
        type=seconds,
        default=30.0,
        help="seconds between polls of the group (stretched to leave half the quota free)",
    )
    for streaming in (subscribe, follow):
        streaming.add_argument(
            "--type",
            type=_sub_types,
            default=[SubType.QUOTE],
            dest="sub_types",
            metavar="TYPES",
            help="what to stream, comma-separated: QUOTE, ORDER_BOOK, ORDER_BOOK_ODD, TICKER, "
            "RT_DATA, "
            "BROKER, or a K-line period K_1M, K_DAY... (default: QUOTE)",
        )
        streaming.add_argument(
            "--extended-time",
            action="store_true",
            help="US pre-market and after-hours trades, time-share and K-lines too",
        )
        streaming.add_argument(
            "--session",
            type=_session,
            default=Session.NONE,
            metavar="SESSION",
            help="the parts of the US trading day: RTH (regular hours), ETH (with "
            "pre-market and after-hours), ALL (and overnight), OVERNIGHT, or NONE "
            "(the default: as --extended-time says)",
        )
        add_autype_option(streaming)
        streaming.add_argument(
            "--count", type=count, metavar="N", help="stop after N lines (default: until Ctrl-C)"
        )
        streaming.add_argument("--json", action="store_true", help="print one JSON object per line")
        add_gateway_options(streaming)


# -- quote ------------------------------------------------------------------------


_HEADERS = ("code", "name", "price", "change", "open", "high", "low", "volume", "turnover")


def _change(price: float, last_close: float) -> str:
    if not last_close:
        return "-"
    return f"{(price - last_close) / last_close * 100:+.2f}%"


def render_snapshots(snapshots: Sequence[Snapshot]) -> str:
    """The snapshots as a table, one security a row."""
    rows = [_HEADERS] + [
        (
            str(b.security),
            b.name or "",
            f"{b.cur_price:g}",
            _change(b.cur_price, b.last_close_price),
            f"{b.open_price:g}",
            f"{b.high_price:g}",
            f"{b.low_price:g}",
            f"{b.volume:,}",
            f"{b.turnover:,.0f}",
        )
        for b in (snapshot.basic for snapshot in snapshots)
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(_HEADERS))]
    return "\n".join(
        "  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


async def _quote(args: argparse.Namespace) -> None:
    async with _connect(args) as client:
        snapshots = await client.get_market_snapshot(args.codes)
    if args.json:
        rows = [_json_ready(snapshot.model_dump()) for snapshot in snapshots]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(render_snapshots(snapshots))


# -- subscribe and follow ----------------------------------------------------------


# A model's own field named like a line's "type" or "timestamp" keeps its
# value under this prefix (a trade's type and time: ticker_type...).
_RENAMED_PREFIX = {Ticker: "ticker_", TimeSharePoint: "point_"}


def _line(item: object, as_json: bool) -> str | None:
    """One line for an update or a membership change; None for what is only a note."""
    now = datetime.now(timezone.utc)
    if as_json and isinstance(item, _Model) and not isinstance(item, WatchlistChange):
        if isinstance(item, StreamGap | WatchError):
            return _text(item, "")  # a note on stderr, JSON or not
        head = {"type": type(item).__name__, "timestamp": now.isoformat()}
        prefix = _RENAMED_PREFIX.get(type(item), "")
        fields = {
            f"{prefix}{key}" if key in head else key: value
            for key, value in _json_ready(item.model_dump()).items()
        }
        return json.dumps({**head, **fields}, ensure_ascii=False)
    if as_json and isinstance(item, WatchlistChange):
        document: dict[str, object] = {
            "type": "WatchlistChange",
            "timestamp": now.isoformat(),
            "group": item.group,
            "initial": item.initial,
            "added": [str(entry.security) for entry in item.added],
            "removed": [str(entry.security) for entry in item.removed],
            "current": [str(entry.security) for entry in item.current],
        }
        return json.dumps(document, ensure_ascii=False)
    return _text(item, f"{now:%H:%M:%S}")


def _text(item: object, time: str) -> str | None:
    if isinstance(item, BasicQuote):
        return (
            f"{time}  {item.security}  {item.cur_price:g}  "
            f"{_change(item.cur_price, item.last_close_price)}  vol {item.volume:,}"
        )
    if isinstance(item, OrderBook):
        bid = f"{item.bids[0].price:g} x {item.bids[0].volume:,}" if item.bids else "-"
        ask = f"{item.asks[0].price:g} x {item.asks[0].volume:,}" if item.asks else "-"
        # An odd-lot book says so: its levels are not the board-lot book's.
        odd = " odd lots" if item.order_book_type is OrderBookType.ODD else ""
        return f"{time}  {item.security}{odd}  bid {bid}  ask {ask}"
    data = _market_data_text(item, time)
    if data is not None:
        return data
    if isinstance(item, WatchlistChange):
        if item.initial:
            members = " ".join(str(entry.security) for entry in item.current)
            return f"{time}  [{item.group}] {len(item.current)} securities: {members}"
        moves = [f"+{entry.security}" for entry in item.added]
        moves += [f"-{entry.security}" for entry in item.removed]
        return f"{time}  [{item.group}] {' '.join(moves) or 'changed (order or details)'}"
    if isinstance(item, NotFollowed):
        codes = " ".join(str(security) for security in item.securities)
        return f"{time}  [{item.group}] not followed: {codes} ({item.message})"
    if isinstance(item, StreamGap):
        print("(reconnected: updates may have been missed)", file=sys.stderr, flush=True)
    elif isinstance(item, WatchError):
        print(f"[{item.group}] poll failed: {item.error}", file=sys.stderr, flush=True)
    return None


def _broker(side: str, brokers: tuple[Broker, ...]) -> str:
    if not brokers:
        return f"{side} -"
    return f"{side} {len(brokers)} (first {brokers[0].id} {brokers[0].name})"


def _market_data_text(item: object, time: str) -> str | None:
    """A line for a trade, a K-line, a time-share point, a broker queue or a drop marker."""
    if isinstance(item, Ticker):
        direction = _type_name(item.direction)
        clock = item.time.rpartition(" ")[2]  # the trade's own time, exchange time zone
        return f"{clock}  {item.security}  trade {item.price:g} x {item.volume:,}  {direction}"
    if isinstance(item, KLineUpdate):
        bar = item.kline
        period = _type_name(bar.k_type)
        return (
            f"{time}  {bar.security}  {period} {bar.time}  O {_number(bar.open_price)}  "
            f"H {_number(bar.high_price)}  L {_number(bar.low_price)}  "
            f"C {_number(bar.close_price)}  vol {_number(bar.volume, ',')}  "
            f"{'closed' if item.closed else 'open'}"
        )
    if isinstance(item, TimeSharePoint):
        return (
            f"{time}  {item.security}  time-share {item.time}  {_number(item.price)}  "
            f"avg {_number(item.avg_price)}  vol {_number(item.volume, ',')}"
        )
    if isinstance(item, BrokerQueue):
        return f"{time}  {item.security}  brokers {_broker('bid', item.bids)}  " + _broker(
            "ask", item.asks
        )
    if isinstance(item, StreamDropped):
        return f"{time}  ({item.count:,} updates dropped here: the reader fell behind)"
    return None


async def _print_stream(
    args: argparse.Namespace, opening: Callable[[Any], AbstractAsyncContextManager[Any]]
) -> None:
    """Print the stream ``opening(client)`` yields, a line an item, up to ``--count``."""
    async with (
        _connect(args) as client,
        opening(client) as stream,
        single_errors(),
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(_end_when_stdout_closes)
        printed = 0
        async for item in stream:
            line = _line(item, args.json)
            if line is None:
                continue
            print(line, flush=True)
            printed += 1
            if args.count is not None and printed >= args.count:
                break
        else:
            raise _CommandFailed("the connection to OpenD was closed; no more updates")
        tg.cancel_scope.cancel()


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The subscription options ``subscribe`` and ``follow`` pass on."""
    return {"extended_time": args.extended_time, "session": args.session, "autype": args.autype}


async def _subscribe(args: argparse.Namespace) -> None:
    await _print_stream(
        args, lambda client: client.subscribe(args.codes, args.sub_types, **_options(args))
    )


async def _follow(args: argparse.Namespace) -> None:
    with _quiet_watcher_warnings():  # a failed poll is printed once, as a note
        await _print_stream(
            args,
            lambda client: client.follow_user_security(
                args.group, args.sub_types, interval=args.interval, **_options(args)
            ),
        )


def quote_commands() -> dict[str, Callable[[argparse.Namespace], Any]]:
    """The commands of this module, by name, for ``main()``."""
    return {"quote": _quote, "subscribe": _subscribe, "follow": _follow}
