"""What a test reads off a running simulator: its watchlists, connections, quotas, records.

One job: the read-only views of :class:`~._server.Simulator` that describe
what it serves and what it has seen, apart from its lifecycle so that
:mod:`._server` stays readable.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from .._opend.rsa import RsaCipher
from .._opend.vocabulary import Quota
from ._connections import Connections
from ._persistence import StateFile
from ._state import RequestRecord, ServerState
from ._texts import Language
from ._watchlists import WatchlistStore

__all__ = ["ServerViews"]


class ServerViews:
    """:class:`~._server.Simulator`'s read-only views.

    A base of :class:`~._server.Simulator` only, which sets the attributes
    below on construction.
    """

    _state: ServerState
    _table: Connections
    _state_file: StateFile | None
    _rsa: RsaCipher | None
    requests: deque[RequestRecord]

    @property
    def watchlists(self) -> WatchlistStore:
        """The groups and securities being served."""
        return self._state.watchlists

    @property
    def state_path(self) -> Path | None:
        """The file the watchlists are kept in, or ``None`` when they live in memory only."""
        return None if self._state_file is None else self._state_file.path

    @property
    def open_connections(self) -> int:
        """How many client connections are open right now."""
        return len(self._table.states)

    @property
    def quotas(self) -> Mapping[int, Quota]:
        """The quotas enforced, by protocol id; protocols not listed are unlimited."""
        return self._state.quotas.quotas

    @property
    def language(self) -> Language:
        """The language of the refusals about watchlists (quotas, groups, securities, edits)."""
        return self._state.language

    @property
    def encrypted(self) -> bool:
        """Whether connections are encrypted (the simulator was given an ``rsa_key``)."""
        return self._rsa is not None

    @property
    def failed_handshakes(self) -> int:
        """How many InitConnect requests could not be decrypted with the RSA key.

        Each closed its connection; see :mod:`._peer`.
        """
        return self._table.failed_handshakes

    def max_arrivals_in_window(self, proto_id: int, period: float) -> int:
        """The most accepted requests of ``proto_id`` that arrived within any ``period`` seconds.

        Computed from :attr:`requests` (so only from the records kept), over
        half-open windows ``[t, t + period)``, the same windows the quota is
        enforced over: with a quota of ``Quota(10, 30)`` in force, this never
        exceeds 10 for ``period=30``.
        """
        times = [
            record.time
            for record in self.requests
            if record.proto_id == proto_id and not record.over_quota
        ]
        times.sort()
        # For each arrival, count those that arrived in the window it opens.
        return max(
            (bisect.bisect_left(times, start + period, lo=i) - i for i, start in enumerate(times)),
            default=0,
        )
