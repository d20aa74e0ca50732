"""Watchlist groups as the client sees them: checking group names, the group model.

OpenD's system groups exist under a Chinese and an English name; both work.
:class:`SystemGroup` spares users typing Chinese::

    await client.get_user_security(asyncquote.SystemGroup.HK)   # "港股"

Three system groups cannot be queried at all (Positions, Mutual Fund, Forex);
asking for them raises :class:`InvalidArgumentError` before anything is sent,
so no quota is spent on a request OpenD would refuse.

The names, group types and edit operations themselves are OpenD vocabulary,
defined in :mod:`asyncquote._opend.vocabulary` and re-exported here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from .._base.args import is_plain_text
from .._base.errors import InvalidArgumentError

# GroupType, ModifyOp, SystemGroup and system_group are re-exported: they
# were always importable from here.
from .._opend.vocabulary import (
    UNQUERYABLE_GROUP_NAMES,
    GroupType,
    ModifyOp,
    SystemGroup,
    canonical_group_name,
    system_group,
)

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


# System groups OpenD lists but refuses to return (both names), with the reason.
_UNQUERYABLE: dict[str, str] = {
    name: f"the {english} group is not available through OpenD"
    for chinese, english in UNQUERYABLE_GROUP_NAMES.items()
    for name in (chinese, english)
}

#: One key per group: a system group's Chinese and English names coincide.
group_key = canonical_group_name


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
