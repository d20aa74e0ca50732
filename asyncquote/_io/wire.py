"""Drivers: move a connection's bytes over one I/O backend, and nothing else.

A driver connects, writes what it is given, hands every received chunk and
the end of the stream to its sink (the async layer,
:class:`asyncquote._io.connection.Connection`, which asks the sans-I/O
:class:`asyncquote._opend.protocol.ClientProtocol` what the bytes mean), and
reports its own failures as one typed :class:`Loss`. There is one per
backend, behind the :class:`Wire` interface, and :func:`connect_wire` picks:

* :class:`AsyncioWire`, on asyncio (uvloop included): an ``asyncio.Protocol``.
  Received bytes are routed to their callers inside the event loop's own read
  callback, and callers write to the transport directly, so a call costs no
  reader or writer task switches: a sequential call takes two event-loop
  rounds, against about five through an anyio stream and its two tasks.
* :class:`StreamWire`, on any other backend (trio): an anyio byte stream with
  a reader task and a writer task. The first frame after bytes arrived is
  sent by its caller, as far as the socket takes it without blocking; the
  writer sends the rest and everything else, so a sequential call costs no
  writer wake-up.

Invariants shared by both: transport errors become a :class:`Loss` in one
place (:func:`loss_for`); the frames queued within one event-loop round go
out in one write, so a hundred concurrent callers cost a few writes, not a
hundred; past :data:`MAX_UNSENT_BYTES` waiting, the peer is not reading and
the wire aborts; :meth:`Wire.abort` closes the transport at once, whoever
calls it (garbage received, the watchdog, a bug), and :meth:`Wire.aclose`
is abort-and-wait.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Protocol, cast

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

from .._base.errors import ProtocolError
from .._opend.loss import Loss, LossKind
from .loop import clock, oneshot_factory, running_asyncio_loop, trio_wait_readable

__all__ = [
    "MAX_UNSENT_BYTES",
    "AsyncioWire",
    "StreamWire",
    "Wire",
    "WireSink",
    "connect_wire",
    "loss_for",
]

logger = logging.getLogger("asyncquote.connection")

_RECEIVE_SIZE = 256 * 1024

#: Most bytes of frames waiting to be sent (beyond the transport's own
#: buffer) before the wire gives up on a peer that is not reading.
MAX_UNSENT_BYTES = 4 * 1024 * 1024


class WireSink(Protocol):
    """What a driver feeds."""

    def data_received(self, data: bytes) -> None:
        """Bytes arrived. Raises only on a bug (the driver then fails, saying so)."""

    def eof_received(self) -> None:
        """The peer closed its side."""

    def transport_lost(self, loss: Loss) -> None:
        """The wire is unusable; only the first call counts."""


class Wire(Protocol):
    """What the async layer needs from a transport."""

    write_blocked_since: float | None
    """Since when (on the loop's clock) writing has been blocked because the
    peer does not read, or None while it is not."""

    def send(self, data: bytes) -> None:
        """Queue ``data`` for sending; never blocks, never raises."""

    def abort(self) -> None:
        """Close the transport now, dropping unsent bytes; idempotent."""

    async def aclose(self) -> None:
        """Abort, and return once the transport is closed; idempotent."""

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """The driver's tasks, if it has any; start it with ``TaskGroup.start``."""


def loss_for(exc: BaseException | None, where: str) -> Loss:
    """The one mapping from what a transport raised (None: a clean close) to a loss.

    ``where`` names the callback or task that caught ``exc``; ``"transport"``
    means the transport itself reported it (any exception is then its failure).
    """
    if exc is None or isinstance(exc, anyio.EndOfStream):
        return Loss(LossKind.PEER_CLOSED, anyio.EndOfStream() if exc is None else exc)
    if isinstance(exc, ProtocolError):
        return Loss(LossKind.INVALID_DATA, exc)
    if isinstance(exc, anyio.ClosedResourceError):
        return Loss(LossKind.CLOSED_BY_CLIENT)
    if where == "transport" or isinstance(exc, (anyio.BrokenResourceError, OSError)):
        kind = LossKind.SEND_FAILED if where == "write" else LossKind.TRANSPORT_FAILED
        return Loss(kind, exc)
    # A bug of ours: the connection fails, saying where, instead of hanging
    # on or escaping as an untyped error from the connection's task group.
    logger.error("internal error in %s", where, exc_info=exc)
    return Loss(LossKind.INTERNAL_ERROR, exc, where=where)


def _backlog() -> Loss:
    return Loss(LossKind.BACKLOG, limit=MAX_UNSENT_BYTES)


async def connect_wire(host: str, port: int, sink: WireSink) -> Wire:
    """Connect over TCP with the driver for the running event loop.

    Start the returned wire's :meth:`Wire.run` in the connection's task group.

    Raises:
        OSError: connecting failed.
    """
    loop = running_asyncio_loop()
    if loop is not None:
        _, wire = await loop.create_connection(lambda: AsyncioWire(sink), host, port)
        return wire
    return StreamWire(await anyio.connect_tcp(host, port), sink)


class AsyncioWire(asyncio.Protocol):
    """The asyncio driver: decoding and dispatch run in the loop's read callback."""

    def __init__(self, sink: WireSink) -> None:
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        # Frames that wait for the end of an event-loop round (or for the
        # transport to drain) to go out in one write; see send().
        self._outbox: list[bytes] = []
        self._wrote_since_received = False
        self._paused = False
        self._unsent = 0  # bytes in the outbox while paused
        self.write_blocked_since: float | None = None
        self._closed = asyncio.Event()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        task_status.started()  # the event loop drives this one: no task of its own

    # -- asyncio.Protocol ----------------------------------------------------

    # Every callback catches what it raises: an exception escaping one is
    # only logged by the event loop, and the connection would hang on.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        try:
            # Not isinstance(transport, asyncio.Transport): uvloop's transports
            # are not subclasses. What we use is what we check.
            for method in ("write", "is_closing", "abort"):
                if not callable(getattr(transport, method, None)):
                    raise TypeError(f"{type(transport).__name__} has no {method}() method")
            self._transport = cast(asyncio.Transport, transport)
        except Exception as exc:
            self._fail("connection_made", exc)

    def data_received(self, data: bytes) -> None:
        self._wrote_since_received = False
        try:
            self._sink.data_received(data)
        except Exception as exc:
            self._fail("data_received", exc)

    def eof_received(self) -> bool:
        try:
            self._sink.eof_received()
        except Exception as exc:
            self._fail("eof_received", exc)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            self._sink.transport_lost(loss_for(exc, "transport"))
        except Exception as error:
            self._fail("connection_lost", error)
        finally:
            self._outbox.clear()
            self._closed.set()

    def pause_writing(self) -> None:
        self._paused = True
        self.write_blocked_since = self._loop.time()
        try:
            # One large write can leave more than the limit in the
            # transport's own buffer: that counts too.
            if self._transport is not None:
                self._unsent = self._transport.get_write_buffer_size()
                if self._unsent > MAX_UNSENT_BYTES:
                    self._overflow()
        except Exception as exc:
            self._fail("pause_writing", exc)

    def resume_writing(self) -> None:
        self._paused = False
        self.write_blocked_since = None
        try:
            self._flush()
        except Exception as exc:
            self._fail("resume_writing", exc)

    # -- Wire ------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return  # the sink hears of the loss through connection_lost
        if self._paused:
            self._outbox.append(data)
            self._unsent += len(data)
            if self._unsent > MAX_UNSENT_BYTES:
                self._overflow()
        elif not self._wrote_since_received:
            # Typically the first call after a reply: out at once, without
            # waiting for the round to end (a lone caller costs one round
            # fewer).
            self._wrote_since_received = True
            try:
                transport.write(data)
            except Exception as exc:
                self._fail("write", exc)
        else:
            # More frames this round: they go out together when it ends, so
            # a hundred callers cost two writes, not a hundred.
            self._outbox.append(data)
            if len(self._outbox) == 1:
                self._loop.call_soon(self._flush)

    def abort(self) -> None:
        # Pending writes are of calls that are being failed anyway.
        transport = self._transport
        if transport is None:
            self._closed.set()  # never connected: nothing will call connection_lost
        elif not transport.is_closing():
            transport.abort()

    async def aclose(self) -> None:
        if self._transport is None:
            return
        self.abort()
        with anyio.CancelScope(shield=True):
            await self._closed.wait()

    # -- internals -----------------------------------------------------------

    def _flush(self) -> None:
        outbox = self._outbox
        transport = self._transport
        if not outbox or self._paused or transport is None or transport.is_closing():
            return
        data = b"".join(outbox) if len(outbox) > 1 else outbox[0]
        outbox.clear()
        self._unsent = 0
        try:
            transport.write(data)
        except Exception as exc:
            self._fail("write", exc)

    def _overflow(self) -> None:
        self._outbox.clear()
        self._unsent = 0
        self._sink.transport_lost(_backlog())
        self.abort()

    def _fail(self, where: str, exc: Exception) -> None:
        try:
            self._sink.transport_lost(loss_for(exc, where))
        finally:
            self.abort()


class StreamWire:
    """The anyio-stream driver: a reader task and a writer task around a byte stream."""

    def __init__(self, stream: anyio.abc.ByteStream, sink: WireSink) -> None:
        self._stream = stream
        self._sink = sink
        self._new_oneshot = oneshot_factory()
        # Frames waiting for the writer task, and the one-shot that wakes it;
        # a plain list, as a memory object stream would cost the writer an
        # extra scheduling round per batch.
        self._outbox: list[bytes] = []
        self._outbox_ready = self._new_oneshot()
        self._unsent = 0  # bytes in the outbox
        self._aborted = False
        # Cancels both tasks on abort; they then close the stream.
        self._scope = anyio.CancelScope()
        self._running = False
        self._closed = anyio.Event()
        self._now = clock()
        self.write_blocked_since: float | None = None
        # The socket, for a caller's own non-blocking send (None: always the
        # writer). Only while the writer is not sending and nothing waits for
        # it, so frames keep their order and never interleave. Not under a
        # wrapping stream (TLS): its bytes are not ours to write raw.
        self._socket: socket.socket | None = (
            stream.extra(SocketAttribute.raw_socket, None)
            if isinstance(stream, anyio.abc.SocketStream)
            else None
        )
        self._writing = False
        self._wrote_since_received = False

    def send(self, data: bytes) -> None:
        if self._aborted:
            return
        sock = self._socket
        if not (self._outbox or self._writing or self._wrote_since_received or sock is None):
            # Typically the first call after a reply: out at once, in this
            # caller, without a writer wake-up. Synchronous, so no
            # cancellation can stop it halfway: whatever the socket does not
            # take goes to the writer, first in line. Later frames of this
            # round wait for the writer, which sends them in one write.
            self._wrote_since_received = True
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._sink.transport_lost(loss_for(exc, "write"))
                self.abort()
                return
            if sent == len(data):
                return
            data = data[sent:]
        self._outbox.append(data)
        self._unsent += len(data)
        if self._unsent > MAX_UNSENT_BYTES:
            # The writer is stuck in a send that the peer does not read.
            self._outbox.clear()
            self._sink.transport_lost(_backlog())
            self.abort()
        self._outbox_ready.set()

    def abort(self) -> None:
        self._aborted = True
        self._scope.cancel()

    async def aclose(self) -> None:
        self.abort()
        with anyio.CancelScope(shield=True):
            if self._running:
                await self._closed.wait()
            else:
                await self._stream.aclose()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """Read in this task and write in a child until the stream ends or the wire aborts."""
        self._running = True
        try:
            with self._scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._write_loop)
                    task_status.started()
                    await self._read_loop()
                    tg.cancel_scope.cancel()  # nothing more will be read: done
        finally:
            self._socket = None  # closed below: no caller sends on it any more
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()
            self._closed.set()

    async def _read_loop(self) -> None:
        sink = self._sink
        sock = self._socket
        wait_readable = trio_wait_readable()
        try:
            if wait_readable is not None and isinstance(sock, socket.socket):
                # A real socket under trio: wait for it, then read it, with no
                # stream, guard or try-first helper around each read (about
                # ten Python calls and a failed recv() per reply). Waiting
                # before every read is also the reader's checkpoint, so a
                # peer that floods still lets the loop turn.
                while True:
                    await wait_readable(sock)
                    try:
                        data = sock.recv(_RECEIVE_SIZE)
                    except BlockingIOError:
                        continue
                    if not data:
                        raise anyio.EndOfStream
                    self._wrote_since_received = False
                    sink.data_received(data)
            while True:
                data = await self._stream.receive(_RECEIVE_SIZE)
                self._wrote_since_received = False
                sink.data_received(data)
        except anyio.EndOfStream:
            pass
        except Exception as exc:
            sink.transport_lost(loss_for(exc, "data_received"))
            return
        try:
            sink.eof_received()
        except Exception as exc:
            sink.transport_lost(loss_for(exc, "eof_received"))

    async def _write_loop(self) -> None:
        """Send whatever was queued, everything queued at once, until aborted or failed."""
        try:
            outbox = self._outbox
            while True:
                if outbox:
                    data = b"".join(outbox) if len(outbox) > 1 else outbox[0]
                    outbox.clear()
                    self._unsent = 0
                    # Blocked from now until the peer has read enough of it.
                    self.write_blocked_since = self._now()
                    self._writing = True
                    await self._stream.send(data)
                    self._writing = False
                    self.write_blocked_since = None
                else:
                    # Wait only when there is nothing to send: waiting on an
                    # event that is already set would still yield once.
                    ready = self._outbox_ready = self._new_oneshot()
                    await ready
        except Exception as exc:
            self._sink.transport_lost(loss_for(exc, "write"))
            self.abort()
