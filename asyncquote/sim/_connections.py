"""The simulator's open connections: each served from accept to close, all closable at once.

One job: keep the table of open connections, serve each in its own task
with a :class:`~._peer.Peer`, close one that does not complete InitConnect in
time, and close them all on demand. Knows nothing of listening sockets.

Invariants:

* A connection is in the table from the start of its task until its socket
  is closed, so :meth:`Connections.drop_all` reaches every open one and
  returns only once each is closed.
* A connection ends quietly when the client leaves or the socket fails; bad
  bytes from the client end it with a log line; neither touches the others.
* Connection ids count up from 1 and are never reused.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable

import anyio
import anyio.abc

from .._base.errors import ProtocolError
from .._opend.rsa import RsaCipher
from ._accept import Link, closing_shielded, peer_name
from ._dispatch import Dispatcher
from ._faults import Faults
from ._peer import Peer
from ._pushes import DEFAULT_PUSH_BACKLOG
from ._state import ConnectionState, RequestRecord

__all__ = ["Connections"]

_log = logging.getLogger("asyncquote.sim")


class Connections:
    """The open connections of one simulator.

    Args:
        dispatcher: answers requests.
        requests: where every request is recorded.
        rejections: where the requests refused for their quota are recorded too.
        faults: the faults for a connection starting now.
        rsa: the simulator's key, or ``None`` for a plain simulator.
        handshake_timeout: seconds a connection has for its InitConnect, or
            ``None`` for ever.
        push_backlog: pushes that may wait unsent on one connection before
            more are dropped (see :mod:`._peer`).
        on_close: called with a connection's id once it is closed (its
            subscriptions go with it).
    """

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        requests: deque[RequestRecord],
        rejections: deque[RequestRecord],
        faults: Callable[[], Faults],
        rsa: RsaCipher | None,
        handshake_timeout: float | None,
        push_backlog: int = DEFAULT_PUSH_BACKLOG,
        on_close: Callable[[int], object] = lambda conn_id: None,
    ) -> None:
        self._dispatcher = dispatcher
        self._on_close = on_close
        self._requests = requests
        self._rejections = rejections
        self._faults = faults
        self._rsa = rsa
        self._handshake_timeout = handshake_timeout
        self._ids = itertools.count(1)
        self.states: dict[int, ConnectionState] = {}
        """The open connections' states, by connection id."""
        self._links: dict[int, Link] = {}
        self._peers: dict[int, Peer] = {}
        self._push_backlog = push_backlog
        self.pushes_dropped = 0
        """Pushes not sent because a connection's backlog was full (see :mod:`._peer`)."""
        self.failed_handshakes = 0
        """How many InitConnect requests could not be decrypted with the RSA key."""

    async def drop_all(self) -> int:
        """Close every open connection; return how many there were, once all are closed."""
        links = list(self._links.values())
        for link in links:
            link.scope.cancel()
        for link in links:
            await link.done.wait()
        return len(links)

    def notify(self, body: bytes) -> int:
        """Queue a Notify carrying ``body`` on every connection that asked for notifications.

        Never waits. Returns how many connections it was queued on; those
        whose backlog was full are counted in :attr:`pushes_dropped` instead.
        """
        sent = 0
        for peer in self._peers.values():
            conn = peer.conn
            if not (conn.initialised and conn.recv_notify):
                continue
            if peer.notify(body):
                sent += 1
            else:
                self.pushes_dropped += 1
        return sent

    def push(self, conn_ids: Iterable[int], proto_id: int, body: bytes) -> int:
        """Queue a push of ``proto_id`` carrying ``body`` on each of ``conn_ids`` still open.

        Never waits. Returns how many connections it was queued on; those
        whose backlog was full are counted in :attr:`pushes_dropped` instead.
        """
        sent = 0
        peers = self._peers
        for conn_id in conn_ids:
            peer = peers.get(conn_id)
            if peer is None:
                continue
            if peer.push(proto_id, body):
                sent += 1
            else:
                self.pushes_dropped += 1
        return sent

    async def serve(self, stream: anyio.abc.SocketStream, task_group: anyio.abc.TaskGroup) -> None:
        """Serve ``stream`` until it closes; its watchdog runs in ``task_group``."""
        conn_id = next(self._ids)
        conn = ConnectionState(conn_id=conn_id, peer=peer_name(stream))
        link = Link.new()
        faults = self._faults()
        self.states[conn_id] = conn
        self._links[conn_id] = link
        _log.debug("connection %d from %s", conn_id, conn.peer)
        watchdog = anyio.CancelScope()
        if self._handshake_timeout is not None:
            task_group.start_soon(self._close_without_handshake, conn, link, watchdog)
        try:
            # Cancelled by drop_all(): leaving it closes the stream.
            with link.scope:
                async with closing_shielded(stream):
                    peer = Peer(
                        stream,
                        conn,
                        dispatcher=self._dispatcher,
                        requests=self._requests,
                        rejections=self._rejections,
                        faults=faults,
                        rsa=self._rsa,
                        on_failed_handshake=self._count_failed_handshake,
                        push_backlog=self._push_backlog,
                        on_push_dropped=self._count_dropped_push,
                    )
                    self._peers[conn_id] = peer
                    try:
                        await peer.run()
                    finally:
                        # Its tasks are over: nothing could send a push now.
                        del self._peers[conn_id]
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        except ProtocolError as exc:
            # The byte stream can no longer be trusted to be on a frame
            # boundary, so this connection is over; the others are unaffected.
            _log.info("closing connection %d: %s", conn_id, exc)
        finally:
            watchdog.cancel()
            del self.states[conn_id]
            del self._links[conn_id]
            self._on_close(conn_id)
            link.done.set()
            _log.debug("connection %d closed", conn_id)

    async def _close_without_handshake(
        self, conn: ConnectionState, link: Link, watchdog: anyio.CancelScope
    ) -> None:
        """Close ``conn`` unless it completes InitConnect within the handshake timeout."""
        assert self._handshake_timeout is not None
        with watchdog:
            await anyio.sleep(self._handshake_timeout)
            if not conn.initialised:
                _log.info(
                    "closing connection %d from %s: no InitConnect within %g s",
                    conn.conn_id,
                    conn.peer,
                    self._handshake_timeout,
                )
                link.scope.cancel()

    def _count_failed_handshake(self) -> None:
        self.failed_handshakes += 1

    def _count_dropped_push(self) -> None:
        self.pushes_dropped += 1
