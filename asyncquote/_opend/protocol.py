"""The client side of one OpenD connection, sans I/O: bytes and time in, events out.

:class:`ClientProtocol` holds everything about a connection that is not
waiting: serial numbers, the table of calls in flight with their deadlines
(as numbers, not timers), the handshake's request and the reading of its
reply, the body cipher, and liveness (whether the gateway still answers).
The InitConnect facts are in :mod:`asyncquote._opend.handshake`, the reasons a
connection ends in :mod:`asyncquote._opend.loss`. It imports no event loop and
touches no socket; the async layer
(:mod:`asyncquote._io.connection`) and a driver (:mod:`asyncquote._io.wire`) feed
it received bytes and the time, and act on what it returns.

Invariants:

* A serial is never handed out while a call with it is in flight, recently
  abandoned, or waiting for the late reply that settles it; 0 is never used.
* A frame is a reply only if its serial is in flight and it is not a Notify;
  a late or duplicate reply is dropped, never taken for a push.
* The connection is lost once, for one typed :class:`Loss`; the first loss
  wins and every later one is ignored.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .._base.errors import ConnectError, ConnectionLostError, ProtocolError, RequestTimeoutError
from .._pb import InitConnect_pb2, KeepAlive_pb2
from .codec import ProtoId
from .crypto import BodyCipher, DecryptionError, decrypt_body
from .framing import DEFAULT_MAX_BODY_LEN, Frame, FrameDecoder, encode_frame
from .handshake import (
    KEEPALIVE_RANGE,
    ConnectionInfo,
    handshake_error,
    initconnect_request,
    read_initconnect_reply,
)
from .loss import Loss, LossKind

__all__ = [
    "KEEPALIVE_RANGE",
    "Call",
    "ClientProtocol",
    "ConnectionInfo",
    "Loss",
    "LossKind",
    "Lost",
    "Settled",
    "decrypted",
]

logger = logging.getLogger("asyncquote.connection")

_U32_MAX = 0xFFFF_FFFF
# Serials of calls that finished or gave up, remembered so that late or
# duplicate replies to them are dropped instead of being taken for pushes.
_RECENT_MEMORY = 4096
_NOTIFY = int(ProtoId.NOTIFY)  # compared once per frame: no enum lookup


# -- events ------------------------------------------------------------------------


class Call:
    """A request in flight; as an event of :meth:`ClientProtocol.receive_data`, its reply.

    ``waiter`` is the driver's, opaque here: whatever wakes the caller.
    ``frame`` is None until a frame with the call's serial arrives (it may
    carry another protocol id: the caller checks).
    """

    __slots__ = ("deadline", "frame", "proto_id", "serial", "waiter")

    def __init__(self, serial: int, proto_id: int, deadline: float, waiter: Any) -> None:
        self.serial = serial
        self.proto_id = proto_id
        self.deadline = deadline
        self.waiter = waiter
        self.frame: Frame | None = None


@dataclass(frozen=True, slots=True)
class Settled:
    """The late reply to a call its caller gave up on: ``token`` (given to
    :meth:`ClientProtocol.abandon`) is due now."""

    token: Any


@dataclass(frozen=True, slots=True)
class Lost:
    """The received bytes are not OpenD frames: the connection must end for ``loss``."""

    loss: Loss


Event = Call | Frame | Settled | Lost
"""What :meth:`ClientProtocol.receive_data` reports. A :class:`Frame` is a
push: a frame that is no reply (decrypted on an encrypted connection), the
frame itself, as no wrapper per push is needed to tell it apart."""


# -- the protocol object ---------------------------------------------------------


class ClientProtocol:
    """One connection's state machine. See the module docstring for its invariants.

    Args:
        address: ``host:port``, for messages only.
        max_body_len: cap on a received frame's body.
        handshake_cipher: the RSA cipher for the InitConnect exchange, or None
            for a plaintext connection.
        dead_after: keepalive intervals without an answer (or with nothing
            sent getting through) after which the peer counts as dead; None
            never declares it dead.
        keepalive: whether keepalives are sent (their answers are liveness).
    """

    def __init__(
        self,
        *,
        address: str,
        max_body_len: int = DEFAULT_MAX_BODY_LEN,
        handshake_cipher: BodyCipher | None = None,
        dead_after: float | None = None,
        keepalive: bool = True,
    ) -> None:
        self.address = address
        self.cipher = handshake_cipher
        # On an encrypted connection the header's SHA-1 is of the plaintext,
        # so it is checked after decryption instead (crypto.decrypt_body).
        self._decoder = FrameDecoder(
            max_body_len=max_body_len, verify_sha1=handshake_cipher is None
        )
        self._pending: dict[int, Call] = {}
        self._recent: OrderedDict[int, None] = OrderedDict()
        # Tokens of calls whose callers gave up: due when the late reply
        # arrives or the connection ends.
        self._unsettled: dict[int, Any] = {}
        # Start somewhere arbitrary so that serials from two consecutive
        # connections are unlikely to be confused in a capture.
        self._next_serial = int.from_bytes(os.urandom(2), "little") + 1
        self._dead_after = dead_after
        self._keepalive = keepalive
        # When the gateway last answered a keepalive (or the handshake):
        # liveness comes from answers, not from bytes.
        self._last_answer = 0.0
        self.info: ConnectionInfo | None = None
        self.loss: Loss | None = None

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    # -- requests and replies ----------------------------------------------------

    def send_request(
        self, proto_id: int, body: bytes, deadline: float, waiter: Any
    ) -> tuple[Call, bytes]:
        """Register a call and return it with the bytes to send.

        Raises what encryption or :func:`encode_frame` raise; nothing is
        registered then.
        """
        # Wraps within u32 (0 is skipped: some peers treat it as "no serial")
        # and never hands out a serial still in flight or recently abandoned.
        pending = self._pending
        while True:
            serial = self._next_serial
            self._next_serial = serial + 1 if serial < _U32_MAX else 1
            if (
                serial not in pending
                and serial not in self._recent
                and serial not in self._unsettled
            ):
                break
        cipher = self.cipher
        if cipher is None:
            data = encode_frame(proto_id, serial, body)
        else:
            data = encode_frame(proto_id, serial, cipher.encrypt(body), plaintext=body)
        call = pending[serial] = Call(serial, proto_id, deadline, waiter)
        return call, data

    def receive_data(self, data: bytes) -> list[Event]:
        """Route every frame in ``data``: answered :class:`Call`\\ s, pushes (their
        :class:`Frame`), settlements.

        Invalid data ends the list with a :class:`Lost`; the frames before
        it are still routed.
        """
        events: list[Event] = []
        pending = self._pending
        decoder = self._decoder
        recent = self._recent
        unsettled = self._unsettled
        plain = self.cipher is None
        try:
            for frame in decoder.feed(data):
                serial = frame.serial_no
                call = pending.get(serial)
                if call is not None and frame.proto_id != _NOTIFY:
                    del pending[serial]
                    self._remember(serial)
                    call.frame = frame
                    events.append(call)
                elif plain and serial not in recent and serial not in unsettled:
                    events.append(frame)  # a push: _unsolicited's usual case, inline
                else:
                    self._unsolicited(frame, events)
            # A fault behind good frames is held back by feed(); know it now.
            decoder.check()
        except ProtocolError as exc:
            events.append(Lost(Loss(LossKind.INVALID_DATA, exc)))
        return events

    def _unsolicited(self, frame: Frame, events: list[Event]) -> None:
        serial = frame.serial_no
        if frame.proto_id != ProtoId.NOTIFY and (
            serial in self._recent or serial in self._unsettled
        ):
            token = self._unsettled.pop(serial, None)
            if token is not None:
                events.append(Settled(token))
            logger.debug(
                "dropped a late or duplicate reply: protocol %d serial %d",
                frame.proto_id,
                serial,
            )
            return
        if self.cipher is not None:
            try:
                frame = decrypted(self.cipher, frame)
            except DecryptionError as exc:
                logger.warning(
                    "dropped an undecryptable push of protocol %d: %s", frame.proto_id, exc
                )
                return
        events.append(frame)

    def abandon(self, call: Call, token: Any) -> bool:
        """The caller stopped waiting without a reply (timeout, cancellation, loss).

        Returns True if ``token`` is due now (the connection is lost); else
        it is kept and comes back as :class:`Settled` with the late reply or
        from :meth:`connection_lost`.
        """
        if self._pending.pop(call.serial, None) is None:
            return token is not None
        self._remember(call.serial)
        if token is None:
            return False
        if self.loss is not None:
            return True
        self._unsettled[call.serial] = token
        return False

    def _remember(self, serial: int) -> None:
        recent = self._recent
        recent[serial] = None
        if len(recent) > _RECENT_MEMORY:
            recent.popitem(last=False)

    def expire(self, now: float) -> tuple[list[Call], float]:
        """The calls past their deadline at ``now``, and the earliest deadline of the rest.

        Overdue calls stay registered until :meth:`abandon`; their waiters
        should be woken (with no frame, a call has timed out).
        """
        overdue: list[Call] = []
        earliest = float("inf")
        for call in self._pending.values():
            if call.deadline <= now:
                overdue.append(call)
            elif call.deadline < earliest:
                earliest = call.deadline
        return overdue, earliest

    # -- endings -------------------------------------------------------------------

    def eof_received(self) -> Loss | None:
        """The peer closed its side: a truncation if mid-frame, else None (a clean close)."""
        try:
            self._decoder.close()
        except ProtocolError as truncated:
            return Loss(LossKind.TRUNCATED, truncated)
        return None

    def connection_lost(self, loss: Loss) -> tuple[list[Call], list[Any]] | None:
        """Record the loss; return the calls to wake and the tokens now due.

        Returns None if the connection was lost already (the first loss wins).
        """
        if self.loss is not None:
            return None
        self.loss = loss
        tokens = list(self._unsettled.values())
        self._unsettled.clear()
        return list(self._pending.values()), tokens

    def error_for(self, call: Call, timeout: float) -> Exception:
        """What the caller of ``call`` raises when it woke with no usable reply."""
        frame = call.frame
        if frame is not None:
            return ProtocolError(
                f"reply to serial {call.serial} has protocol {frame.proto_id}, "
                f"expected {call.proto_id}"
            )
        if self.loss is not None:
            return self.lost_error()
        return RequestTimeoutError(
            f"no reply from OpenD at {self.address} to protocol {call.proto_id} "
            f"(serial {call.serial}) within {timeout:g} s"
        )

    def lost_error(self) -> ConnectionLostError:
        error = ConnectionLostError(
            f"connection to OpenD at {self.address} is unusable: {self.loss}"
        )
        error.__cause__ = None if self.loss is None else self.loss.cause
        return error

    # -- handshake (the facts: asyncquote._opend.handshake) --------------------------------

    def handshake_request(self, client_id: str, client_version: int) -> InitConnect_pb2.Request:
        return initconnect_request(client_id, client_version, encrypted=self.cipher is not None)

    def handshake_failed(self, exc: Exception, timeout: float) -> ConnectError:
        """The :class:`ConnectError` for a handshake call that raised ``exc``."""
        return handshake_error(self.address, exc, timeout, encrypted=self.cipher is not None)

    def handshake_reply(
        self, response: InitConnect_pb2.Response, client_id: str, now: float
    ) -> ConnectionInfo:
        """Take the InitConnect reply: connection info, session cipher, liveness start.

        Raises:
            ConnectError: the reply is unusable.
        """
        encrypted = self.cipher is not None
        info, cipher = read_initconnect_reply(
            response, client_id, self.address, encrypted=encrypted
        )
        if encrypted:
            self.cipher = cipher
        self.info = info
        self._last_answer = now  # the handshake's answer
        return info

    # -- liveness ----------------------------------------------------------------------

    def keepalive_request(self, wall_time: float) -> KeepAlive_pb2.Request:
        request = KeepAlive_pb2.Request()
        request.c2s.time = int(wall_time)
        return request

    def keepalive_answered(self, now: float) -> None:
        """A keepalive got an answer (a refusal is an answer too)."""
        self._last_answer = now

    def check_liveness(self, now: float, write_blocked_since: float | None) -> Loss | float:
        """The loss if the peer counts as dead at ``now``, else seconds until the next check.

        A peer is dead when it leaves keepalives unanswered for the limit,
        whatever else arrives (pushes, or a huge reply trickling in byte by
        byte), or when it has read nothing we sent for as long.
        """
        if self._dead_after is None or self.info is None:
            return float("inf")
        limit = self.info.keepalive_interval * self._dead_after
        next_check = limit / 4  # a write may block meanwhile
        loss: Loss | None = None
        if self._keepalive:
            if now - self._last_answer >= limit:
                loss = Loss(LossKind.NO_KEEPALIVE_ANSWER, limit=limit)
            next_check = min(next_check, self._last_answer + limit - now)
        if write_blocked_since is not None:
            if now - write_blocked_since >= limit:
                loss = Loss(LossKind.WRITE_BLOCKED, limit=limit)
            next_check = min(next_check, write_blocked_since + limit - now)
        return loss if loss is not None else max(next_check, 0.001)


def decrypted(cipher: BodyCipher, frame: Frame) -> Frame:
    """``frame`` with its body decrypted and checked against the header's SHA-1."""
    plaintext = decrypt_body(cipher, frame.body, frame.body_sha1)
    return Frame(
        frame.proto_id,
        frame.serial_no,
        plaintext,
        frame.body_sha1,
        frame.proto_fmt,
        frame.proto_ver,
    )
