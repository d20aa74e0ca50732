"""Protobuf → models for market snapshots (3203 reply).

Same rules and machinery as :mod:`asyncquote._models.quote_convert`: a table per
model, read field by field; unknown enum values stay ``int``, text that is
not UTF-8 gets U+FFFD, absent optional fields are ``None``.
"""

from __future__ import annotations

from typing import Any

from .._opend.quotes import AssetClass, PriceType, SecurityStatus
from .._opend.vocabulary import OptionType, SecurityType, WarrantType
from .._pb import Qot_GetSecuritySnapshot_pb2
from .convert import security_from_pb
from .quote_convert import OPTION_FIELDS, Field, decoder, enum_value, pre_after_from_pb, text
from .snapshots import (
    ConstituentCounts,
    EquitySnapshotExData,
    FutureSnapshotExData,
    OptionSnapshotExData,
    Snapshot,
    SnapshotBasicData,
    TrustSnapshotExData,
    WarrantSnapshotExData,
)

__all__ = ["snapshot_from_pb", "snapshots_from_response"]

_basic = decoder(
    SnapshotBasicData,
    [
        Field("security", "security", security_from_pb),
        Field("name", "name", text, optional=True),
        Field("sec_type", "type", enum_value(SecurityType)),
        Field("is_suspended", "isSuspend"),
        Field("list_time", "listTime", text),
        Field("lot_size", "lotSize"),
        Field("price_spread", "priceSpread"),
        Field("update_time", "updateTime", text),
        Field("high_price", "highPrice"),
        Field("open_price", "openPrice"),
        Field("low_price", "lowPrice"),
        Field("last_close_price", "lastClosePrice"),
        Field("cur_price", "curPrice"),
        Field("volume", "volume"),
        Field("turnover", "turnover"),
        Field("turnover_rate", "turnoverRate"),
        Field("list_timestamp", "listTimestamp", optional=True),
        Field("update_timestamp", "updateTimestamp", optional=True),
        Field("ask_price", "askPrice", optional=True),
        Field("bid_price", "bidPrice", optional=True),
        Field("ask_vol", "askVol", optional=True),
        Field("bid_vol", "bidVol", optional=True),
        Field("enable_margin", "enableMargin", optional=True),
        Field("mortgage_ratio", "mortgageRatio", optional=True),
        Field("long_margin_initial_ratio", "longMarginInitialRatio", optional=True),
        Field("enable_short_sell", "enableShortSell", optional=True),
        Field("short_sell_rate", "shortSellRate", optional=True),
        Field("short_available_volume", "shortAvailableVolume", optional=True),
        Field("short_margin_initial_ratio", "shortMarginInitialRatio", optional=True),
        Field("amplitude", "amplitude", optional=True),
        Field("avg_price", "avgPrice", optional=True),
        Field("bid_ask_ratio", "bidAskRatio", optional=True),
        Field("volume_ratio", "volumeRatio", optional=True),
        Field("highest_52_weeks_price", "highest52WeeksPrice", optional=True),
        Field("lowest_52_weeks_price", "lowest52WeeksPrice", optional=True),
        Field("highest_history_price", "highestHistoryPrice", optional=True),
        Field("lowest_history_price", "lowestHistoryPrice", optional=True),
        Field("pre_market", "preMarket", pre_after_from_pb, optional=True),
        Field("after_market", "afterMarket", pre_after_from_pb, optional=True),
        Field("sec_status", "secStatus", enum_value(SecurityStatus), optional=True),
        Field("close_price_5_minute", "closePrice5Minute", optional=True),
        Field("overnight", "overnight", pre_after_from_pb, optional=True),
        Field("hp_volume", "hpVolume", optional=True),
        Field("hp_ask_vol", "hpAskVol", optional=True),
        Field("hp_bid_vol", "hpBidVol", optional=True),
    ],
)

_equity = decoder(
    EquitySnapshotExData,
    [
        Field("issued_shares", "issuedShares"),
        Field("issued_market_val", "issuedMarketVal"),
        Field("net_asset", "netAsset"),
        Field("net_profit", "netProfit"),
        Field("earnings_per_share", "earningsPershare"),
        Field("outstanding_shares", "outstandingShares"),
        Field("outstanding_market_val", "outstandingMarketVal"),
        Field("net_asset_per_share", "netAssetPershare"),
        Field("ey_rate", "eyRate"),
        Field("pe_rate", "peRate"),
        Field("pb_rate", "pbRate"),
        Field("pe_ttm_rate", "peTTMRate"),
        Field("dividend_ttm", "dividendTTM", optional=True),
        Field("dividend_ratio_ttm", "dividendRatioTTM", optional=True),
        Field("dividend_lfy", "dividendLFY", optional=True),
        Field("dividend_lfy_ratio", "dividendLFYRatio", optional=True),
    ],
)

_warrant = decoder(
    WarrantSnapshotExData,
    [
        Field("conversion_rate", "conversionRate"),
        Field("warrant_type", "warrantType", enum_value(WarrantType)),
        Field("strike_price", "strikePrice"),
        Field("maturity_time", "maturityTime", text),
        Field("end_trade_time", "endTradeTime", text),
        Field("owner", "owner", security_from_pb),
        Field("recovery_price", "recoveryPrice"),
        Field("street_volume", "streetVolumn"),  # sic: the protocol's spelling
        Field("issue_volume", "issueVolumn"),  # sic
        Field("street_rate", "streetRate"),
        Field("delta", "delta"),
        Field("implied_volatility", "impliedVolatility"),
        Field("premium", "premium"),
        Field("maturity_timestamp", "maturityTimestamp", optional=True),
        Field("end_trade_timestamp", "endTradeTimestamp", optional=True),
        Field("leverage", "leverage", optional=True),
        Field("ipop", "ipop", optional=True),
        Field("break_even_point", "breakEvenPoint", optional=True),
        Field("conversion_price", "conversionPrice", optional=True),
        Field("price_recovery_ratio", "priceRecoveryRatio", optional=True),
        Field("score", "score", optional=True),
        Field("upper_strike_price", "upperStrikePrice", optional=True),
        Field("lower_strike_price", "lowerStrikePrice", optional=True),
        Field("in_line_price_status", "inLinePriceStatus", enum_value(PriceType), True),
        Field("issuer_code", "issuerCode", text, optional=True),
    ],
)

_option = decoder(
    OptionSnapshotExData,
    [
        *OPTION_FIELDS,
        Field("type", "type", enum_value(OptionType)),
        Field("owner", "owner", security_from_pb),
        Field("strike_time", "strikeTime", text),
        Field("strike_timestamp", "strikeTimestamp", optional=True),
    ],
)

# Index and plate extras are the same three counts.
_counts = decoder(
    ConstituentCounts,
    [
        Field("raise_count", "raiseCount"),
        Field("fall_count", "fallCount"),
        Field("equal_count", "equalCount"),
    ],
)

_future = decoder(
    FutureSnapshotExData,
    [
        Field("last_settle_price", "lastSettlePrice"),
        Field("position", "position"),
        Field("position_change", "positionChange"),
        Field("last_trade_time", "lastTradeTime", text),
        Field("last_trade_timestamp", "lastTradeTimestamp", optional=True),
        Field("is_main_contract", "isMainContract"),
    ],
)

_trust = decoder(
    TrustSnapshotExData,
    [
        Field("dividend_yield", "dividendYield"),
        Field("aum", "aum"),
        Field("outstanding_units", "outstandingUnits"),
        Field("net_asset_value", "netAssetValue"),
        Field("premium", "premium"),
        Field("asset_class", "assetClass", enum_value(AssetClass)),
    ],
)

snapshot_from_pb = decoder(
    Snapshot,
    [
        Field("basic", "basic", _basic),
        Field("equity_ex_data", "equityExData", _equity, optional=True),
        Field("warrant_ex_data", "warrantExData", _warrant, optional=True),
        Field("option_ex_data", "optionExData", _option, optional=True),
        Field("index_ex_data", "indexExData", _counts, optional=True),
        Field("plate_ex_data", "plateExData", _counts, optional=True),
        Field("future_ex_data", "futureExData", _future, optional=True),
        Field("trust_ex_data", "trustExData", _trust, optional=True),
    ],
)
"""Convert one ``Qot_GetSecuritySnapshot.Snapshot``."""


def snapshots_from_response(response: Qot_GetSecuritySnapshot_pb2.Response) -> list[Snapshot]:
    """The snapshots of a 3203 reply, in OpenD's order; none without an ``s2c``."""
    snapshots: Any = response.s2c.snapshotList
    return list(map(snapshot_from_pb, snapshots))
