"""A connection's pushes (Notify 1003, quotes 3005, 3013): queued without waiting, sent by a task.

One job: the part of :class:`~._peer.Peer` that puts pushes into the
connection's outbox, sealed like its replies, and has them sent. See
:mod:`._peer` for the ordering with replies and the send lock.

Invariants:

* :meth:`Pushes.push` never waits. A push joins the outbox behind every
  reply queued before it; the writer task, started with the first push,
  flushes the outbox whenever a push is queued.
* At most ``push_backlog`` pushes wait in the outbox at a time, besides
  those of a send already under way (so at most twice that many unsent):
  once a client has stopped reading, further pushes to it are refused (the
  caller counts them as dropped), so a stalled client costs bounded memory
  and stalls nobody else.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio

from .._opend.crypto import BodyCipher
from .._opend.vocabulary import ProtoId

__all__ = ["DEFAULT_PUSH_BACKLOG", "Pushes"]

#: Pushes that may wait unsent on one connection before more are dropped.
DEFAULT_PUSH_BACKLOG = 10_000

# OpenD does not say what serial numbers its pushes carry; clients route
# Notify by protocol id.
_PUSH_SERIAL = 0


class Pushes:
    """:class:`~._peer.Peer`'s pushes; a base of it only, which calls :meth:`_init_pushes`."""

    _outbox: list[bytes]
    _cipher: BodyCipher | None
    _pushes_waiting: int

    def _init_pushes(self, backlog: int) -> None:
        self._push_backlog = backlog
        # Pushes in the outbox; Peer._send_outbox resets it when it takes
        # the outbox to send (a stuck send then holds up to as many more).
        self._pushes_waiting = 0
        self._push_wanted = anyio.Event()
        self._push_writer = anyio.CancelScope()
        self._push_writer_started = False

    if TYPE_CHECKING:
        # The connection's own (see _fault_pipeline.Outbox).
        def start(
            self, func: Callable[..., Coroutine[Any, Any, object]], *args: object
        ) -> None: ...

        async def flush_quietly(self) -> None: ...

        def _sealed(self, proto_id: int, serial_no: int, body: bytes) -> bytes: ...

    def notify(self, body: bytes) -> bool:
        """Queue a Notify (1003) push carrying ``body`` (plaintext); see :meth:`push`."""
        return self.push(ProtoId.NOTIFY, body)

    def push(self, proto_id: int, body: bytes) -> bool:
        """Queue a push of ``proto_id`` carrying ``body`` (plaintext); never waits.

        The caller makes sure the connection sends under its lock by then
        (it asked for notifications, or ``quote_pushes`` is set; see
        :meth:`~._peer.Peer.flush`).

        Returns:
            ``False`` if it was refused: ``push_backlog`` pushes are already
            waiting for this client to read.
        """
        if self._pushes_waiting >= self._push_backlog:
            return False
        self._outbox.append(self._sealed(proto_id, _PUSH_SERIAL, body))
        self._pushes_waiting += 1
        self._push_wanted.set()
        if not self._push_writer_started:
            # Started with the first push: most connections never get one.
            self._push_writer_started = True
            self.start(self._write_pushes)
        return True

    def _stop_pushing(self) -> None:
        """End the writer task (the connection has stopped reading)."""
        self._push_writer.cancel()

    async def _write_pushes(self) -> None:
        """Send queued pushes as they come, until :meth:`_stop_pushing`."""
        with self._push_writer:
            while True:
                await self._push_wanted.wait()
                # Renewed before sending: a push queued meanwhile wakes us again.
                self._push_wanted = anyio.Event()
                await self.flush_quietly()
