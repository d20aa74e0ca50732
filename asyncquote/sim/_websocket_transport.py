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
* Text messages are ignored: OpenD's WebSocket messages are all binary.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from .._install import install_hint

if TYPE_CHECKING:
    from websockets.server import ServerProtocol

__all__ = ["WebSocketStream", "require_websockets"]

_log = logging.getLogger("asyncquote.sim")

_RECEIVE_SIZE = 64 * 1024
# OpenD's requests are small; anything near this is an attack or a bug.
_MAX_MESSAGE = 1024 * 1024


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
        self._protocol: ServerProtocol = ServerProtocol(max_size=_MAX_MESSAGE)
        self._send_lock = anyio.Lock()
        # Binary messages decoded but not yet returned by receive().
        self._pending: deque[bytes] = deque()
        self._ended = False

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
            for event in protocol.events_received():
                if isinstance(event, Request):
                    response = protocol.accept(event)
                    protocol.send_response(response)
                    await self._flush()
                    return response.status_code == 101
            if protocol.handshake_exc is not None:
                await self._flush()
                return False

    async def receive(self) -> bytes | None:
        """The next binary message, or ``None`` once the connection is closing or closed."""
        from websockets.frames import Frame, Opcode

        protocol = self._protocol
        pending = self._pending
        while not pending:
            if self._ended:
                return None
            data = await self._receive_bytes()
            # Acknowledge close frames and answer pings before anything else.
            await self._flush()
            for event in protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.BINARY:
                    pending.append(bytes(event.data))
                elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    _log.debug("ignoring a text message on a WebSocket connection")
            if data is None or protocol.close_expected() or protocol.parser_exc is not None:
                # Messages that arrived before the end are still delivered.
                self._ended = True
        return pending.popleft()

    async def send(self, message: bytes) -> None:
        """Send one binary message."""
        await self._produce(lambda: self._protocol.send_binary(message))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake, unless it has started already."""
        from websockets.protocol import State

        if self._protocol.state is State.OPEN:
            await self._produce(lambda: self._protocol.send_close(code, reason))

    async def _produce(self, make: Callable[[], object]) -> None:
        async with self._send_lock:
            make()
            await self._send_pending()

    async def _flush(self) -> None:
        async with self._send_lock:
            await self._send_pending()

    async def _send_pending(self) -> None:
        for data in self._protocol.data_to_send():
            if data:
                await self._stream.send(data)
            else:
                # The protocol asks for the write side to be closed.
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
