"""The per-connection loop alone, over an in-memory byte stream instead of a socket."""

from __future__ import annotations

from collections import deque

import anyio
import pytest

from asyncquote._base.errors import BadMagicError
from asyncquote._opend.framing import Frame, FrameDecoder, encode_frame
from asyncquote._pb import InitConnect_pb2, KeepAlive_pb2
from asyncquote.sim import Faults, RequestRecord
from asyncquote.sim._dispatch import Dispatcher
from asyncquote.sim._handlers import default_routes
from asyncquote.sim._peer import Peer
from asyncquote.sim._quotas import QuotaLedger
from asyncquote.sim._state import ConnectionState, ServerState
from asyncquote.sim._watchlists import WatchlistStore

from .rawclient import INIT_CONNECT, KEEP_ALIVE

pytestmark = pytest.mark.anyio


class ScriptedStream(anyio.abc.ByteStream):
    """Hands out the chunks it was given, then reports the end of the stream."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = deque(chunks)
        self.sends: list[bytes] = []

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self._chunks:
            raise anyio.EndOfStream
        return self._chunks.popleft()

    async def send(self, item: bytes) -> None:
        self.sends.append(item)

    async def send_eof(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def init_connect(serial_no: int) -> bytes:
    c2s = InitConnect_pb2.C2S(clientVer=100, clientID="tests", packetEncAlgo=-1)
    return encode_frame(
        INIT_CONNECT, serial_no, InitConnect_pb2.Request(c2s=c2s).SerializeToString()
    )


def keep_alive(serial_no: int) -> bytes:
    c2s = KeepAlive_pb2.C2S(time=1)
    return encode_frame(KEEP_ALIVE, serial_no, KeepAlive_pb2.Request(c2s=c2s).SerializeToString())


def make_peer(
    stream: ScriptedStream, faults: Faults | None = None
) -> tuple[Peer, deque[RequestRecord]]:
    server = ServerState(watchlists=WatchlistStore.sample(), quotas=QuotaLedger({}))
    requests: deque[RequestRecord] = deque()
    peer = Peer(
        stream,
        ConnectionState(conn_id=1),
        dispatcher=Dispatcher(default_routes(), server),
        requests=requests,
        rejections=deque(),
        faults=faults or Faults(),
        rsa=None,
        on_failed_handshake=lambda: None,
    )
    return peer, requests


def replies(stream: ScriptedStream) -> list[Frame]:
    return FrameDecoder().feed(b"".join(stream.sends))


async def test_the_frames_of_one_receive_are_answered_in_order_with_one_send() -> None:
    stream = ScriptedStream(init_connect(1) + keep_alive(2) + keep_alive(3))
    peer, requests = make_peer(stream)
    await peer.run()
    assert len(stream.sends) == 1
    assert [(f.proto_id, f.serial_no) for f in replies(stream)] == [
        (INIT_CONNECT, 1),
        (KEEP_ALIVE, 2),
        (KEEP_ALIVE, 3),
    ]
    assert [(r.proto_id, r.serial_no, r.conn_id) for r in requests] == [
        (INIT_CONNECT, 1, 1),
        (KEEP_ALIVE, 2, 1),
        (KEEP_ALIVE, 3, 1),
    ]


async def test_a_frame_split_across_receives_is_answered_once_complete() -> None:
    data = init_connect(1) + keep_alive(2)
    stream = ScriptedStream(data[:10], data[10:-3], data[-3:])
    peer, _ = make_peer(stream)
    await peer.run()
    assert [f.serial_no for f in replies(stream)] == [1, 2]


async def test_bad_bytes_end_the_connection_after_the_replies_before_them() -> None:
    stream = ScriptedStream(init_connect(1) + keep_alive(2) + b"XX" + bytes(60))
    peer, requests = make_peer(stream)
    with pytest.raises(BadMagicError):
        await peer.run()
    assert [f.serial_no for f in replies(stream)] == [1, 2]
    assert len(requests) == 2


@pytest.mark.parametrize("faults", [Faults(), Faults(seed=3)], ids=["none", "seed only"])
async def test_a_connection_without_faults_has_no_pipeline(faults: Faults) -> None:
    peer, _ = make_peer(ScriptedStream(), faults)
    assert peer._faults is None
    assert peer._send_lock is None


async def test_faults_pass_over_the_handshake_and_count_requests_after_it() -> None:
    chunk = init_connect(1) + keep_alive(2) + keep_alive(3) + keep_alive(4)
    stream = ScriptedStream(chunk)
    peer, requests = make_peer(stream, Faults(silence_after=2))
    await peer.run()
    assert [f.serial_no for f in replies(stream)] == [1, 2, 3]
    # Silenced requests still arrive and are recorded.
    assert [r.serial_no for r in requests] == [1, 2, 3, 4]


async def test_a_partial_reorder_batch_goes_out_when_the_client_stops_sending() -> None:
    chunk = init_connect(1) + keep_alive(2) + keep_alive(3)
    stream = ScriptedStream(chunk)
    peer, _ = make_peer(stream, Faults(reorder=4))
    await peer.run()
    assert [f.serial_no for f in replies(stream)] == [1, 3, 2]


async def test_drop_after_ends_the_connection_without_an_error() -> None:
    chunk = init_connect(1) + keep_alive(2) + keep_alive(3)
    stream = ScriptedStream(chunk, keep_alive(4))
    peer, requests = make_peer(stream, Faults(drop_after=1))
    await peer.run()
    assert [f.serial_no for f in replies(stream)] == [1, 2]
    assert [r.serial_no for r in requests] == [1, 2, 3]
