"""OpenD's vocabulary: the protocol facts the client and the simulator share.

One job: say what OpenD's numbers and names mean, once. Protocol ids and the
protobuf messages that travel under them, ``retType`` values (these three
defined in :mod:`asyncquote._opend.protocols` and re-exported here), OpenD's
default quotas and the one rule for overriding them, watchlist group types,
system group names in both languages, edit operations, markets and the
``"HK.00700"`` code strings. The live-quote enums and limits are in
:mod:`asyncquote._opend.quotes`, OpenD's health in
:mod:`asyncquote._opend.health_vocabulary`.

Invariants:

* Nothing here is defined anywhere else. The client modules and
  :mod:`asyncquote.sim` import these objects; the modules that always
  offered them (``_groups``, ``_models``, ``_codec``, ``_ratelimit``, once
  public without the underscore, and ``asyncquote.sim``) re-export the very
  same objects, so ``is`` holds across them.
* Pure data and pure functions: no I/O, no event loop, no pydantic. It
  depends only on the protocol table (hence the generated protobuf modules)
  and the argument checks.
* Tables are built once at import and typed read-only (``Mapping``). Those
  read per entry or per request are plain dicts, so a lookup is one
  ``dict.get`` (a ``MappingProxyType`` lookup costs a method call more).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from .._base.args import check_duration, check_int
from .._base.errors import InvalidArgumentError
from .protocols import (
    PUSH_PROTO_IDS,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    ProtoId,
    RetType,
)

__all__ = [
    "DEFAULT_QUOTAS",
    "MARKET_BY_PREFIX",
    "NO_QUOTAS",
    "PREFIX_BY_MARKET",
    "PUSH_PROTO_IDS",
    "REQUEST_TYPES",
    "RESPONSE_TYPES",
    "SYSTEM_GROUP_NAMES",
    "UNQUERYABLE_GROUPS",
    "UNQUERYABLE_GROUP_NAMES",
    "CodeError",
    "GroupType",
    "Market",
    "ModifyOp",
    "OptionType",
    "ProtoId",
    "Quota",
    "RetType",
    "SecurityKey",
    "SecurityType",
    "SystemGroup",
    "WarrantType",
    "canonical_group_name",
    "format_code",
    "merge_quotas",
    "parse_code",
    "system_group",
]


# --- quotas ------------------------------------------------------------------


@dataclass(frozen=True)
class Quota:
    """At most ``max_calls`` requests in any ``period`` seconds."""

    max_calls: int
    period: float

    def __post_init__(self) -> None:
        check_int("max_calls", self.max_calls, minimum=1)
        check_duration("period", self.period, positive=True, finite=True)

    def __str__(self) -> str:
        return f"{self.max_calls}/{self.period:g}s"


#: OpenD's documented quotas: 10 requests per 30 s for each watchlist
#: protocol, 60 per 30 s for snapshots. Read-only: pass overrides instead (see
#: :func:`merge_quotas`).
DEFAULT_QUOTAS: Mapping[int, Quota] = MappingProxyType(
    {  # plain ints, not ProtoId members: str() of a key must print the number
        3203: Quota(60, 30.0),  # Qot_GetSecuritySnapshot
        3213: Quota(10, 30.0),  # Qot_GetUserSecurity
        3214: Quota(10, 30.0),  # Qot_ModifyUserSecurity
        3222: Quota(10, 30.0),  # Qot_GetUserSecurityGroup
    }
)

#: Overrides that turn every default quota off (for throughput benchmarks, say).
NO_QUOTAS: Mapping[int, None] = MappingProxyType(dict.fromkeys(DEFAULT_QUOTAS))

_MAX_PROTO_ID = 0xFFFF_FFFF  # the header's u32


def merge_quotas(overrides: Mapping[int, Quota | None] | None = None) -> dict[int, Quota]:
    """:data:`DEFAULT_QUOTAS` with ``overrides`` applied: the one merge rule.

    A :class:`Quota` replaces (or adds) a protocol's quota; ``None`` turns the
    protocol's quota off, so it is absent from the result. Protocols absent
    from the result are never limited.

    Raises:
        InvalidArgumentError (a ``TypeError`` and a ``ValueError``):
            ``overrides`` is not a mapping, a key is not a protocol id (an
            ``int`` in 0..2**32-1), or a value is neither a :class:`Quota` nor
            ``None``.
    """
    merged = dict(DEFAULT_QUOTAS)
    if overrides is None:
        return merged
    if not isinstance(overrides, Mapping):
        raise InvalidArgumentError(f"quotas must be a mapping, not {overrides!r}")
    for proto_id, quota in overrides.items():
        if isinstance(proto_id, bool) or not isinstance(proto_id, int):
            raise InvalidArgumentError(f"quota keys are protocol ids (int), not {proto_id!r}")
        check_int("protocol id", proto_id, minimum=0, maximum=_MAX_PROTO_ID)
        if quota is None:
            merged.pop(proto_id, None)
        elif isinstance(quota, Quota):
            merged[proto_id] = quota
        else:
            raise InvalidArgumentError(
                f"quota for protocol {proto_id} must be a Quota or None, not {quota!r}"
            )
    return merged


# --- watchlist groups ----------------------------------------------------------


class GroupType(enum.IntEnum):
    """Kinds of watchlist group (``Qot_GetUserSecurityGroup.GroupType``).

    A group is ``CUSTOM`` or ``SYSTEM``; ``ALL`` exists only as a 3222 filter.
    """

    CUSTOM = 1
    SYSTEM = 2
    ALL = 3


class ModifyOp(enum.IntEnum):
    """Edits of a watchlist group (``Qot_ModifyUserSecurity.ModifyUserSecurityOp``)."""

    ADD = 1
    """Add the securities to the group (and to the system groups that show them)."""
    DELETE = 2
    """Delete the securities from the watchlist altogether (every group)."""
    MOVE_OUT = 3
    """Take the securities out of this group only."""


class SystemGroup(str, enum.Enum):
    """OpenD's system watchlist groups. Each value is the Chinese name OpenD
    uses; :attr:`english` is the English one. Being a ``str``, a member can be
    passed wherever a group name is expected."""

    ALL = "全部"
    CN = "沪深"
    HK = "港股"
    US = "美股"
    OPTIONS = "期权"
    HK_OPTIONS = "港股期权"
    US_OPTIONS = "美股期权"
    STARRED = "特别关注"
    FUTURES = "期货"

    @property
    def english(self) -> str:
        """The English name of the group, e.g. ``"HK options"``."""
        return _ENGLISH[self]

    def __str__(self) -> str:
        return self.value


_ENGLISH: Mapping[SystemGroup, str] = {
    SystemGroup.ALL: "All",
    SystemGroup.CN: "CN",
    SystemGroup.HK: "HK",
    SystemGroup.US: "US",
    SystemGroup.OPTIONS: "Options",
    SystemGroup.HK_OPTIONS: "HK options",
    SystemGroup.US_OPTIONS: "US options",
    SystemGroup.STARRED: "Starred",
    SystemGroup.FUTURES: "Futures",
}

#: System groups OpenD lists but refuses to return: Chinese name → English name.
UNQUERYABLE_GROUP_NAMES: Mapping[str, str] = MappingProxyType(
    {"持仓": "Positions", "基金宝": "Mutual Fund", "外汇": "Forex"}
)

#: The unqueryable system groups, by Chinese name.
UNQUERYABLE_GROUPS: frozenset[str] = frozenset(UNQUERYABLE_GROUP_NAMES)

#: Every system group, Chinese name → English name, in the order OpenD lists
#: them. A client may ask for either name; both mean the same group.
SYSTEM_GROUP_NAMES: Mapping[str, str] = MappingProxyType(
    {**{group.value: group.english for group in SystemGroup}, **UNQUERYABLE_GROUP_NAMES}
)

_SYSTEM_BY_NAME: Mapping[str, SystemGroup] = {
    **{group.value: group for group in SystemGroup},
    **{english: group for group, english in _ENGLISH.items()},
}

# Either name of a system group → its Chinese name.
_CANONICAL: Mapping[str, str] = {
    **{chinese: chinese for chinese in SYSTEM_GROUP_NAMES},
    **{english: chinese for chinese, english in SYSTEM_GROUP_NAMES.items()},
}


def canonical_group_name(name: str) -> str:
    """One name per group: the Chinese name for either name of a system group, else ``name``."""
    return _CANONICAL.get(name, name)


def system_group(name: str) -> SystemGroup | None:
    """The queryable system group called ``name`` (in either language), or ``None``."""
    return _SYSTEM_BY_NAME.get(name)


# --- markets, security kinds and code strings --------------------------------------

_E = TypeVar("_E", bound="ProtocolEnum")

_NOT_APPLICABLE = "N/A"


class ProtocolEnum(enum.IntEnum):
    """An OpenD enumeration whose member names are the official SDK's names.

    The one exception is the "nothing" value, named ``NONE`` here because
    ``N/A`` is not an identifier; its SDK name is ``"N/A"``.
    """

    @property
    def sdk_name(self) -> str:
        """The name the official SDK shows for this value (``"HK"``, ``"N/A"``...)."""
        return _NOT_APPLICABLE if self.name == "NONE" else self.name

    @classmethod
    def sdk_name_of(cls, value: int) -> str:
        """The official SDK's name for ``value``; ``"N/A"`` for values it does not know."""
        member = cls.from_value(value)
        return member.sdk_name if isinstance(member, cls) else _NOT_APPLICABLE

    @classmethod
    def from_value(cls: type[_E], value: int) -> _E | int:
        """The member for ``value``, or ``value`` itself if this version does not know it."""
        member: _E | None = cls._value2member_map_.get(value)  # type: ignore[assignment]
        return value if member is None else member


class Market(ProtocolEnum):
    """Quote market (``Qot_Common.QotMarket``); the name is the code-string prefix."""

    NONE = 0
    HK = 1
    HK_FUTURE = 2
    US = 11
    SH = 21
    SZ = 22
    SG = 31
    JP = 41
    AU = 51
    MY = 61
    CA = 71
    FX = 81
    CC = 91
    EC = 101


class SecurityType(ProtocolEnum):
    """Kind of security (``Qot_Common.SecurityType``), named as in the official SDK."""

    NONE = 0
    BOND = 1
    BWRT = 2
    STOCK = 3
    ETF = 4
    WARRANT = 5
    IDX = 6
    PLATE = 7
    DRVT = 8
    PLATESET = 9
    FUTURE = 10
    FOREX = 11
    CRYPTO = 12


class WarrantType(ProtocolEnum):
    """Kind of warrant (``Qot_Common.WarrantType``), named as in the official SDK."""

    NONE = 0
    CALL = 1
    PUT = 2
    BULL = 3
    BEAR = 4
    INLINE = 5


class OptionType(ProtocolEnum):
    """Option right (``Qot_Common.OptionType``); the SDK calls 0 ``ALL``."""

    ALL = 0
    CALL = 1
    PUT = 2


SecurityKey = tuple[int, str]
"""A security's identity: ``(market, code)``, e.g. ``(1, "00700")``."""

#: Code-string prefix → market, as the official SDK writes them (``"HK"``).
#: ``NONE`` has no prefix: ``"N/A"`` is printed, never parsed.
MARKET_BY_PREFIX: Mapping[str, Market] = MappingProxyType(
    {market.name: market for market in Market if market is not Market.NONE}
)

#: Market value → code-string prefix, ``NONE`` included (as ``"N/A"``). Keyed
#: by value: a member and a raw ``int`` find the same prefix.
PREFIX_BY_MARKET: Mapping[int, str] = {market.value: market.sdk_name for market in Market}

_KNOWN_PREFIXES = ", ".join(MARKET_BY_PREFIX)


class CodeError(ValueError):
    """Text that is not a code string ``"<MARKET>.<code>"``.

    Attributes:
        text: the text given.
        reason: what is wrong with it, e.g. ``"has an empty code after the '.'"``.
    """

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"not a security code: {text!r} {reason}")
        self.text = text
        self.reason = reason


def parse_code(text: str, *, ignore_case: bool = False) -> tuple[Market, str]:
    """Turn ``"HK.00700"`` into ``(Market.HK, "00700")``.

    The text before the first ``.`` is the market prefix, as the official SDK
    writes it (with ``ignore_case``, in any case: ``"hk.00700"``); the code
    after it is kept verbatim (``"US.BRK.B"`` is ``BRK.B``; codes such as
    ``"HSImain"`` are case-sensitive). ``"N/A"`` is not a market that can be
    named.

    Raises:
        CodeError: a ``ValueError``; no prefix, an empty code, or a prefix
            that names no market.
    """
    prefix, dot, code = text.partition(".")
    if not dot or not prefix:
        raise CodeError(text, "has no market prefix; expected e.g. 'HK.00700'")
    if not code:
        raise CodeError(text, "has an empty code after the '.'")
    market = MARKET_BY_PREFIX.get(prefix.upper() if ignore_case else prefix)
    if market is None:
        raise CodeError(text, f"has unknown market prefix {prefix!r}; known: {_KNOWN_PREFIXES}")
    return market, code


def format_code(key: SecurityKey) -> str:
    """Turn ``(1, "00700")`` into ``"HK.00700"``; unknown markets print as ``N/A``."""
    market, code = key
    return f"{PREFIX_BY_MARKET.get(market, _NOT_APPLICABLE)}.{code}"
