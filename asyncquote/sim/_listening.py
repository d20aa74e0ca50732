"""The simulator's listening: stopping, starting and restarting its accept loop.

The part of :class:`~._server.Simulator` that drops connections and takes
the port down and up again, over the accept loop of :mod:`._accept` and
the table of open connections of :mod:`._connections`. It lives here, on
the simulator's side, so that the accept loop needs to know nothing of the
table it feeds (the two modules imported each other before).
"""

from __future__ import annotations

import functools
import logging

import anyio
import anyio.abc

from ._accept import Link, accept_until_stopped, peer_name, serve_guarded
from ._connections import Connections

__all__ = ["Listening"]

_log = logging.getLogger("asyncquote.sim")


class Listening:
    """:class:`~._server.Simulator`'s listening: stop, start, restart, drop connections.

    A base of :class:`~._server.Simulator` only, which sets the attributes
    below on construction and entry.
    """

    _host: str
    _port: int | None
    _task_group: anyio.abc.TaskGroup | None
    _listener: anyio.abc.Listener[anyio.abc.SocketStream] | None
    _accepting: Link | None
    _table: Connections

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted (see :meth:`stop_listening`)."""
        return self._listener is not None

    async def drop_connections(self) -> int:
        """Close every open client connection at once, as an OpenD that crashed would.

        Replies not yet sent are lost. The simulator keeps listening, so
        clients can reconnect (see :meth:`restart` to refuse them for a
        while). Returns once the connections are closed.

        Returns:
            How many connections were dropped.
        """
        return await self._table.drop_all()

    async def stop_listening(self) -> None:
        """Stop accepting connections: new ones are refused, open ones are still served.

        The port is kept, for :meth:`start_listening`. Does nothing if the
        simulator is not listening.

        Raises:
            RuntimeError: the simulator is not running.
        """
        self._require_running()
        listener, self._listener = self._listener, None
        accepting, self._accepting = self._accepting, None
        if listener is None or accepting is None:
            return
        accepting.scope.cancel()
        # The accept loop must be gone before its listener is closed under it.
        await accepting.done.wait()
        await listener.aclose()
        _log.debug("simulator stopped listening on %s:%d", self._host, self._port)

    async def start_listening(self) -> None:
        """Accept connections again, on the same port as before :meth:`stop_listening`.

        Does nothing if the simulator is listening already.

        Raises:
            RuntimeError: the simulator is not running.
            OSError: the port has been taken meanwhile.
        """
        port = self._require_running()
        if self._listener is not None:
            return
        self._accept(await anyio.create_tcp_listener(local_host=self._host, local_port=port))
        _log.debug("simulator listening again on %s:%d", self._host, port)

    async def restart(self, downtime: float = 0.0) -> None:
        """Behave like an OpenD being restarted, on the same port.

        Stops listening, drops every connection, waits ``downtime`` seconds
        (connections are refused meanwhile) and listens again. The watchlists
        and the quotas' record of recent requests are kept, as they belong to
        the account rather than the gateway process.

        Raises:
            RuntimeError: the simulator is not running.
        """
        await self.stop_listening()
        await self.drop_connections()
        await anyio.sleep(downtime)
        await self.start_listening()

    def _require_running(self) -> int:
        if self._task_group is None or self._port is None:
            raise RuntimeError("the simulator is not running; use 'async with Simulator()'")
        return self._port

    def _accept(self, listener: anyio.abc.Listener[anyio.abc.SocketStream]) -> None:
        """Serve ``listener`` in a task of its own, so it can be stopped alone."""
        assert self._task_group is not None
        link = Link.new()
        self._listener = listener
        self._accepting = link
        # Connection tasks go into the simulator's task group, not the accept
        # loop's, so they outlive a stop_listening().
        task_group = self._task_group

        def accepted(stream: anyio.abc.SocketStream) -> None:
            serve = functools.partial(self._table.serve, stream, task_group)
            task_group.start_soon(serve_guarded, serve, f"the connection from {peer_name(stream)}")

        where = f"{self._host}:{self._port}"
        self._task_group.start_soon(accept_until_stopped, listener, link, accepted, where)

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        self._accepting = None
        if listener is not None:
            await listener.aclose()
