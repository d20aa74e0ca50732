"""Watchlist groups: system group names, group types, edit operations, the group model.

OpenD's system groups exist under a Chinese and an English name; both work.
:class:`SystemGroup` spares users typing Chinese::

    await client.get_user_security(asyncquote.SystemGroup.HK)   # "港股"

Three system groups cannot be queried at all (Positions, Mutual Fund, Forex);
asking for them raises :class:`InvalidArgumentError` before anything is sent,
so no quota is spent on a request OpenD would refuse.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from ._args import is_plain_text
from .errors import InvalidArgumentError

__all__ = [
    "MAX_GROUP_NAME_LENGTH",
    "GroupType",
    "ModifyOp",
    "SystemGroup",
    "WatchlistGroup",
    "check_group_name",
]

#: Longest group name we send. OpenD's own names are a few characters; a
#: name this long is a bug in the caller, not a watchlist.
MAX_GROUP_NAME_LENGTH = 256


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


_ENGLISH: dict[SystemGroup, str] = {
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

_SYSTEM_BY_NAME: dict[str, SystemGroup] = {
    **{group.value: group for group in SystemGroup},
    **{english: group for group, english in _ENGLISH.items()},
}

# System groups OpenD lists but refuses to return, with the reason.
_UNQUERYABLE: dict[str, str] = {
    name: reason
    for names, reason in (
        (("持仓", "Positions"), "the Positions group is not available through OpenD"),
        (("基金宝", "Mutual Fund"), "the Mutual Fund group is not available through OpenD"),
        (("外汇", "Forex"), "the Forex group is not available through OpenD"),
    )
    for name in names
}


def system_group(name: str) -> SystemGroup | None:
    """The system group called ``name`` (in either language), or ``None``."""
    return _SYSTEM_BY_NAME.get(name)


def check_group_name(group_name: object, *, queryable: bool = True) -> str:
    """Validate a group name from the caller and return it as a plain ``str``.

    Raises:
        InvalidArgumentError: not a string, empty, absurdly long, not plain
            text (a control character such as NUL, or a lone surrogate, which
            cannot be sent as UTF-8), or (with ``queryable``) a group OpenD
            never returns.
    """
    if isinstance(group_name, SystemGroup):
        return group_name.value
    if not isinstance(group_name, str):
        raise InvalidArgumentError(
            f"group_name must be a str, not {type(group_name).__name__}: {group_name!r}"
        )
    if not group_name.strip():
        raise InvalidArgumentError("group_name must not be empty")
    if len(group_name) > MAX_GROUP_NAME_LENGTH:
        raise InvalidArgumentError(
            f"group_name is {len(group_name)} characters long; the limit is {MAX_GROUP_NAME_LENGTH}"
        )
    # isprintable() inline: ordinary names cost no Python call here.
    if not group_name.isprintable() and not is_plain_text(group_name):
        raise InvalidArgumentError(
            f"group_name {group_name!r} contains a control character or a lone surrogate; "
            "pass the group's name as plain text"
        )
    if queryable and group_name in _UNQUERYABLE:
        raise InvalidArgumentError(f"cannot query group {group_name!r}: {_UNQUERYABLE[group_name]}")
    return group_name


def group_key(group_name: str) -> str:
    """One key per group: a system group's Chinese and English names coincide."""
    group = _SYSTEM_BY_NAME.get(group_name)
    return group.value if group is not None else group_name


class GroupType(enum.IntEnum):
    """Kinds of watchlist group (``Qot_GetUserSecurityGroup.GroupType``)."""

    CUSTOM = 1
    SYSTEM = 2
    ALL = 3


class ModifyOp(enum.IntEnum):
    """Edits of a watchlist group (``Qot_ModifyUserSecurity.ModifyUserSecurityOp``)."""

    ADD = 1
    """Add the securities to the group."""
    DELETE = 2
    """Delete the securities from the watchlist altogether (every group)."""
    MOVE_OUT = 3
    """Take the securities out of this group only."""


def _known_group_type(value: GroupType | int) -> GroupType | int:
    try:
        return GroupType(value)
    except ValueError:
        return value  # a newer gateway's type: keep the number rather than fail


class WatchlistGroup(BaseModel):
    """One watchlist group as listed by OpenD."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: Annotated[GroupType | int, AfterValidator(_known_group_type)]

    @property
    def system_group(self) -> SystemGroup | None:
        """The :class:`SystemGroup` this is, if it is one."""
        return system_group(self.name)
