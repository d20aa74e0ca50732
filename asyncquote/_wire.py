"""The transport edge of a connection: bytes out, bytes and endings in.

A :class:`Connection <asyncquote.connection.Connection>` is a sans-I/O core
(pending table, decoder, dispatch) driven by a wire. There are two:

* :class:`AsyncioWire`, on asyncio: an ``asyncio.Protocol``. Received bytes
  are decoded and routed to their callers inside the event loop's own read
  callback, and callers write to the transport directly, so a call costs no
  reader or writer task switches: a sequential call takes two event-loop
  rounds, against about five through an anyio stream and its two tasks.
* :class:`StreamWire`, on any other backend (trio): an anyio byte stream with
  a reader task and a writer task.

Both map transport failures to one ``_mark_lost(cause, reason)`` call on the sink,
and both coalesce the frames queued within one event-loop round into one
write, so a hundred concurrent callers cost a few writes, not a hundred.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, cast

import anyio
import anyio.abc

from ._loop import clock, oneshot_factory
from .errors import ProtocolError

__all__ = ["AsyncioWire", "StreamWire", "Wire", "WireSink", "open_asyncio_wire"]

logger = logging.getLogger("asyncquote.connection")

_RECEIVE_SIZE = 256 * 1024


class WireSink(Protocol):
    """What a wire drives: the connection's core (private methods: not user API)."""

    def _on_data(self, data: bytes) -> None:
        """Bytes arrived. Raises :class:`ProtocolError` if they are not valid frames."""

    def _on_eof(self) -> None:
        """The peer closed its side."""

    def _mark_lost(self, cause: BaseException | None, reason: str) -> None:
        """The wire is unusable; only the first call counts."""


#: Most bytes of frames waiting to be sent (beyond the transport's own
#: buffer) before the wire gives up on a peer that is not reading.
MAX_UNSENT_BYTES = 4 * 1024 * 1024


class Wire(Protocol):
    """What the connection's core needs from a transport."""

    write_blocked_since: float | None
    """Since when (on the loop's clock) writing has been blocked because the
    peer does not read, or None while it is not."""

    def send(self, data: bytes) -> None:
        """Queue ``data`` for sending; never blocks, never raises.

        Past :data:`MAX_UNSENT_BYTES` waiting, the wire fails: the peer is
        not reading.
        """

    async def aclose(self) -> None:
        """Close the transport; idempotent."""


class AsyncioWire(asyncio.Protocol):
    """The asyncio edge: decoding and dispatch run in the loop's read callback."""

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

    # -- asyncio.Protocol ----------------------------------------------------

    # Every callback catches what it raises: an exception escaping one is
    # only logged by the event loop, and the connection would hang on (see
    # _fail).

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
            self._sink._on_data(data)
        except ProtocolError as exc:
            self._sink._mark_lost(exc, f"the gateway sent invalid data: {exc}")
            self._abort()
        except Exception as exc:
            self._fail("data_received", exc)

    def eof_received(self) -> bool:
        try:
            self._sink._on_eof()
        except Exception as exc:
            self._fail("eof_received", exc)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            if exc is None:
                self._sink._mark_lost(anyio.EndOfStream(), "the gateway closed the connection")
            else:
                self._sink._mark_lost(exc, f"transport failed: {exc!r}")
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

    async def aclose(self) -> None:
        if self._transport is None:
            return
        self._abort()
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
        self._sink._mark_lost(None, _overflow_reason())
        self._abort()

    def _fail(self, where: str, exc: Exception) -> None:
        """A callback raised: the connection fails with a reason that says so."""
        logger.error("internal error in %s", where, exc_info=exc)
        try:
            self._sink._mark_lost(exc, f"internal error in {where}: {exc!r}")
        finally:
            self._abort()

    def _abort(self) -> None:
        # Pending writes are of calls that are being failed anyway.
        transport = self._transport
        if transport is None:
            self._closed.set()  # never connected: nothing will call connection_lost
        elif not transport.is_closing():
            transport.abort()


def _overflow_reason() -> str:
    return (
        f"OpenD is not reading: more than {MAX_UNSENT_BYTES / 2**20:g} MiB "
        "are waiting to be sent to it"
    )


async def open_asyncio_wire(host: str, port: int, sink: WireSink) -> AsyncioWire:
    """Connect over TCP with an :class:`AsyncioWire` feeding ``sink``.

    Raises:
        OSError: as ``loop.create_connection`` does.
    """
    loop = asyncio.get_running_loop()
    _, wire = await loop.create_connection(lambda: AsyncioWire(sink), host, port)
    return wire


class StreamWire:
    """The anyio edge: a reader task and a writer task around a byte stream.

    Start :meth:`read_loop` and :meth:`write_loop` with ``TaskGroup.start``.
    """

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
        self._overflowed = False
        self._closing = False
        self._now = clock()
        self.write_blocked_since: float | None = None

    def send(self, data: bytes) -> None:
        if self._overflowed:
            return
        self._outbox.append(data)
        self._unsent += len(data)
        if self._unsent > MAX_UNSENT_BYTES:
            # The writer is stuck in a send that the peer does not read.
            self._outbox.clear()
            self._overflowed = True
            self._sink._mark_lost(None, _overflow_reason())
        self._outbox_ready.set()

    async def aclose(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._outbox_ready.set()  # the writer sees it and ends
        with anyio.CancelScope(shield=True):
            await self._stream.aclose()

    async def read_loop(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """Feed received bytes to the sink until the stream ends or fails."""
        task_status.started()
        sink = self._sink
        try:
            while True:
                sink._on_data(await self._stream.receive(_RECEIVE_SIZE))
        except anyio.EndOfStream:
            sink._on_eof()
        except anyio.ClosedResourceError:
            sink._mark_lost(None, "the connection was closed by the client")
        except ProtocolError as exc:
            sink._mark_lost(exc, f"the gateway sent invalid data: {exc}")
        except (anyio.BrokenResourceError, OSError) as exc:
            sink._mark_lost(exc, f"transport failed: {exc!r}")
        except Exception as exc:
            # A bug of ours must not escape as an untyped error from the
            # connection's task group: the connection fails, saying so.
            logger.error("internal error handling received data", exc_info=exc)
            sink._mark_lost(exc, f"internal error handling received data: {exc!r}")
            await self.aclose()

    async def write_loop(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """Send whatever was queued, everything queued at once, until closed or failed."""
        task_status.started()
        try:
            outbox = self._outbox
            while not self._closing:
                if outbox:
                    data = b"".join(outbox) if len(outbox) > 1 else outbox[0]
                    outbox.clear()
                    self._unsent = 0
                    # Blocked from now until the peer has read enough of it.
                    self.write_blocked_since = self._now()
                    await self._stream.send(data)
                    self.write_blocked_since = None
                else:
                    # Wait only when there is nothing to send: waiting on an
                    # event that is already set would still yield once.
                    ready = self._outbox_ready = self._new_oneshot()
                    await ready
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            self._sink._mark_lost(exc, f"sending failed: {exc!r}")
        except Exception as exc:
            logger.error("internal error sending", exc_info=exc)
            self._sink._mark_lost(exc, f"internal error sending: {exc!r}")
            await self.aclose()
