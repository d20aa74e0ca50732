"""Live quotes as the official SDK's tables, cell by cell.

:func:`asyncquote.to_rows` and :func:`asyncquote.to_dataframe` dispatch
here for :class:`BasicQuote` (the SDK's ``get_stock_quote`` frame),
:class:`Snapshot` (``get_market_snapshot``) and :class:`OrderBook`. The
cells follow the SDK's conventions: ``"N/A"`` for an absent optional value
or an enum value it does not know, and its defaults where it reads an
absent field as present (``0.0``, ``""``). A snapshot row lacks the cells
the SDK leaves empty (NaN in its frame): another kind's extras, the margin
figures of a stock that cannot be bought on margin.

Where the SDK would crash or show a made-up value we do not: an
``update_time`` without a space gives an empty ``data_time`` (the SDK
raises ``IndexError``), and an option's ``contract_size`` falls back to the
integer ``contractSize`` when OpenD sends no ``contractSizeFloat`` (the SDK
shows ``0.0``).

The SDK's ``get_order_book`` returns a dict, not a frame; :func:`sdk_order_book`
gives that dict, and the table of an order book (:data:`ORDER_BOOK_COLUMNS`)
has one row per price level, bids then asks, each side best first.
"""

from __future__ import annotations

from typing import Any

from .._opend.quotes import (
    AssetClass,
    DarkStatus,
    IndexOptionType,
    OptionAreaType,
    OrderBookType,
    PriceType,
    SecurityStatus,
)
from .._opend.vocabulary import PREFIX_BY_MARKET, OptionType, SecurityType, WarrantType
from .quotes import BasicQuote, OptionQuoteExData, OrderBook, PreAfterMarketData
from .snapshots import Snapshot, WarrantSnapshotExData
from .watchlist import Security

__all__ = [
    "ORDER_BOOK_COLUMNS",
    "QUOTE_COLUMNS",
    "SNAPSHOT_COLUMNS",
    "order_book_rows",
    "quote_row",
    "sdk_order_book",
    "snapshot_row",
]

_NA = "N/A"
_SESSION_FIELDS = (
    ("price", "price"),
    ("high_price", "high_price"),
    ("low_price", "low_price"),
    ("volume", "volume"),
    ("turnover", "turnover"),
    ("change_val", "change_val"),
    ("change_rate", "change_rate"),
    ("amplitude", "amplitude"),
)
_SESSIONS = ("pre", "after", "overnight")
_SESSION_COLUMNS = tuple(f"{s}_{column}" for s in _SESSIONS for column, _ in _SESSION_FIELDS)

QUOTE_COLUMNS: tuple[str, ...] = (
    *("code", "name", "data_date", "data_time", "last_price", "open_price", "high_price"),
    *("low_price", "prev_close_price", "volume", "turnover", "turnover_rate", "amplitude"),
    *("suspension", "listing_date", "price_spread", "dark_status", "sec_status"),
    *("strike_price", "contract_size", "open_interest", "implied_volatility", "premium"),
    *("delta", "gamma", "vega", "theta", "rho", "net_open_interest", "expiry_date_distance"),
    *("contract_nominal_value", "owner_lot_multiplier", "option_area_type"),
    *("contract_multiplier", "last_settle_price", "position", "position_change"),
    "index_option_type",
    *_SESSION_COLUMNS,
)
"""The official SDK's ``get_stock_quote`` columns, in its order."""

_EQUITY = (
    *("issued_shares", "total_market_val", "net_asset", "net_profit", "earning_per_share"),
    *("outstanding_shares", "circular_market_val", "net_asset_per_share", "ey_ratio"),
    *("pe_ratio", "pb_ratio", "pe_ttm_ratio", "dividend_ttm", "dividend_ratio_ttm"),
    *("dividend_lfy", "dividend_lfy_ratio"),
)
_WARRANT = (
    *("wrt_conversion_ratio", "wrt_type", "wrt_strike_price", "wrt_maturity_date"),
    *("wrt_end_trade", "wrt_recovery_price", "wrt_street_vol", "wrt_issue_vol"),
    *("wrt_street_ratio", "wrt_delta", "wrt_implied_volatility", "wrt_premium"),
    *("wrt_leverage", "wrt_ipop", "wrt_break_even_point", "wrt_conversion_price"),
    *("wrt_price_recovery_ratio", "wrt_score", "wrt_upper_strike_price"),
    *("wrt_lower_strike_price", "wrt_inline_price_status", "wrt_issuer_code"),
)
_OPTION_NUMBERS = (
    *("open_interest", "implied_volatility", "premium", "delta", "gamma", "vega", "theta"),
    "rho",
)
_OPTION_OPTIONALS = (
    *("net_open_interest", "expiry_date_distance", "contract_nominal_value"),
    *("owner_lot_multiplier", "contract_multiplier"),
)
_OPTION = (
    *("option_type", "strike_time", "option_strike_price", "option_contract_size"),
    *(f"option_{name}" for name in _OPTION_NUMBERS),
    *(f"option_{name}" for name in _OPTION_OPTIONALS[:4]),
    *("option_area_type", "option_contract_multiplier", "index_option_type"),
)
_QUOTE_OPTION = (
    *("strike_price", "contract_size", *_OPTION_NUMBERS, *_OPTION_OPTIONALS),
    *("option_area_type", "index_option_type"),
)
_COUNTS = ("raise_count", "fall_count", "equal_count")
_FUTURE = (
    *("future_last_settle_price", "future_position", "future_position_change"),
    *("future_main_contract", "future_last_trade_time"),
)
_TRUST = (
    *("trust_dividend_yield", "trust_aum", "trust_outstanding_units"),
    *("trust_netAssetValue", "trust_premium", "trust_assetClass"),
)

SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(  # in order, once each: after_volume and after_turnover come early
        (
            *("code", "name", "update_time", "last_price", "open_price", "high_price"),
            *("low_price", "prev_close_price", "volume", "turnover", "turnover_rate"),
            *("suspension", "listing_date", "lot_size", "price_spread", "stock_owner"),
            *("ask_price", "bid_price", "ask_vol", "bid_vol", "enable_margin"),
            *("mortgage_ratio", "long_margin_initial_ratio", "enable_short_sell"),
            *("short_sell_rate", "short_available_volume", "short_margin_initial_ratio"),
            *("amplitude", "avg_price", "bid_ask_ratio", "volume_ratio"),
            *("highest52weeks_price", "lowest52weeks_price", "highest_history_price"),
            *("lowest_history_price", "close_price_5min", "after_volume", "after_turnover"),
            *("sec_status", "equity_valid", *_EQUITY, "wrt_valid", *_WARRANT),
            *("option_valid", *_OPTION, "index_valid", *(f"index_{c}" for c in _COUNTS)),
            *("plate_valid", *(f"plate_{c}" for c in _COUNTS), "future_valid", *_FUTURE),
            *("trust_valid", *_TRUST, *_SESSION_COLUMNS),
        )
    )
)
"""The official SDK's ``get_market_snapshot`` columns, in its order."""

ORDER_BOOK_COLUMNS: tuple[str, ...] = ("code", "name", "side", "price", "volume", "order_count")
"""Columns of an order book's table: one row per level; ``side`` is ``"Bid"`` or ``"Ask"``
(the keys of the SDK's dict), ``volume`` the SDK's (fractional when OpenD sends it)."""

# Value → SDK name, built once; unknown values fall back to "N/A", as in the SDK.
_MARKETS = PREFIX_BY_MARKET
_DARK = {m.value: m.sdk_name for m in DarkStatus}
_STATUS = {m.value: m.sdk_name for m in SecurityStatus}
_AREA = {m.value: m.sdk_name for m in OptionAreaType}
_INDEX_OPTION = {m.value: m.sdk_name for m in IndexOptionType}
_WARRANT_TYPE = {m.value: m.sdk_name for m in WarrantType}
_OPTION_TYPE = {m.value: m.sdk_name for m in OptionType}
_PRICE_TYPE = {m.value: m.sdk_name for m in PriceType}
_ASSET_CLASS = {m.value: m.sdk_name for m in AssetClass}
_BOOK_TYPE = {m.value: m.sdk_name for m in OrderBookType}


def _code(security: Security) -> str:
    return f"{_MARKETS.get(security.market, _NA)}.{security.code}"


def _name(names: dict[int, str], value: int | None) -> str:
    return _NA if value is None else names.get(value, _NA)


def _or_na(value: object) -> object:
    return _NA if value is None else value


def _sessions(cells: dict[str, object], sessions: tuple[PreAfterMarketData | None, ...]) -> None:
    for prefix, session in zip(_SESSIONS, sessions, strict=True):
        for column, field in _SESSION_FIELDS:
            key = f"{prefix}_{column}"
            if key not in cells:  # the SDK never overwrites a cell it has
                cells[key] = _NA if session is None else _or_na(getattr(session, field))


def _contract_size(option: OptionQuoteExData) -> float:
    size = option.contract_size_float
    return float(option.contract_size) if size is None else size


def quote_row(quote: BasicQuote) -> tuple[object, ...]:
    """One quote's cells, in :data:`QUOTE_COLUMNS` order."""
    date_time = quote.update_time.split()
    option = quote.option_ex_data
    future = quote.future_ex_data
    cells: dict[str, object] = {
        "code": _code(quote.security),
        "name": _or_na(quote.name),
        "data_date": date_time[0] if date_time else "",
        "data_time": date_time[1] if len(date_time) > 1 else "",
        "last_price": quote.cur_price,
        "open_price": quote.open_price,
        "high_price": quote.high_price,
        "low_price": quote.low_price,
        "prev_close_price": quote.last_close_price,
        "volume": quote.volume if quote.hp_volume is None else quote.hp_volume,
        "turnover": quote.turnover,
        "turnover_rate": quote.turnover_rate,
        "amplitude": quote.amplitude,
        "suspension": quote.is_suspended,
        "listing_date": _NA if option is not None else quote.list_time,
        "price_spread": quote.price_spread,
        "dark_status": _name(_DARK, quote.dark_status),
        "sec_status": _name(_STATUS, quote.sec_status),
    }
    if option is None:
        cells.update(dict.fromkeys(_QUOTE_OPTION, _NA))
    else:
        cells["strike_price"] = option.strike_price
        cells["contract_size"] = _contract_size(option)
        cells.update((name, getattr(option, name)) for name in _OPTION_NUMBERS)
        cells.update((name, _or_na(getattr(option, name))) for name in _OPTION_OPTIONALS)
        cells["option_area_type"] = _name(_AREA, option.option_area_type)
        cells["index_option_type"] = _name(_INDEX_OPTION, option.index_option_type)
    if future is None:
        cells.update(dict.fromkeys(("last_settle_price", "position", "position_change"), _NA))
    else:
        cells["last_settle_price"] = future.last_settle_price
        cells["position"] = future.position
        cells["position_change"] = future.position_change
        if cells["expiry_date_distance"] == _NA:  # an option's value comes first
            cells["expiry_date_distance"] = _or_na(future.expiry_date_distance)
    _sessions(cells, (quote.pre_market, quote.after_market, quote.overnight))
    return tuple(cells[column] for column in QUOTE_COLUMNS)


_NO_WARRANT = WarrantSnapshotExData(
    conversion_rate=0.0,
    warrant_type=0,
    strike_price=0.0,
    maturity_time="",
    end_trade_time="",
    owner=Security(market=0, code=""),
    recovery_price=0.0,
    street_volume=0,
    issue_volume=0,
    street_rate=0.0,
    delta=0.0,
    implied_volatility=0.0,
    premium=0.0,
)
"""What the SDK reads from a warrant's snapshot that lacks its warrant part: the defaults."""


def _zero(value: Any, default: Any = 0.0) -> Any:
    """An optional field the SDK reads as if present: its default when absent."""
    return default if value is None else value


def snapshot_row(snapshot: Snapshot) -> dict[str, object]:
    """One snapshot's cells by column; the SDK's empty (NaN) cells are left out."""
    basic = snapshot.basic
    option = snapshot.option_ex_data
    warrant = snapshot.warrant_ex_data
    trust = snapshot.trust_ex_data
    cells: dict[str, object] = {
        "code": _code(basic.security),
        "name": _or_na(basic.name),
        "update_time": basic.update_time,
        "last_price": basic.cur_price,
        "open_price": basic.open_price,
        "high_price": basic.high_price,
        "low_price": basic.low_price,
        "prev_close_price": basic.last_close_price,
        "volume": basic.volume if basic.hp_volume is None else basic.hp_volume,
        "turnover": basic.turnover,
        "turnover_rate": basic.turnover_rate,
        "suspension": basic.is_suspended,
        "listing_date": _NA if option is not None else basic.list_time,
        "price_spread": basic.price_spread,
        "lot_size": basic.lot_size,
        "ask_price": _or_na(basic.ask_price),
        "bid_price": _or_na(basic.bid_price),
        "ask_vol": _or_na(basic.ask_vol if basic.hp_ask_vol is None else basic.hp_ask_vol),
        "bid_vol": _or_na(basic.bid_vol if basic.hp_bid_vol is None else basic.hp_bid_vol),
        "wrt_type": _NA if warrant is None else _WARRANT_TYPE.get(warrant.warrant_type, _NA),
        "wrt_inline_price_status": _name(
            _PRICE_TYPE, None if warrant is None else warrant.in_line_price_status
        ),
        "option_type": _NA if option is None else _OPTION_TYPE.get(option.type, _NA),
        "index_option_type": _name(_INDEX_OPTION, option.index_option_type if option else None),
        "option_area_type": _name(_AREA, option.option_area_type if option else None),
        "trust_assetClass": _NA if trust is None else _ASSET_CLASS.get(trust.asset_class, _NA),
    }
    if basic.enable_margin is not None:
        cells["enable_margin"] = basic.enable_margin
        if basic.enable_margin:
            cells["mortgage_ratio"] = _zero(basic.mortgage_ratio)
            cells["long_margin_initial_ratio"] = _zero(basic.long_margin_initial_ratio)
    if basic.enable_short_sell is not None:
        cells["enable_short_sell"] = basic.enable_short_sell
        if basic.enable_short_sell:
            cells["short_sell_rate"] = _zero(basic.short_sell_rate)
            cells["short_available_volume"] = _zero(basic.short_available_volume, 0)
            cells["short_margin_initial_ratio"] = _zero(basic.short_margin_initial_ratio)
    after = basic.after_market
    cells.update(
        amplitude=_zero(basic.amplitude),
        avg_price=_zero(basic.avg_price),
        bid_ask_ratio=_zero(basic.bid_ask_ratio),
        volume_ratio=_zero(basic.volume_ratio),
        highest52weeks_price=_zero(basic.highest_52_weeks_price),
        lowest52weeks_price=_zero(basic.lowest_52_weeks_price),
        highest_history_price=_zero(basic.highest_history_price),
        lowest_history_price=_zero(basic.lowest_history_price),
        after_volume=0 if after is None else _zero(after.volume, 0),
        after_turnover=0.0 if after is None else _zero(after.turnover),
        sec_status=_name(_STATUS, basic.sec_status),
        close_price_5min=_zero(basic.close_price_5_minute),
    )
    _sessions(cells, (basic.pre_market, after, basic.overnight))
    _snapshot_extras(cells, snapshot)
    return cells


def _snapshot_extras(cells: dict[str, object], snapshot: Snapshot) -> None:
    """The per-kind cells: each kind's ``*_valid`` flag, and its columns when it is set."""
    sec_type = snapshot.basic.sec_type
    values: tuple[object, ...]
    equity = snapshot.equity_ex_data
    cells["equity_valid"] = equity is not None
    if equity is not None:
        values = (
            *(equity.issued_shares, equity.issued_market_val, equity.net_asset),
            *(equity.net_profit, equity.earnings_per_share, equity.outstanding_shares),
            *(equity.outstanding_market_val, equity.net_asset_per_share, equity.ey_rate),
            *(equity.pe_rate, equity.pb_rate, equity.pe_ttm_rate, _zero(equity.dividend_ttm)),
            *(_zero(equity.dividend_ratio_ttm), _zero(equity.dividend_lfy)),
            _zero(equity.dividend_lfy_ratio),
        )
        cells.update(zip(_EQUITY, values, strict=True))
    # Warrant, option and future columns go by the security type, as in the SDK.
    cells["wrt_valid"] = sec_type == SecurityType.WARRANT
    if cells["wrt_valid"]:
        w = snapshot.warrant_ex_data or _NO_WARRANT
        cells["stock_owner"] = _code(w.owner)
        values = (
            *(w.conversion_rate, w.strike_price, w.maturity_time, w.end_trade_time),
            *(w.recovery_price, w.street_volume, w.issue_volume, w.street_rate, w.delta),
            *(w.implied_volatility, w.premium, _zero(w.leverage), _zero(w.ipop)),
            *(_zero(w.break_even_point), _zero(w.conversion_price)),
            *(_zero(w.price_recovery_ratio), _zero(w.score), _zero(w.upper_strike_price)),
            *(_zero(w.lower_strike_price), _zero(w.issuer_code, "")),
        )
        columns = [c for c in _WARRANT if c not in ("wrt_type", "wrt_inline_price_status")]
        cells.update(zip(columns, values, strict=True))
    cells["option_valid"] = sec_type == SecurityType.DRVT
    if cells["option_valid"]:
        o = snapshot.option_ex_data
        cells["stock_owner"] = _code(o.owner) if o else "N/A."
        cells["strike_time"] = o.strike_time if o else ""
        cells["option_strike_price"] = o.strike_price if o else 0.0
        cells["option_contract_size"] = _contract_size(o) if o else 0.0
        # Absent, the SDK reads protobuf's defaults: 0 for the count, 0.0 for the rest.
        zeros = (0, *(0.0,) * (len(_OPTION_NUMBERS) - 1))
        numbers = [getattr(o, n) for n in _OPTION_NUMBERS] if o else zeros
        cells.update(zip((f"option_{n}" for n in _OPTION_NUMBERS), numbers, strict=True))
        cells.update((f"option_{n}", _or_na(o and getattr(o, n))) for n in _OPTION_OPTIONALS)
    for kind, counts in (("index", snapshot.index_ex_data), ("plate", snapshot.plate_ex_data)):
        cells[f"{kind}_valid"] = counts is not None
        if counts is not None:
            cells.update((f"{kind}_{c}", getattr(counts, c)) for c in _COUNTS)
    cells["future_valid"] = sec_type == SecurityType.FUTURE
    if cells["future_valid"]:
        f = snapshot.future_ex_data
        values = (0.0, 0, 0, False, "")
        if f:
            values = (f.last_settle_price, f.position, f.position_change)
            values += (f.is_main_contract, f.last_trade_time)
        cells.update(zip(_FUTURE, values, strict=True))
    trust = snapshot.trust_ex_data
    cells["trust_valid"] = trust is not None
    if trust is not None:
        values = (trust.dividend_yield, trust.aum, trust.outstanding_units)
        values += (trust.net_asset_value, trust.premium)
        cells.update(zip(_TRUST[:5], values, strict=True))


def _level_volume(level: Any) -> object:
    return level.volume if level.hp_volume is None else level.hp_volume


def order_book_rows(book: OrderBook) -> list[tuple[object, ...]]:
    """An order book's rows, in :data:`ORDER_BOOK_COLUMNS` order: bids, then asks."""
    code = _code(book.security)
    name = _or_na(book.name)
    return [
        (code, name, side, level.price, _level_volume(level), level.order_count)
        for side, levels in (("Bid", book.bids), ("Ask", book.asks))
        for level in levels
    ]


def sdk_order_book(book: OrderBook) -> dict[str, object]:
    """The dict the official SDK's ``get_order_book`` returns for ``book``.

    Keys ``code``, ``name``, ``svr_recv_time_bid``, ``svr_recv_time_ask``,
    ``order_book_type`` (only when OpenD sent it), ``Bid`` and ``Ask``: lists of
    ``(price, volume, order_count, {order_id: volume})``, best price first.
    """
    result: dict[str, object] = {
        "code": _code(book.security),
        "name": _or_na(book.name),
        "svr_recv_time_bid": book.svr_recv_time_bid or "",
        "svr_recv_time_ask": book.svr_recv_time_ask or "",
    }
    if book.order_book_type is not None:
        result["order_book_type"] = _name(_BOOK_TYPE, book.order_book_type)
    for key, levels in (("Bid", book.bids), ("Ask", book.asks)):
        result[key] = [
            (
                level.price,
                _level_volume(level),
                level.order_count,
                {detail.order_id: detail.volume for detail in level.details},
            )
            for level in levels
        ]
    return result
