"""Typed, frozen models of the live data beside quotes: trades (tickers),
time-share points, K-lines and Hong Kong broker queues.

Same rules as :mod:`asyncquote._models.quotes`: snake_case after the
protobuf fields, an absent optional field is ``None``, text is always
``str`` (U+FFFD for bytes that are not UTF-8), an enum value this version
does not know stays an ``int``. A reply or push carries one security and a
list; each item here repeats the security and its name, so an item read
from a stream stands on its own. Decoding is in
:mod:`asyncquote._models.market_data_convert`.
"""

from __future__ import annotations

from typing import Annotated

from .._opend.quotes import AuType, KLType, PushDataType, TickerDirect, TickerType
from .._opend.vocabulary import format_code
from .watchlist import Security, _known_member, _Model

__all__ = ["Broker", "BrokerQueue", "KLine", "Ticker", "TimeSharePoint"]

_TickerDirectValue = Annotated[TickerDirect | int, _known_member(TickerDirect)]
_TickerTypeValue = Annotated[TickerType | int, _known_member(TickerType)]
_PushDataTypeValue = Annotated[PushDataType | int, _known_member(PushDataType)]
_KLTypeValue = Annotated[KLType | int, _known_member(KLType)]
_AuTypeValue = Annotated[AuType | int, _known_member(AuType)]


class _OfSecurity(_Model):
    security: Security
    """Market and code; ``str(item.security)`` is ``"HK.00700"``."""
    name: str | None = None
    """The security's display name; ``None`` if the gateway did not send one."""

    @property
    def code(self) -> str:
        """The code string, e.g. ``"HK.00700"``."""
        return format_code((self.security.market, self.security.code))


class Ticker(_OfSecurity):
    """One trade (``Qot_Common.Ticker``): what :meth:`get_rt_ticker` returns and
    a ``TICKER`` subscription pushes (3010 reply, 3011 push)."""

    time: str
    """Trade time as OpenD formats it (exchange time zone)."""
    sequence: int
    """OpenD's identifier of the trade."""
    direction: _TickerDirectValue
    """Which side started the trade: ``BUY``, ``SELL``, ``NEUTRAL`` or ``NONE``."""
    price: float
    """Trade price."""
    volume: int
    """Shares traded."""
    turnover: float
    """Value traded."""
    recv_time: float | None = None
    """When OpenD received the trade (Unix time), for measuring latency."""
    type: _TickerTypeValue | None = None
    """How the trade was matched; ``None`` if the gateway did not say."""
    type_sign: int | None = None
    """The exchange's own mark for the trade type."""
    push_data_type: _PushDataTypeValue | None = None
    """Live (``REALTIME``) or a refill after Futu's own feed dropped (``BYDISCONN``)."""
    timestamp: float | None = None
    """:attr:`time` as a Unix timestamp."""
    hp_volume: float | None = None
    """:attr:`volume` with fractions (fractional shares), when OpenD sends it."""


class TimeSharePoint(_OfSecurity):
    """One minute of the day's time-share chart (``Qot_Common.TimeShare``):
    what :meth:`get_rt_data` returns and an ``RT_DATA`` subscription pushes
    (3008 reply, 3009 push)."""

    time: str
    """The minute, as OpenD formats it (exchange time zone)."""
    minute: int
    """Minutes since midnight."""
    is_blank: bool
    """No trade data for the minute: only the time is meaningful."""
    price: float | None = None
    """Price at the end of the minute."""
    last_close_price: float | None = None
    """Previous close."""
    avg_price: float | None = None
    """Average price of the day so far (OpenD computes none for options)."""
    volume: int | None = None
    """Shares traded in the minute."""
    turnover: float | None = None
    """Value traded in the minute."""
    timestamp: float | None = None
    """:attr:`time` as a Unix timestamp."""
    hp_volume: float | None = None
    """:attr:`volume` with fractions, when OpenD sends it."""


class KLine(_OfSecurity):
    """One bar of a K-line chart (``Qot_Common.KLine``): what
    :meth:`get_cur_kline` returns and a ``K_*`` subscription pushes (3006
    reply, 3007 push).

    The protocol does not mark a bar closed. A bar is named by the start
    of its interval (:attr:`time`); OpenD pushes the open bar again as it
    changes, and a bar with a later :attr:`time` for the same security,
    period and adjustment means every earlier bar has closed.
    """

    k_type: _KLTypeValue
    """Period: ``KLType.K_1M``, ``K_DAY``... (the SDK's ``ktype``)."""
    au_type: _AuTypeValue
    """Price adjustment: ``AuType.QFQ``, ``HFQ`` or ``NONE`` (the SDK's ``autype``)."""
    time: str
    """Start of the bar's interval, as OpenD formats it (exchange time zone)."""
    is_blank: bool
    """No trade data in the interval: only the time is meaningful."""
    high_price: float | None = None
    """Highest price."""
    open_price: float | None = None
    """First price."""
    low_price: float | None = None
    """Lowest price."""
    close_price: float | None = None
    """Last price (the current one while the bar is open)."""
    last_close_price: float | None = None
    """Close of the bar before."""
    volume: int | None = None
    """Shares traded."""
    turnover: float | None = None
    """Value traded."""
    turnover_rate: float | None = None
    """Turnover rate, as OpenD sends it."""
    pe: float | None = None
    """Price-earnings ratio."""
    change_rate: float | None = None
    """Change against the bar before, in percent."""
    timestamp: float | None = None
    """:attr:`time` as a Unix timestamp."""
    hp_volume: float | None = None
    """:attr:`volume` with fractions, when OpenD sends it."""


class Broker(_Model):
    """One broker in a Hong Kong broker queue (``Qot_Common.Broker``)."""

    id: int
    """The broker's id."""
    name: str
    """The broker's name."""
    position: int
    """Its place in the queue, as OpenD numbers it (the SDK's ``broker_pos``)."""
    order_id: int | None = None
    """The exchange's order id (full-depth market data only; not a trading order id)."""
    volume: int | None = None
    """Shares in the order (full-depth market data only)."""


class BrokerQueue(_OfSecurity):
    """The broker queue of a Hong Kong security: what :meth:`get_broker_queue`
    returns and a ``BROKER`` subscription pushes (3014 reply, 3015 push)."""

    bids: tuple[Broker, ...]
    """Brokers buying, in OpenD's order."""
    asks: tuple[Broker, ...]
    """Brokers selling, in OpenD's order."""
