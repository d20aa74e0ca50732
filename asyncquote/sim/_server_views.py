"""What a test reads off a running simulator: its watchlists, connections, quotas, records.

One job: the read-only views of :class:`~._server.Simulator` that describe
what it serves and what it has seen, apart from its lifecycle so that
:mod:`._server` stays readable. :class:`ServerViews` is the simulator's base
class and sets, in its own ``__init__``, everything it reads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from pathlib import Path

import anyio

from .._opend.vocabulary import Quota
from ._connections import Connections
from ._persistence import StateFile
from ._state import RequestRecord, ServerState, max_arrivals_in_window
from ._texts import Language
from ._watchlists import WatchlistStore

__all__ = ["ServerViews"]


class ServerViews:
    """:class:`~._server.Simulator`'s read-only views, and the records they read.

    Args:
        state: the simulator's state.
        table: its open connections.
        state_file: the file the watchlists are kept in, if any.
        requests: where every request is recorded.
        rejections: where the requests refused for their quota are recorded too.
    """

    def __init__(
        self,
        *,
        state: ServerState,
        table: Connections,
        state_file: StateFile | None,
        requests: deque[RequestRecord],
        rejections: deque[RequestRecord],
    ) -> None:
        self._state = state
        self._table = table
        self._state_file = state_file
        self.requests = requests
        """Every request frame that arrived, oldest first."""
        self.rejections = rejections
        """The requests refused for exceeding a quota, oldest first."""

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
        return self._state.encrypted

    @property
    def failed_handshakes(self) -> int:
        """How many InitConnect requests could not be decrypted with the RSA key.

        Each closed its connection; see :mod:`._peer`.
        """
        return self._table.failed_handshakes

    @property
    def pushes_dropped(self) -> int:
        """Pushes not queued on a connection because it had not read the earlier ones.

        See :meth:`push`.
        """
        return self._table.pushes_dropped

    @property
    def subscription_quota(self) -> int:
        """The account's subscription quota: (security, kind) pairs subscribed at once.

        What :attr:`gateway` says (``subscription_quota``), and enforced:
        push an ``ApiQuotaChanged`` to change it while running.
        """
        return self._state.gateway.subscription_quota

    @property
    def used_subscription_quota(self) -> int:
        """The subscription quota in use now, over every connection (as GetSubInfo says).

        Read it from the simulator's event loop (it reads the loop's clock).
        """
        return self._state.subscriptions.used(anyio.current_time())

    def max_arrivals_in_window(self, proto_id: int, period: float) -> int:
        """The most accepted requests of ``proto_id`` that arrived within any ``period`` seconds.

        Computed from :attr:`requests` (so only from the records kept), over
        half-open windows ``[t, t + period)``, the same windows the quota is
        enforced over: with a quota of ``Quota(10, 30)`` in force, this never
        exceeds 10 for ``period=30``.
        """
        return max_arrivals_in_window(self.requests, proto_id, period)
