"""The watchlists the benchmark suite serves: the bundled sample, one large group, many small.

The large group is synthetic but shaped like a real long watchlist: mostly
stocks, with ETFs, indexes and a fifth derivatives (warrants, options,
futures), whose extra data makes them the costlier entries to decode. It is
deterministic, so every run and every client sees the same bytes.
"""

from __future__ import annotations

from asyncquote._pb import Qot_Common_pb2
from asyncquote.sim import GroupType, WatchlistGroup, WatchlistStore

__all__ = [
    "LARGE_GROUP",
    "LARGE_GROUP_SIZE",
    "SMALL_GROUPS",
    "SMALL_GROUP_SIZE",
    "benchmark_store",
    "entry",
    "small_group",
]

LARGE_GROUP = "Large"
LARGE_GROUP_SIZE = 500
#: The per-call workloads ask for small groups, so that they measure the round
#: trip more than the decoding. Each concurrent caller asks for its own group:
#: ``get_user_security`` merges concurrent calls for one group into a single
#: request, and the point here is requests on the wire.
SMALL_GROUPS = 10_000
SMALL_GROUP_SIZE = 5

# (market, code prefix) pairs cycled through; codes stay unique per market.
_MARKETS = ((1, "H"), (11, "U"), (21, "S"), (22, "Z"))

# One cycle of 20 entries: the security type of each slot. 3 = stock,
# 4 = ETF, 6 = index, 5 = warrant, 8 = option (DRVT), 10 = future.
_KINDS = (3, 3, 3, 5, 3, 3, 4, 3, 8, 3, 3, 3, 5, 3, 6, 3, 10, 3, 3, 3)
_WARRANT, _OPTION, _FUTURE = 5, 8, 10


def entry(index: int) -> Qot_Common_pb2.SecurityStaticInfo:
    """The benchmark security number ``index``: a stock, ETF, index or derivative by its slot."""
    market, prefix = _MARKETS[index % len(_MARKETS)]
    kind = _KINDS[index % len(_KINDS)]
    info = Qot_Common_pb2.SecurityStaticInfo()
    basic = info.basic
    basic.security.market = market
    basic.security.code = f"{prefix}{index:05d}"
    basic.id = 70_000_000_000_000 + index
    basic.lotSize = 0 if kind == 6 else 100
    basic.secType = kind
    basic.name = f"Benchmark security {index}"
    basic.listTime = "2015-06-30"
    basic.listTimestamp = 1_435_593_600.0
    basic.delisting = False
    basic.exchType = 1
    owner = (market, f"{prefix}{index - index % len(_KINDS):05d}")
    if kind == _WARRANT:
        info.warrantExData.type = 1 + index % 5
        info.warrantExData.owner.market, info.warrantExData.owner.code = owner
    elif kind == _OPTION:
        option = info.optionExData
        option.type = 1 + index % 2
        option.owner.market, option.owner.code = owner
        option.strikeTime = "2026-06-29"
        option.strikeTimestamp = 1_782_662_400.0
        option.strikePrice = 100.0 + index
        option.suspend = False
        option.market = "HK"
    elif kind == _FUTURE:
        info.futureExData.lastTradeTime = "2026-06-29"
        info.futureExData.lastTradeTimestamp = 1_782_662_400.0
        info.futureExData.isMainContract = False
    return info


def small_group(index: int) -> str:
    """The name of the ``index``-th small group (wrapping round :data:`SMALL_GROUPS`)."""
    return f"Small{index % SMALL_GROUPS:04d}"


def benchmark_store(size: int = LARGE_GROUP_SIZE) -> WatchlistStore:
    """The bundled sample watchlists plus the benchmark's custom groups.

    :data:`LARGE_GROUP` holds ``size`` securities; each of the
    :data:`SMALL_GROUPS` small groups holds :data:`SMALL_GROUP_SIZE` of them.
    """
    sample = WatchlistStore.sample()
    sample_infos = [sample.security(key) for group in sample.groups for key in group.members]
    large = [entry(i) for i in range(max(size, SMALL_GROUP_SIZE))]
    keys = [(info.basic.security.market, info.basic.security.code) for info in large]
    groups = [*sample.groups, WatchlistGroup(LARGE_GROUP, GroupType.CUSTOM, keys[:size])]
    for index in range(SMALL_GROUPS):
        start = index * SMALL_GROUP_SIZE % (len(keys) - SMALL_GROUP_SIZE + 1)
        members = keys[start : start + SMALL_GROUP_SIZE]
        groups.append(WatchlistGroup(small_group(index), GroupType.CUSTOM, members))
    unique = {(i.basic.security.market, i.basic.security.code): i for i in sample_infos}
    unique.update(zip(keys, large, strict=True))
    return WatchlistStore(unique.values(), groups)
