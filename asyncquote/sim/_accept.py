"""Accepting connections: the simulator's accept loop, and starting and stopping it.

One job: take connections off a listener, for ever, and hand each to a
callback, riding out a shortage of descriptors or memory rather than dying
of it; and, in :class:`Listening` (the part of
:class:`~._server.Simulator` that drops connections and takes the port
down and up again), start and stop that loop. Knows nothing of frames; what
a connection is served with is the table of open connections'
(:mod:`._connections`) business.

Invariants:

* A transient ``accept()`` failure (out of descriptors or memory, a client
  that gave up while queued) is logged once, retried after a pause that
  doubles up to :data:`_ACCEPT_RETRY_MAX`, and logged again when accepting
  works once more; open connections go on being served meanwhile. Any other
  failure propagates.
* Connections are handed over at once, so their tasks belong to whoever the
  callback gives them to, not to the accept loop, and outlive its stopping.
* The accept loop is gone before its listener is closed; the port stays
  bound while not listening, for :meth:`Listening.start_listening`.
* Each connection is served under :func:`serve_guarded`: whatever goes wrong
  while serving it, before or after its login, closes that connection only
  and is logged once; the simulator goes on serving every other.
"""

from __future__ import annotations

import errno
import functools
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import anyio.abc
from anyio.abc import SocketAttribute
from anyio.streams.stapled import MultiListener

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from ._connections import Connections

__all__ = [
    "Link",
    "Listening",
    "accept_until_stopped",
    "closing_shielded",
    "peer_name",
    "serve_guarded",
]

_log = logging.getLogger("asyncquote.sim")

# accept() failures that say "not now" rather than "never": out of descriptors
# or memory, or a client that gave up while queued.
_TRANSIENT_ACCEPT_ERRORS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.ECONNABORTED, errno.EPROTO}
)
_ACCEPT_RETRY_FIRST = 0.05
_ACCEPT_RETRY_MAX = 1.0

Accepted = Callable[[anyio.abc.SocketStream], object]
"""Called with each connection accepted; must not block (start a task)."""


@dataclass(frozen=True, slots=True)
class Link:
    """A task that can be stopped from outside, and tells when it has stopped."""

    scope: anyio.CancelScope
    done: anyio.Event

    @classmethod
    def new(cls) -> Link:
        """A link for a task not yet started."""
        return cls(anyio.CancelScope(), anyio.Event())


async def accept_until_stopped(
    listener: anyio.abc.Listener[anyio.abc.SocketStream],
    link: Link,
    accepted: Accepted,
    where: str,
) -> None:
    """Accept from every socket of ``listener`` until ``link`` is cancelled.

    ``where`` names the address, for the log. Sets ``link.done`` on the way out.
    """
    listeners = listener.listeners if isinstance(listener, MultiListener) else [listener]
    try:
        with link.scope:
            async with anyio.create_task_group() as tg:
                for one in listeners:
                    assert isinstance(one, anyio.abc.SocketListener)
                    tg.start_soon(_accept_from, one, accepted, where)
    finally:
        link.done.set()


async def _accept_from(listener: anyio.abc.SocketListener, accepted: Accepted, where: str) -> None:
    pause = 0.0
    while True:
        try:
            stream = await listener.accept()
        except OSError as exc:
            if exc.errno not in _TRANSIENT_ACCEPT_ERRORS:
                raise
            if not pause:
                _log.warning(
                    "cannot accept connections on %s for now (%s); open connections "
                    "are still served and accepting is retried (raise the limit with "
                    "ulimit -n, or close idle clients)",
                    where,
                    exc.strerror or exc,
                )
            pause = min(max(pause * 2, _ACCEPT_RETRY_FIRST), _ACCEPT_RETRY_MAX)
            await anyio.sleep(pause)
            continue
        if pause:
            _log.warning("accepting connections on %s again", where)
            pause = 0.0
        accepted(stream)


async def serve_guarded(serve: Callable[[], Awaitable[None]], what: str) -> None:
    """Run ``serve``, one connection's whole life, so that no error of it ends the simulator.

    ``serve`` closes its own connection on the way out, whatever the
    exception. The errors it expects (the client leaving, bytes that are not
    the protocol) it handles itself; anything else reaching here is a bug or
    a case not foreseen, and costs that connection only: logged once, with
    its traceback, naming ``what``. Cancellation is not caught: out of a
    group that holds both (trio keeps a cancellation that reached a task
    group alongside a task's error), the errors are logged and the rest,
    the cancellation, is raised on.
    """
    try:
        await serve()
    except BaseExceptionGroup as group:
        errors, rest = group.split(Exception)
        if errors is not None:
            _log_unexpected(errors, what)
        if rest is not None:
            raise rest from None
    except Exception as exc:
        _log_unexpected(exc, what)


def _log_unexpected(error: BaseException, what: str) -> None:
    # A lone error in a group (a task group's) is logged as itself, with its traceback.
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    _log.error(
        "closed %s after an unexpected error; other connections are still served",
        what,
        exc_info=error,
    )


@asynccontextmanager
async def closing_shielded(stream: anyio.abc.AnyByteStream) -> AsyncIterator[None]:
    """``async with stream``, but closing it shielded from cancellation.

    Closing checkpoints, and in a cancelled scope that raises a fresh
    cancellation which would replace the error a connection is failing with,
    on its way to :func:`serve_guarded`: lost, never logged.
    """
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await stream.aclose()


def peer_name(stream: anyio.abc.SocketStream) -> str:
    """The client's address, for logs; ``"?"`` when it cannot be had."""
    try:
        address = stream.extra(SocketAttribute.remote_address)
    except (anyio.TypedAttributeLookupError, OSError):
        # getpeername fails if the peer has already gone; the name is only for logs.
        return "?"
    return str(address)


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
