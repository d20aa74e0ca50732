"""The sans-I/O client protocol: bytes and time in, events out. No socket, no event loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import asyncquote
from asyncquote._base.errors import (
    BadMagicError,
    ConnectError,
    ConnectionLostError,
    OpenDError,
    ProtocolError,
    RequestTimeoutError,
    TruncatedFrameError,
)
from asyncquote._opend.crypto import AesCbcCipher, RsaCipher
from asyncquote._opend.framing import Frame, FrameDecoder, encode_frame
from asyncquote._opend.protocol import (
    ClientProtocol,
    Loss,
    LossKind,
    Lost,
    Settled,
)
from asyncquote._pb import InitConnect_pb2

GUS = 3213
NOTIFY = 1003


def sent(data: bytes) -> tuple[int, int, bytes]:
    (frame,) = FrameDecoder().feed(data)
    return frame.proto_id, frame.serial_no, frame.body


def init_reply(
    *, key: str = "0123456789abcdef", iv: str | None = None, keepalive: int = 10
) -> InitConnect_pb2.Response:
    reply = InitConnect_pb2.Response(retType=0)
    reply.s2c.serverVer = reply.s2c.loginUserID = reply.s2c.connID = 1
    reply.s2c.connAESKey = key
    if iv is not None:
        reply.s2c.aesCBCiv = iv
    reply.s2c.keepAliveInterval = keepalive
    return reply


def connected(**kwargs: object) -> ClientProtocol:
    protocol = ClientProtocol(address="gw:1", **kwargs)  # type: ignore[arg-type]
    protocol.handshake_reply(init_reply(), "me", now=0.0)
    return protocol


def encrypted() -> ClientProtocol:
    """Past an encrypted handshake: the RSA cipher is never used here."""
    protocol = ClientProtocol(address="gw:1", handshake_cipher=RsaCipher.__new__(RsaCipher))
    assert protocol.handshake_request("me", 300).c2s.packetEncAlgo == 2  # AES-CBC
    protocol.handshake_reply(init_reply(iv="fedcba9876543210"), "me", 0)
    return protocol


def test_a_request_is_framed_with_a_fresh_serial_and_its_reply_is_the_call() -> None:
    protocol = connected()
    call, data = protocol.send_request(GUS, b"body", 5.0, waiter="w")
    assert sent(data) == (GUS, call.serial, b"body")
    assert call.deadline == 5.0
    assert call.waiter == "w"
    assert call.frame is None
    assert protocol.pending_count == 1
    (event,) = protocol.receive_data(encode_frame(GUS, call.serial, b"reply"))
    assert event is call
    assert call.frame is not None
    assert call.frame.body == b"reply"
    assert protocol.pending_count == 0


def test_replies_out_of_order_in_one_chunk_each_reach_their_call() -> None:
    protocol = connected()
    calls = [protocol.send_request(GUS, b"%d" % n, 5.0, None)[0] for n in range(3)]
    chunk = b"".join(encode_frame(GUS, c.serial, b"r%d" % n) for n, c in enumerate(calls))[::1]
    reordered = chunk[len(chunk) // 3 * 2 :] + chunk[: len(chunk) // 3 * 2]
    events = protocol.receive_data(reordered[:10]) + protocol.receive_data(reordered[10:])
    assert events == [calls[2], calls[0], calls[1]]


def test_serials_skip_zero_on_wrap_and_every_serial_still_in_use() -> None:
    protocol = connected()
    protocol._next_serial = 0xFFFF_FFFF
    first, _ = protocol.send_request(GUS, b"", 1.0, None)
    second, _ = protocol.send_request(GUS, b"", 1.0, None)
    assert (first.serial, second.serial) == (0xFFFF_FFFF, 1)
    protocol._next_serial = 0xFFFF_FFFF
    third, _ = protocol.send_request(GUS, b"", 1.0, None)
    assert third.serial == 2


def test_a_notify_with_a_pending_serial_and_an_unknown_serial_are_pushes() -> None:
    protocol = connected()
    call, _ = protocol.send_request(GUS, b"", 1.0, None)
    events = protocol.receive_data(
        encode_frame(NOTIFY, call.serial, b"n") + encode_frame(3005, 999_999, b"p")
    )
    assert [type(e) for e in events] == [Frame, Frame]  # a push is its frame
    assert protocol.pending_count == 1


def test_a_late_reply_is_dropped_and_settles_what_its_caller_left() -> None:
    protocol = connected()
    call, _ = protocol.send_request(GUS, b"", 1.0, None)
    overdue, earliest = protocol.expire(now=2.0)
    assert overdue == [call]
    assert earliest == float("inf")
    assert protocol.abandon(call, token="slot") is False  # not due yet: perhaps still on the wire
    late = encode_frame(GUS, call.serial, b"late")
    assert protocol.receive_data(late) == [Settled("slot")]
    assert protocol.receive_data(late) == []  # a duplicate: dropped, not a push
    assert protocol.error_for(call, 1.0).__class__ is RequestTimeoutError


def test_expire_reports_the_next_deadline_of_the_calls_not_yet_due() -> None:
    protocol = connected()
    due, _ = protocol.send_request(GUS, b"", 1.0, None)
    protocol.send_request(GUS, b"", 3.0, None)
    protocol.send_request(GUS, b"", 2.0, None)
    assert protocol.expire(now=1.5) == ([due], 2.0)


def test_a_reply_with_another_protocol_id_fails_its_call_with_a_protocol_error() -> None:
    protocol = connected()
    call, _ = protocol.send_request(GUS, b"", 1.0, None)
    protocol.receive_data(encode_frame(3222, call.serial, b""))
    error = protocol.error_for(call, 1.0)
    assert isinstance(error, ProtocolError)
    assert "expected 3213" in str(error)


def test_garbage_after_good_frames_routes_them_then_is_lost_as_invalid_data() -> None:
    protocol = connected()
    call, _ = protocol.send_request(GUS, b"", 1.0, None)
    events = protocol.receive_data(encode_frame(GUS, call.serial, b"") + b"XX" + bytes(60))
    assert events[0] is call
    assert isinstance(events[1], Lost)
    loss = events[1].loss
    assert loss.kind is LossKind.INVALID_DATA
    assert isinstance(loss.cause, BadMagicError)
    assert str(loss).startswith("the gateway sent invalid data: bad frame magic")


def test_the_first_loss_wins_wakes_every_call_and_makes_every_token_due() -> None:
    protocol = connected()
    waiting, _ = protocol.send_request(GUS, b"", 9.0, None)
    left, _ = protocol.send_request(GUS, b"", 1.0, None)
    protocol.abandon(left, token="slot")
    woken = protocol.connection_lost(Loss(LossKind.CLOSED_BY_CLIENT))
    assert woken == ([waiting], ["slot"])
    assert protocol.connection_lost(Loss(LossKind.PEER_CLOSED)) is None
    assert protocol.loss == Loss(LossKind.CLOSED_BY_CLIENT)
    error = protocol.error_for(waiting, 9.0)
    assert isinstance(error, ConnectionLostError)
    assert "closed by the client" in str(error)
    # A caller giving up after the loss settles at once.
    assert protocol.abandon(waiting, token="now") is True


def test_an_eof_inside_a_frame_is_a_truncation_and_between_frames_a_clean_close() -> None:
    protocol = connected()
    protocol.receive_data(encode_frame(GUS, 1, b"body")[:-1])
    loss = protocol.eof_received()
    assert loss is not None
    assert loss.kind is LossKind.TRUNCATED
    assert isinstance(loss.cause, TruncatedFrameError)
    assert connected().eof_received() is None


@pytest.mark.parametrize(
    ("loss", "text"),
    [
        (Loss(LossKind.CLOSED_BY_CLIENT), "the connection was closed by the client"),
        (Loss(LossKind.PEER_CLOSED), "the gateway closed the connection"),
        (Loss(LossKind.TRANSPORT_FAILED, OSError("x")), "transport failed: OSError('x')"),
        (Loss(LossKind.SEND_FAILED, OSError("x")), "sending failed: OSError('x')"),
        (
            Loss(LossKind.BACKLOG, limit=4 * 2**20),
            "OpenD is not reading: more than 4 MiB are waiting to be sent to it",
        ),
        (
            Loss(LossKind.WRITE_BLOCKED, limit=1.5),
            "OpenD is not reading: nothing more could be sent to it for 1.5 s",
        ),
        (Loss(LossKind.NO_KEEPALIVE_ANSWER, limit=30), "OpenD answered no keepalive for 30 s"),
        (
            Loss(LossKind.INTERNAL_ERROR, ValueError("v"), where="write"),
            "internal error in write: ValueError('v')",
        ),
        (
            Loss(LossKind.PEER_CLOSED, handler_error=KeyError("k")),
            "the gateway closed the connection; then the loss handler raised KeyError('k')",
        ),
    ],
)
def test_every_loss_says_what_happened_in_one_sentence(loss: Loss, text: str) -> None:
    assert str(loss) == text


def test_handshake_request_asks_for_pushes_and_no_cipher_in_plaintext() -> None:
    request = ClientProtocol(address="gw:1").handshake_request("me", 300)
    assert (request.c2s.clientID, request.c2s.clientVer) == ("me", 300)
    assert request.c2s.recvNotify is True
    assert request.c2s.packetEncAlgo == -1


@pytest.mark.parametrize(("announced", "used"), [(0, 10.0), (-5, 10.0), (10, 10.0), (3600, 60.0)])
def test_the_announced_keepalive_interval_is_clamped(announced: int, used: float) -> None:
    protocol = ClientProtocol(address="gw:1")
    info = protocol.handshake_reply(init_reply(keepalive=announced), "me", now=0.0)
    assert info.keepalive_interval == used
    assert protocol.info is info


def test_a_handshake_reply_without_s2c_or_with_a_bad_key_is_a_connect_error() -> None:
    with pytest.raises(ConnectError, match="without s2c"):
        ClientProtocol(address="gw:1").handshake_reply(InitConnect_pb2.Response(retType=0), "me", 0)
    rsa = RsaCipher.__new__(RsaCipher)  # never used to encrypt here
    protocol = ClientProtocol(address="gw:1", handshake_cipher=rsa)
    with pytest.raises(ConnectError, match="unusable session key"):
        protocol.handshake_reply(init_reply(key="too short"), "me", 0)


def test_an_encrypted_handshake_switches_to_the_session_cipher() -> None:
    protocol = encrypted()
    assert isinstance(protocol.cipher, AesCbcCipher)
    call, data = protocol.send_request(GUS, b"secret", 1.0, None)
    assert b"secret" not in data
    encrypted_reply = encode_frame(
        GUS, call.serial, protocol.cipher.encrypt(b"answer"), plaintext=b"answer"
    )
    assert protocol.receive_data(encrypted_reply) == [call]


def test_handshake_failures_become_connect_errors_that_say_why() -> None:
    protocol = ClientProtocol(address="gw:1")
    timeout = protocol.handshake_failed(RequestTimeoutError("t"), 2.0)
    assert "did not answer the handshake within 2 s" in str(timeout)
    refused = protocol.handshake_failed(OpenDError(-1, 0, "no", proto_id=1001), 2.0)
    assert "refused the handshake: no" in str(refused)
    lost = protocol.handshake_failed(ConnectionLostError("gone"), 2.0)
    assert str(lost) == "handshake with OpenD at gw:1 failed: gone"


def test_a_peer_leaving_keepalives_unanswered_is_dead_after_the_limit() -> None:
    protocol = connected(dead_after=3.0)  # 10 s interval: dead after 30 s
    assert protocol.check_liveness(10.0, None) == pytest.approx(7.5)
    protocol.keepalive_answered(25.0)
    assert protocol.check_liveness(50.0, None) == pytest.approx(5.0)
    loss = protocol.check_liveness(55.0, None)
    assert loss == Loss(LossKind.NO_KEEPALIVE_ANSWER, limit=30.0)


def test_a_peer_reading_nothing_is_dead_after_the_limit_even_without_keepalives() -> None:
    protocol = connected(dead_after=3.0, keepalive=False)
    assert protocol.check_liveness(100.0, None) == pytest.approx(7.5)  # answers do not matter
    assert protocol.check_liveness(100.0, 90.0) == pytest.approx(7.5)
    assert protocol.check_liveness(100.0, 70.0) == Loss(LossKind.WRITE_BLOCKED, limit=30.0)


def test_without_a_dead_peer_limit_liveness_never_fails() -> None:
    assert connected().check_liveness(1e9, 0.0) == float("inf")


def test_an_undecryptable_push_is_dropped() -> None:
    protocol = encrypted()
    assert protocol.receive_data(encode_frame(NOTIFY, 0, bytes(15))) == []
    good = protocol.cipher.encrypt(b"event")  # type: ignore[union-attr]
    (push,) = protocol.receive_data(encode_frame(NOTIFY, 0, good, plaintext=b"event"))
    assert isinstance(push, Frame)
    assert push.body == b"event"


@pytest.mark.parametrize("module", ["_opend/protocol", "_opend/handshake", "_opend/loss"])
def test_the_protocol_layer_imports_no_event_loop_and_no_socket(module: str) -> None:
    source = (Path(asyncquote.__file__).parent / f"{module}.py").read_text()
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert imported.isdisjoint({"asyncio", "anyio", "trio", "socket", "selectors", "uvloop"})
