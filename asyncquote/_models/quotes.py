"""Typed, frozen models of live quotes: basic quotes, order books, subscriptions.

They follow the rules of :mod:`asyncquote._models`: snake_case after the
protobuf fields, an absent optional field is ``None``, text is always
``str`` (U+FFFD for bytes that are not UTF-8) and an enum value this version
does not know stays an ``int``. Percent fields hold the number before the
``%``, as OpenD sends it: ``2.5`` means 2.5 %. Snapshots are in
:mod:`asyncquote._models.snapshots`; decoding is in
:mod:`asyncquote._models.quote_convert`.
"""

from __future__ import annotations

from typing import Annotated

from .._opend.quotes import (
    DarkStatus,
    IndexOptionType,
    OptionAreaType,
    OrderBookType,
    SecurityStatus,
    SubType,
)
from .._opend.vocabulary import format_code
from .watchlist import Security, _known_member, _Model

__all__ = [
    "BasicQuote",
    "ConnectionSubscriptions",
    "FutureQuoteExData",
    "OptionQuoteExData",
    "OrderBook",
    "OrderBookDetail",
    "OrderBookLevel",
    "PreAfterMarketData",
    "SubscribedSecurities",
    "SubscriptionInfo",
    "WarrantQuoteExData",
]

DarkStatusValue = Annotated[DarkStatus | int, _known_member(DarkStatus)]
SecurityStatusValue = Annotated[SecurityStatus | int, _known_member(SecurityStatus)]
_IndexOptionTypeValue = Annotated[IndexOptionType | int, _known_member(IndexOptionType)]
_OptionAreaTypeValue = Annotated[OptionAreaType | int, _known_member(OptionAreaType)]
_OrderBookTypeValue = Annotated[OrderBookType | int, _known_member(OrderBookType)]
_SubTypeValue = Annotated[SubType | int, _known_member(SubType)]


class PreAfterMarketData(_Model):
    """Trading outside regular hours: US pre-market, after-hours or overnight
    (``Qot_Common.PreAfterMarketData``). Every field may be absent."""

    price: float | None = None
    """Last price in the session."""
    high_price: float | None = None
    """Highest price in the session."""
    low_price: float | None = None
    """Lowest price in the session."""
    volume: int | None = None
    """Volume traded in the session."""
    turnover: float | None = None
    """Turnover in the session."""
    change_val: float | None = None
    """Change against the regular session's close."""
    change_rate: float | None = None
    """Change in percent."""
    amplitude: float | None = None
    """Amplitude in percent."""


class OptionQuoteExData(_Model):
    """Option-only parts of a basic quote (``Qot_Common.OptionBasicQotExData``)."""

    strike_price: float
    """Strike price."""
    contract_size: int
    """Shares per contract, as an integer."""
    contract_size_float: float | None = None
    """Shares per contract, exactly (may be fractional)."""
    open_interest: int
    """Open contracts."""
    implied_volatility: float
    """Implied volatility, in percent."""
    premium: float
    """Premium, in percent."""
    delta: float
    """Greek delta."""
    gamma: float
    """Greek gamma."""
    vega: float
    """Greek vega."""
    theta: float
    """Greek theta."""
    rho: float
    """Greek rho."""
    net_open_interest: int | None = None
    """Net open contracts (Hong Kong options only)."""
    expiry_date_distance: int | None = None
    """Days to expiry; negative once expired."""
    contract_nominal_value: float | None = None
    """Nominal value of a contract (Hong Kong options only)."""
    owner_lot_multiplier: float | None = None
    """Board lots of the underlying per contract (Hong Kong stock options only)."""
    option_area_type: _OptionAreaTypeValue | None = None
    """Exercise style."""
    contract_multiplier: float | None = None
    """Contract multiplier."""
    index_option_type: _IndexOptionTypeValue | None = None
    """Normal or mini index option."""


class FutureQuoteExData(_Model):
    """Future-only parts of a basic quote (``Qot_Common.FutureBasicQotExData``)."""

    last_settle_price: float
    """Previous settlement price."""
    position: int
    """Open interest."""
    position_change: int
    """Change in open interest today."""
    expiry_date_distance: int | None = None
    """Days to expiry."""


class WarrantQuoteExData(_Model):
    """Warrant-only parts of a basic quote (``Qot_Common.WarrantBasicQotExData``)."""

    delta: float | None = None
    """Delta (call and put warrants only)."""
    implied_volatility: float | None = None
    """Implied volatility (call and put warrants only)."""
    premium: float
    """Premium, in percent."""


class BasicQuote(_Model):
    """A security's basic real-time quote (``Qot_Common.BasicQot``): what
    :meth:`get_stock_quote` returns and a ``QUOTE`` subscription pushes."""

    security: Security
    """Market and code; ``str(quote.security)`` is ``"HK.00700"``."""
    name: str | None = None
    """Display name; ``None`` if the gateway did not send one."""
    is_suspended: bool
    """Whether trading is suspended."""
    list_time: str
    """Listing date as OpenD formats it."""
    price_spread: float
    """Tick size at the current price."""
    update_time: str
    """When :attr:`cur_price` last changed, as OpenD formats it
    (``"2024-05-17 15:59:58.123"``; empty if never)."""
    high_price: float
    """Highest price today."""
    open_price: float
    """Opening price today."""
    low_price: float
    """Lowest price today."""
    cur_price: float
    """Last price."""
    last_close_price: float
    """Previous close."""
    volume: int
    """Volume traded today."""
    turnover: float
    """Turnover today."""
    turnover_rate: float
    """Turnover rate, in percent."""
    amplitude: float
    """Amplitude today, in percent."""
    dark_status: DarkStatusValue | None = None
    """Grey-market trading state (Hong Kong new listings)."""
    option_ex_data: OptionQuoteExData | None = None
    """Option facts, or ``None`` if this is not an option."""
    list_timestamp: float | None = None
    """Listing time as a Unix timestamp."""
    update_timestamp: float | None = None
    """:attr:`update_time` as a Unix timestamp."""
    pre_market: PreAfterMarketData | None = None
    """US pre-market session."""
    after_market: PreAfterMarketData | None = None
    """US after-hours session."""
    sec_status: SecurityStatusValue | None = None
    """Trading status."""
    future_ex_data: FutureQuoteExData | None = None
    """Future facts, or ``None`` if this is not a future."""
    warrant_ex_data: WarrantQuoteExData | None = None
    """Warrant facts, or ``None`` if this is not a warrant."""
    overnight: PreAfterMarketData | None = None
    """US overnight session."""
    hp_volume: float | None = None
    """Volume today with fractions (fractional shares), when OpenD sends it."""

    @property
    def code(self) -> str:
        """The code string, e.g. ``"HK.00700"``."""
        return format_code((self.security.market, self.security.code))


class OrderBookDetail(_Model):
    """One order queued at a price level (full-depth market data only)."""

    order_id: int
    """The exchange's order id (not a trading order id)."""
    volume: int
    """Shares in the order."""


class OrderBookLevel(_Model):
    """One price level of an order book (``Qot_Common.OrderBook``)."""

    price: float
    """Price of the level."""
    volume: int
    """Shares queued at the level."""
    order_count: int
    """Orders queued at the level."""
    details: tuple[OrderBookDetail, ...] = ()
    """The queued orders (full-depth market data only; else empty)."""
    hp_volume: float | None = None
    """:attr:`volume` with fractions, when OpenD sends it."""


class OrderBook(_Model):
    """A security's order book (3012 reply, 3013 push): what
    :meth:`get_order_book` returns and an ``ORDER_BOOK`` subscription pushes."""

    security: Security
    """Market and code; ``str(book.security)`` is ``"HK.00700"``."""
    name: str | None = None
    """Display name; ``None`` if the gateway did not send one."""
    bids: tuple[OrderBookLevel, ...]
    """Buy side, best (highest) price first."""
    asks: tuple[OrderBookLevel, ...]
    """Sell side, best (lowest) price first."""
    svr_recv_time_bid: str | None = None
    """When Futu's servers received the bid side from the exchange
    (Hong Kong only; empty for cached data)."""
    svr_recv_time_bid_timestamp: float | None = None
    """:attr:`svr_recv_time_bid` as a Unix timestamp."""
    svr_recv_time_ask: str | None = None
    """When Futu's servers received the ask side from the exchange."""
    svr_recv_time_ask_timestamp: float | None = None
    """:attr:`svr_recv_time_ask` as a Unix timestamp."""
    order_book_type: _OrderBookTypeValue | None = None
    """Board-lot or odd-lot book; ``None`` if the gateway did not say."""

    @property
    def code(self) -> str:
        """The code string, e.g. ``"HK.00700"``."""
        return format_code((self.security.market, self.security.code))


class SubscribedSecurities(_Model):
    """The securities one connection subscribed to for one kind of data."""

    sub_type: _SubTypeValue
    """Kind of data; an ``int`` if this version does not know it."""
    securities: tuple[Security, ...]
    """The securities, in OpenD's order."""


class ConnectionSubscriptions(_Model):
    """One connection's subscriptions (``Qot_Common.ConnSubInfo``)."""

    subscriptions: tuple[SubscribedSecurities, ...]
    """What is subscribed, by kind."""
    used_quota: int
    """Subscription quota this connection uses."""
    is_own_connection: bool
    """Whether this is the asking connection."""
    security_firm: int | None = None
    """Broker the connection belongs to, when OpenD says."""
    option_used_quota: int | None = None
    """Option subscription quota this connection uses, when OpenD says."""


class SubscriptionInfo(_Model):
    """Subscriptions and the subscription quota (3003 reply)."""

    connections: tuple[ConnectionSubscriptions, ...]
    """Per connection: the asking one only, or all of OpenD's if asked for."""
    total_used_quota: int
    """Quota used by every connection to this OpenD."""
    remain_quota: int
    """Quota left."""
    option_used_quota: int | None = None
    """Option quota used, when OpenD says."""
    option_remain_quota: int | None = None
    """Option quota left, when OpenD says."""

    @property
    def own(self) -> ConnectionSubscriptions | None:
        """The asking connection's entry, or ``None`` if OpenD sent none."""
        return next((conn for conn in self.connections if conn.is_own_connection), None)
