"""Serving one client connection: the simulator's one per-connection loop.

One job: read frames from one socket with the library's
:class:`~asyncquote._opend.framing.FrameDecoder`, unseal them (decrypt, on an
encrypted simulator), have the :class:`~._dispatch.Dispatcher` answer them,
record them, seal the replies with :func:`~asyncquote._opend.framing.encode_frame`
(encrypting with the connection's cipher) and send them. Replies the faults
may touch go through the connection's
:class:`~._fault_pipeline.FaultPipeline` first; a connection without faults
has none.

Invariants:

* Requests are answered in arrival order, and the replies to the frames of
  one receive go out together, with one send (or one per
  ``_SEND_BATCH_SIZE`` bytes), which doubles throughput under pipelining.
  On a plain connection without faults, the loop answers each frame inline:
  this loop bounds the simulator's throughput.
* Every request that arrives is recorded, with the time it was read, before
  anything can hold its reply back; arrival times reach the quota ledger in
  order across connections (``now`` is read again after every await).
* Bad bytes from the client (:class:`~asyncquote._base.errors.ProtocolError`) end
  the connection only after the replies to the requests before them are sent.
* Pushes (:meth:`~._pushes.Pushes.push`: Notify 1003, quotes 3005 and
  3013, sealed like replies) join the same outbox as replies, so a push goes out after every
  reply queued before it and before every reply to a request read after it.
  On a connection that asked for pushes (or has faults) every send holds the
  connection's send lock, so frames never interleave; the loop alone sends
  without one. Pushing never waits, and a client that stops reading stalls
  only its own connection (see :mod:`._pushes`). Faults do not touch pushes.
  The pushes a handler asks for (``after_reply``: a subscription's first
  push) are queued right behind its reply.

Encryption (``Simulator(rsa_key=...)``) works as OpenD's does when it is
configured with ``rsa_private_key``:

* Every InitConnect body must arrive RSA-encrypted with the simulator's key
  (see :class:`~asyncquote._opend.rsa.RsaCipher`); its reply is RSA-encrypted too.
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
  :data:`~._texts.ENCRYPTION_REQUIRED`, and then the connection is closed.
* A later body that does not decrypt with the connection's AES key gets an
  encrypted failure reply (retType -500) and the connection stays open.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import anyio
import anyio.abc

from .._base.errors import ChecksumMismatchError, ProtocolError
from .._opend.crypto import (
    BodyCipher,
    DecryptionError,
    PacketEncAlgo,
    RsaCipher,
    cipher_for_connection,
    decrypt_body,
)
from .._opend.framing import Frame, FrameDecoder, encode_frame
from .._opend.vocabulary import ProtoId
from ..sim import _texts as texts
from ._dispatch import Dispatcher, refusal
from ._fault_pipeline import FaultPipeline, HangUp
from ._faults import Faults
from ._pushes import DEFAULT_PUSH_BACKLOG, Pushes
from ._state import ConnectionState, RequestRecord

__all__ = ["Peer"]

_log = logging.getLogger("asyncquote.sim")

# Large enough that a burst of pipelined requests is read in one call.
_RECEIVE_SIZE = 256 * 1024
# Replies are sent once this many bytes have piled up, to bound memory and
# the wait for the first reply of a long burst.
_SEND_BATCH_SIZE = 256 * 1024
# Requests are small; anything near this is an attack or a bug.
_MAX_REQUEST_BODY = 1024 * 1024


def _send_lock() -> anyio.Lock:
    # Uncontended, a fast-acquire lock costs no event-loop round.
    return anyio.Lock(fast_acquire=True)


class Peer(Pushes):
    """Serves one connection until the client leaves or a fault ends it.

    Args:
        stream: the connection.
        conn: its state, shared with the handlers.
        dispatcher: answers requests.
        requests: where every request is recorded.
        rejections: where the requests refused for their quota are recorded too.
        faults: the misbehaviour to inject on this connection.
        rsa: the simulator's key, or ``None`` for a plain simulator.
        on_failed_handshake: called when an InitConnect cannot be decrypted.
        push_backlog: pushes that may wait unsent before more are dropped.
        on_push_dropped: called for each push a handler asked for (the
            first push of a subscription) that the backlog refused.
    """

    def __init__(
        self,
        stream: anyio.abc.ByteStream,
        conn: ConnectionState,
        *,
        dispatcher: Dispatcher,
        requests: deque[RequestRecord],
        rejections: deque[RequestRecord],
        faults: Faults,
        rsa: RsaCipher | None,
        on_failed_handshake: Callable[[], object],
        push_backlog: int = DEFAULT_PUSH_BACKLOG,
        on_push_dropped: Callable[[], object] = lambda: None,
    ) -> None:
        self._stream = stream
        self._conn = conn
        self._dispatcher = dispatcher
        self._requests = requests
        self._rejections = rejections
        self._rsa = rsa
        self._on_failed_handshake = on_failed_handshake
        self._on_push_dropped = on_push_dropped
        self._cipher: BodyCipher | None = None
        # Replies ready to go, sent together once the frames of one receive
        # are handled (or earlier, before anything that must follow them).
        self._outbox: list[bytes] = []
        self._tasks: anyio.abc.TaskGroup | None = None
        self._faults: FaultPipeline | None = None
        # Besides the loop, the pipeline's tasks and the push writer send: a
        # connection with faults, or that asked for pushes, sends under a
        # lock (see flush); the loop alone needs none.
        self._send_lock: anyio.Lock | None = None
        if faults.active:
            self._faults = FaultPipeline(faults, faults.rng_for(conn.conn_id), self)
            self._send_lock = _send_lock()
        conn.refuse_handshake = faults.refuse_handshake
        self._init_pushes(push_backlog)

    @property
    def conn(self) -> ConnectionState:
        """The connection's state, shared with the handlers."""
        return self._conn

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
            except HangUp:
                tasks.cancel_scope.cancel()
            except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                tasks.cancel_scope.cancel()
                error = exc
            finally:
                # Pushes end with the reading; what was queued has been flushed.
                self._stop_pushing()
        if error is not None:
            raise error

    async def _read(self) -> None:
        stream = self._stream
        conn = self._conn
        conn_id = conn.conn_id
        requests = self._requests
        outbox = self._outbox
        # A plain connection without faults is answered inline, frame by frame.
        inline = self._rsa is None and self._faults is None
        reply = self._dispatcher.reply
        decoder = FrameDecoder(max_body_len=_MAX_REQUEST_BODY, verify_sha1=self._rsa is None)
        while True:
            frames = decoder.feed(await stream.receive(_RECEIVE_SIZE))
            while frames:
                # Every frame of one receive arrived together; their replies
                # go out together too, in order.
                now = anyio.current_time()
                size = 0
                for frame in frames:
                    if inline:
                        data, over_quota = reply(conn, frame, now)
                        record = RequestRecord(
                            frame.proto_id, frame.serial_no, conn_id, now, over_quota, frame.body
                        )
                        requests.append(record)
                        if over_quota:
                            self._rejections.append(record)
                        outbox.append(data)
                        if conn.after_reply:
                            self._push_after_reply()
                        size += len(data)
                        if size < _SEND_BATCH_SIZE:
                            continue
                        size = 0
                        await self.flush()
                    else:
                        await self._serve(frame)
                    now = anyio.current_time()
                await self.flush()
                # A fault after good frames in the same chunk is only raised by
                # the next feed; surface it now rather than on the next receive.
                frames = decoder.feed(b"")

    def _arrive(self, frame: Frame) -> bytes:
        """Record ``frame`` (its body in plaintext) as arriving now; return the reply body."""
        conn = self._conn
        now = anyio.current_time()
        body, over_quota = self._dispatcher.respond(conn, frame, now)
        record = RequestRecord(
            frame.proto_id, frame.serial_no, conn.conn_id, now, over_quota, frame.body
        )
        self._requests.append(record)
        if over_quota:
            self._rejections.append(record)
        return body

    async def _serve(self, frame: Frame) -> None:
        """Answer ``frame`` on a connection that encrypts or has faults."""
        faults = self._faults
        if faults is not None:
            faults.arrived(frame.serial_no)
        if frame.proto_id == ProtoId.INIT_CONNECT:
            data = await self._handshake(frame)
            if faults is not None:
                await faults.handshake_reply(data)
            else:
                self._outbox.append(data)
            return
        conn = self._conn
        if not conn.initialised:
            # Before the handshake, the simulator refuses as usual, in plain.
            if self._rsa is not None and hashlib.sha1(frame.body).digest() != frame.body_sha1:
                raise ChecksumMismatchError(
                    f"SHA-1 mismatch in frame body (proto {frame.proto_id}, "
                    f"serial {frame.serial_no})"
                )
            self._outbox.append(self._seal(frame, self._arrive(frame)))
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
        data = self._seal(frame, self._arrive(frame))
        if faults is not None:
            await faults.reply(frame.proto_id, frame.serial_no, data)
        else:
            self._outbox.append(data)
        if conn.after_reply:
            # Behind the reply, unless a fault holds the reply back.
            self._push_after_reply()

    async def _handshake(self, frame: Frame) -> bytes:
        """Answer InitConnect ``frame``; from then on bodies use the agreed AES key.

        Raises:
            HangUp: the body does not decrypt with the simulator's key.
        """
        rsa = self._rsa
        if rsa is not None:
            try:
                plaintext = decrypt_body(rsa, frame.body, frame.body_sha1)
            except DecryptionError:
                await self._refuse_handshake(frame)
                raise HangUp from None
            frame = replace(frame, body=plaintext)
        conn = self._conn
        body = self._arrive(frame)
        if rsa is None:
            return encode_frame(frame.proto_id, frame.serial_no, body)
        if conn.initialised:
            # From the next frame on, both directions use the AES key.
            iv = conn.aes_iv if conn.enc_algo == PacketEncAlgo.AES_CBC else None
            self._cipher = cipher_for_connection(conn.enc_algo, conn.aes_key, iv)
        return encode_frame(frame.proto_id, frame.serial_no, rsa.encrypt(body), plaintext=body)

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
        await self.flush()

    def _push_after_reply(self) -> None:
        """Queue the pushes the handler asked to follow its reply (see ``after_reply``)."""
        pushes = self._conn.after_reply
        for proto_id, body in pushes:
            if not self.push(proto_id, body):
                self._on_push_dropped()
        pushes.clear()

    def _seal(self, frame: Frame, body: bytes) -> bytes:
        """The reply frame carrying ``body``, encrypted if the connection is."""
        return self._sealed(frame.proto_id, frame.serial_no, body)

    def _sealed(self, proto_id: int, serial_no: int, body: bytes) -> bytes:
        """A frame carrying ``body``, encrypted if the connection is (a reply or a push)."""
        cipher = self._cipher
        if cipher is None:
            return encode_frame(proto_id, serial_no, body)
        return encode_frame(proto_id, serial_no, cipher.encrypt(body), plaintext=body)

    # --- the outbox (see _fault_pipeline.Outbox) -----------------------------------

    def put(self, data: bytes) -> None:
        self._outbox.append(data)

    def start(self, func: Callable[..., Coroutine[Any, Any, object]], *args: object) -> None:
        assert self._tasks is not None
        self._tasks.start_soon(func, *args)

    async def flush(self) -> None:
        lock = self._send_lock
        if lock is None:
            conn = self._conn
            if not (conn.recv_notify or conn.quote_pushes):
                await self._send_outbox()
                return
            # InitConnect (or a quote subscription) has just asked for
            # pushes, so the writer may send from now on. The loop is the
            # only sender until then, and it is not sending while it handles
            # a request: no send is unguarded. The lock stays, even if the
            # pushes stop later.
            lock = self._send_lock = _send_lock()
        # The outbox is read under the lock, so whoever sends sends everything
        # queued so far, in order, and a later flush never overtakes it.
        async with lock:
            await self._send_outbox()

    async def _send_outbox(self) -> None:
        outbox = self._outbox
        if outbox:
            data = b"".join(outbox)
            outbox.clear()
            self._pushes_waiting = 0
            await self._stream.send(data)

    async def flush_quietly(self) -> None:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self.flush()

    async def send_quietly(self, data: bytes) -> None:
        self.put(data)
        await self.flush_quietly()

    async def _flush_everything(self) -> None:
        """Send every reply ready or held in a batch; delayed ones follow on their own."""
        if self._faults is not None:
            self._faults.release()
        await self.flush_quietly()
