"""asyncquote: an asyncio-native (anyio) client for the Futu/moomoo OpenD gateway.

Quickstart::

    import asyncquote

    async with asyncquote.connect("127.0.0.1", 11111) as client:
        for item in await client.get_user_security("All"):
            print(item.basic.security, item.basic.name)

One connection serves any number of concurrent callers; every call returns
frozen pydantic models; every failure is a subclass of
:class:`AsyncQuoteError`.
"""

from __future__ import annotations

from types import ModuleType

# First, before the slow imports below: importing it makes a Ctrl-C while the
# command line starts end quietly (only in the `asyncquote` command itself).
# Not named _cli_start: that is an old path the finder answers (see below).
from ._cli import start as _command_start  # noqa: F401  (imported for that effect)

# isort: split
from ._base import deprecated as _deprecation
from ._base import public as _public
from ._base.errors import (
    AsyncQuoteError,
    ConnectError,
    ConnectionLostError,
    GatewayNotReadyError,
    InvalidArgumentError,
    NotSubscribedError,
    OpenDError,
    ProtocolError,
    RateLimitError,
    RequestTimeoutError,
    SubscriptionQuotaError,
    UnknownGroupError,
    UsageError,
)
from ._base.version import __version__
from ._client.client import QuoteClient
from ._client.connect import connect
from ._client.options import QuotaMode
from ._client.ratelimit import DEFAULT_QUOTAS, Quota, QuotaStatus, RateLimiter
from ._client.watch import WatchError, WatchEvent, WatchlistChange, WatchlistWatcher
from ._io.broadcast import Subscription
from ._io.connection import ConnectionInfo
from ._io.session import ConnectionState, ReconnectPolicy
from ._models.dataframes import to_dataframe, to_rows
from ._models.events import (
    ApiQuotaChanged,
    ConnectionStateChanged,
    Event,
    GatewayEvent,
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from ._models.groups import GroupType, ModifyOp, SystemGroup, WatchlistGroup
from ._models.health import GatewayStatus, GlobalState, ProgramStatus, QuoteRights
from ._models.market_data import Broker, BrokerQueue, KLine, Ticker, TimeSharePoint
from ._models.quotes import (
    BasicQuote,
    ConnectionSubscriptions,
    FutureQuoteExData,
    OptionQuoteExData,
    OrderBook,
    OrderBookDetail,
    OrderBookLevel,
    PreAfterMarketData,
    SubscribedSecurities,
    SubscriptionInfo,
    WarrantQuoteExData,
)
from ._models.snapshots import (
    ConstituentCounts,
    EquitySnapshotExData,
    FutureSnapshotExData,
    OptionSnapshotExData,
    Snapshot,
    SnapshotBasicData,
    TrustSnapshotExData,
    WarrantSnapshotExData,
)
from ._models.watchlist import (
    FutureStaticExData,
    Market,
    OptionStaticExData,
    OptionType,
    Security,
    SecurityStaticBasic,
    SecurityStaticInfo,
    SecurityType,
    WarrantStaticExData,
    WarrantType,
)
from ._opend.health_vocabulary import (
    GatewayEventType,
    MarketState,
    NotifyType,
    ProgramStatusType,
    QuoteRight,
)
from ._opend.quotes import (
    AssetClass,
    AuType,
    DarkStatus,
    IndexOptionType,
    KLType,
    OptionAreaType,
    OrderBookType,
    PriceType,
    PushDataType,
    SecurityStatus,
    Session,
    SubType,
    TickerDirect,
    TickerType,
)
from ._quotes.follow import FollowStream, FollowUpdate, NotFollowed
from ._quotes.market_data_pushes import KLineUpdate
from ._quotes.state import (
    PendingUnsubscribe,
    SubscribedPair,
    SubscriptionQuota,
    SubscriptionStatus,
)
from ._quotes.stream import QuoteStream, StreamDropped, StreamGap

# The old module paths, public in 0.1 (asyncquote.client, ...): importable
# for one more release, with a DeprecationWarning. See _base/deprecated.py.
_deprecation.install()


def __getattr__(name: str) -> ModuleType:
    # Only reached for names not set: ``asyncquote.client`` without importing it.
    return _deprecation.attribute(__name__, name)


__all__ = [
    "DEFAULT_QUOTAS",
    "ApiQuotaChanged",
    "AssetClass",
    "AsyncQuoteError",
    "AuType",
    "BasicQuote",
    "Broker",
    "BrokerQueue",
    "ConnectError",
    "ConnectionInfo",
    "ConnectionLostError",
    "ConnectionState",
    "ConnectionStateChanged",
    "ConnectionSubscriptions",
    "ConstituentCounts",
    "DarkStatus",
    "EquitySnapshotExData",
    "Event",
    "FollowStream",
    "FollowUpdate",
    "FutureQuoteExData",
    "FutureSnapshotExData",
    "FutureStaticExData",
    "GatewayEvent",
    "GatewayEventType",
    "GatewayNotReadyError",
    "GatewayStatus",
    "GlobalState",
    "GroupType",
    "IndexOptionType",
    "InvalidArgumentError",
    "KLType",
    "KLine",
    "KLineUpdate",
    "LoginStatusChanged",
    "Market",
    "MarketState",
    "ModifyOp",
    "NotFollowed",
    "NotSubscribedError",
    "NotifyType",
    "OpenDError",
    "OptionAreaType",
    "OptionQuoteExData",
    "OptionSnapshotExData",
    "OptionStaticExData",
    "OptionType",
    "OrderBook",
    "OrderBookDetail",
    "OrderBookLevel",
    "OrderBookType",
    "PendingUnsubscribe",
    "PreAfterMarketData",
    "PriceType",
    "ProgramStatus",
    "ProgramStatusChanged",
    "ProgramStatusType",
    "ProtocolError",
    "PushDataType",
    "Quota",
    "QuotaMode",
    "QuotaStatus",
    "QuoteClient",
    "QuoteRight",
    "QuoteRights",
    "QuoteRightsChanged",
    "QuoteStream",
    "RateLimitError",
    "RateLimiter",
    "ReconnectPolicy",
    "RequestTimeoutError",
    "Security",
    "SecurityStaticBasic",
    "SecurityStaticInfo",
    "SecurityStatus",
    "SecurityType",
    "Session",
    "Snapshot",
    "SnapshotBasicData",
    "StreamDropped",
    "StreamGap",
    "SubType",
    "SubscribedPair",
    "SubscribedSecurities",
    "Subscription",
    "SubscriptionInfo",
    "SubscriptionQuota",
    "SubscriptionQuotaError",
    "SubscriptionStatus",
    "SystemGroup",
    "Ticker",
    "TickerDirect",
    "TickerType",
    "TimeSharePoint",
    "TrustSnapshotExData",
    "UnknownGroupError",
    "UsageError",
    "UsedQuotaChanged",
    "WarrantQuoteExData",
    "WarrantSnapshotExData",
    "WarrantStaticExData",
    "WarrantType",
    "WatchError",
    "WatchEvent",
    "WatchlistChange",
    "WatchlistGroup",
    "WatchlistWatcher",
    "__version__",
    "connect",
    "to_dataframe",
    "to_rows",
]

# Every class and function above reports this package as its home (see
# _base/public.py): tracebacks and pickles name the public path.
_public.claim(__name__, __all__)
