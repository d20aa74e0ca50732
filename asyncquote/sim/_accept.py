"""Accepting connections: the simulator's accept loop, and stoppable tasks.

One job: take connections off a listener, for ever, and hand each to a
callback, riding out a shortage of descriptors or memory rather than dying
of it. Knows nothing of frames or of what a connection is served with.

Invariants:

* A transient ``accept()`` failure (out of descriptors or memory, a client
  that gave up while queued) is logged once, retried after a pause that
  doubles up to :data:`_ACCEPT_RETRY_MAX`, and logged again when accepting
  works once more; open connections go on being served meanwhile. Any other
  failure propagates.
* Connections are handed over at once, so their tasks belong to whoever the
  callback gives them to, not to the accept loop, and outlive its stopping.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import anyio.abc
from anyio.abc import SocketAttribute
from anyio.streams.stapled import MultiListener

__all__ = ["Link", "accept_until_stopped", "peer_name"]

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


def peer_name(stream: anyio.abc.SocketStream) -> str:
    """The client's address, for logs; ``"?"`` when it cannot be had."""
    try:
        address = stream.extra(SocketAttribute.remote_address)
    except (anyio.TypedAttributeLookupError, OSError):
        # getpeername fails if the peer has already gone; the name is only for logs.
        return "?"
    return str(address)
