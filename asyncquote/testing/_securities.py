"""Watchlists for a test, from a plain ``{group: [code, ...]}`` dict.

One job: turn what a test author writes into a
:class:`~asyncquote.sim.WatchlistStore` that looks like a real account's.
A code the bundled sample knows (``HK.00700``, ``US.AAPL``, ...) gets the
sample's static info, so names, lot sizes and option data are real; any
other code gets static info made up from the code alone, the same every
run, so a test can list the securities its bot cares about without writing
protobuf. Options are recognised by the OCC-style code every market uses
(root, ``YYMMDD``, ``C``/``P``, strike times 1000), futures by a ``main``
suffix or the HK futures market; anything else is a stock.

System groups the dict does not name are filled as OpenD fills them (every
security in All, HK stocks in HK, options in Options, ...); a group the dict
names, system or custom, holds exactly what it lists, in that order. Every
security the sample knows stays known, listed or not, so a test can add
``US.AAPL`` to a group it named, as it could on the default simulator.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

from .._opend.vocabulary import (
    SYSTEM_GROUP_NAMES,
    GroupType,
    Market,
    OptionType,
    SecurityKey,
    SecurityType,
    canonical_group_name,
    parse_code,
)
from .._pb import Qot_Common_pb2
from ..sim._watchlists import WatchlistGroup, WatchlistStore, system_groups_for

__all__ = ["static_info", "watchlist_store"]

# root, expiry YYMMDD, C or P, strike in thousandths: "AAPL260618C200000".
_OPTION_CODE = re.compile(r"^(?P<root>[A-Z.]+?)(?P<expiry>\d{6})(?P<side>[CP])(?P<strike>\d+)$")

# Exchange types as the sample uses them (Qot_Common.ExchType), by market.
_EXCHANGE = {Market.HK: 1, Market.US: 5, Market.SH: 14, Market.SZ: 15}
_OPTION_EXCHANGE = {Market.HK: 3, Market.US: 8}
_FUTURES_EXCHANGE = 3
_LOT_SIZE = {Market.HK: 100, Market.SH: 100, Market.SZ: 100}
_OPTION_LOT_SIZE = 100
# A plausible listing date for made-up stocks; options have none, as in OpenD.
_LIST_TIME = "2010-01-04"


def _made_up_id(code: str) -> int:
    # Stable across runs (unlike hash()), positive, and within int64.
    return int.from_bytes(hashlib.sha1(code.encode()).digest()[:6], "big")


def _option(
    market: Market, code: str, basic: Qot_Common_pb2.SecurityStaticBasic
) -> Qot_Common_pb2.SecurityStaticInfo | None:
    match = _OPTION_CODE.match(code)
    if match is None or market not in _OPTION_EXCHANGE:
        return None
    expiry, side = match["expiry"], match["side"]
    strike = int(match["strike"]) / 1000
    strike_time = f"20{expiry[:2]}-{expiry[2:4]}-{expiry[4:]}"
    basic.secType = SecurityType.DRVT
    basic.lotSize = _OPTION_LOT_SIZE
    basic.listTime = ""
    basic.exchType = _OPTION_EXCHANGE[market]
    basic.name = f"{match['root']} {expiry} {strike:.2f}{side}"
    option = Qot_Common_pb2.OptionStaticExData(
        type=OptionType.CALL if side == "C" else OptionType.PUT,
        owner=Qot_Common_pb2.Security(market=market, code=match["root"]),
        strikeTime=strike_time,
        strikePrice=strike,
        suspend=False,
        market=market.name,
    )
    return Qot_Common_pb2.SecurityStaticInfo(basic=basic, optionExData=option)


def static_info(code: str) -> Qot_Common_pb2.SecurityStaticInfo:
    """Static info made up for ``code`` (``"US.NVDA"``), the same on every call.

    Options (``"US.AAPL260618C200000"``) get option data parsed from the
    code, futures (``"HK.HSImain"``, market ``HK_FUTURE``) future data, and
    anything else is a stock named after its code.

    Raises:
        ValueError: ``code`` is not a code string.
    """
    market, symbol = parse_code(code)
    basic = Qot_Common_pb2.SecurityStaticBasic(
        security=Qot_Common_pb2.Security(market=market, code=symbol),
        id=_made_up_id(code),
        lotSize=_LOT_SIZE.get(market, 1),
        secType=SecurityType.STOCK,
        name=symbol,
        listTime=_LIST_TIME,
        delisting=False,
        exchType=_EXCHANGE.get(market, 0),
    )
    option = _option(market, symbol, basic)
    if option is not None:
        return option
    if market is Market.HK_FUTURE or symbol.endswith("main"):
        basic.secType = SecurityType.FUTURE
        basic.lotSize = 1
        basic.exchType = _FUTURES_EXCHANGE
        future = Qot_Common_pb2.FutureStaticExData(
            lastTradeTime="", isMainContract=symbol.endswith("main")
        )
        return Qot_Common_pb2.SecurityStaticInfo(basic=basic, futureExData=future)
    return Qot_Common_pb2.SecurityStaticInfo(basic=basic)


def known_or_made_up(
    codes: Iterable[str], known: WatchlistStore
) -> dict[SecurityKey, Qot_Common_pb2.SecurityStaticInfo]:
    """Static info for each of ``codes``: ``known``'s when it has it, else :func:`static_info`.

    Raises:
        ValueError: a code is not a code string.
    """
    infos: dict[SecurityKey, Qot_Common_pb2.SecurityStaticInfo] = {}
    for code in codes:
        key = parse_code(code)
        if key in infos:
            continue
        try:
            infos[key] = known.security(key)
        except KeyError:
            infos[key] = static_info(code)
    return infos


def watchlist_store(groups: Mapping[str, Sequence[str]]) -> WatchlistStore:
    """A store holding ``groups`` (group name → codes), as a real account would.

    Groups named here hold exactly the codes listed, in order; a system
    group's English or Chinese name (``"HK"``, ``"港股"``) names the system
    group, any other name a custom group. Every other system group is filled
    as OpenD fills it from the securities listed. Codes the bundled sample
    knows get its static info; others get :func:`static_info`. The store
    also knows every other security of the sample, so they can be added.

    Raises:
        ValueError: a code is not a code string, a group lists one twice, or
            ``groups`` is not a mapping of names to lists of codes.
    """
    if not isinstance(groups, Mapping):
        raise ValueError(f"watchlists must map group names to codes, not {groups!r}")
    for name, codes in groups.items():
        if not isinstance(name, str) or isinstance(codes, str) or not isinstance(codes, Sequence):
            raise ValueError(f"watchlists[{name!r}] must be a list of codes, not {codes!r}")
    sample = WatchlistStore.sample()
    infos = known_or_made_up((code for codes in groups.values() for code in codes), sample)
    named = {canonical_group_name(name): name for name in groups}
    implied: dict[str, list[SecurityKey]] = {name: [] for name in SYSTEM_GROUP_NAMES}
    for key, info in infos.items():
        for system_name in system_groups_for(info):
            implied[system_name].append(key)
    result = [
        WatchlistGroup(name, GroupType.SYSTEM, members)
        for name, members in implied.items()
        if name not in named
    ]
    for canonical, name in named.items():
        kind = GroupType.SYSTEM if canonical in SYSTEM_GROUP_NAMES else GroupType.CUSTOM
        result.append(WatchlistGroup(name, kind, [parse_code(code) for code in groups[name]]))
    # Naming groups must not shrink what the gateway knows: the sample's
    # securities stay addable (as on the default simulator), listed or not.
    listed = set(infos)
    known = [info for info in sample.securities if _key(info) not in listed]
    return WatchlistStore([*infos.values(), *known], result)


def _key(info: Qot_Common_pb2.SecurityStaticInfo) -> SecurityKey:
    return (info.basic.security.market, info.basic.security.code)
