"""OpenD's vocabulary for its own health: what Notify (1003) and
GetGlobalState (1002) say about the gateway.

The rest of OpenD's vocabulary is in :mod:`asyncquote._opend.vocabulary`; these enums
live apart only to keep that module readable. Same rules: pure data, each
fact defined once, member names the official SDK's where it has them (its
spelling included, so code ported from it keeps working) and otherwise the
protocol's own name in upper snake case.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .vocabulary import ProtocolEnum

__all__ = [
    "MARKET_STATE_FIELDS",
    "PROGRAM_STATUS_TEXTS",
    "QUOTE_RIGHT_FIELDS",
    "GatewayEventType",
    "MarketState",
    "NotifyType",
    "ProgramStatusType",
    "QuoteRight",
]


class NotifyType(ProtocolEnum):
    """Which part of a Notify (1003) push is set (``Notify.NotifyType``)."""

    NONE = 0
    GTW_EVENT = 1
    PROGRAM_STATUS = 2
    CONN_STATUS = 3
    QOT_RIGHT = 4
    API_LEVEL = 5
    API_QUOTA = 6
    USED_QUOTA = 7


class GatewayEventType(ProtocolEnum):
    """Something that happened to OpenD itself (``Notify.GtwEventType``)."""

    NONE = 0
    LOCAL_CFG_LOAD_FAILED = 1
    """OpenD could not load its local configuration."""
    API_SVR_RUN_FAILED = 2
    """OpenD's API server failed to start."""
    FORCE_UPDATE = 3
    """This OpenD version is too old; the servers demand an update."""
    LOGIN_FAILED = 4
    """Logging in to Futu's servers failed."""
    UN_AGREE_DISCLAIMER = 5
    """The account has not agreed to the disclaimer."""
    NET_CFG_MISSING = 6
    """OpenD's network configuration is missing."""
    KICKED_OUT = 7
    """The account logged in elsewhere and this OpenD was logged out."""
    LOGIN_PWD_CHANGED = 8
    """The login password was changed; OpenD was logged out."""
    BAN_LOGIN = 9
    """The servers refuse this account's login."""
    NEED_PIC_VERIFY_CODE = 10
    """OpenD waits for a picture verification code."""
    NEED_PHONE_VERIFY_CODE = 11
    """OpenD waits for a phone verification code."""
    APP_DATA_NOT_EXIST = 12
    """OpenD's program data is missing."""
    NESSARY_DATA_MISSING = 13
    """Data OpenD needs is missing (the protocol's spelling)."""
    TRADE_PWD_CHANGED = 14
    """The trading password was changed."""
    ENABLE_DEVICE_LOCK = 15
    """The account turned on device lock."""


class ProgramStatusType(ProtocolEnum):
    """Where OpenD's own start-up and login stand (``Common.ProgramStatusType``).

    Only :attr:`READY` means OpenD can serve quotes.
    """

    NONE = 0
    LOADED = 1
    """Program loaded, not yet logging in."""
    LOGING = 2
    """Logging in (the SDK's spelling)."""
    NEED_PIC_VERIFY_CODE = 3
    """Waiting for a picture verification code."""
    NEED_PHONE_VERIFY_CODE = 4
    """Waiting for a phone verification code."""
    LOGIN_FAILED = 5
    """Login failed."""
    FORCE_UPDATE = 6
    """This OpenD version must be updated."""
    NESSARY_DATA_PREPARING = 7
    """Fetching the data it needs (the SDK's spelling)."""
    NESSARY_DATA_MISSING = 8
    """Data it needs is missing (the SDK's spelling)."""
    UN_AGREE_DISCLAIMER = 9
    """The account has not agreed to the disclaimer."""
    READY = 10
    """Logged in and serving."""
    FORCE_LOGOUT = 11
    """Logged out by the servers (e.g. the account logged in elsewhere)."""
    DISCLAIMER_PULL_FAILED = 12
    """The disclaimer could not be fetched."""


#: What each program status means, as a sentence about OpenD (for messages).
PROGRAM_STATUS_TEXTS: Mapping[ProgramStatusType, str] = MappingProxyType(
    {
        ProgramStatusType.NONE: "OpenD reports no program status",
        ProgramStatusType.LOADED: "OpenD has loaded but not started logging in",
        ProgramStatusType.LOGING: "OpenD is logging in",
        ProgramStatusType.NEED_PIC_VERIFY_CODE: "OpenD needs a picture verification code",
        ProgramStatusType.NEED_PHONE_VERIFY_CODE: "OpenD needs a phone verification code",
        ProgramStatusType.LOGIN_FAILED: "OpenD's login failed",
        ProgramStatusType.FORCE_UPDATE: "OpenD must be updated to a newer version",
        ProgramStatusType.NESSARY_DATA_PREPARING: "OpenD is preparing the data it needs",
        ProgramStatusType.NESSARY_DATA_MISSING: "OpenD is missing data it needs",
        ProgramStatusType.UN_AGREE_DISCLAIMER: ("the account has not agreed to OpenD's disclaimer"),
        ProgramStatusType.READY: "OpenD is ready",
        ProgramStatusType.FORCE_LOGOUT: (
            "OpenD was logged out by the servers (e.g. the account logged in elsewhere)"
        ),
        ProgramStatusType.DISCLAIMER_PULL_FAILED: "OpenD could not fetch the disclaimer",
    }
)


class QuoteRight(ProtocolEnum):
    """A market's quote entitlement (``Qot_Common.QotRight``)."""

    NONE = 0
    """Unknown (the protocol's ``Unknow``)."""
    BMP = 1
    """Basic market price: snapshots only, no streaming."""
    LEVEL1 = 2
    LEVEL2 = 3
    SF = 4
    """Futu's SF (full-depth) quotes."""
    NO = 5
    """No quote rights for this market."""
    LEVEL3 = 6


class MarketState(ProtocolEnum):
    """A market's trading session (``Qot_Common.QotMarketState``).

    Values 27-29 have two names each (STIB and A-share after-hours); the
    second is an alias of the first.
    """

    NONE = 0
    AUCTION = 1
    WAITING_OPEN = 2
    MORNING = 3
    REST = 4
    AFTERNOON = 5
    CLOSED = 6
    PRE_MARKET_BEGIN = 8
    PRE_MARKET_END = 9
    AFTER_HOURS_BEGIN = 10
    AFTER_HOURS_END = 11
    FUTU_SWITCH_DATE = 12
    NIGHT_OPEN = 13
    NIGHT_END = 14
    FUTURE_DAY_OPEN = 15
    FUTURE_DAY_BREAK = 16
    FUTURE_DAY_CLOSE = 17
    FUTURE_DAY_WAIT_OPEN = 18
    HK_CAS = 19
    FUTURE_NIGHT_WAIT = 20
    FUTURE_AFTERNOON = 21
    FUTURE_SWITCH_DATE = 22
    FUTURE_OPEN = 23
    FUTURE_BREAK = 24
    FUTURE_BREAK_OVER = 25
    FUTURE_CLOSE = 26
    STIB_AFTER_HOURS_WAIT = 27
    ASHARE_AFTER_HOURS_WAIT = 27
    STIB_AFTER_HOURS_BEGIN = 28
    ASHARE_AFTER_HOURS_BEGIN = 28
    STIB_AFTER_HOURS_END = 29
    ASHARE_AFTER_HOURS_END = 29
    CLOSE_AUCTION = 30
    AFTERNOON_END = 31
    NIGHT = 32
    OVERNIGHT_BEGIN = 33
    OVERNIGHT_END = 34
    TRADE_AT_LAST = 35
    TRADE_AUCTION = 36
    OVERNIGHT = 37


#: :class:`~asyncquote._models.health.GlobalState` market field → ``GetGlobalState.S2C`` field.
MARKET_STATE_FIELDS: Mapping[str, str] = {
    "market_hk": "marketHK",
    "market_us": "marketUS",
    "market_sh": "marketSH",
    "market_sz": "marketSZ",
    "market_hk_future": "marketHKFuture",
    "market_us_future": "marketUSFuture",
    "market_sg_future": "marketSGFuture",
    "market_jp_future": "marketJPFuture",
    "market_sg": "marketSG",
    "market_my": "marketMY",
    "market_jp": "marketJP",
}

#: :class:`~asyncquote._models.health.QuoteRights` field → ``Notify.QotRight`` field.
QUOTE_RIGHT_FIELDS: Mapping[str, str] = {
    "hk": "hkQotRight",
    "us": "usQotRight",
    "cn": "cnQotRight",
    "hk_option": "hkOptionQotRight",
    "has_us_option": "hasUSOptionQotRight",
    "hk_future": "hkFutureQotRight",
    "us_future": "usFutureQotRight",
    "us_option": "usOptionQotRight",
    "us_index": "usIndexQotRight",
    "us_otc": "usOtcQotRight",
    "sg_future": "sgFutureQotRight",
    "jp_future": "jpFutureQotRight",
    "us_cme_future": "usCMEFutureQotRight",
    "us_cbot_future": "usCBOTFutureQotRight",
    "us_nymex_future": "usNYMEXFutureQotRight",
    "us_comex_future": "usCOMEXFutureQotRight",
    "us_cboe_future": "usCBOEFutureQotRight",
    "sh": "shQotRight",
    "sz": "szQotRight",
    "cc": "ccQotRight",
    "sg_stock": "sgStockQotRight",
    "my_stock": "myStockQotRight",
    "jp_stock": "jpStockQotRight",
    "ec": "ecQotRight",
}
