"""Plain-text rendering of watchlists for terminals (the demo and the CLI)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from .._models.watchlist import SecurityStaticInfo

__all__ = ["render_rows", "render_watchlist"]

_HEADERS = ("code", "name", "type", "lot", "listed", "details")


def _width(text: str) -> int:
    # CJK names take two terminal columns per character.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _number(value: float | None, spec: str = "g") -> str:
    """A number as a cell or in a line; ``-`` for one OpenD did not send."""
    return "-" if value is None else format(value, spec)


def _type_name(value: object) -> str:
    return getattr(value, "name", None) or str(value)


def _details(item: SecurityStaticInfo) -> str:
    if item.option_ex_data is not None:
        opt = item.option_ex_data
        return (
            f"{_type_name(opt.type)} {opt.strike_price:g} on {opt.owner}, expires {opt.strike_time}"
        )
    if item.warrant_ex_data is not None:
        war = item.warrant_ex_data
        return f"{_type_name(war.type)} warrant on {war.owner}"
    if item.future_ex_data is not None:
        fut = item.future_ex_data
        if fut.is_main_contract:
            return "main contract"
        return f"last trade {fut.last_trade_time}"
    return ""


def render_watchlist(items: Sequence[SecurityStaticInfo]) -> str:
    """Return an aligned text table of ``items``, one row per security."""
    rows = [
        (
            str(item.basic.security),
            item.basic.name,
            _type_name(item.basic.sec_type),
            str(item.basic.lot_size),
            item.basic.list_time or "-",
            _details(item),
        )
        for item in items
    ]
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(_HEADERS)]
    lines = [
        "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [_HEADERS, tuple("-" * w for w in widths), *rows]
    ]
    return "\n".join(lines)


def render_rows(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return an aligned text table: ``headers``, then each row (cells as text)."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return "\n".join(
        "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    )
