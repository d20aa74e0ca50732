"""Typed, frozen models of market snapshots (3203, ``Qot_GetSecuritySnapshot``).

The rules of :mod:`asyncquote._models` hold: snake_case after the protobuf
fields (with OpenD's misspellings corrected: ``streetVolumn`` is
``street_volume``), an absent optional field is ``None``, text is always
``str`` and an enum value this version does not know stays an ``int``.
Percent fields hold the number before the ``%``. A snapshot carries at most
one of the ``*_ex_data`` parts, matching the kind of security.
"""

from __future__ import annotations

from typing import Annotated

from .._opend.quotes import AssetClass, PriceType
from .quotes import (
    OptionQuoteExData,
    PreAfterMarketData,
    SecurityStatusValue,
)
from .watchlist import (
    Security,
    _known_member,
    _Model,
    _OptionTypeValue,
    _SecurityTypeValue,
    _WarrantTypeValue,
)

__all__ = [
    "ConstituentCounts",
    "EquitySnapshotExData",
    "FutureSnapshotExData",
    "OptionSnapshotExData",
    "Snapshot",
    "SnapshotBasicData",
    "TrustSnapshotExData",
    "WarrantSnapshotExData",
]

_PriceTypeValue = Annotated[PriceType | int, _known_member(PriceType)]
_AssetClassValue = Annotated[AssetClass | int, _known_member(AssetClass)]


class SnapshotBasicData(_Model):
    """What every snapshot has (``Qot_GetSecuritySnapshot.SnapshotBasicData``)."""

    security: Security
    """Market and code."""
    name: str | None = None
    """Display name; ``None`` if the gateway did not send one."""
    sec_type: _SecurityTypeValue
    """Kind of security."""
    is_suspended: bool
    """Whether trading is suspended."""
    list_time: str
    """Listing date as OpenD formats it."""
    lot_size: int
    """Shares per board lot."""
    price_spread: float
    """Tick size at the current price."""
    update_time: str
    """When the snapshot's data last changed, as OpenD formats it."""
    high_price: float
    """Highest price today."""
    open_price: float
    """Opening price today."""
    low_price: float
    """Lowest price today."""
    last_close_price: float
    """Previous close."""
    cur_price: float
    """Last price."""
    volume: int
    """Volume traded today."""
    turnover: float
    """Turnover today."""
    turnover_rate: float
    """Turnover rate, in percent."""
    list_timestamp: float | None = None
    """Listing time as a Unix timestamp."""
    update_timestamp: float | None = None
    """:attr:`update_time` as a Unix timestamp."""
    ask_price: float | None = None
    """Best ask."""
    bid_price: float | None = None
    """Best bid."""
    ask_vol: int | None = None
    """Volume at the best ask."""
    bid_vol: int | None = None
    """Volume at the best bid."""
    enable_margin: bool | None = None
    """Whether it can be bought on margin (the next two mean something only if so)."""
    mortgage_ratio: float | None = None
    """Collateral ratio, in percent."""
    long_margin_initial_ratio: float | None = None
    """Initial margin ratio for a long position, in percent."""
    enable_short_sell: bool | None = None
    """Whether it can be sold short (the next three mean something only if so)."""
    short_sell_rate: float | None = None
    """Reference short-selling rate, in percent."""
    short_available_volume: int | None = None
    """Shares still available to sell short."""
    short_margin_initial_ratio: float | None = None
    """Initial margin ratio for a short position, in percent."""
    amplitude: float | None = None
    """Amplitude today, in percent."""
    avg_price: float | None = None
    """Average price today."""
    bid_ask_ratio: float | None = None
    """Bid/ask ratio, in percent."""
    volume_ratio: float | None = None
    """Volume ratio."""
    highest_52_weeks_price: float | None = None
    """Highest price in 52 weeks."""
    lowest_52_weeks_price: float | None = None
    """Lowest price in 52 weeks."""
    highest_history_price: float | None = None
    """Highest price ever."""
    lowest_history_price: float | None = None
    """Lowest price ever."""
    pre_market: PreAfterMarketData | None = None
    """US pre-market session."""
    after_market: PreAfterMarketData | None = None
    """US after-hours session (STAR Market: volume and turnover only)."""
    sec_status: SecurityStatusValue | None = None
    """Trading status."""
    close_price_5_minute: float | None = None
    """Close of the last five-minute bar."""
    overnight: PreAfterMarketData | None = None
    """US overnight session."""
    hp_volume: float | None = None
    """:attr:`volume` with fractions, when OpenD sends it."""
    hp_ask_vol: float | None = None
    """:attr:`ask_vol` with fractions, when OpenD sends it."""
    hp_bid_vol: float | None = None
    """:attr:`bid_vol` with fractions, when OpenD sends it."""


class EquitySnapshotExData(_Model):
    """Stock-only parts of a snapshot."""

    issued_shares: int
    """Shares issued."""
    issued_market_val: float
    """Market value of the shares issued."""
    net_asset: float
    """Net assets."""
    net_profit: float
    """Net profit (or loss)."""
    earnings_per_share: float
    """Earnings per share."""
    outstanding_shares: int
    """Shares outstanding (free float)."""
    outstanding_market_val: float
    """Market value of the shares outstanding."""
    net_asset_per_share: float
    """Net assets per share."""
    ey_rate: float
    """Earnings yield, in percent."""
    pe_rate: float
    """Price/earnings ratio."""
    pb_rate: float
    """Price/book ratio."""
    pe_ttm_rate: float
    """Price/earnings ratio, trailing twelve months."""
    dividend_ttm: float | None = None
    """Dividend, trailing twelve months."""
    dividend_ratio_ttm: float | None = None
    """Dividend yield, trailing twelve months, in percent."""
    dividend_lfy: float | None = None
    """Dividend, last fiscal year."""
    dividend_lfy_ratio: float | None = None
    """Dividend yield, last fiscal year, in percent."""


class WarrantSnapshotExData(_Model):
    """Warrant-only parts of a snapshot."""

    conversion_rate: float
    """Conversion ratio."""
    warrant_type: _WarrantTypeValue
    """Kind of warrant."""
    strike_price: float
    """Strike price."""
    maturity_time: str
    """Maturity date as OpenD formats it."""
    end_trade_time: str
    """Last trading day as OpenD formats it."""
    owner: Security
    """The underlying security."""
    recovery_price: float
    """Call price (bull and bear contracts only)."""
    street_volume: int
    """Warrants held by the public."""
    issue_volume: int
    """Warrants issued."""
    street_rate: float
    """Share held by the public, in percent."""
    delta: float
    """Delta (call and put warrants only)."""
    implied_volatility: float
    """Implied volatility (call and put warrants only)."""
    premium: float
    """Premium, in percent."""
    maturity_timestamp: float | None = None
    """:attr:`maturity_time` as a Unix timestamp."""
    end_trade_timestamp: float | None = None
    """:attr:`end_trade_time` as a Unix timestamp."""
    leverage: float | None = None
    """Leverage ratio."""
    ipop: float | None = None
    """In (positive) or out of the money, in percent."""
    break_even_point: float | None = None
    """Break-even price."""
    conversion_price: float | None = None
    """Conversion price."""
    price_recovery_ratio: float | None = None
    """Distance of the underlying from the call price, in percent."""
    score: float | None = None
    """Overall score."""
    upper_strike_price: float | None = None
    """Upper bound (inline warrants only)."""
    lower_strike_price: float | None = None
    """Lower bound (inline warrants only)."""
    in_line_price_status: _PriceTypeValue | None = None
    """Inside or outside the range (inline warrants only)."""
    issuer_code: str | None = None
    """Issuer's code."""


class OptionSnapshotExData(OptionQuoteExData):
    """Option-only parts of a snapshot: those of a basic quote, and which option it is."""

    type: _OptionTypeValue
    """Call or put."""
    owner: Security
    """The underlying security."""
    strike_time: str
    """Expiry date as OpenD formats it."""
    strike_timestamp: float | None = None
    """:attr:`strike_time` as a Unix timestamp."""


class ConstituentCounts(_Model):
    """Constituents of an index or a plate up, down and unchanged today."""

    raise_count: int
    """Constituents up."""
    fall_count: int
    """Constituents down."""
    equal_count: int
    """Constituents unchanged."""


class FutureSnapshotExData(_Model):
    """Future-only parts of a snapshot."""

    last_settle_price: float
    """Previous settlement price."""
    position: int
    """Open interest."""
    position_change: int
    """Change in open interest today."""
    last_trade_time: str
    """Last trading day as OpenD formats it; empty for the main contract."""
    last_trade_timestamp: float | None = None
    """:attr:`last_trade_time` as a Unix timestamp."""
    is_main_contract: bool
    """Whether this is the continuous main contract."""


class TrustSnapshotExData(_Model):
    """Fund-only parts of a snapshot."""

    dividend_yield: float
    """Dividend yield, in percent."""
    aum: float
    """Assets under management."""
    outstanding_units: int
    """Units outstanding."""
    net_asset_value: float
    """Net asset value per unit."""
    premium: float
    """Premium, in percent."""
    asset_class: _AssetClassValue
    """What the fund invests in."""


class Snapshot(_Model):
    """A market snapshot of one security (``Qot_GetSecuritySnapshot.Snapshot``):
    what :meth:`get_market_snapshot` returns. No subscription needed."""

    basic: SnapshotBasicData
    """What every snapshot has."""
    equity_ex_data: EquitySnapshotExData | None = None
    """Stock facts, or ``None``."""
    warrant_ex_data: WarrantSnapshotExData | None = None
    """Warrant facts, or ``None``."""
    option_ex_data: OptionSnapshotExData | None = None
    """Option facts, or ``None``."""
    index_ex_data: ConstituentCounts | None = None
    """An index's constituents up and down, or ``None``."""
    plate_ex_data: ConstituentCounts | None = None
    """A plate's constituents up and down, or ``None``."""
    future_ex_data: FutureSnapshotExData | None = None
    """Future facts, or ``None``."""
    trust_ex_data: TrustSnapshotExData | None = None
    """Fund facts, or ``None``."""

    @property
    def security(self) -> Security:
        """Shortcut for ``basic.security``."""
        return self.basic.security
