"""The fault pipeline: what :class:`~._faults.Faults` does to replies on their way out.

One job: given a sealed reply (a complete frame, encrypted if the
connection is), decide whether it goes out as is, mangled, later, in another
order, or not at all, and when the connection ends. It knows nothing of
decoding, dispatch or encryption; the per-connection loop
(:mod:`._peer`) hands it every reply the faults may touch and gives it an
:class:`Outbox` to put replies in.

Invariants:

* A connection whose faults are all off has no pipeline at all: the loop
  puts replies straight into its outbox, so faults cost a plain connection
  nothing.
* Only the replies to requests after a successful InitConnect pass through
  :meth:`FaultPipeline.reply` (numbered 1, 2, 3, ...); InitConnect's own
  reply passes through :meth:`FaultPipeline.handshake_reply` (only
  ``handshake_delay`` touches it). Everything else bypasses the pipeline.
* Replies leave in the order they were put in the outbox; a held-back reply
  (``reply_delay``, ``reorder``) is sent by a task of the connection's, which
  ends with the connection.
* :class:`HangUp` ends the connection at once; replies still held back are
  discarded, as the :class:`~._faults.Faults` documentation promises.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import anyio

from .._opend.framing import HEADER_SIZE, MAGIC, encode_frame, replace_header
from ._faults import GARBAGE_SIZE, OVERSIZE_BODY_LEN, Faults, picks

__all__ = ["FaultPipeline", "HangUp", "Outbox"]

_SERIAL_SPACE = 1 << 32


class HangUp(Exception):
    """Raised by the pipeline to end the connection at once."""


class Outbox(Protocol):
    """What the pipeline needs from the connection it shapes the replies of."""

    def put(self, data: bytes) -> None:
        """Queue ``data`` to go out with the next flush, after everything queued before it."""

    async def flush(self) -> None:
        """Send everything queued so far."""

    async def flush_quietly(self) -> None:
        """:meth:`flush`, ignoring a client that has gone."""

    async def send_quietly(self, data: bytes) -> None:
        """Send ``data`` now (in order with flushes), ignoring a client that has gone."""

    def start(self, func: Callable[..., Coroutine[Any, Any, object]], *args: object) -> None:
        """Run ``func(*args)`` in a task that ends with the connection."""


class FaultPipeline:
    """Applies ``faults`` to the replies of one connection.

    Args:
        faults: the misbehaviour to inject; at least one fault is on.
        rng: the connection's generator (see :meth:`~._faults.Faults.rng_for`).
        outbox: where replies go.
    """

    def __init__(self, faults: Faults, rng: random.Random, outbox: Outbox) -> None:
        self._faults = faults
        self._rng = rng
        self._outbox = outbox
        self._requests = 0
        self._silent = False
        # Only tracked when needed: it grows with every request.
        self._serials: set[int] | None = set() if faults.unknown_serial is not None else None
        self._batch: list[bytes] = []
        self._batch_timer: anyio.CancelScope | None = None

    def arrived(self, serial_no: int) -> None:
        """Note a request's serial number, so that no forged reply uses it."""
        if self._serials is not None:
            self._serials.add(serial_no)

    async def handshake_reply(self, data: bytes) -> None:
        """Queue InitConnect's reply ``data``, after ``handshake_delay`` if set."""
        delay = self._faults.handshake_delay
        if delay:
            await self._outbox.flush()
            self._outbox.start(self._send_later, delay, data)
        else:
            self._outbox.put(data)

    async def reply(self, proto_id: int, serial_no: int, data: bytes) -> None:
        """Send, hold back or mangle ``data``, the reply to request ``serial_no``.

        Raises:
            HangUp: the faults end the connection here.
        """
        faults = self._faults
        outbox = self._outbox
        self._requests += 1
        number = self._requests
        if faults.drop_after is not None and number > faults.drop_after:
            await outbox.flush()
            raise HangUp
        if faults.truncate_after is not None and number > faults.truncate_after:
            await outbox.flush()
            await outbox.send_quietly(_truncated(data))
            raise HangUp
        if self._silent:
            return
        if faults.oversize_after is not None and number > faults.oversize_after:
            self._silent = True
            header = encode_frame(proto_id, serial_no, b"")
            outbox.put(replace_header(header, body_len=OVERSIZE_BODY_LEN))
            return
        if faults.silence_after is not None and number > faults.silence_after:
            self._silent = True
            return
        rng = self._rng
        if picks(faults.garbage, number, rng):
            data = _garbage(rng)
        else:
            if picks(faults.unknown_serial, number, rng):
                data = replace_header(data, serial_no=self._unused_serial(serial_no))
            if picks(faults.corrupt_sha1, number, rng):
                data = replace_header(data, flip_sha1=True)
            if picks(faults.duplicate, number, rng):
                data += data
        if faults.delays_replies:
            outbox.start(self._send_later, faults.reply_delay_from(rng), data)
        elif faults.reorder is not None:
            self._hold(data, faults.reorder)
        else:
            outbox.put(data)

    def release(self) -> None:
        """Queue the replies held in a partial ``reorder`` batch (the client stopped sending)."""
        if self._batch:
            self._release_batch()

    def _unused_serial(self, serial_no: int) -> int:
        assert self._serials is not None
        # Half the serial space away from a real one, stepping past any in use.
        candidate = (serial_no + _SERIAL_SPACE // 2) % _SERIAL_SPACE
        while candidate in self._serials:
            candidate = (candidate + 1) % _SERIAL_SPACE
        return candidate

    def _hold(self, data: bytes, size: int) -> None:
        self._batch.append(data)
        if len(self._batch) >= size:
            self._release_batch()
        elif len(self._batch) == 1:
            self._batch_timer = anyio.CancelScope()
            self._outbox.start(self._release_later, self._batch_timer)

    def _release_batch(self) -> None:
        # A timer left running would keep the connection open at the end.
        if self._batch_timer is not None:
            self._batch_timer.cancel()
            self._batch_timer = None
        batch, self._batch = self._batch, []
        if self._faults.shuffle:
            self._rng.shuffle(batch)
        else:
            batch.reverse()
        for data in batch:
            self._outbox.put(data)

    async def _release_later(self, timer: anyio.CancelScope) -> None:
        with timer:
            await anyio.sleep(self._faults.reorder_wait)
        if timer.cancel_called:
            return  # the batch filled up, or the client stopped sending, first
        self._batch_timer = None
        self._release_batch()
        await self._outbox.flush_quietly()

    async def _send_later(self, delay: float, data: bytes) -> None:
        await anyio.sleep(delay)
        # The client may have left before its reply was due; the reader sees that too.
        await self._outbox.send_quietly(data)


def _truncated(data: bytes) -> bytes:
    body_len = len(data) - HEADER_SIZE
    if body_len:
        return data[: HEADER_SIZE + body_len // 2]
    return data[: HEADER_SIZE // 2]


def _garbage(rng: random.Random) -> bytes:
    data = rng.randbytes(GARBAGE_SIZE)
    if data.startswith(MAGIC):
        # Garbage that happened to start like a frame would not be garbage.
        data = b"\x00" + data[1:]
    return data
