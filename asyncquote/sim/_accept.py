"""Accepting connections: the simulator's accept loop, and starting and stopping it.

One job: take connections off a listener, for ever, and hand each to a
callback, riding out a shortage of descriptors or memory rather than dying
of it. Starting and stopping that loop is the simulator's business
(:mod:`._listening`). Knows nothing of frames, nor of the table of open
connections (:mod:`._connections`) that serves what it accepts.

Invariants:

* A transient ``accept()`` failure (out of descriptors or memory, a client
  that gave up while queued) is logged once, retried after a pause that
  doubles up to :data:`_ACCEPT_RETRY_MAX`, and logged again when accepting
  works once more; open connections go on being served meanwhile. Any other
  failure propagates.
* Connections are handed over at once, so their tasks belong to whoever the
  callback gives them to, not to the accept loop, and outlive its stopping.
* The accept loop is gone before its listener is closed; the port stays
  bound while not listening, for :meth:`~._listening.Listening.start`.
* Each connection is served under :func:`serve_guarded`: whatever goes wrong
  while serving it, before or after its login, closes that connection only
  and is logged once; the simulator goes on serving every other.
"""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc
from anyio.abc import SocketAttribute
from anyio.streams.stapled import MultiListener

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "Link",
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
