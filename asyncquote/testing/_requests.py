"""The requests a test's gateway received, to assert on: filter by protocol, group, connection.

One job: a frozen, filterable view of :attr:`Simulator.requests
<asyncquote.sim.Simulator.requests>` records. A group filter compares
canonical names, so ``group="HK"`` finds requests for ``"港股"`` too, as
OpenD would serve them alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from .._opend.vocabulary import canonical_group_name
from ..sim._state import RequestRecord

__all__ = ["RequestLog"]


class RequestLog(Sequence[RequestRecord]):
    """Requests that reached the gateway, oldest first: a snapshot, not a live view.

    Each item is a :class:`~asyncquote.sim.RequestRecord` (``proto_id``,
    ``serial_no``, ``conn_id``, ``time``, ``over_quota``, ``group``)::

        assert len(opend.requests.filter(3213, group="HK")) == 1
        assert opend.requests.filter(3213).groups == ["HK", "Tech"]
    """

    __slots__ = ("_records",)

    def __init__(self, records: Iterable[RequestRecord]) -> None:
        self._records = tuple(records)

    @overload
    def __getitem__(self, index: int) -> RequestRecord: ...

    @overload
    def __getitem__(self, index: slice) -> RequestLog: ...

    def __getitem__(self, index: int | slice) -> RequestRecord | RequestLog:
        if isinstance(index, slice):
            return RequestLog(self._records[index])
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self._records)

    def __repr__(self) -> str:
        return f"RequestLog({list(self._records)!r})"

    def __eq__(self, other: object) -> bool:
        # Equal to any sequence of the same records, so `opend.requests == []` reads well.
        if isinstance(other, RequestLog):
            return self._records == other._records
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return self._records == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a sequence compared by content

    def filter(
        self,
        proto_id: int | None = None,
        *,
        group: str | None = None,
        conn_id: int | None = None,
        over_quota: bool | None = None,
    ) -> RequestLog:
        """The requests matching every criterion given.

        Args:
            proto_id: the protocol, e.g. ``3213`` (``asyncquote`` calls it
                ``get_user_security``).
            group: the watchlist group named (3213, 3214); either name of a
                system group matches it.
            conn_id: the simulator's id of the connection it came on.
            over_quota: whether it was refused for exceeding its quota.
        """
        wanted = None if group is None else canonical_group_name(group)
        return RequestLog(
            record
            for record in self._records
            if (proto_id is None or record.proto_id == proto_id)
            and (conn_id is None or record.conn_id == conn_id)
            and (over_quota is None or record.over_quota == over_quota)
            and (wanted is None or _canonical(record.group) == wanted)
        )

    @property
    def proto_ids(self) -> list[int]:
        """Each request's protocol id, in order."""
        return [record.proto_id for record in self._records]

    @property
    def groups(self) -> list[str | None]:
        """Each request's group as sent (``None`` for protocols without one), in order."""
        return [record.group for record in self._records]

    @property
    def conn_ids(self) -> set[int]:
        """The connections the requests came on."""
        return {record.conn_id for record in self._records}


def _canonical(name: str | None) -> str | None:
    return None if name is None else canonical_group_name(name)
