"""The simulator's watchlists: securities, groups, and OpenD's rules for naming groups.

Pure data, no I/O beyond reading the bundled sample file, so the protocol
handlers and the tests share one source of truth about what each group holds.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from google.protobuf import json_format

from .._pb import Qot_Common_pb2

__all__ = [
    "SYSTEM_GROUP_NAMES",
    "UNQUERYABLE_GROUPS",
    "GroupNotQueryableError",
    "GroupType",
    "SecurityKey",
    "UnknownGroupError",
    "WatchlistError",
    "WatchlistGroup",
    "WatchlistStore",
    "canonical_group_name",
    "format_code",
    "parse_code",
]

#: OpenD's system groups: Chinese name → English name. A client may ask for
#: either; both mean the same group.
SYSTEM_GROUP_NAMES: Mapping[str, str] = {
    "全部": "All",
    "沪深": "CN",
    "港股": "HK",
    "美股": "US",
    "期权": "Options",
    "港股期权": "HK options",
    "美股期权": "US options",
    "特别关注": "Starred",
    "期货": "Futures",
    "持仓": "Positions",
    "基金宝": "Mutual Fund",
    "外汇": "Forex",
}

#: System groups (by Chinese name) that OpenD lists but refuses to return.
UNQUERYABLE_GROUPS: frozenset[str] = frozenset({"持仓", "基金宝", "外汇"})

_ENGLISH_TO_CHINESE = {english: chinese for chinese, english in SYSTEM_GROUP_NAMES.items()}

# Code prefixes as the official SDK writes them ("HK.00700").
_MARKET_BY_PREFIX: Mapping[str, int] = {
    "HK": 1,
    "HK_FUTURE": 2,
    "US": 11,
    "SH": 21,
    "SZ": 22,
    "SG": 31,
    "JP": 41,
    "AU": 51,
    "MY": 61,
    "CA": 71,
    "FX": 81,
    "CC": 91,
    "EC": 101,
}
_PREFIX_BY_MARKET = {market: prefix for prefix, market in _MARKET_BY_PREFIX.items()}

SecurityKey = tuple[int, str]
"""A security's identity: ``(market, code)``, e.g. ``(1, "00700")``."""


def canonical_group_name(name: str) -> str:
    """The Chinese name when ``name`` is a system group's English name, else ``name``."""
    return _ENGLISH_TO_CHINESE.get(name, name)


def parse_code(text: str) -> SecurityKey:
    """Turn ``"HK.00700"`` into ``(1, "00700")``.

    Raises:
        ValueError: no known market prefix, or an empty code.
    """
    prefix, _, code = text.partition(".")
    market = _MARKET_BY_PREFIX.get(prefix)
    if market is None or not code:
        raise ValueError(f"not a security code: {text!r} (expected e.g. 'HK.00700')")
    return market, code


def format_code(key: SecurityKey) -> str:
    """Turn ``(1, "00700")`` into ``"HK.00700"`` (unknown markets print as ``N/A``)."""
    market, code = key
    return f"{_PREFIX_BY_MARKET.get(market, 'N/A')}.{code}"


class GroupType(enum.IntEnum):
    """Kinds of watchlist group, numbered as in protocol 3222."""

    CUSTOM = 1
    SYSTEM = 2


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


class WatchlistError(Exception):
    """A watchlist request the store cannot serve."""

    def __init__(self, group_name: str) -> None:
        super().__init__(group_name)
        self.group_name = group_name


class UnknownGroupError(WatchlistError):
    """No group has that name."""


class GroupNotQueryableError(WatchlistError):
    """The group exists but OpenD does not return its contents (positions, funds, forex)."""


class WatchlistStore:
    """Securities and the groups that list them.

    Group lookups follow OpenD: a system group answers to its Chinese and its
    English name, and when several groups share a name the first one wins.

    The :class:`~asyncquote._pb.Qot_Common_pb2.SecurityStaticInfo` messages
    handed out are the stored ones, shared between calls: copy before mutating.

    Args:
        securities: static info of every security any group lists.
        groups: the groups, in the order OpenD would list them.

    Raises:
        ValueError: a group lists a security that is not in ``securities``,
            or two securities share a key.
    """

    def __init__(
        self,
        securities: Iterable[Qot_Common_pb2.SecurityStaticInfo],
        groups: Iterable[WatchlistGroup],
    ) -> None:
        self._securities: dict[SecurityKey, Qot_Common_pb2.SecurityStaticInfo] = {}
        for info in securities:
            key = (info.basic.security.market, info.basic.security.code)
            if key in self._securities:
                raise ValueError(f"security {format_code(key)} is listed twice")
            self._securities[key] = info
        self._groups = list(groups)
        for group in self._groups:
            missing = [format_code(k) for k in group.members if k not in self._securities]
            if missing:
                raise ValueError(f"group {group.name!r} lists unknown securities: {missing}")
        self._by_name = self._index()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchlistStore:
        """Build a store from the JSON shape of ``sample_watchlists.json``.

        ``securities`` is a list of ``SecurityStaticInfo`` in protobuf's JSON
        mapping; ``groups`` is a list of ``{"name", "type": "system"|"custom",
        "securities": ["HK.00700", ...]}``.
        """
        securities = [
            json_format.ParseDict(entry, Qot_Common_pb2.SecurityStaticInfo())
            for entry in data["securities"]
        ]
        groups = [
            WatchlistGroup(
                name=entry["name"],
                group_type=GroupType[str(entry["type"]).upper()],
                members=[parse_code(code) for code in entry.get("securities", ())],
            )
            for entry in data["groups"]
        ]
        return cls(securities, groups)

    @classmethod
    def sample(cls) -> WatchlistStore:
        """A fresh store holding the bundled sample watchlists."""
        text = (
            resources.files(__package__)
            .joinpath("data/sample_watchlists.json")
            .read_text(encoding="utf-8")
        )
        return cls.from_dict(json.loads(text))

    @property
    def groups(self) -> Sequence[WatchlistGroup]:
        """Every group, in listing order."""
        return tuple(self._groups)

    def security(self, key: SecurityKey) -> Qot_Common_pb2.SecurityStaticInfo:
        """Static info of one security.

        Raises:
            KeyError: the store does not know it.
        """
        return self._securities[key]

    def find_group(self, name: str) -> WatchlistGroup | None:
        """The first group answering to ``name`` (Chinese or English for system groups)."""
        return self._by_name.get(canonical_group_name(name))

    def securities_in(self, name: str) -> list[Qot_Common_pb2.SecurityStaticInfo]:
        """The securities of the group called ``name``, in the group's order.

        Raises:
            UnknownGroupError: no such group.
            GroupNotQueryableError: a positions, mutual fund or forex group.
        """
        group = self.find_group(name)
        if group is None:
            raise UnknownGroupError(name)
        if group.group_type is GroupType.SYSTEM and group.canonical_name in UNQUERYABLE_GROUPS:
            raise GroupNotQueryableError(name)
        securities = self._securities
        return [securities[key] for key in group.members]

    def _index(self) -> dict[str, WatchlistGroup]:
        # "All" and "全部" are one name, whatever kind of group bears it, and
        # setdefault keeps the first group of a name, as OpenD does.
        index: dict[str, WatchlistGroup] = {}
        for group in self._groups:
            index.setdefault(group.canonical_name, group)
        return index
