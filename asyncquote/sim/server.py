"""The simulator's TCP server: accept connections, read frames, write replies.

Written against anyio only, so it runs under asyncio and trio alike. Each
connection is served by one task that reads with large receives, hands every
complete frame to the :class:`~.dispatch.Dispatcher` and writes the replies
to the frames of one receive with one send, in request order.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

from ..errors import ProtocolError
from ..framing import FrameDecoder
from .dispatch import Dispatcher
from .handlers import default_routes
from .state import ConnectionState, ServerState
from .watchlists import WatchlistStore

__all__ = ["RequestRecord", "Simulator", "serve"]

_log = logging.getLogger("asyncquote.sim")

# Large enough that a burst of pipelined requests is read in one call.
_RECEIVE_SIZE = 256 * 1024
# Replies are sent once this many bytes have piled up, to bound memory and
# the wait for the first reply of a long burst.
_SEND_BATCH_SIZE = 256 * 1024
# Requests are small; anything near this is an attack or a bug.
_MAX_REQUEST_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request frame as it reached the simulator.

    Attributes:
        proto_id: the frame's protocol id.
        serial_no: the frame's serial number.
        conn_id: the simulator's id for the connection (the ``connID`` of its
            InitConnect reply).
        time: arrival time from :func:`anyio.current_time`.
    """

    proto_id: int
    serial_no: int
    conn_id: int
    time: float


class Simulator:
    """An OpenD stand-in serving the real protocol on a TCP port.

    Use it as an async context manager; the port is bound on entry and every
    connection is closed on exit::

        async with Simulator() as sim:
            async with asyncquote.connect(sim.host, sim.port) as client:
                ...

    Args:
        host: address to listen on.
        port: port to listen on; ``0`` picks a free one (see :attr:`port`).
        watchlists: groups and securities to serve; a fresh copy of the
            bundled sample data when omitted. A store passed in is used as is,
            not copied.
        keepalive_interval: seconds, told to clients in the InitConnect reply.
        record_limit: how many :attr:`requests` to keep (the oldest are
            dropped); ``None`` keeps all.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        watchlists: WatchlistStore | None = None,
        keepalive_interval: int = 10,
        record_limit: int | None = None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._state = ServerState(
            watchlists=watchlists if watchlists is not None else WatchlistStore.sample(),
            keepalive_interval=keepalive_interval,
        )
        self._dispatcher = Dispatcher(default_routes(), self._state)
        self._conn_ids = itertools.count(1)
        self._connections: dict[int, ConnectionState] = {}
        self._stack: AsyncExitStack | None = None
        self.requests: deque[RequestRecord] = deque(maxlen=record_limit)
        """Every request frame that arrived, oldest first."""

    @property
    def host(self) -> str:
        """The address the simulator listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The port the simulator listens on (the real one when ``0`` was asked for).

        Raises:
            RuntimeError: the simulator is not running.
        """
        if self._port is None:
            raise RuntimeError("the simulator is not running; use 'async with Simulator()'")
        return self._port

    @property
    def watchlists(self) -> WatchlistStore:
        """The groups and securities being served."""
        return self._state.watchlists

    @property
    def open_connections(self) -> int:
        """How many client connections are open right now."""
        return len(self._connections)

    async def __aenter__(self) -> Simulator:
        if self._stack is not None:
            raise RuntimeError("this Simulator is already running")
        listener = await anyio.create_tcp_listener(
            local_host=self._host, local_port=self._requested_port
        )
        async with AsyncExitStack() as stack:
            stack.push_async_callback(listener.aclose)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            # Runs first on exit: stop accepting and end every connection task.
            stack.callback(task_group.cancel_scope.cancel)
            # Connection tasks go into our task group, so cancelling it ends them.
            task_group.start_soon(listener.serve, self._serve_connection, task_group)
            self._port = listener.extra(SocketAttribute.local_port)
            self._stack = stack.pop_all()
        _log.debug("simulator listening on %s:%d", self._host, self._port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._port = None
        if stack is not None:
            # Our task group is told nothing of the caller's exception: it
            # would wrap it in an ExceptionGroup, and it is not ours to handle.
            # Returning None lets it propagate unchanged.
            await stack.aclose()

    async def _serve_connection(self, stream: anyio.abc.SocketStream) -> None:
        conn_id = next(self._conn_ids)
        conn = ConnectionState(conn_id=conn_id, peer=_peer_name(stream))
        self._connections[conn_id] = conn
        _log.debug("connection %d from %s", conn_id, conn.peer)
        try:
            async with stream:
                await self._exchange(stream, conn)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        except ProtocolError as exc:
            # The byte stream can no longer be trusted to be on a frame
            # boundary, so this connection is over; the others are unaffected.
            _log.info("closing connection %d: %s", conn_id, exc)
        finally:
            del self._connections[conn_id]
            _log.debug("connection %d closed", conn_id)

    async def _exchange(self, stream: anyio.abc.SocketStream, conn: ConnectionState) -> None:
        decoder = FrameDecoder(max_body_len=_MAX_REQUEST_BODY)
        requests = self.requests
        reply = self._dispatcher.reply
        conn_id = conn.conn_id
        while True:
            frames = decoder.feed(await stream.receive(_RECEIVE_SIZE))
            while frames:
                # Every frame of one receive arrived together. Their replies
                # go out together too, in order: one send per batch rather
                # than per reply, which doubles throughput under pipelining.
                now = anyio.current_time()
                batch: list[bytes] = []
                size = 0
                for frame in frames:
                    requests.append(RequestRecord(frame.proto_id, frame.serial_no, conn_id, now))
                    data = reply(conn, frame)
                    batch.append(data)
                    size += len(data)
                    if size >= _SEND_BATCH_SIZE:
                        await stream.send(b"".join(batch))
                        batch.clear()
                        size = 0
                if batch:
                    await stream.send(b"".join(batch))
                # A fault after good frames in the same chunk is only raised by
                # the next feed; surface it now rather than on the next receive.
                frames = decoder.feed(b"")


def _peer_name(stream: anyio.abc.SocketStream) -> str:
    try:
        address = stream.extra(SocketAttribute.remote_address)
    except (anyio.TypedAttributeLookupError, OSError):
        # getpeername fails if the peer has already gone; the name is only for logs.
        return "?"
    return str(address)


async def serve(
    host: str = "127.0.0.1",
    port: int = 11111,
    *,
    watchlists: WatchlistStore | None = None,
    ready: Callable[[Simulator], object] | None = None,
) -> None:
    """Run a :class:`Simulator` until cancelled.

    Only the latest 10,000 requests are recorded, as this may run for days.

    Args:
        host: address to listen on.
        port: port to listen on; ``0`` picks a free one.
        watchlists: groups and securities to serve; the bundled sample by default.
        ready: called with the running simulator once it accepts connections
            (to print the port, say).
    """
    async with Simulator(host, port, watchlists=watchlists, record_limit=10_000) as sim:
        if ready is not None:
            ready(sim)
        await anyio.sleep_forever()
