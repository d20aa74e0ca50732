"""The simulator's watchlist groups: one group, and OpenD's rules for system groups.

One job: say what a group is (:class:`WatchlistGroup`), which system groups
show a security (:func:`system_groups_for`), in which order OpenD lists
groups (:func:`listing_order`), and read one group from the store's JSON
shape (:func:`group_from_dict`). The store that holds the groups is
:mod:`._watchlists`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .._opend.vocabulary import (
    SYSTEM_GROUP_NAMES,
    GroupType,
    Market,
    SecurityKey,
    SecurityType,
    SystemGroup,
    canonical_group_name,
    format_code,
    parse_code,
)
from .._pb import Qot_Common_pb2

# Where each system group sits in OpenD's listing.
_SYSTEM_GROUP_RANK = {chinese: rank for rank, chinese in enumerate(SYSTEM_GROUP_NAMES)}


_ALL = SystemGroup.ALL.value
_OPTIONS = SystemGroup.OPTIONS.value
_FUTURES = SystemGroup.FUTURES.value
_MARKET_GROUPS: Mapping[int, str] = {
    Market.HK: SystemGroup.HK.value,
    Market.US: SystemGroup.US.value,
    Market.SH: SystemGroup.CN.value,
    Market.SZ: SystemGroup.CN.value,
}
_OPTION_GROUPS: Mapping[int, str] = {
    Market.HK: SystemGroup.HK_OPTIONS.value,
    Market.US: SystemGroup.US_OPTIONS.value,
}


def system_groups_for(info: Qot_Common_pb2.SecurityStaticInfo) -> tuple[str, ...]:
    """The system groups (Chinese names) that show a security once it is on the watchlist.

    Every security shows in 全部 (All). Options show in 期权 (Options) and in
    their market's options group, futures in 期货 (Futures); anything else in
    its market's group: 港股 (HK) for warrants and indices too, 美股 (US), or
    沪深 (CN) for Shanghai and Shenzhen. Other markets show in All only.
    特别关注 (Starred) is the user's own pick and is never implied.
    """
    basic = info.basic
    market = basic.security.market
    if basic.secType == SecurityType.DRVT:
        option_group = _OPTION_GROUPS.get(market)
        return (_ALL, _OPTIONS, option_group) if option_group else (_ALL, _OPTIONS)
    if basic.secType == SecurityType.FUTURE or market == Market.HK_FUTURE:
        return (_ALL, _FUTURES)
    market_group = _MARKET_GROUPS.get(market)
    return (_ALL, market_group) if market_group else (_ALL,)


@dataclass(slots=True)
class WatchlistGroup:
    """One named group; ``members`` keeps the user's order."""

    name: str
    group_type: GroupType
    members: list[SecurityKey] = field(default_factory=list)

    @property
    def canonical_name(self) -> str:
        """The name lookups compare: a system group's English name maps to its Chinese one."""
        return canonical_group_name(self.name)


def listing_order(groups: Iterable[WatchlistGroup]) -> list[WatchlistGroup]:
    """System groups in OpenD's order, then custom groups as given."""
    system: list[WatchlistGroup] = []
    custom: list[WatchlistGroup] = []
    seen: set[str] = set()
    for group in groups:
        if group.group_type is GroupType.CUSTOM:
            custom.append(group)
            continue
        if group.group_type is not GroupType.SYSTEM:
            # GroupType.ALL filters listings (3222); no group is of that type.
            raise ValueError(
                f"group {group.name!r} must be custom or system, not {group.group_type!r}"
            )
        name = group.canonical_name
        if name not in _SYSTEM_GROUP_RANK:
            known = ", ".join(SYSTEM_GROUP_NAMES.values())
            raise ValueError(f"{group.name!r} is not a system group (those are: {known})")
        if name in seen:
            raise ValueError(f"system group {group.name!r} is given twice")
        seen.add(name)
        system.append(group)
    system.sort(key=lambda group: _SYSTEM_GROUP_RANK[group.canonical_name])
    return system + custom


def check_members(group: WatchlistGroup, known: Mapping[SecurityKey, object]) -> None:
    """Raise :class:`ValueError` if ``group`` lists a security not in ``known``, or one twice."""
    missing = [format_code(key) for key in group.members if key not in known]
    if missing:
        raise ValueError(f"group {group.name!r} lists unknown securities: {missing}")
    if len(set(group.members)) != len(group.members):
        repeated = sorted({format_code(k) for k in group.members if group.members.count(k) > 1})
        raise ValueError(f"group {group.name!r} lists securities twice: {repeated}")


def group_from_dict(index: int, entry: object) -> WatchlistGroup:
    """The group at ``groups[index]`` of the store's JSON shape; ValueError if malformed."""
    where = f"groups[{index}]"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: not an object")
    name = entry.get("name")
    if not isinstance(name, str):
        raise ValueError(f"{where}: 'name' must be a string")
    kind = entry.get("type")
    if kind not in ("system", "custom"):
        raise ValueError(f"{where} ({name!r}): 'type' must be 'system' or 'custom', not {kind!r}")
    codes = entry.get("securities", [])
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise ValueError(f"{where} ({name!r}): 'securities' must be a list of codes")
    try:
        members: list[SecurityKey] = [parse_code(code) for code in codes]
    except ValueError as exc:
        raise ValueError(f"{where} ({name!r}): {exc}") from exc
    return WatchlistGroup(name=name, group_type=GroupType[kind.upper()], members=members)
