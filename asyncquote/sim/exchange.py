"""Serving one connection when the simulator encrypts bodies or injects faults.

The server's fast path handles the common case, a plain connection that
behaves; this module handles everything else, one :class:`Exchange` per
connection. It reads and decodes frames, decrypts them, has them answered,
then applies the :class:`~.faults.Faults` to the replies on their way out:
mangling them, holding them back, reordering them or ending the connection.

Encryption (``Simulator(rsa_key=...)``) works as OpenD's does when it is
configured with ``rsa_private_key``:

* Every InitConnect body must arrive RSA-encrypted with the simulator's key
  (see :class:`~asyncquote._crypto.RsaCipher`); its reply is RSA-encrypted too.
* After a successful InitConnect, every body in both directions is encrypted
  with the connection's ``connAESKey``, as the ``packetEncAlgo`` the client
  asked for: AES-CBC with ``aesCBCiv`` (2), FTAES_ECB (0) or AES-ECB (1).
* Frames before the handshake are plain, and are refused as on any simulator.

What happens to a client that cannot do that (OpenD's own behaviour is not
documented; this is the simulator's):

* An InitConnect that does not decrypt with the simulator's key, or whose
  plaintext does not match the header's SHA-1 (a client with a different
  key, or garbage) is logged as a warning and the connection closed without
  a reply: nothing the simulator could send would be readable. The
  simulator's ``failed_handshakes`` counts these.
* An InitConnect sent in plain (its body matches the header's SHA-1 as it
  stands) gets a plain failure reply, retType -1 with
  :data:`~.texts.ENCRYPTION_REQUIRED`, and then the connection is closed.
* A later body that does not decrypt with the connection's AES key gets an
  encrypted failure reply (retType -500) and the connection stays open.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import struct
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import anyio
import anyio.abc

from .._crypto import (
    BodyCipher,
    DecryptionError,
    PacketEncAlgo,
    RsaCipher,
    cipher_for_connection,
    decrypt_body,
)
from .._errors import ChecksumMismatchError, ProtocolError
from .._framing import HEADER_SIZE, MAGIC, Frame, FrameDecoder, encode_frame
from .._opend import ProtoId
from . import texts
from .dispatch import refusal
from .faults import GARBAGE_SIZE, OVERSIZE_BODY_LEN, Faults, picks
from .state import ConnectionState

__all__ = ["Arrive", "Exchange"]

_log = logging.getLogger("asyncquote.sim")

Arrive = Callable[[ConnectionState, Frame, float], bytes]
"""Records a (plaintext) request frame arriving at a time and returns its reply body."""

_U32 = struct.Struct("<I")
# Header offsets of the fields a fault rewrites.
_SERIAL_AT = 8
_BODY_LEN_AT = 12
_SHA1_AT = 16
_SHA1_END = 36
_SERIAL_SPACE = 1 << 32


class _HangUp(Exception):
    """Raised inside the read loop to end the connection at once."""


class Exchange:
    """Serves one connection: decryption, dispatch, encryption and faults.

    Args:
        stream: the connection.
        conn: its state, shared with the handlers.
        arrive: records each request and returns its reply body.
        faults: the misbehaviour to inject on this connection.
        rsa: the simulator's key, or ``None`` for a plain simulator.
        on_failed_handshake: called when an InitConnect cannot be decrypted.
        receive_size: bytes to ask for per receive.
        max_body_len: the largest request body accepted.
    """

    def __init__(
        self,
        stream: anyio.abc.SocketStream,
        conn: ConnectionState,
        *,
        arrive: Arrive,
        faults: Faults,
        rsa: RsaCipher | None,
        on_failed_handshake: Callable[[], object],
        receive_size: int,
        max_body_len: int,
    ) -> None:
        self._stream = stream
        self._conn = conn
        self._arrive = arrive
        self._faults = faults
        self._rsa = rsa
        self._on_failed_handshake = on_failed_handshake
        self._receive_size = receive_size
        self._max_body_len = max_body_len
        self._rng: random.Random = faults.rng_for(conn.conn_id)
        self._cipher: BodyCipher | None = None
        self._send_lock = anyio.Lock()
        # Replies ready to go, sent together once the frames of one receive
        # are handled (or earlier, before anything that must follow them).
        self._outbox: list[bytes] = []
        self._batch: list[bytes] = []
        self._batch_timer: anyio.CancelScope | None = None
        self._requests = 0
        self._silent = False
        # Only tracked when needed: it grows with every request.
        self._serials: set[int] | None = set() if faults.unknown_serial is not None else None
        self._tasks: anyio.abc.TaskGroup | None = None
        conn.refuse_handshake = faults.refuse_handshake

    async def run(self) -> None:
        """Serve until the client leaves or a fault ends the connection.

        Raises:
            ProtocolError: the client sent something that is not a frame; the
                replies to the requests before it have been sent.
            anyio.BrokenResourceError, anyio.ClosedResourceError: the socket failed.
        """
        error: Exception | None = None
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            # Errors are re-raised outside the task group, which would wrap
            # them in an ExceptionGroup that the server does not match.
            try:
                await self._read()
            except anyio.EndOfStream:
                # The client has finished sending; what it already asked for
                # is still answered, as a half-closed socket can receive.
                await self._flush_everything()
            except ProtocolError as exc:
                # Only the incoming bytes are untrustworthy: requests read
                # before the bad frame are still answered.
                await self._flush_everything()
                error = exc
            except _HangUp:
                tasks.cancel_scope.cancel()
            except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                tasks.cancel_scope.cancel()
                error = exc
        if error is not None:
            raise error

    async def _read(self) -> None:
        decoder = FrameDecoder(max_body_len=self._max_body_len, verify_sha1=self._rsa is None)
        while True:
            frames = decoder.feed(await self._stream.receive(self._receive_size))
            while frames:
                for frame in frames:
                    await self._serve(frame)
                await self._flush()
                # A fault after good frames in the same chunk is only raised by
                # the next feed; surface it now rather than on the next receive.
                frames = decoder.feed(b"")

    async def _serve(self, frame: Frame) -> None:
        if self._serials is not None:
            self._serials.add(frame.serial_no)
        if frame.proto_id == ProtoId.INIT_CONNECT:
            await self._handshake(frame)
            return
        conn = self._conn
        if not conn.initialised:
            # Before the handshake, the simulator refuses as usual, in plain.
            if self._rsa is not None and hashlib.sha1(frame.body).digest() != frame.body_sha1:
                raise ChecksumMismatchError(
                    f"SHA-1 mismatch in frame body (proto {frame.proto_id}, "
                    f"serial {frame.serial_no})"
                )
            self._outbox.append(self._seal(frame, self._arrive(conn, frame, anyio.current_time())))
            return
        cipher = self._cipher
        if cipher is not None:
            try:
                plaintext = decrypt_body(cipher, frame.body, frame.body_sha1)
            except DecryptionError as exc:
                # The key was agreed, so the reply can still be read.
                body = refusal(
                    frame.proto_id,
                    texts.UNDECRYPTABLE.format(detail=exc),
                    ret_type=texts.RET_INVALID,
                    err_code=texts.ERR_INVALID_PACKET,
                )
                self._outbox.append(self._seal(frame, body))
                return
            frame = replace(frame, body=plaintext)
        data = self._seal(frame, self._arrive(conn, frame, anyio.current_time()))
        await self._answer(frame, data)

    async def _handshake(self, frame: Frame) -> None:
        rsa = self._rsa
        if rsa is not None:
            try:
                plaintext = decrypt_body(rsa, frame.body, frame.body_sha1)
            except DecryptionError:
                await self._refuse_handshake(frame)
                raise _HangUp from None
            frame = replace(frame, body=plaintext)
        conn = self._conn
        body = self._arrive(conn, frame, anyio.current_time())
        if rsa is None:
            data = encode_frame(frame.proto_id, frame.serial_no, body)
        else:
            data = encode_frame(frame.proto_id, frame.serial_no, rsa.encrypt(body), plaintext=body)
            if conn.initialised:
                # From the next frame on, both directions use the AES key.
                iv = conn.aes_iv if conn.enc_algo == PacketEncAlgo.AES_CBC else None
                self._cipher = cipher_for_connection(conn.enc_algo, conn.aes_key, iv)
        delay = self._faults.handshake_delay
        if delay:
            await self._flush()
            self._start(self._send_later, delay, data)
        else:
            self._outbox.append(data)

    async def _refuse_handshake(self, frame: Frame) -> None:
        conn = self._conn
        if hashlib.sha1(frame.body).digest() == frame.body_sha1:
            # A plain client: it can read a plain refusal, so say why.
            _log.info(
                "connection %d from %s sent InitConnect unencrypted; refusing it",
                conn.conn_id,
                conn.peer,
            )
            body = refusal(frame.proto_id, texts.ENCRYPTION_REQUIRED)
            self._outbox.append(encode_frame(frame.proto_id, frame.serial_no, body))
        else:
            self._on_failed_handshake()
            _log.warning(
                "connection %d from %s: InitConnect does not decrypt with the simulator's "
                "RSA key (the client has a different key, or sent garbage); closing it",
                conn.conn_id,
                conn.peer,
            )
        await self._flush()

    async def _answer(self, frame: Frame, data: bytes) -> None:
        """Send, hold back or mangle the reply ``data`` to ``frame``, as the faults say."""
        faults = self._faults
        self._requests += 1
        number = self._requests
        if faults.drop_after is not None and number > faults.drop_after:
            await self._flush()
            raise _HangUp
        if faults.truncate_after is not None and number > faults.truncate_after:
            await self._flush()
            await self._send(_truncated(data))
            raise _HangUp
        if self._silent:
            return
        if faults.oversize_after is not None and number > faults.oversize_after:
            self._silent = True
            header = encode_frame(frame.proto_id, frame.serial_no, b"")
            self._outbox.append(_with_u32(header, _BODY_LEN_AT, OVERSIZE_BODY_LEN))
            return
        if faults.silence_after is not None and number > faults.silence_after:
            self._silent = True
            return
        rng = self._rng
        if picks(faults.garbage, number, rng):
            data = _garbage(rng)
        else:
            if picks(faults.unknown_serial, number, rng):
                data = _with_u32(data, _SERIAL_AT, self._unused_serial(frame.serial_no))
            if picks(faults.corrupt_sha1, number, rng):
                data = _with_bad_sha1(data)
            if picks(faults.duplicate, number, rng):
                data += data
        if faults.delays_replies:
            self._start(self._send_later, faults.reply_delay_from(rng), data)
        elif faults.reorder is not None:
            self._hold(data, faults.reorder)
        else:
            self._outbox.append(data)

    def _seal(self, frame: Frame, body: bytes) -> bytes:
        """The reply frame carrying ``body``, encrypted if the connection is."""
        cipher = self._cipher
        if cipher is None:
            return encode_frame(frame.proto_id, frame.serial_no, body)
        return encode_frame(frame.proto_id, frame.serial_no, cipher.encrypt(body), plaintext=body)

    def _unused_serial(self, serial_no: int) -> int:
        assert self._serials is not None
        # Half the serial space away from a real one, stepping past any in use.
        candidate = (serial_no + _SERIAL_SPACE // 2) % _SERIAL_SPACE
        while candidate in self._serials:
            candidate = (candidate + 1) % _SERIAL_SPACE
        return candidate

    # --- holding replies back ----------------------------------------------------

    def _hold(self, data: bytes, size: int) -> None:
        self._batch.append(data)
        if len(self._batch) >= size:
            self._release_batch()
        elif len(self._batch) == 1:
            self._batch_timer = anyio.CancelScope()
            self._start(self._release_later, self._batch_timer)

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
        self._outbox.extend(batch)

    async def _release_later(self, timer: anyio.CancelScope) -> None:
        with timer:
            await anyio.sleep(self._faults.reorder_wait)
        if timer.cancel_called:
            return  # the batch filled up, or the client stopped sending, first
        self._batch_timer = None
        self._release_batch()
        await self._flush_quietly()

    async def _send_later(self, delay: float, data: bytes) -> None:
        await anyio.sleep(delay)
        # The client may have left before its reply was due; the reader sees that too.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._send(data)

    # --- sending -------------------------------------------------------------------

    def _start(self, func: Callable[..., Coroutine[Any, Any, object]], *args: object) -> None:
        assert self._tasks is not None
        self._tasks.start_soon(func, *args)

    async def _send(self, data: bytes) -> None:
        async with self._send_lock:
            await self._stream.send(data)

    async def _flush(self) -> None:
        # The outbox is read under the lock, so whoever sends sends everything
        # queued so far, in order, and a later flush never overtakes it.
        async with self._send_lock:
            if self._outbox:
                data = b"".join(self._outbox)
                self._outbox.clear()
                await self._stream.send(data)

    async def _flush_quietly(self) -> None:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._flush()

    async def _flush_everything(self) -> None:
        """Send every reply ready or held in a batch; delayed ones follow on their own."""
        if self._batch:
            self._release_batch()
        await self._flush_quietly()


def _with_u32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + _U32.pack(value) + data[offset + 4 :]


def _with_bad_sha1(data: bytes) -> bytes:
    flipped = bytes(b ^ 0xFF for b in data[_SHA1_AT:_SHA1_END])
    return data[:_SHA1_AT] + flipped + data[_SHA1_END:]


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
