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

import enum
from collections.abc import Mapping
from types import MappingProxyType

from .vocabulary import Market, ProtocolEnum, ProtoId

__all__ = [
    "BROKER_QUEUE_MARKETS",
    "KLINE_SUB_TYPES",
    "MAX_KLINES",
    "MAX_SNAPSHOT_SECURITIES",
    "MAX_TICKERS",
    "MIN_SUBSCRIPTION_SECONDS",
    "ORDER_BOOK_SUB_TYPES",
    "PUSH_SUB_TYPES",
    "AssetClass",
    "AuType",
    "DarkStatus",
    "IndexOptionType",
    "KLType",
    "OptionAreaType",
    "OrderBookType",
    "PriceType",
    "PushDataType",
    "SecurityStatus",
    "Session",
    "SubType",
    "TickerDirect",
    "TickerType",
    "UsTradingPart",
    "session_parts",
    "us_trading_part",
    "wire_session",
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


class KLType(ProtocolEnum):
    """Period of a K-line (``Qot_Common.KLType``).

    Numbered differently from the K-line kinds of :class:`SubType`
    (``KLType.K_1M`` is 1, ``SubType.K_1M`` is 11): :data:`KLINE_SUB_TYPES`
    pairs them.
    """

    NONE = 0
    K_1M = 1
    K_DAY = 2
    K_WEEK = 3
    K_MON = 4
    K_YEAR = 5
    K_5M = 6
    K_15M = 7
    K_30M = 8
    K_60M = 9
    K_3M = 10
    K_QUARTER = 11
    K_10M = 12
    K_120M = 13
    K_180M = 14
    K_240M = 15


class AuType(ProtocolEnum):
    """Price adjustment of K-lines (``Qot_Common.RehabType``): none, forward
    (``QFQ``) or backward (``HFQ``) for splits and dividends.

    The official SDK names the values ``"None"``, ``"qfq"`` and ``"hfq"``
    (:attr:`sdk_name`), not after its members.
    """

    NONE = 0
    QFQ = 1
    HFQ = 2

    @property
    def sdk_name(self) -> str:
        """The official SDK's string for this adjustment: ``"None"``, ``"qfq"`` or ``"hfq"``."""
        return "None" if self is AuType.NONE else self.name.lower()


class Session(ProtocolEnum):
    """Which US trading sessions a subscription covers (``Common.Session``, Qot_Sub's
    ``session``): regular hours only (``RTH``), with pre-market and after-hours
    (``ETH``), those and overnight (``ALL``), or overnight only (``OVERNIGHT``).
    ``NONE`` leaves it to Qot_Sub's ``extendedTime`` (see :func:`session_parts`)."""

    NONE = 0
    RTH = 1
    ETH = 2
    ALL = 3
    OVERNIGHT = 4


class UsTradingPart(enum.Enum):
    """A part of the US trading day, in New York time: pre-market 04:00-09:30,
    regular 09:30-16:00, after-hours 16:00-20:00, overnight 20:00-04:00."""

    PRE = "pre"
    REGULAR = "regular"
    AFTER = "after"
    OVERNIGHT = "overnight"


# Where each part starts, in minutes after New York midnight (overnight wraps).
_US_PART_STARTS = (
    (4 * 60, UsTradingPart.PRE),
    (9 * 60 + 30, UsTradingPart.REGULAR),
    (16 * 60, UsTradingPart.AFTER),
    (20 * 60, UsTradingPart.OVERNIGHT),
)

_SESSION_PARTS: Mapping[Session, frozenset[UsTradingPart]] = MappingProxyType(
    {
        Session.RTH: frozenset({UsTradingPart.REGULAR}),
        Session.ETH: frozenset({UsTradingPart.PRE, UsTradingPart.REGULAR, UsTradingPart.AFTER}),
        Session.ALL: frozenset(UsTradingPart),
        Session.OVERNIGHT: frozenset({UsTradingPart.OVERNIGHT}),
    }
)


def us_trading_part(minute_of_day: int) -> UsTradingPart:
    """The part of the US trading day a New York wall time (minutes after midnight) is in."""
    part = UsTradingPart.OVERNIGHT
    for start, name in _US_PART_STARTS:
        if minute_of_day >= start:
            part = name
    return part


def session_parts(session: int, extended_time: bool) -> frozenset[UsTradingPart]:
    """The parts of the US trading day a Qot_Sub with ``session`` and ``extendedTime`` covers.

    A ``session`` other than ``NONE`` says it; with ``NONE``, ``extendedTime``
    ("pre-market and after-hours data") adds those two to the regular session.
    (Our reading of the protocol's comments; OpenD documents no precedence.)
    """
    member = Session.from_value(session)
    if isinstance(member, Session) and member is not Session.NONE:
        return _SESSION_PARTS[member]
    return _SESSION_PARTS[Session.ETH if extended_time else Session.RTH]


def wire_session(parts: frozenset[UsTradingPart]) -> tuple[bool, Session]:
    """The ``(extendedTime, session)`` of the narrowest Qot_Sub covering ``parts``:
    ``(False, NONE)`` for the regular session alone, ``(True, NONE)`` with
    pre-market and after-hours, ``(False, OVERNIGHT)`` for overnight alone,
    ``(True, ALL)`` for overnight and more (``extendedTime`` set whenever the
    session covers pre- and after-market, for an OpenD reading only it)."""
    if UsTradingPart.OVERNIGHT not in parts:
        return bool(parts - _SESSION_PARTS[Session.RTH]), Session.NONE
    if parts == _SESSION_PARTS[Session.OVERNIGHT]:
        return False, Session.OVERNIGHT
    return True, Session.ALL


class TickerDirect(ProtocolEnum):
    """Which side started a trade (``Qot_Common.TickerDirection``): ``BUY`` is
    a buyer taking the ask (the protocol's *Bid*), ``SELL`` a seller hitting
    the bid (its *Ask*)."""

    NONE = 0
    BUY = 1
    SELL = 2
    NEUTRAL = 3


class TickerType(ProtocolEnum):
    """How a trade was matched (``Qot_Common.TickerType``).

    The names, misspellings included, are the official SDK's; unlike most
    of its enums, the SDK calls 0 ``UNKNOWN``, not ``"N/A"``.
    """

    UNKNOWN = 0
    AUTO_MATCH = 1
    LATE = 2
    NON_AUTO_MATCH = 3
    INTER_AUTO_MATCH = 4
    INTER_NON_AUTO_MATCH = 5
    ODD_LOT = 6
    AUCTION = 7
    BULK = 8
    CRASH = 9
    CROSS_MARKET = 10
    BULK_SOLD = 11
    FREE_ON_BOARD = 12
    RULE127_OR_155 = 13
    DELAY = 14
    MARKET_CENTER_CLOSE_PRICE = 15
    NEXT_DAY = 16
    MARKET_CENTER_OPENING = 17
    PRIOR_REFERENCE_PRICE = 18
    MARKET_CENTER_OPEN_PRICE = 19
    SELLER = 20
    T = 21
    EXTENDED_TRADING_HOURS = 22
    CONTINGENT = 23
    AVERAGE_PRICE = 24
    OTC_SOLD = 25
    ODD_LOT_CROSS_MARKET = 26
    DERIVATIVELY_PRICED = 27
    REOPENINGP_RICED = 28
    CLOSING_PRICED = 29
    COMPREHENSIVE_DELAY_PRICE = 30
    OVERSEAS = 31


class PushDataType(ProtocolEnum):
    """How a pushed ticker came about (``Qot_Common.PushDataType``): live,
    fetched to fill the gap after Futu's own quote connection dropped
    (``BYDISCONN``, at most 50), or neither (``CACHE``)."""

    NONE = 0
    REALTIME = 1
    BYDISCONN = 2
    CACHE = 3


#: The subscription kind of each K-line period: a connection subscribes
#: ``KLINE_SUB_TYPES[period]`` to receive that period's K-lines (3006, 3007).
KLINE_SUB_TYPES: Mapping[KLType, SubType] = MappingProxyType(
    {period: SubType[period.name] for period in KLType if period is not KLType.NONE}
)


#: OpenD refuses to unsubscribe a (security, kind) pair less than this many
#: seconds after subscribing it.
MIN_SUBSCRIPTION_SECONDS = 60.0

#: At most this many securities in one snapshot request (3203).
MAX_SNAPSHOT_SECURITIES = 400

#: At most this many trades in one ticker request (3010's ``maxRetNum``).
MAX_TICKERS = 1000

#: At most this many bars in one K-line request of the latest bars (3006's ``reqNum``).
MAX_KLINES = 1000

#: The kind of subscription each quote push delivers: a connection receives
#: the push only for pairs it subscribed to and registered for.
PUSH_SUB_TYPES: Mapping[int, SubType] = MappingProxyType(
    {
        ProtoId.UPDATE_BASIC_QOT: SubType.QUOTE,
        ProtoId.UPDATE_ORDER_BOOK: SubType.ORDER_BOOK,
    }
)

#: The kind of subscription each type of order book belongs to: a 3013 push
#: (and a 3012 request) of an odd-lot book (``orderBookType`` 1) is for
#: ``ORDER_BOOK_ODD``, of a board-lot book (0, the default) for ``ORDER_BOOK``.
ORDER_BOOK_SUB_TYPES: Mapping[OrderBookType, SubType] = MappingProxyType(
    {
        OrderBookType.NORMAL: SubType.ORDER_BOOK,
        OrderBookType.ODD: SubType.ORDER_BOOK_ODD,
    }
)

#: The markets whose securities have broker queues (3014, 3015): Hong Kong's
#: exchange alone publishes which brokers stand at each price.
BROKER_QUEUE_MARKETS: frozenset[Market] = frozenset({Market.HK})
