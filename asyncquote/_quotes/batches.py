"""Qot_Sub requests of the subscription book: pairs, what streams want of them, batches.

Pure, like the book (:mod:`asyncquote._quotes.book`), whose module
docstring says how the options of streams sharing a pair are joined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .._opend.quotes import (
    KLINE_SUB_TYPES,
    AuType,
    Session,
    UsTradingPart,
    session_parts,
    wire_session,
)
from .._opend.vocabulary import SecurityKey

__all__ = [
    "DEFAULT_MAX_BATCH",
    "DEFAULT_WANT",
    "Batch",
    "Options",
    "Pair",
    "Resubscribe",
    "SubOptions",
    "Want",
    "batches",
    "covers",
    "merged",
    "pair_options",
]

Pair = tuple[SecurityKey, int]
"""``((market, code), sub_type)``: what one quota unit buys."""

Options = tuple[frozenset[UsTradingPart], tuple[int, ...]]
"""A pair's options: the parts of the US trading day, the K-line adjustments (sorted)."""

#: Most pairs (securities x types) one Qot_Sub request of the book carries.
DEFAULT_MAX_BATCH = 200


_KLINE_KINDS = frozenset(int(sub_type) for sub_type in KLINE_SUB_TYPES.values())


@dataclass(frozen=True)
class Want:
    """What one stream asked of a pair: the parts of the US trading day it wants
    items of, and the adjustment of its K-lines."""

    parts: frozenset[UsTradingPart] = session_parts(Session.NONE, False)
    """Regular hours only by default (``extended_time=False``, no ``session``)."""
    au_type: int = AuType.QFQ
    """Forward-adjusted by default, as OpenD pushes K-lines when not told."""

    @classmethod
    def of(cls, *, extended_time: bool, session: int, au_type: int) -> Want:
        """The want of a stream subscribed with these options."""
        return cls(session_parts(session, extended_time), au_type)


DEFAULT_WANT = Want()


@dataclass(frozen=True)
class SubOptions:
    """The options of one Qot_Sub request, the same for every pair it names."""

    extended_time: bool = False
    session: int = Session.NONE
    rehab_types: tuple[int, ...] = ()
    """The adjustments of K-line pushes to register; empty: OpenD's default (forward)."""


_DEFAULT_OPTIONS = SubOptions()


@dataclass(frozen=True)
class Batch:
    """One Qot_Sub request: each of ``securities`` with each of ``sub_types``."""

    epoch: int
    """The connection epoch it was planned in; answers from another are ignored."""
    securities: tuple[SecurityKey, ...]
    sub_types: tuple[int, ...]
    options: SubOptions = _DEFAULT_OPTIONS
    """``extendedTime``, ``session`` and the K-line adjustments to register."""

    @property
    def pairs(self) -> list[Pair]:
        """Every (security, sub type) pair the request covers."""
        return [(security, sub_type) for security in self.securities for sub_type in self.sub_types]


@dataclass(frozen=True)
class Resubscribe:
    """What :meth:`SubscriptionBook.resubscribe` hands out after a reconnect."""

    batches: list[Batch]
    """The requests to send, within the quota."""
    over_quota: list[Pair]
    """Pairs open streams want that the quota has no room for now."""


def pair_options(
    wants: Iterable[Want], sub_type: int
) -> tuple[frozenset[UsTradingPart], tuple[int, ...]]:
    """The union of ``wants``: every part of the day any wants, and (K-lines only)
    every adjustment any wants, sorted."""
    parts: frozenset[UsTradingPart] = frozenset()
    rehab: set[int] = set()
    for want in wants:
        parts |= want.parts
        rehab.add(int(want.au_type))
    return parts, tuple(sorted(rehab)) if sub_type in _KLINE_KINDS else ()


def _rehab_list(rehab: Iterable[int]) -> tuple[int, ...]:
    rehab_types = tuple(sorted(set(rehab)))
    # Forward alone is OpenD's default: the request then says nothing, as the SDK's.
    return () if rehab_types == (int(AuType.QFQ),) else rehab_types


def batches(
    epoch: int,
    pairs: Iterable[Pair],
    max_pairs: int = DEFAULT_MAX_BATCH,
    options: Mapping[Pair, Options] | None = None,
) -> list[Batch]:
    """The fewest requests, each of at most ``max_pairs`` pairs, that cover exactly ``pairs``.

    A request subscribes every listed security to every listed type with one
    set of options, so pairs are grouped by the ``extendedTime`` and
    ``session`` their ``options`` (parts of the day, K-line adjustments; the
    default if absent) call for, then securities by the set of types asked
    for them. A request's K-line adjustments are the union of its K-line
    pairs' (an adjustment more costs only pushes nobody is handed). (A
    single security asking for more than ``max_pairs`` types is one request
    still.)
    """
    by_session: dict[tuple[bool, int], dict[SecurityKey, set[int]]] = {}
    rehab_of: dict[tuple[bool, int], set[int]] = {}
    for pair in pairs:
        parts, rehab = (options or {}).get(pair, (DEFAULT_WANT.parts, ()))
        extended, session = wire_session(parts)
        group = (extended, int(session))
        by_session.setdefault(group, {}).setdefault(pair[0], set()).add(pair[1])
        rehab_of.setdefault(group, set()).update(rehab)
    return _requests(
        epoch,
        {
            SubOptions(group[0], group[1], _rehab_list(rehab_of[group])): types_by_security
            for group, types_by_security in by_session.items()
        },
        max_pairs,
    )


def merged(epoch: int, planned: Iterable[Batch], max_pairs: int = DEFAULT_MAX_BATCH) -> list[Batch]:
    """The fewest requests, each of at most ``max_pairs`` pairs, that cover exactly the
    pairs of ``planned``, each with the options it was planned with.

    For a caller that plans several listeners' pairs one by one (a followed
    group's members) and sends them together.
    """
    by_options: dict[SubOptions, dict[SecurityKey, set[int]]] = {}
    for batch in planned:
        securities = by_options.setdefault(batch.options, {})
        for security in batch.securities:
            securities.setdefault(security, set()).update(batch.sub_types)
    return _requests(epoch, by_options, max_pairs)


def _requests(
    epoch: int,
    by_options: Mapping[SubOptions, Mapping[SecurityKey, set[int]]],
    max_pairs: int,
) -> list[Batch]:
    """Per set of options, the securities grouped by the types asked for them, in chunks."""
    result = []
    for request, types_by_security in by_options.items():
        groups: dict[tuple[int, ...], list[SecurityKey]] = {}
        for security, types in types_by_security.items():
            groups.setdefault(tuple(sorted(types)), []).append(security)
        for sub_types, securities in groups.items():
            per_request = max(1, max_pairs // len(sub_types))
            for start in range(0, len(securities), per_request):
                chunk = tuple(securities[start : start + per_request])
                result.append(Batch(epoch, chunk, sub_types, request))
    return result


def covers(sent: Options | None, wanted: Options) -> bool:
    return sent is not None and wanted[0] <= sent[0] and set(wanted[1]) <= set(sent[1])
