"""The simulator's lifecycle: its port and task group, and stopping, starting and restarting.

One job: :class:`Listening`, an object the :class:`~._server.Simulator` owns,
binds the port on entry, runs the accept loop of :mod:`._accept` (and the
WebSocket front's, when there is one) in a task group of its own, hands
each connection accepted to the table of open connections of
:mod:`._connections`, and closes all of it on exit. In between it can drop
every connection and take the port down and up again, as an OpenD that
crashed or restarted would. It lives here, on the simulator's side, so that
the accept loop needs to know nothing of the table it feeds.

Invariants: the port is bound from :meth:`Listening.open` to
:meth:`Listening.close`, even while not listening; a connection's task
belongs to the simulator's task group, not to the accept loop, so it
outlives :meth:`Listening.stop`.
"""

from __future__ import annotations

import functools
import logging
from contextlib import AsyncExitStack

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

from ._accept import Link, accept_until_stopped, peer_name, serve_guarded
from ._connections import Connections
from ._websocket import WebSocketGateway
from ._websocket_transport import require_websockets

__all__ = ["Listening"]

_log = logging.getLogger("asyncquote.sim")

_NOT_RUNNING = "the simulator is not running; use 'async with Simulator()'"


class Listening:
    """The simulator's port, task group and accept loop, from entry to exit.

    Args:
        host: the address to listen on.
        port: the port to listen on (``0``: any free one; see :attr:`port`).
        table: the open connections, which serves each connection accepted.
        websocket_port: also serve the WebSocket front (:mod:`._websocket`)
            on this port; ``None``: not.
        websocket_key: the key WebSocket clients must send; ``None``: any.
        handshake_timeout: seconds a WebSocket client has to log in.

    Raises:
        ImportError: a ``websocket_port`` without the ``websockets`` package.
    """

    def __init__(
        self,
        host: str,
        port: int,
        table: Connections,
        *,
        websocket_port: int | None = None,
        websocket_key: str | None = None,
        handshake_timeout: float | None = None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._table = table
        self._websocket_port = websocket_port
        self.websocket: WebSocketGateway | None = None
        """The WebSocket front, if there is one."""
        if websocket_port is not None:
            require_websockets()
            self.websocket = WebSocketGateway(
                key=websocket_key,
                opend_host=host,
                opend_port=self._require_running,
                handshake_timeout=handshake_timeout,
            )
        # Set from open() to close(): the simulator is running.
        self._stack: AsyncExitStack | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._port: int | None = None
        # Set while listening (between stop() and start() they are None).
        self._listener: anyio.abc.Listener[anyio.abc.SocketStream] | None = None
        self._accepting: Link | None = None

    @property
    def port(self) -> int | None:
        """The port bound (the real one when ``0`` was asked for), or ``None`` when not running."""
        return self._port

    @property
    def websocket_port(self) -> int | None:
        """The WebSocket port bound, or ``None`` without a WebSocket front.

        Raises:
            RuntimeError: there is one, but the simulator is not running.
        """
        if self.websocket is None:
            return None
        port = self.websocket.port
        if port is None:
            raise RuntimeError(_NOT_RUNNING)
        return port

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted."""
        return self._listener is not None

    async def open(self) -> anyio.abc.TaskGroup:
        """Bind the port and accept connections; the task group the simulator's tasks run in.

        Raises:
            RuntimeError: already open.
            OSError: a port cannot be listened on.
        """
        if self._stack is not None:
            raise RuntimeError("this Simulator is already running")
        listener = await anyio.create_tcp_listener(
            local_host=self._host, local_port=self._requested_port
        )
        async with AsyncExitStack() as stack:
            self._listener = listener
            stack.push_async_callback(self._close_listener)
            if self.websocket is not None:
                assert self._websocket_port is not None
                # Before the task group, which would wrap its OSError.
                stack.push_async_callback(self.websocket.aclose)
                await self.websocket.listen(self._host, self._websocket_port)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            # Runs first on exit: stop accepting and end every connection task.
            stack.callback(task_group.cancel_scope.cancel)
            self._task_group = task_group
            self._port = listener.extra(SocketAttribute.local_port)
            self._accept(listener)
            if self.websocket is not None:
                self.websocket.serve_in(task_group)
            self._stack = stack.pop_all()
        _log.debug("simulator listening on %s:%d", self._host, self._port)
        return task_group

    async def close(self) -> None:
        """Close the listener and every connection, and end every task; nothing if not open."""
        stack, self._stack = self._stack, None
        self._port = None
        if stack is not None:
            # The task group is told nothing of the simulator's caller's
            # exception: it would wrap it in an ExceptionGroup, and it is not
            # ours to handle; the caller's __aexit__ lets it propagate as is.
            try:
                await stack.aclose()
            finally:
                self._task_group = None

    async def drop_connections(self) -> int:
        """Close every open connection; how many there were."""
        return await self._table.drop_all()

    async def stop(self) -> None:
        """Stop accepting, keeping the port; nothing if not listening.

        Raises:
            RuntimeError: not running.
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

    async def start(self) -> None:
        """Accept again, on the same port; nothing if listening already.

        Raises:
            RuntimeError: not running.
            OSError: the port has been taken meanwhile.
        """
        port = self._require_running()
        if self._listener is not None:
            return
        self._accept(await anyio.create_tcp_listener(local_host=self._host, local_port=port))
        _log.debug("simulator listening again on %s:%d", self._host, port)

    async def restart(self, downtime: float) -> None:
        """Stop, drop every connection, wait ``downtime`` seconds, start.

        Raises:
            RuntimeError: not running.
        """
        await self.stop()
        await self.drop_connections()
        await anyio.sleep(downtime)
        await self.start()

    def _require_running(self) -> int:
        if self._task_group is None or self._port is None:
            raise RuntimeError(_NOT_RUNNING)
        return self._port

    def _accept(self, listener: anyio.abc.Listener[anyio.abc.SocketStream]) -> None:
        """Serve ``listener`` in a task of its own, so it can be stopped alone."""
        task_group = self._task_group
        assert task_group is not None
        link = Link.new()
        self._listener = listener
        self._accepting = link

        def accepted(stream: anyio.abc.SocketStream) -> None:
            # Into the simulator's task group, not the accept loop's, so the
            # connection outlives a stop().
            serve = functools.partial(self._table.serve, stream, task_group)
            task_group.start_soon(serve_guarded, serve, f"the connection from {peer_name(stream)}")

        where = f"{self._host}:{self._port}"
        task_group.start_soon(accept_until_stopped, listener, link, accepted, where)

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        self._accepting = None
        if listener is not None:
            await listener.aclose()
