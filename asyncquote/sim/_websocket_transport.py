"""One server-side WebSocket connection over an anyio byte stream.

One job: speak RFC 6455 on an accepted socket, by driving the Sans-I/O
protocol of the ``websockets`` package (:class:`websockets.server.ServerProtocol`)
with anyio streams. Knows nothing of OpenD's messages.

``websockets``' own servers run on asyncio only; its Sans-I/O layer does no
I/O at all, so this runs wherever anyio does: asyncio, uvloop and trio.

Invariants:

* Bytes the protocol wants sent go out under one lock, in the order they were
  produced, so a reply from one task and a pong from another never interleave.
* Pings are answered and close frames acknowledged by the protocol itself.
* A fragmented message (RFC 6455 §5.4) is delivered whole, once its last
  fragment has arrived, whatever control frames came between; the whole
  message is bounded by :data:`MAX_MESSAGE` (beyond it the connection is
  closed with 1009, "message too big").
* Text messages are ignored: OpenD's WebSocket messages are all binary.
* Once the closing handshake has started (either side) or the write side
  is shut, :meth:`WebSocketStream.send` raises ``anyio.ClosedResourceError``,
  as any closed anyio stream does: a reply to a request that came with the
  client's close frame is dropped, not an error of the server.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from .._base.install import install_hint

if TYPE_CHECKING:
    from websockets.frames import Frame
    from websockets.server import ServerProtocol

__all__ = ["MAX_MESSAGE", "WebSocketStream", "require_websockets"]

_log = logging.getLogger("asyncquote.sim")

_RECEIVE_SIZE = 64 * 1024
#: Bytes one message may have, all its fragments together: OpenD's requests
#: are small, and anything near this is an attack or a bug.
MAX_MESSAGE = 1024 * 1024


def require_websockets() -> None:
    """Check that the ``websockets`` package can be imported.

    Raises:
        ImportError: it is not installed; the message says which extra brings it.
    """
    try:
        import websockets  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "the simulator's WebSocket gateway needs the 'websockets' package: "
            + install_hint("websocket")
        ) from exc


class WebSocketStream:
    """A WebSocket connection accepted on ``stream``: binary messages in and out.

    Call :meth:`handshake` first.

    Args:
        stream: the accepted connection.
    """

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        from websockets.server import ServerProtocol

        self._stream = stream
        self._protocol: ServerProtocol = ServerProtocol(max_size=MAX_MESSAGE)
        self._send_lock = anyio.Lock()
        # Binary messages decoded but not yet returned by receive().
        self._pending: deque[bytes] = deque()
        # The fragments so far of a message not yet complete, and whether it
        # is binary (a text message's fragments are dropped with it).
        self._fragments: list[bytes] = []
        self._fragmented_binary = False
        self._ended = False
        self._eof_sent = False

    async def handshake(self) -> bool:
        """Read the HTTP upgrade request and answer it.

        Returns:
            Whether the connection is now a WebSocket; if not, the client
            has been sent an HTTP error and should be closed.
        """
        from websockets.http11 import Request

        protocol = self._protocol
        while True:
            data = await self._receive_bytes()
            if data is None:
                return False
            events = protocol.events_received()
            for at, event in enumerate(events):
                if isinstance(event, Request):
                    response = protocol.accept(event)
                    protocol.send_response(response)
                    await self._flush()
                    # Frames sent in the same write as the upgrade request
                    # have been parsed already: keep their messages.
                    self._absorb(events[at + 1 :], at_eof=False)
                    return response.status_code == 101
            if protocol.handshake_exc is not None:
                await self._flush()
                return False

    async def receive(self) -> bytes | None:
        """The next binary message, or ``None`` once the connection is closing or closed."""
        pending = self._pending
        while not pending:
            if self._ended:
                return None
            data = await self._receive_bytes()
            # Acknowledge close frames and answer pings before anything else.
            await self._flush()
            self._absorb(self._protocol.events_received(), at_eof=data is None)
        return pending.popleft()

    def _absorb(self, events: Sequence[object], *, at_eof: bool) -> None:
        """Queue the messages ``events`` complete; note whether the connection is ending."""
        from websockets.frames import Frame

        for event in events:
            if isinstance(event, Frame):
                self._take(event)
        protocol = self._protocol
        if at_eof or protocol.close_expected() or protocol.parser_exc is not None:
            # Messages that arrived before the end are still delivered.
            self._ended = True

    def _take(self, frame: Frame) -> None:
        """Queue the message ``frame`` completes, if any (control frames are the protocol's)."""
        from websockets.frames import Opcode

        opcode = frame.opcode
        if opcode is Opcode.CONT:
            # The protocol checks that a continuation follows a first fragment.
            if self._fragmented_binary:
                self._fragments.append(bytes(frame.data))
            if not frame.fin:
                return
            if self._fragmented_binary:
                self._pending.append(b"".join(self._fragments))
            else:
                _log.debug("ignoring a text message on a WebSocket connection")
            self._fragments = []
            self._fragmented_binary = False
        elif opcode is Opcode.BINARY or opcode is Opcode.TEXT:
            binary = opcode is Opcode.BINARY
            if not frame.fin:
                self._fragmented_binary = binary
                self._fragments = [bytes(frame.data)] if binary else []
            elif binary:
                self._pending.append(bytes(frame.data))
            else:
                _log.debug("ignoring a text message on a WebSocket connection")

    async def send(self, message: bytes) -> None:
        """Send one binary message.

        Raises:
            anyio.ClosedResourceError: the closing handshake has started.
        """
        await self._produce(lambda: self._protocol.send_binary(message))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake, unless it has started already."""
        from websockets.protocol import State

        if self._protocol.state is State.OPEN:
            await self._produce(lambda: self._protocol.send_close(code, reason))

    async def _produce(self, make: Callable[[], object]) -> None:
        from websockets.protocol import State

        async with self._send_lock:
            # Checked here rather than left to the protocol's InvalidState:
            # after a close frame (the client's or ours) a message is
            # undeliverable, which is the stream being closed, not a bug.
            if self._protocol.state is not State.OPEN or self._eof_sent:
                raise anyio.ClosedResourceError
            make()
            await self._send_pending()

    async def _flush(self) -> None:
        async with self._send_lock:
            await self._send_pending()

    async def _send_pending(self) -> None:
        for data in self._protocol.data_to_send():
            if self._eof_sent:
                # Nothing may be written after EOF (asyncio raises RuntimeError).
                continue
            if data:
                await self._stream.send(data)
            else:
                # The protocol asks for the write side to be closed.
                self._eof_sent = True
                await self._stream.send_eof()

    async def _receive_bytes(self) -> bytes | None:
        """Feed the protocol what arrives next; ``None`` (after feeding EOF) at the end."""
        try:
            data = await self._stream.receive(_RECEIVE_SIZE)
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            self._protocol.receive_eof()
            return None
        self._protocol.receive_data(data)
        return data
