"""Hypothesis fuzzing of both simulator fronts: no client's bytes may stop it serving others.

Each example opens one connection, to the TCP port (OpenD frames) or the
WebSocket port (before or after the upgrade, logged in or not), writes what
Hypothesis drew, piece by piece (random bytes, frames truncated or with a
byte flipped, RFC 6455 frames with any opcode, fragmentation or length,
close frames anywhere), then leaves: at once, or by shutting its write side
and reading until the simulator closes. After every example a fresh
WebSocket client and a fresh TCP client must each get a watchlist from the
same simulator, within 10 s; so a crash, a hang or a lost state fails.

Bounded to a few seconds per front and backend (``max_examples``), so it
runs with the rest of the suite; raise ``FUZZ_EXAMPLES`` to search longer.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncquote._opend.framing import encode_frame
from asyncquote._pb import GetGlobalState_pb2, InitConnect_pb2, KeepAlive_pb2
from asyncquote.sim import NO_QUOTAS, Simulator
from asyncquote.sim._websocket import websocket_key_digest

from . import rawws
from .rawclient import (
    GET_GLOBAL_STATE,
    GET_USER_SECURITY,
    GET_USER_SECURITY_GROUP,
    INIT_CONNECT,
    KEEP_ALIVE,
    MODIFY_USER_SECURITY,
    user_security,
    user_security_group,
)
from .wsclient import KEY, WATCHLIST, still_serves, websocket_port

pytestmark = pytest.mark.anyio

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # One simulator serves every example of a test, on purpose: it must
    # survive them all, one after another.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def fuzzed_sim() -> AsyncIterator[Simulator]:
    # No quotas: the check after each example makes a 3213 call.
    async with Simulator(websocket_port=0, websocket_key=KEY, quotas=NO_QUOTAS) as simulator:
        yield simulator


# -- what a connection sends ----------------------------------------------------------

_INIT_CONNECT = InitConnect_pb2.Request(
    c2s=InitConnect_pb2.C2S(clientVer=100, clientID="fuzz", recvNotify=True)
).SerializeToString()
_REQUESTS = {
    INIT_CONNECT: _INIT_CONNECT,
    GET_GLOBAL_STATE: GetGlobalState_pb2.Request(
        c2s=GetGlobalState_pb2.C2S(userID=0)
    ).SerializeToString(),
    KEEP_ALIVE: KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=0)).SerializeToString(),
    GET_USER_SECURITY: user_security(WATCHLIST).SerializeToString(),
    GET_USER_SECURITY_GROUP: user_security_group(3).SerializeToString(),
}
# 3214 is left out on purpose: a valid one would change the watchlists the check reads.
_PROTO_IDS = st.sampled_from([*_REQUESTS, MODIFY_USER_SECURITY, 0, 2, 1003, 9999, 2**32 - 1])


@st.composite
def _bodies(draw: st.DrawFn, proto_id: int) -> bytes:
    if proto_id in _REQUESTS and draw(st.booleans()):
        return _REQUESTS[proto_id]
    return draw(st.binary(max_size=64))


@st.composite
def _mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as is, truncated, with one byte changed, or with bytes inserted."""
    how = draw(st.sampled_from(["as is", "truncated", "flipped", "inserted"]))
    if how == "as is" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "truncated":
        return data[:at]
    if how == "flipped":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]


@st.composite
def tcp_frame(draw: st.DrawFn) -> bytes:
    proto_id = draw(_PROTO_IDS)
    serial = draw(st.integers(0, 2**32 - 1))
    frame = encode_frame(proto_id, serial, draw(_bodies(proto_id)))
    return draw(_mutated(frame))


tcp_pieces = st.lists(
    st.one_of(tcp_frame(), st.binary(max_size=96), st.just(encode_frame(1001, 1, _INIT_CONNECT))),
    max_size=6,
)


def _header(fin: bool, rsv: int, opcode: int, mask: bool, length: int) -> bytes:
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    flag = 0x80 if mask else 0
    if length < 126:
        return head + bytes([flag | length])
    if length < 2**16:
        return head + bytes([flag | 126]) + struct.pack("!H", length)
    return head + bytes([flag | 127]) + struct.pack("!Q", length)


@st.composite
def ws_any_frame(draw: st.DrawFn) -> bytes:
    """A WebSocket frame with any header: opcode, reserved bits, mask, a lying length."""
    payload = draw(st.binary(max_size=64))
    length = draw(st.one_of(st.just(len(payload)), st.sampled_from([0, 125, 126, 2**16, 2**63])))
    mask = draw(st.booleans())
    head = _header(
        draw(st.booleans()), draw(st.integers(0, 7)), draw(st.integers(0, 15)), mask, length
    )
    return head + (draw(st.binary(min_size=4, max_size=4)) if mask else b"") + payload


@st.composite
def ws_message(draw: st.DrawFn) -> bytes:
    """One of OpenD's WebSocket messages (maybe mutated), framed whole or in fragments."""
    cmd = draw(st.sampled_from([1, *_REQUESTS, 0, 2, 9999]))
    if cmd == 1:
        digest = websocket_key_digest(KEY) if draw(st.booleans()) else "wrong"
        message = rawws.init_websocket(
            digest,
            client_id=draw(st.binary(max_size=8)),
            language=draw(st.sampled_from([b"JavaScript", b"\xff", b""])),
        )
    else:
        body = _REQUESTS.get(cmd, b"") if draw(st.booleans()) else draw(st.binary(max_size=32))
        message = rawws.request(cmd, draw(st.integers(0, 2**64 - 1)), body)
    message = draw(_mutated(message))
    pieces = draw(st.integers(1, 4))
    return rawws.fragments(message, pieces) if pieces > 1 else rawws.frame(rawws.BINARY, message)


ws_pieces = st.lists(
    st.one_of(
        ws_message(),
        ws_any_frame(),
        st.binary(max_size=32),
        st.just(rawws.close_frame()),
        st.just(rawws.frame(rawws.PING, b"ping")),
        # A message's first fragment with no end, or an end with no start.
        st.just(rawws.frame(rawws.BINARY, b"ft-v1.0\0", fin=False)),
        st.just(rawws.frame(rawws.CONTINUATION, b"")),
    ),
    max_size=6,
)


# -- how a connection ends --------------------------------------------------------------


async def send_and_leave(stream: anyio.abc.SocketStream, pieces: list[bytes], drain: bool) -> None:
    """Write each piece, then leave: at once, or after the simulator has closed (``drain``)."""
    try:
        for piece in pieces:
            await stream.send(piece)
        if drain:
            await stream.send_eof()
            # The simulator must close once the client has nothing more to say.
            with anyio.fail_after(10):
                while True:
                    await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass  # the simulator closed first (shutdown() may then say ENOTCONN): allowed
    finally:
        await stream.aclose()


# -- the tests --------------------------------------------------------------------------


@FUZZ
@given(pieces=tcp_pieces, drain=st.booleans())
async def test_the_tcp_front_survives_any_bytes(
    fuzzed_sim: Simulator, pieces: list[bytes], drain: bool
) -> None:
    stream = await anyio.connect_tcp(fuzzed_sim.host, fuzzed_sim.port)
    await send_and_leave(stream, pieces, drain)
    await still_serves(fuzzed_sim)


@FUZZ
@given(
    stage=st.sampled_from(["no upgrade", "upgraded", "logged in"]),
    pieces=ws_pieces,
    drain=st.booleans(),
)
async def test_the_websocket_front_survives_any_bytes(
    fuzzed_sim: Simulator, stage: str, pieces: list[bytes], drain: bool
) -> None:
    port = websocket_port(fuzzed_sim)
    ws = await rawws.RawWs.open(fuzzed_sim.host, port, upgrade=stage != "no upgrade")
    if stage == "logged in":
        await ws.send(rawws.frame(rawws.BINARY, rawws.init_websocket(websocket_key_digest(KEY))))
        with anyio.fail_after(10):
            assert await ws.receive_message() is not None
    await send_and_leave(ws.stream, pieces, drain)
    await still_serves(fuzzed_sim)


@FUZZ
@given(pieces=ws_pieces)
async def test_frames_sent_with_the_upgrade_request_do_not_stop_the_websocket_front(
    fuzzed_sim: Simulator, pieces: list[bytes]
) -> None:
    port = websocket_port(fuzzed_sim)
    stream = await anyio.connect_tcp(fuzzed_sim.host, port)
    upgrade = (
        f"GET / HTTP/1.1\r\nHost: {fuzzed_sim.host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    await send_and_leave(stream, [upgrade + b"".join(pieces)], drain=True)
    await still_serves(fuzzed_sim)
