"""The command line's market-data commands: ``kline``.

``kline CODE --ktype K_1M --num 100 --autype qfq`` subscribes to the period
(OpenD answers only for subscribed K-lines), asks for the latest bars
(``get_cur_kline``) and prints them as a table, oldest first, or as JSON. Its
arguments are checked by argparse with the library's own checks (a usage
error, exit 2) before anything connects.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from .._base.args import check_int
from .._base.errors import InvalidArgumentError
from .._models.market_data import KLine
from .._opend.quotes import KLINE_SUB_TYPES, MAX_KLINES, KLType
from .._quotes.market_data_requests import check_k_type
from .commands import _connect, _json_ready
from .quotes import _checked, _code, add_autype_option
from .table import _number, render_rows

__all__ = ["add_market_data_commands", "market_data_commands", "render_klines"]

Command = Callable[[str, str], argparse.ArgumentParser]


def _num(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise InvalidArgumentError(f"num must be a whole number, not {text!r}") from None
    return check_int("num", number, minimum=1, maximum=MAX_KLINES)


def add_market_data_commands(
    command: Command, add_gateway_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``kline`` to the parser ``command`` makes it in."""
    kline = command("kline", "print the latest K-line bars of a security (a table, oldest first)")
    kline.add_argument("code", type=_code, metavar="CODE", help="e.g. HK.00700")
    kline.add_argument(
        "--ktype",
        type=_checked(check_k_type),
        default=KLType.K_DAY,
        metavar="PERIOD",
        help=f"the period: {', '.join(p.name for p in KLType if p is not KLType.NONE)} "
        "(default: K_DAY)",
    )
    kline.add_argument(
        "--num",
        type=_checked(_num),
        default=100,
        metavar="N",
        help=f"how many bars, 1 to {MAX_KLINES} (default: 100)",
    )
    add_autype_option(kline)
    kline.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_gateway_options(kline)


_HEADERS = ("time", "open", "close", "high", "low", "volume", "turnover")


def render_klines(bars: Sequence[KLine]) -> str:
    """The bars as a table, one a row (a blank bar's prices as ``-``)."""
    rows = [
        (
            bar.time,
            _number(bar.open_price),
            _number(bar.close_price),
            _number(bar.high_price),
            _number(bar.low_price),
            _number(bar.volume, ","),
            _number(bar.turnover, ",.0f"),
        )
        for bar in bars
    ]
    return render_rows(_HEADERS, rows)


async def _kline(args: argparse.Namespace) -> None:
    async with (
        _connect(args) as client,
        client.subscribe([args.code], [KLINE_SUB_TYPES[args.ktype]]),
    ):
        bars = await client.get_cur_kline(args.code, args.num, args.ktype, args.autype)
    if args.json:
        print(json.dumps([_json_ready(bar.model_dump()) for bar in bars], ensure_ascii=False))
    else:
        print(render_klines(bars))


def market_data_commands() -> dict[str, Callable[[argparse.Namespace], Any]]:
    """The commands of this module, by name, for ``main()``."""
    return {"kline": _kline}
