"""Watchlist entries as the official SDK's table: plain rows or a pandas DataFrame.

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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._base.errors import InvalidArgumentError
from .._base.install import install_hint
from .._opend.vocabulary import PREFIX_BY_MARKET, OptionType, SecurityType, WarrantType
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


def _entries(items: Iterable[SecurityStaticInfo]) -> list[SecurityStaticInfo]:
    """``items`` as a list, checked: one ``isinstance`` per entry."""
    if isinstance(items, SecurityStaticInfo) or not isinstance(items, Iterable):
        raise InvalidArgumentError(
            "expected a list of SecurityStaticInfo (what get_user_security returns), "
            f"not {type(items).__name__}"
        )
    entries = list(items)
    for entry in entries:
        if not isinstance(entry, SecurityStaticInfo):
            raise InvalidArgumentError(
                "expected SecurityStaticInfo entries (what get_user_security returns), "
                f"not {entry!r}"
            )
    return entries


def to_rows(items: Iterable[SecurityStaticInfo]) -> list[dict[str, object]]:
    """The official SDK's ``get_user_security`` table as one dict per entry.

    Each dict has exactly the keys of :data:`COLUMNS`, in that order:

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

    Enum values the official SDK does not know show as ``"N/A"``, as in the SDK.

    Raises:
        InvalidArgumentError: ``items`` is not an iterable of
            :class:`SecurityStaticInfo`.
    """
    return [dict(zip(COLUMNS, _row(info), strict=True)) for info in _entries(items)]


def to_dataframe(items: Iterable[SecurityStaticInfo]) -> pd.DataFrame:
    """The official SDK's ``get_user_security`` DataFrame for ``items``.

    Same columns, order, cells (see :func:`to_rows`) and dtypes as the frame
    ``OpenQuoteContext.get_user_security`` returns under the installed pandas,
    with a default ``RangeIndex``. Like the SDK's, a column's dtype depends on
    the rows: ``strike_price`` is ``float64`` when every entry is an option but
    ``object`` once a stock's ``"N/A"`` joins it, and an empty frame has
    ``object`` columns.

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
    # one gives float64 columns instead of object).
    rows = [_row(info) for info in _entries(items)]
    frame: pd.DataFrame = pandas.DataFrame(rows, columns=list(COLUMNS))
    # Annotated rather than cast: pandas-stubs types the constructor as Any for
    # some target Pythons and as DataFrame for others, where a cast is redundant.
    return frame
