"""An OpenD stand-in: a real TCP server speaking OpenD's protocol on loopback.

It serves InitConnect (1001), GetGlobalState (1002), KeepAlive (1004),
Qot_GetUserSecurity (3213), Qot_ModifyUserSecurity (3214) and
Qot_GetUserSecurityGroup (3222) from watchlists seeded with bundled sample
data, and it works with asyncquote's client and with the official SDK alike.
It runs under asyncio and trio::

    from asyncquote.sim import Simulator

    async with Simulator() as sim:          # ephemeral port on 127.0.0.1
        print(sim.host, sim.port)
        ...
        print(len(sim.requests), "requests served")

Refusals follow OpenD (``retType`` -1 with a message); see
:mod:`asyncquote.sim._texts` for the exact texts, e.g. ``"Unknown watchlists"``
for a group that does not exist.

3214 edits custom groups only (system groups are refused); what each op does
is described at :meth:`WatchlistStore.modify`. The watchlists live in memory
unless ``state_path=`` (``asyncquote sim --state FILE``) names a JSON file to
load them from and save every change to, atomically; see
:mod:`asyncquote.sim._persistence`.

Like OpenD, it enforces request quotas per account, shared by all
connections: 3213, 3214 and 3222 allow 10 requests per 30 seconds each, and
the 11th is refused with ``"… too frequent, request failed: at most 10
requests per 30 seconds."``. Quotas can be changed or lifted, and faults
injected (see :class:`Faults`), e.g. replies held back by a random delay::

    Simulator(
        quotas={3213: Quota(10, 2.0), 3222: None},   # None: no quota
        language="zh",                               # Chinese refusals
        faults=Faults(reply_delay=(0.01, 0.2), seed=1),
        state_path="watchlists.json",                # survive restarts
    )

With ``rsa_key=`` it encrypts connections as an OpenD configured with
``rsa_private_key`` does (RSA for InitConnect, then AES with the connection's
key); see :mod:`asyncquote.sim._peer`. For reconnection tests,
``await sim.drop_connections()`` closes every connection and
``await sim.restart(downtime)`` takes the port down and up again.

With ``websocket_port=`` (``asyncquote sim --websocket-port 33333
--websocket-key KEY``) it also serves the official JavaScript SDK (npm
``futu-api``) over WebSocket, as OpenD does; each WebSocket connection is
bridged to the TCP port, so the watchlists, quotas, faults and records apply
to it alike. It needs the ``websocket`` extra (docs/install.md) and runs under
asyncio and trio; see :mod:`asyncquote.sim._websocket`.

What the gateway says about itself is configurable (see
:class:`GatewayState`) and GetGlobalState (1002) answers with it.
``sim.push(event)`` sends a Notify (1003) built from one of the client's
event models to every connection that asked for notifications, and
``sim.log_out()`` / ``sim.log_in()`` play OpenD being kicked out and logging
back in; while logged out, 3213, 3214 and 3222 are refused::

    async with Simulator(gateway=GatewayState.in_status("need-phone-code")) as sim:
        sim.log_in()                       # READY, logged in: pushed to clients
        sim.log_out()                      # kicked out: GtwEvent, status, login
        sim.push(UsedQuotaChanged(used_subscription_quota=5))

It serves live quotes too, from a deterministic market (:attr:`Simulator.market`,
a :class:`SimulatedMarket`): every security of its database has a price on its
market's tick ladder, volume and turnover, and a ten-level order book, moving
``quote_rate`` times a second (``asyncquote sim --quote-rate``; ``0``: only
when told). Qot_Sub (3001), Qot_RegQotPush (3002), Qot_GetSubInfo (3003),
Qot_GetBasicQot (3004), Qot_GetOrderBook (3012) and Qot_GetSecuritySnapshot
(3203) follow OpenD's rules (the subscription quota, one unit per (security,
kind) pair; no unsubscribing within a minute; 3004 and 3012 need a
subscription; 400 securities and 60 requests per 30 s for snapshots), and
each move is pushed (3005, 3013) to the connections registered for it.
Every move is a trade, and tickers (3010, 3011), K-lines of every period
(3006, 3007), time-share (3008, 3009) and Hong Kong broker queues (3014,
3015) are made of the trades, served and pushed the same way::

    async with Simulator(quote_rate=0, subscription_quota=100) as sim:
        sim.market.set_price("HK.00700", 400.2)    # pushed to subscribers
        sim.market.trade("HK.00700", 400.4, 500)   # a ticker, in every K-line
        print(sim.market.quote("HK.00700").volume)
"""

from __future__ import annotations

from types import ModuleType

from .._base import deprecated as _deprecated
from .._base import public as _public
from .._opend.vocabulary import Quota
from ._faults import FAULT_NAMES, Faults, parse_fault_spec
from ._gateway import GATEWAY_STATUSES, GatewayState, StatusChange, parse_status_change
from ._market import (
    BookLevel,
    MarketBook,
    MarketKLine,
    MarketQuote,
    MarketTicker,
    MarketTimeShare,
    NotListedError,
    PriceError,
)
from ._market_control import SimulatedMarket
from ._persistence import StateFile, StateFileError
from ._quotas import NO_QUOTAS, OPEND_QUOTAS, parse_quota_spec, parse_quota_specs
from ._serve import serve
from ._server import Simulator
from ._state import RequestRecord
from ._watchlists import (
    SYSTEM_GROUP_NAMES,
    GroupType,
    ModifyOp,
    WatchlistGroup,
    WatchlistStore,
    format_code,
    parse_code,
)

__all__ = [
    "FAULT_NAMES",
    "GATEWAY_STATUSES",
    "NO_QUOTAS",
    "OPEND_QUOTAS",
    "SYSTEM_GROUP_NAMES",
    "BookLevel",
    "Faults",
    "GatewayState",
    "GroupType",
    "MarketBook",
    "MarketKLine",
    "MarketQuote",
    "MarketTicker",
    "MarketTimeShare",
    "ModifyOp",
    "NotListedError",
    "PriceError",
    "Quota",
    "RequestRecord",
    "SimulatedMarket",
    "Simulator",
    "StateFile",
    "StateFileError",
    "StatusChange",
    "WatchlistGroup",
    "WatchlistStore",
    "format_code",
    "parse_code",
    "parse_fault_spec",
    "parse_quota_spec",
    "parse_quota_specs",
    "parse_status_change",
    "serve",
]


def __getattr__(name: str) -> ModuleType:
    # Only reached for names not set: ``asyncquote.sim.server`` (deprecated,
    # see asyncquote._base.deprecated) without importing it.
    return _deprecated.attribute(__name__, name)


# Every class and function above reports this package as its home (see
# _base/public.py): tracebacks and pickles name the public path.
_public.claim(__name__, __all__)
