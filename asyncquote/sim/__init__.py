"""An OpenD stand-in: a real TCP server speaking OpenD's protocol on loopback.

It serves InitConnect (1001), GetGlobalState (1002), KeepAlive (1004),
Qot_GetUserSecurity (3213) and Qot_GetUserSecurityGroup (3222) from in-memory
watchlists seeded with bundled sample data, and it works with asyncquote's
client and with the official SDK alike. It runs under asyncio and trio::

    from asyncquote.sim import Simulator

    async with Simulator() as sim:          # ephemeral port on 127.0.0.1
        print(sim.host, sim.port)
        ...
        print(len(sim.requests), "requests served")

Refusals follow OpenD (``retType`` -1 with a message); see
:mod:`asyncquote.sim.texts` for the exact texts, e.g. ``"Unknown watchlists"``
for a group that does not exist.
"""

from __future__ import annotations

from .server import RequestRecord, Simulator, serve
from .watchlists import (
    SYSTEM_GROUP_NAMES,
    GroupType,
    WatchlistGroup,
    WatchlistStore,
    format_code,
    parse_code,
)

__all__ = [
    "SYSTEM_GROUP_NAMES",
    "GroupType",
    "RequestRecord",
    "Simulator",
    "WatchlistGroup",
    "WatchlistStore",
    "format_code",
    "parse_code",
    "serve",
]
