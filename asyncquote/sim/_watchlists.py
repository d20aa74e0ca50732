"""The simulator's watchlists: securities, groups, and OpenD's rules for them.

Pure data, no I/O beyond reading the bundled sample file, so the protocol
handlers and the tests share one source of truth about what each group holds.

The store holds a *security database* (every security it can serve, whether a
group lists it or not) and the groups. System groups are kept as explicit
lists, as the bundled sample seeds them; users cannot edit them directly, but
adding a security to a custom group also appends it to the system groups that
show it (see :func:`system_groups_for`), and deleting it removes it from every
group. Groups are listed as OpenD lists them: system groups first, in OpenD's
order, then custom groups in creation order. One group and those rules are
:mod:`._watchlist_groups`; this module is the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from google.protobuf import json_format

# Re-exported from the vocabulary: they were always importable from here.
from .._opend.vocabulary import (
    SYSTEM_GROUP_NAMES,
    UNQUERYABLE_GROUPS,
    GroupType,
    ModifyOp,
    SecurityKey,
    canonical_group_name,
    format_code,
    parse_code,
)
from .._pb import Qot_Common_pb2
from ._watchlist_groups import (
    WatchlistGroup,
    check_members,
    group_from_dict,
    listing_order,
    system_groups_for,
)

__all__ = [
    "SYSTEM_GROUP_NAMES",
    "UNQUERYABLE_GROUPS",
    "GroupNotQueryableError",
    "GroupType",
    "ModifyOp",
    "SecurityKey",
    "SystemGroupError",
    "UnknownGroupError",
    "UnknownSecurityError",
    "WatchlistError",
    "WatchlistGroup",
    "WatchlistStore",
    "canonical_group_name",
    "format_code",
    "parse_code",
    "system_groups_for",
]


class WatchlistError(Exception):
    """A watchlist request the store cannot serve."""

    def __init__(self, group_name: str) -> None:
        super().__init__(group_name)
        self.group_name = group_name


class UnknownGroupError(WatchlistError):
    """No group has that name."""


class GroupNotQueryableError(WatchlistError):
    """The group exists but OpenD does not return its contents (positions, funds, forex)."""


class SystemGroupError(WatchlistError):
    """The group is a system group, which cannot be edited directly."""


class UnknownSecurityError(WatchlistError):
    """The security database does not know some of the securities named.

    Attributes:
        keys: the unknown securities, in the order they were named.
    """

    def __init__(self, group_name: str, keys: Iterable[SecurityKey]) -> None:
        super().__init__(group_name)
        self.keys = tuple(keys)

    def __str__(self) -> str:
        return ", ".join(format_code(key) for key in self.keys)


class WatchlistStore:
    """A security database and the watchlist groups that list some of it.

    Group lookups follow OpenD: a system group answers to its Chinese and its
    English name, and when several groups share a name the first one wins.
    Groups are listed system groups first, in OpenD's order
    (:data:`SYSTEM_GROUP_NAMES`), then custom groups in the order given.

    The :class:`~asyncquote._pb.Qot_Common_pb2.SecurityStaticInfo` messages
    handed out are the stored ones, shared between calls: copy before mutating.

    Args:
        securities: static info of every security the store knows, listed by
            a group or not; a custom group can only be given known ones.
        groups: the groups; custom groups in creation order.

    Raises:
        ValueError: a group lists a security that is not in ``securities``
            or lists one twice, two securities share a key, a security lacks
            required fields, a system group has no system group's name, or
            two system groups share a name.
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
            if not info.IsInitialized():
                # It could be stored, but serving it would fail at encoding time.
                raise ValueError(f"security {format_code(key)} lacks required fields")
            self._securities[key] = info
        self._groups = listing_order(groups)
        for group in self._groups:
            check_members(group, self._securities)
        self._by_name = self._index()
        self._system_groups = {
            group.canonical_name: group
            for group in self._groups
            if group.group_type is GroupType.SYSTEM
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchlistStore:
        """Build a store from the JSON shape of ``sample_watchlists.json``.

        ``securities`` is a list of ``SecurityStaticInfo`` in protobuf's JSON
        mapping; ``groups`` is a list of ``{"name", "type": "system"|"custom",
        "securities": ["HK.00700", ...]}``. :meth:`to_dict` writes the same shape.

        Raises:
            ValueError: ``data`` does not have that shape, or the store
                refuses its contents; the message says where.
        """
        securities = []
        for index, entry in enumerate(_list_of(data, "securities")):
            try:
                if not isinstance(entry, Mapping):
                    raise TypeError("not an object")
                securities.append(json_format.ParseDict(entry, Qot_Common_pb2.SecurityStaticInfo()))
            except (TypeError, json_format.ParseError) as exc:
                raise ValueError(f"securities[{index}]: {exc}") from exc
        groups = [
            group_from_dict(index, entry) for index, entry in enumerate(_list_of(data, "groups"))
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

    def to_dict(self) -> dict[str, Any]:
        """The store in the JSON shape :meth:`from_dict` reads, ready for :func:`json.dumps`."""
        return {
            "securities": [json_format.MessageToDict(info) for info in self._securities.values()],
            "groups": [
                {
                    "name": group.name,
                    "type": group.group_type.name.lower(),
                    "securities": [format_code(key) for key in group.members],
                }
                for group in self._groups
            ],
        }

    @property
    def groups(self) -> Sequence[WatchlistGroup]:
        """Every group, in listing order."""
        return tuple(self._groups)

    @property
    def securities(self) -> Sequence[Qot_Common_pb2.SecurityStaticInfo]:
        """Static info of every security the store knows, whether a group lists it or not."""
        return tuple(self._securities.values())

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

    def modify(
        self,
        group_name: str,
        op: ModifyOp,
        keys: Iterable[SecurityKey],
        *,
        on_change: Callable[[WatchlistStore], object] | None = None,
    ) -> bool:
        """Edit the watchlist as protocol 3214 does.

        * :attr:`ModifyOp.ADD` appends the securities the group lacks to its
          end, in the order given, and likewise to the system groups that
          show them (:func:`system_groups_for`). Those already there stay
          where they are, so adding is idempotent.
        * :attr:`ModifyOp.DELETE` removes them from every group except
          positions, mutual fund and forex, which mirror the account rather
          than the watchlist. Securities not on the watchlist are ignored.
        * :attr:`ModifyOp.MOVE_OUT` removes them from this group only.

        The group must be a custom group. Everything is checked before
        anything changes, so a refused edit leaves the store as it was.

        Args:
            group_name: the group to edit; the first group of that name.
            op: what to do.
            keys: the securities; repeats count once.
            on_change: called with the store once it has changed (not after
                an edit that changes nothing). If it raises, the edit is
                undone and the exception propagates: the simulator saves its
                state file here, so a change that cannot be saved is not kept.

        Returns:
            Whether any group changed.

        Raises:
            UnknownGroupError: no such group.
            SystemGroupError: the group is a system group.
            UnknownSecurityError: the security database lacks some of ``keys``.
            ValueError: ``op`` is not a :class:`ModifyOp`.
        """
        op = ModifyOp(op)
        group = self.find_group(group_name)
        if group is None:
            raise UnknownGroupError(group_name)
        if group.group_type is GroupType.SYSTEM:
            raise SystemGroupError(group_name)
        wanted = list(dict.fromkeys(keys))
        unknown = [key for key in wanted if key not in self._securities]
        if unknown:
            raise UnknownSecurityError(group_name, unknown)
        # Only a hook can fail after the change, so only then is undo needed.
        before = [list(g.members) for g in self._groups] if on_change is not None else []
        if op is ModifyOp.ADD:
            changed = self._add(group, wanted)
        elif op is ModifyOp.DELETE:
            changed = _remove(wanted, self._watchlist_groups())
        else:
            changed = _remove(wanted, [group])
        if changed and on_change is not None:
            try:
                on_change(self)
            except BaseException:
                # Slice assignment keeps each list's identity, so references
                # callers hold to group.members see the rollback too.
                for g, members in zip(self._groups, before, strict=True):
                    g.members[:] = members
                raise
        return changed

    def set_group(
        self,
        name: str,
        securities: Iterable[Qot_Common_pb2.SecurityStaticInfo],
    ) -> WatchlistGroup:
        """Make the group ``name`` list exactly ``securities``, as a test script would.

        Not a protocol operation: it is how a test plays the user editing the
        watchlist in the app. The group is created (a custom group) when no
        group answers to ``name``; a system group can be set too. Securities
        the database lacks are added to it. Those new to this group are also
        appended to the system groups that show them (as :meth:`modify`'s
        ``ADD``); those it no longer lists stay in other groups (``MOVE_OUT``).

        Raises:
            ValueError: a security lacks required fields, or is listed twice.
        """
        infos = list(securities)
        keys = [(info.basic.security.market, info.basic.security.code) for info in infos]
        if len(set(keys)) != len(keys):
            raise ValueError(f"group {name!r} would list securities twice")
        for key, info in zip(keys, infos, strict=True):
            if not info.IsInitialized():
                raise ValueError(f"security {format_code(key)} lacks required fields")
        for key, info in zip(keys, infos, strict=True):
            self._securities.setdefault(key, info)
        group = self.find_group(name)
        if group is None:
            group = WatchlistGroup(name, GroupType.CUSTOM)
            self._groups.append(group)
            self._by_name = self._index()
        new = [key for key in keys if key not in group.members]
        group.members[:] = keys
        self._add(group, new)
        return group

    def _add(self, group: WatchlistGroup, keys: Sequence[SecurityKey]) -> bool:
        changed = False
        for key in keys:
            views = (
                self._system_groups.get(name) for name in system_groups_for(self._securities[key])
            )
            for target in (group, *views):
                if target is not None and key not in target.members:
                    target.members.append(key)
                    changed = True
        return changed

    def _watchlist_groups(self) -> list[WatchlistGroup]:
        return [
            group
            for group in self._groups
            if not (
                group.group_type is GroupType.SYSTEM and group.canonical_name in UNQUERYABLE_GROUPS
            )
        ]

    def _index(self) -> dict[str, WatchlistGroup]:
        # "All" and "全部" are one name, whatever kind of group bears it, and
        # setdefault keeps the first group of a name, as OpenD does.
        index: dict[str, WatchlistGroup] = {}
        for group in self._groups:
            index.setdefault(group.canonical_name, group)
        return index


def _remove(keys: Sequence[SecurityKey], groups: Iterable[WatchlistGroup]) -> bool:
    drop = set(keys)
    changed = False
    for group in groups:
        kept = [key for key in group.members if key not in drop]
        if len(kept) != len(group.members):
            group.members[:] = kept
            changed = True
    return changed


def _list_of(data: object, key: str) -> list[Any]:
    if not isinstance(data, Mapping):
        raise ValueError("watchlist data must be a JSON object with 'securities' and 'groups'")
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list, not {type(value).__name__}")
    return value
