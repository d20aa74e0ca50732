"""OpenD's vocabulary for live quotes: subscription kinds, quote states and
the limits of the subscription and snapshot protocols.

The rest of OpenD's vocabulary is in :mod:`asyncquote._opend`; these live
apart only to keep that module short. Same rules: pure data, each fact
defined once, member names the official SDK's (its spelling included, so
code ported from it keeps working) with the protocol's values. A value this
version does not know stays a plain ``int`` wherever it is decoded
(:meth:`ProtocolEnum.from_value`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .vocabulary import ProtocolEnum, ProtoId

__all__ = [
    "MAX_SNAPSHOT_SECURITIES",
    "MIN_SUBSCRIPTION_SECONDS",
    "PUSH_SUB_TYPES",
    "AssetClass",
    "DarkStatus",
    "IndexOptionType",
    "OptionAreaType",
    "OrderBookType",
    "PriceType",
    "SecurityStatus",
    "SubType",
]


class SubType(ProtocolEnum):
    """Kind of real-time data a connection subscribes to (``Qot_Common.SubType``).

    Each (security, kind) pair subscribed costs one unit of the account's
    subscription quota. The numbering is the protocol's (3 is unused).
    """

    NONE = 0
    QUOTE = 1
    ORDER_BOOK = 2
    TICKER = 4
    RT_DATA = 5
    K_DAY = 6
    K_5M = 7
    K_15M = 8
    K_30M = 9
    K_60M = 10
    K_1M = 11
    K_WEEK = 12
    K_MON = 13
    BROKER = 14
    K_QUARTER = 15
    K_YEAR = 16
    K_3M = 17
    K_10M = 18
    K_120M = 19
    K_180M = 20
    K_240M = 21
    ORDER_BOOK_ODD = 22


class DarkStatus(ProtocolEnum):
    """Grey-market trading of a Hong Kong security before listing (``Qot_Common.DarkStatus``)."""

    NONE = 0
    TRADING = 1
    END = 2


class SecurityStatus(ProtocolEnum):
    """Trading status of a security (``Qot_Common.SecurityStatus``).

    The names, misspellings included, are the official SDK's.
    """

    NONE = 0
    NORMAL = 1
    LISTING = 2
    PURCHASING = 3
    SUBSCRIBING = 4
    BEFORE_DARK_TRADE_OPEING = 5
    DARK_TRADING = 6
    DARK_TRAD_END = 7
    TO_BE_OPEN = 8
    SUSPENDED = 9
    CALLED = 10
    EXPIRED_LAST_TRADING_DATE = 11
    EXPIRED = 12
    DELISTED = 13
    CHANGE_TO_TEMPORARY_CODE = 14
    TEMPORARY_CODE_TRADE_END = 15
    CHANGED_PLATE_TRADE_END = 16
    CHANGED_CODE_TRAD_END = 17
    RECOVERABLE_CIRCUIT_BREAKER = 18
    UNRECOVERABLE_CIRCUIT_BREAKER = 19
    AFTER_COMBINATION = 20
    AFTER_TRANSACTION = 21


class OrderBookType(ProtocolEnum):
    """Board-lot or odd-lot order book (``Qot_Common.OrderBookType``)."""

    NORMAL = 0
    ODD = 1


class IndexOptionType(ProtocolEnum):
    """Kind of index option (``Qot_Common.IndexOptionType``): ``SMALL`` is a mini contract."""

    NONE = 0
    NORMAL = 1
    SMALL = 2


class OptionAreaType(ProtocolEnum):
    """Exercise style of an option (``Qot_Common.OptionAreaType``)."""

    NONE = 0
    AMERICAN = 1
    EUROPEAN = 2
    BERMUDA = 3


class PriceType(ProtocolEnum):
    """In or out of the money (``Qot_Common.PriceType``); for an inline warrant,
    inside or outside its range."""

    NONE = 0
    OUTSIDE = 1
    WITH_IN = 2


class AssetClass(ProtocolEnum):
    """What a fund invests in (``Qot_Common.AssetClass``)."""

    NONE = 0
    STOCK = 1
    BOND = 2
    COMMODITY = 3
    CURRENCY_MARKET = 4
    FUTURE = 5
    SWAP = 6


#: OpenD refuses to unsubscribe a (security, kind) pair less than this many
#: seconds after subscribing it.
MIN_SUBSCRIPTION_SECONDS = 60.0

#: At most this many securities in one snapshot request (3203).
MAX_SNAPSHOT_SECURITIES = 400

#: The kind of subscription each quote push delivers: a connection receives
#: the push only for pairs it subscribed to and registered for.
PUSH_SUB_TYPES: Mapping[int, SubType] = MappingProxyType(
    {
        ProtoId.UPDATE_BASIC_QOT: SubType.QUOTE,
        ProtoId.UPDATE_ORDER_BOOK: SubType.ORDER_BOOK,
    }
)
