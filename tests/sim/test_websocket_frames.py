"""The WebSocket message header codec (:mod:`asyncquote.sim._websocket_frames`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote._base.errors import ProtocolError
from asyncquote.sim._websocket_frames import (
    REPLY_HEADER_SIZE,
    REQUEST_HEADER_SIZE,
    WebSocketFrameError,
    WsMessage,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
)

# What the SDK's own packBuff(0x01020304, 0x0506070809, [0xAA]) returns
# (futu-api 10.11.7108 on Node 20): the sign, then cmd and section big-endian.
SDK_REQUEST = bytes.fromhex("66742d76312e3000010203040000000506070809aa")

u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)


def test_header_sizes_are_the_sdks() -> None:
    assert (REQUEST_HEADER_SIZE, REPLY_HEADER_SIZE) == (20, 44)


def test_a_request_is_encoded_byte_for_byte_as_the_sdk_does() -> None:
    assert encode_request(0x01020304, 0x0506070809, b"\xaa") == SDK_REQUEST
    assert decode_request(SDK_REQUEST) == WsMessage(0x01020304, 0x0506070809, b"\xaa")


def test_a_reply_header_is_big_endian_with_a_zero_padded_errmsg() -> None:
    data = encode_reply(WsMessage(3213, 7, b"\x08\x00", -5, "oops"))
    assert data == (
        b"ft-v1.0\0"
        + (3213).to_bytes(4, "big")
        + (7).to_bytes(8, "big")
        + (-5).to_bytes(4, "big", signed=True)
        + b"oops".ljust(20, b"\0")
        + b"\x08\x00"
    )


def test_errmsg_is_cut_to_20_bytes_and_kept_ascii() -> None:
    long = decode_reply(encode_reply(WsMessage(1, 1, errmsg="x" * 30)))
    assert long.errmsg == "x" * 20
    # The SDK reads errmsg as 20 characters, so multi-byte ones would shift the body.
    chinese = encode_reply(WsMessage(1, 1, b"body", errmsg="登录失败"))
    assert chinese[24:44] == b"????".ljust(20, b"\0")
    assert chinese[44:] == b"body"


@pytest.mark.parametrize(
    ("cmd", "section", "error"),
    [(-1, 0, 0), (2**32, 0, 0), (0, -1, 0), (0, 2**64, 0), (0, 0, 2**31), (0, 0, -(2**31) - 1)],
)
def test_values_that_do_not_fit_are_refused(cmd: int, section: int, error: int) -> None:
    with pytest.raises(ValueError, match="must fit in"):
        encode_reply(WsMessage(cmd, section, error=error))
    if error == 0:
        with pytest.raises(ValueError, match="must fit in"):
            encode_request(cmd, section)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"ft-v1.0\0" + bytes(11), "shorter than its 20-byte header"),
        (b"ft-v1.1\0" + bytes(12), "does not start with 'ft-v1.0'"),
        (b"FT" + bytes(18), "does not start with"),
    ],
)
def test_a_short_or_unsigned_request_is_refused(data: bytes, match: str) -> None:
    with pytest.raises(WebSocketFrameError, match=match):
        decode_request(data)


def test_a_request_header_is_not_a_reply_header() -> None:
    with pytest.raises(WebSocketFrameError, match="shorter than its 44-byte header"):
        decode_reply(encode_request(1, 1))


def test_frame_errors_are_protocol_errors() -> None:
    assert issubclass(WebSocketFrameError, ProtocolError)


@given(u32, u64, st.binary(max_size=64))
def test_requests_round_trip(cmd: int, section: int, body: bytes) -> None:
    assert decode_request(encode_request(cmd, section, body)) == WsMessage(cmd, section, body)


@given(
    u32,
    u64,
    st.binary(max_size=64),
    i32,
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=20),
)
def test_replies_round_trip(cmd: int, section: int, body: bytes, error: int, errmsg: str) -> None:
    message = WsMessage(cmd, section, body, error, errmsg)
    assert decode_reply(encode_reply(message)) == message


@given(st.binary(max_size=80) | st.binary(max_size=60).map(lambda tail: b"ft-v1.0\0" + tail))
def test_decoders_raise_only_frame_errors(data: bytes) -> None:
    for decode in (decode_request, decode_reply):
        try:
            message = decode(data)
        except WebSocketFrameError:
            continue
        assert data.startswith(b"ft-v1.0\0")
        assert (
            message.body
            == data[REQUEST_HEADER_SIZE if decode is decode_request else REPLY_HEADER_SIZE :]
        )
