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
from . import (
    _cli_start,  # noqa: F401  (imported for that effect)
    _deprecated,
)
from ._broadcast import Subscription
from ._client import QuoteClient
from ._connect import connect
from ._connection import ConnectionInfo
from ._dataframes import to_dataframe, to_rows
from ._errors import (
    AsyncQuoteError,
    ConnectError,
    ConnectionLostError,
    GatewayNotReadyError,
    InvalidArgumentError,
    OpenDError,
    ProtocolError,
    RateLimitError,
    RequestTimeoutError,
    SubscriptionQuotaError,
    UsageError,
)
from ._events import (
    ApiQuotaChanged,
    ConnectionStateChanged,
    Event,
    GatewayEvent,
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from ._groups import GroupType, ModifyOp, SystemGroup, WatchlistGroup
from ._health import GatewayStatus, GlobalState, ProgramStatus, QuoteRights
from ._models import (
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
from ._opend_health import GatewayEventType, MarketState, NotifyType, ProgramStatusType, QuoteRight
from ._options import QuotaMode
from ._ratelimit import DEFAULT_QUOTAS, Quota, QuotaStatus, RateLimiter
from ._session import ConnectionState, ReconnectPolicy
from ._version import __version__
from ._watch import WatchError, WatchEvent, WatchlistChange, WatchlistWatcher

# The old module paths, public in 0.1 (asyncquote.client, ...): importable
# for one more release, with a DeprecationWarning. See _deprecated.py.
_deprecated.install()


def __getattr__(name: str) -> ModuleType:
    # Only reached for names not set: ``asyncquote.client`` without importing it.
    return _deprecated.attribute(__name__, name)


__all__ = [
    "DEFAULT_QUOTAS",
    "ApiQuotaChanged",
    "AsyncQuoteError",
    "ConnectError",
    "ConnectionInfo",
    "ConnectionLostError",
    "ConnectionState",
    "ConnectionStateChanged",
    "Event",
    "FutureStaticExData",
    "GatewayEvent",
    "GatewayEventType",
    "GatewayNotReadyError",
    "GatewayStatus",
    "GlobalState",
    "GroupType",
    "InvalidArgumentError",
    "LoginStatusChanged",
    "Market",
    "MarketState",
    "ModifyOp",
    "NotifyType",
    "OpenDError",
    "OptionStaticExData",
    "OptionType",
    "ProgramStatus",
    "ProgramStatusChanged",
    "ProgramStatusType",
    "ProtocolError",
    "Quota",
    "QuotaMode",
    "QuotaStatus",
    "QuoteClient",
    "QuoteRight",
    "QuoteRights",
    "QuoteRightsChanged",
    "RateLimitError",
    "RateLimiter",
    "ReconnectPolicy",
    "RequestTimeoutError",
    "Security",
    "SecurityStaticBasic",
    "SecurityStaticInfo",
    "SecurityType",
    "Subscription",
    "SubscriptionQuotaError",
    "SystemGroup",
    "UsageError",
    "UsedQuotaChanged",
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
