"""OpenD's data as the official SDK's tables: plain rows or a pandas DataFrame.

Code written against the official SDK reads ``get_user_security`` as a
DataFrame. :func:`to_dataframe` turns the models returned by
:meth:`asyncquote.QuoteClient.get_user_security` into that same frame (same
columns, order, values and dtypes), so such code can move over unchanged::

    from asyncquote import to_dataframe

    frame = to_dataframe(await client.get_user_security("All"))

:func:`to_rows` gives the same table as plain dicts and needs no pandas.

The cells follow the SDK, including its placeholders: ``"N/A"`` where a kind
of security lacks a field (``strike_price`` of a stock) or an enum value is
unknown to the SDK, ``""`` for the strings of absent option and future data,
and ``False`` for ``main_contract`` of anything but a future.

Live quotes have tables too: a list of :class:`BasicQuote` gives the SDK's
``get_stock_quote`` frame, a list of :class:`Snapshot` its
``get_market_snapshot`` frame, and an :class:`OrderBook` (or a list of them)
one row per price level (see :mod:`asyncquote._models.quote_dataframes`).
So do the other live data: lists of :class:`Ticker`, :class:`TimeSharePoint`
and :class:`KLine` give the ``get_rt_ticker``, ``get_rt_data`` and
``get_cur_kline`` frames, a :class:`BrokerQueue` one row per broker (see
:mod:`asyncquote._models.market_data_frames`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._base.errors import InvalidArgumentError
from .._base.install import install_hint
from .._opend.vocabulary import PREFIX_BY_MARKET, OptionType, SecurityType, WarrantType
from .market_data import BrokerQueue, KLine, Ticker, TimeSharePoint
from .market_data_frames import (
    BROKER_QUEUE_COLUMNS,
    KLINE_COLUMNS,
    TICKER_COLUMNS,
    TIME_SHARE_COLUMNS,
    broker_queue_rows,
    kline_row,
    ticker_row,
    time_share_row,
)
from .quote_dataframes import (
    ORDER_BOOK_COLUMNS,
    QUOTE_COLUMNS,
    SNAPSHOT_COLUMNS,
    order_book_rows,
    quote_row,
    snapshot_row,
)
from .quotes import BasicQuote, OrderBook
from .snapshots import Snapshot
from .watchlist import SecurityStaticInfo

if TYPE_CHECKING:
    # pandas ships no type information of its own; with pandas-stubs this is
    # the real DataFrame type, without them (or without pandas) it is Any.
    import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]

__all__ = ["COLUMNS", "to_dataframe", "to_rows"]

COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "lot_size",
    "stock_type",
    "stock_child_type",
    "stock_owner",
    "option_type",
    "strike_time",
    "strike_price",
    "suspension",
    "listing_date",
    "stock_id",
    "delisting",
    "main_contract",
    "last_trade_time",
)
"""The official SDK's ``get_user_security`` columns, in its order."""

_NA = "N/A"

# Value → SDK name, built once: a dict lookup per cell is what keeps a
# thousand-row watchlist cheap. IntEnum members hash and compare like their
# values, so a member and a raw int find the same name; values this version
# does not know fall back to "N/A", as the SDK's do.
_MARKET_NAMES = PREFIX_BY_MARKET  # the code-string prefixes; _row inlines format_code
_SEC_TYPE_NAMES = {member.value: member.sdk_name for member in SecurityType}
_WARRANT_TYPE_NAMES = {member.value: member.sdk_name for member in WarrantType}
_OPTION_TYPE_NAMES = {member.value: member.sdk_name for member in OptionType}


def _row(info: SecurityStaticInfo) -> tuple[object, ...]:
    """One entry's cells, in :data:`COLUMNS` order."""
    basic = info.basic
    security = basic.security
    warrant = info.warrant_ex_data
    option = info.option_ex_data
    future = info.future_ex_data
    if warrant is not None:
        owner = warrant.owner
    elif option is not None:
        owner = option.owner
    else:
        owner = None
    return (
        f"{_MARKET_NAMES.get(security.market, _NA)}.{security.code}",
        basic.name,
        basic.lot_size,
        _SEC_TYPE_NAMES.get(basic.sec_type, _NA),
        _NA if warrant is None else _WARRANT_TYPE_NAMES.get(warrant.type, _NA),
        "" if owner is None else f"{_MARKET_NAMES.get(owner.market, _NA)}.{owner.code}",
        _NA if option is None else _OPTION_TYPE_NAMES.get(option.type, _NA),
        "" if option is None else option.strike_time,
        _NA if option is None else option.strike_price,
        _NA if option is None else option.suspend,
        # The SDK never shows an option's listing date, even when OpenD sends one.
        _NA if option is not None else basic.list_time,
        basic.id,
        _NA if basic.delisting is None else basic.delisting,
        False if future is None else future.is_main_contract,
        "" if future is None else future.last_trade_time,
    )


_Row = tuple[object, ...] | dict[str, object]

# Model → (its table's columns, its rows): each item gives one row, except an
# order book (a row per level). Snapshot rows are dicts lacking the SDK's
# empty cells; the others are tuples in column order.
_TABLES: dict[type[Any], tuple[tuple[str, ...], Callable[[Any], list[_Row]]]] = {
    SecurityStaticInfo: (COLUMNS, lambda info: [_row(info)]),
    BasicQuote: (QUOTE_COLUMNS, lambda quote: [quote_row(quote)]),
    Snapshot: (SNAPSHOT_COLUMNS, lambda snapshot: [snapshot_row(snapshot)]),
    OrderBook: (ORDER_BOOK_COLUMNS, lambda book: list(order_book_rows(book))),
    Ticker: (TICKER_COLUMNS, lambda ticker: [ticker_row(ticker)]),
    TimeSharePoint: (TIME_SHARE_COLUMNS, lambda point: [time_share_row(point)]),
    KLine: (KLINE_COLUMNS, lambda bar: [kline_row(bar)]),
    BrokerQueue: (BROKER_QUEUE_COLUMNS, lambda queue: list(broker_queue_rows(queue))),
}

_EXPECTED = (
    "a list of SecurityStaticInfo, BasicQuote, Snapshot, Ticker, TimeSharePoint or KLine "
    "(what get_user_security, get_stock_quote, get_market_snapshot, get_rt_ticker, "
    "get_rt_data and get_cur_kline return), an OrderBook or a BrokerQueue"
)

# What one call returns as a single model, not a list: its table all the same.
_SINGLE = (OrderBook, BrokerQueue)


def _table(items: object, model: type[Any] | None) -> tuple[tuple[str, ...], list[_Row]]:
    """``items``' columns and rows, checked: one ``isinstance`` per entry."""
    if isinstance(items, _SINGLE):
        items = [items]
    if isinstance(items, tuple(_TABLES)) or not isinstance(items, Iterable):
        raise InvalidArgumentError(f"expected {_EXPECTED}, not {type(items).__name__}")
    if model is not None and not (isinstance(model, type) and model in _TABLES):
        raise InvalidArgumentError(f"model must be one of {_model_names()}, not {model!r}")
    entries = list(items)
    if model is not None:
        kind: type[Any] | None = model
    elif entries:
        kind = next((cls for cls in type(entries[0]).__mro__ if cls in _TABLES), None)
    else:
        kind = SecurityStaticInfo  # what an empty list always was
    if kind is None:
        raise InvalidArgumentError(f"expected {_EXPECTED}, not a list of {entries[0]!r}")
    columns, rows_of = _TABLES[kind]
    for entry in entries:
        if not isinstance(entry, kind):
            raise InvalidArgumentError(
                f"expected {kind.__name__} entries like the first, not {entry!r}"
            )
    return columns, [row for entry in entries for row in rows_of(entry)]


def _model_names() -> str:
    return ", ".join(cls.__name__ for cls in _TABLES)


def _as_dict(columns: Sequence[str], row: _Row) -> dict[str, object]:
    if isinstance(row, tuple):
        return dict(zip(columns, row, strict=True))
    return {column: row.get(column) for column in columns}


def to_rows(
    items: Iterable[Any] | OrderBook | BrokerQueue, *, model: type[Any] | None = None
) -> list[dict[str, object]]:
    """The official SDK's table of ``items`` as one dict per row.

    ``items`` is what a call returned: a list of :class:`SecurityStaticInfo`
    (``get_user_security``), :class:`BasicQuote` (``get_stock_quote``),
    :class:`Snapshot` (``get_market_snapshot``) or :class:`OrderBook`, or
    one order book. ``model`` (one of those classes) is needed only to give
    an empty list its columns; an empty list is otherwise a watchlist.

    Each dict has exactly the table's keys, in the SDK's column order. For
    watchlist entries:

    ========================  ==================================================
    ``code``                  ``"HK.00700"``; an unknown market prints ``"N/A"``
    ``name``, ``lot_size``    as sent
    ``stock_type``            security type name (``"STOCK"``, ``"IDX"``...)
    ``stock_child_type``      warrant type name, else ``"N/A"``
    ``stock_owner``           a warrant's or option's underlying code, else ``""``
    ``option_type``           option type name (``"CALL"``...), else ``"N/A"``
    ``strike_time``           an option's expiry date, else ``""``
    ``strike_price``          an option's strike (``float``), else ``"N/A"``
    ``suspension``            an option's suspension flag (``bool``), else ``"N/A"``
    ``listing_date``          ``"N/A"`` for options, else the listing date as sent
    ``stock_id``              OpenD's numeric id (``int``)
    ``delisting``             ``bool``, or ``"N/A"`` when OpenD did not say
    ``main_contract``         a future's main-contract flag, else ``False``
    ``last_trade_time``       a future's last trading day, else ``""``
    ========================  ==================================================

    Quotes and snapshots follow the SDK's ``get_stock_quote`` and
    ``get_market_snapshot`` the same way; a snapshot cell the SDK leaves
    empty (NaN in its frame: another kind's extras, say) is ``None`` here.
    An order book gives a row per price level: ``code``, ``name``, ``side``
    (``"Bid"`` or ``"Ask"``), ``price``, ``volume``, ``order_count``; bids
    first, each side best price first. (The SDK's ``get_order_book`` gives a
    dict instead.)

    Lists of :class:`Ticker`, :class:`TimeSharePoint` and :class:`KLine`
    follow the SDK's ``get_rt_ticker``, ``get_rt_data`` and
    ``get_cur_kline``. A :class:`BrokerQueue` (or a list of them) gives a
    row per broker: ``code``, ``name``, ``side`` (``"Bid"`` or ``"Ask"``),
    ``broker_id``, ``broker_name``, ``broker_pos``, ``order_id``,
    ``order_volume``; bids first. (The SDK's ``get_broker_queue`` gives two
    frames, the same cells under ``bid_``/``ask_`` names.)

    Enum values the official SDK does not know show as ``"N/A"``, as in the SDK.

    Raises:
        InvalidArgumentError: ``items`` is none of these, mixes kinds, or
            ``model`` is not one of the classes above.
    """
    columns, rows = _table(items, model)
    return [_as_dict(columns, row) for row in rows]


def to_dataframe(
    items: Iterable[Any] | OrderBook | BrokerQueue, *, model: type[Any] | None = None
) -> pd.DataFrame:
    """The official SDK's DataFrame for ``items`` (see :func:`to_rows` for what they may be).

    Same columns, order, cells (see :func:`to_rows`) and dtypes as the frame
    the SDK returns under the installed pandas, with a default
    ``RangeIndex``: ``get_user_security``, ``get_stock_quote`` or
    ``get_market_snapshot``; for order books, the table of :func:`to_rows`.
    Like the SDK's, a column's dtype depends on the rows: ``strike_price``
    is ``float64`` when every entry is an option but ``object`` once a
    stock's ``"N/A"`` joins it, and an empty frame has ``object`` columns.

    Needs the ``pandas`` extra (see docs/install.md).

    Raises:
        InvalidArgumentError: as for :func:`to_rows`.
        ImportError: pandas is not installed.
    """
    try:
        import pandas
    except ImportError as exc:
        hint = install_hint("pandas")
        raise ImportError(f"asyncquote.to_dataframe needs pandas: {hint}") from exc
    # Rows of plain tuples make pandas infer each column's dtype exactly as it
    # does for the SDK's list of dicts; a dict of columns would not (an empty
    # one gives float64 columns instead of object). Snapshot rows are dicts,
    # as the SDK's are: a missing key is its NaN.
    columns, rows = _table(items, model)
    frame: pd.DataFrame = pandas.DataFrame(rows, columns=list(columns))
    # Annotated rather than cast: pandas-stubs types the constructor as Any for
    # some target Pythons and as DataFrame for others, where a cast is redundant.
    return frame
