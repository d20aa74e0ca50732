"""Each fault, driven over TCP with raw frames and checked byte by byte.

The client side reads the socket with :class:`Wire`, which takes frames
apart without checking them, so a test sees exactly what a client would.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import anyio
import anyio.abc
import pytest

from asyncquote._pb import InitConnect_pb2, KeepAlive_pb2, Qot_GetUserSecurity_pb2
from asyncquote.errors import ChecksumMismatchError, FrameTooLargeError, TruncatedFrameError
from asyncquote.framing import HEADER_SIZE, MAGIC, FrameDecoder, encode_frame
from asyncquote.sim import NO_QUOTAS, Faults, Simulator, texts
from asyncquote.sim.faults import GARBAGE_SIZE, OVERSIZE_BODY_LEN

from .rawclient import (
    GET_USER_SECURITY,
    INIT_CONNECT,
    KEEP_ALIVE,
    MODIFY_USER_SECURITY,
    RawClient,
    modify_user_security,
    ready_client,
    time_handshake_and_call,
    user_security,
)

HEADER = struct.Struct("<2sIBBII20s8s")
HK = user_security("HK").SerializeToString()


@dataclass(frozen=True)
class RawFrame:
    proto_id: int
    serial_no: int
    body_len: int
    sha1: bytes
    body: bytes
    data: bytes

    @property
    def sha1_ok(self) -> bool:
        return hashlib.sha1(self.body).digest() == self.sha1

    @property
    def sha1_flipped(self) -> bool:
        return bytes(b ^ 0xFF for b in hashlib.sha1(self.body).digest()) == self.sha1


class Wire:
    """The raw bytes a client receives: exact counts, unchecked frames, or the end."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += await self.stream.receive()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def frame(self) -> RawFrame:
        header = await self.take(HEADER_SIZE)
        magic, proto_id, _, _, serial_no, body_len, sha1, _ = HEADER.unpack(header)
        assert magic == MAGIC, header
        body = await self.take(body_len)
        return RawFrame(proto_id, serial_no, body_len, sha1, body, header + body)

    async def rest(self) -> bytes:
        """Everything until the simulator closes the connection."""
        try:
            while True:
                self.buffer += await self.stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    async def nothing_for(self, seconds: float) -> bool:
        """True if no byte arrives (and the connection stays open) for ``seconds``."""
        with anyio.move_on_after(seconds):
            await self.take(len(self.buffer) + 1)
            return False
        return True


def pipelined(serials: range, body: bytes = HK, proto_id: int = GET_USER_SECURITY) -> bytes:
    return b"".join(encode_frame(proto_id, serial, body) for serial in serials)


def hk_reply_body(sim: Simulator) -> bytes:
    response = Qot_GetUserSecurity_pb2.Response(retType=0)
    response.s2c.staticInfoList.extend(sim.watchlists.securities_in("HK"))
    return response.SerializeToString()


@dataclass
class Replies:
    sim: Simulator
    frames: list[RawFrame]
    rest: bytes
    """What followed the frames until the simulator closed (when asked for)."""


async def replies(
    faults: Faults, count: int, frames: int | None = None, *, until_closed: bool = False
) -> Replies:
    """Send ``count`` pipelined 3213 requests (serials 2, 3, ...) after a handshake.

    Collects the first ``frames`` frames that come back (``count`` by
    default) and, if ``until_closed``, every byte after them until the
    simulator closes the connection.
    """
    async with (
        Simulator(quotas=NO_QUOTAS, faults=faults) as sim,
        ready_client(sim.host, sim.port) as client,
    ):
        await client.stream.send(pipelined(range(2, 2 + count)))
        wire = Wire(client.stream)
        got = [await wire.frame() for _ in range(count if frames is None else frames)]
        rest = await wire.rest() if until_closed else b""
    return Replies(sim, got, rest)


async def serials_from(faults: Faults, count: int) -> list[int]:
    """Serials of the replies to ``count`` pipelined requests (serials 2, 3, ...)."""
    return [frame.serial_no for frame in (await replies(faults, count)).frames]


# --- reordering ------------------------------------------------------------------


@pytest.mark.anyio
async def test_reorder_sends_each_full_batch_in_reverse() -> None:
    with anyio.fail_after(5):
        serials = await serials_from(Faults(reorder=4, reorder_wait=60), 8)
    assert serials == [5, 4, 3, 2, 9, 8, 7, 6]


@pytest.mark.anyio
async def test_shuffled_batches_are_reproducible_with_a_seed() -> None:
    faults = Faults(reorder=4, shuffle=True, reorder_wait=60, seed=5)
    with anyio.fail_after(5):
        first = await serials_from(faults, 12)
        second = await serials_from(faults, 12)
    assert first == second
    assert first != sorted(first)
    # Shuffled within each batch, never across batches.
    for start in range(0, 12, 4):
        assert sorted(first[start : start + 4]) == list(range(start + 2, start + 6))


@pytest.mark.anyio
async def test_a_partial_batch_goes_out_as_soon_as_the_client_stops_sending() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(reorder=4, reorder_wait=3600)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.stream.send(pipelined(range(2, 4)))
            await client.stream.send_eof()
            wire = Wire(client.stream)
            serials = [(await wire.frame()).serial_no for _ in range(2)]
            assert await wire.rest() == b""
    assert serials == [3, 2]


# --- mangled replies ---------------------------------------------------------------


@pytest.mark.anyio
async def test_corrupt_sha1_flips_the_digest_of_every_nth_reply_and_leaves_the_body() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(corrupt_sha1=2), 4)
    frames = got.frames
    assert [f.serial_no for f in frames] == [2, 3, 4, 5]
    assert [f.sha1_ok for f in frames] == [True, False, True, False]
    assert all(f.sha1_flipped for f in frames if not f.sha1_ok)
    assert {f.body for f in frames} == {hk_reply_body(got.sim)}
    decoder = FrameDecoder()
    assert len(decoder.feed(frames[0].data)) == 1
    with pytest.raises(ChecksumMismatchError):
        decoder.feed(frames[1].data)


async def corrupted_serials(seed: int) -> list[int]:
    frames = (await replies(Faults(corrupt_sha1=0.5, seed=seed), 40)).frames
    return [f.serial_no for f in frames if not f.sha1_ok]


@pytest.mark.anyio
async def test_corrupt_sha1_with_a_probability_repeats_for_the_same_seed() -> None:
    with anyio.fail_after(5):
        first = await corrupted_serials(seed=11)
        again = await corrupted_serials(seed=11)
        other = await corrupted_serials(seed=12)
    assert first == again
    assert 5 < len(first) < 35
    assert other != first


@pytest.mark.anyio
async def test_garbage_replaces_the_chosen_replies_with_bytes_that_are_not_a_frame() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(garbage=2, seed=1)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.stream.send(pipelined(range(2, 5)))
            wire = Wire(client.stream)
            first = await wire.frame()
            garbage = await wire.take(GARBAGE_SIZE)
            third = await wire.frame()
    assert (first.serial_no, third.serial_no) == (2, 4)
    assert first.sha1_ok
    assert third.sha1_ok
    assert not garbage.startswith(MAGIC)
    assert garbage != bytes(GARBAGE_SIZE)


@pytest.mark.anyio
async def test_unknown_serial_answers_with_a_serial_the_client_never_used() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(unknown_serial=1), 2)
    frames = got.frames
    serials = [f.serial_no for f in frames]
    assert not set(serials) & {1, 2, 3}
    assert len(set(serials)) == 2
    assert all(f.proto_id == GET_USER_SECURITY and f.sha1_ok for f in frames)
    assert {f.body for f in frames} == {hk_reply_body(got.sim)}


@pytest.mark.anyio
async def test_duplicate_sends_the_chosen_replies_twice_back_to_back() -> None:
    with anyio.fail_after(5):
        frames = (await replies(Faults(duplicate=2), 3, frames=4)).frames
    assert [f.serial_no for f in frames] == [2, 3, 3, 4]
    assert frames[1].data == frames[2].data
    assert all(f.sha1_ok for f in frames)


# --- ending the connection -----------------------------------------------------------


@pytest.mark.anyio
async def test_drop_after_answers_that_many_then_closes_when_the_next_arrives() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(drop_after=2), 4, frames=2, until_closed=True)
    assert [frame.serial_no for frame in got.frames] == [2, 3]
    assert got.rest == b""
    # The request that met the closed door still arrived and was handled.
    assert [record.serial_no for record in got.sim.requests] == [1, 2, 3, 4]


@pytest.mark.anyio
async def test_drop_after_zero_closes_on_the_first_request_after_the_handshake() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(drop_after=0)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.send(KEEP_ALIVE, KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)))
            assert await client.closed_by_peer()


@pytest.mark.anyio
async def test_drop_discards_replies_still_held_back() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(reply_delay=3600, drop_after=1), 2, frames=0, until_closed=True)
    assert got.rest == b""


@pytest.mark.anyio
async def test_truncate_after_sends_a_header_and_half_the_body_then_closes() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(truncate_after=1), 2, frames=1, until_closed=True)
    (whole,), rest = got.frames, got.rest
    assert whole.serial_no == 2
    _, proto_id, _, _, serial_no, body_len, _, _ = HEADER.unpack(rest[:HEADER_SIZE])
    assert (proto_id, serial_no, body_len) == (GET_USER_SECURITY, 3, whole.body_len)
    assert len(rest) == HEADER_SIZE + body_len // 2
    decoder = FrameDecoder()
    assert decoder.feed(rest) == []
    with pytest.raises(TruncatedFrameError):
        decoder.close()


@pytest.mark.anyio
class TestOverVirtualTime:
    """Faults about time, measured on trio's MockClock: exact, and free."""

    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_a_partial_reorder_batch_waits_reorder_wait_then_goes_out_reversed(
        self,
    ) -> None:
        with anyio.fail_after(60):
            async with (
                Simulator(faults=Faults(reorder=4, reorder_wait=0.5)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                start = anyio.current_time()
                await client.stream.send(pipelined(range(2, 5)))
                wire = Wire(client.stream)
                serials = [(await wire.frame()).serial_no for _ in range(3)]
                waited = anyio.current_time() - start
        assert serials == [4, 3, 2]
        assert waited == pytest.approx(0.5)

    async def test_oversize_after_announces_a_2_gib_body_then_falls_silent(self) -> None:
        with anyio.fail_after(3600):
            async with (
                Simulator(faults=Faults(oversize_after=1)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                await client.stream.send(pipelined(range(2, 4)))
                wire = Wire(client.stream)
                assert (await wire.frame()).serial_no == 2
                header = await wire.take(HEADER_SIZE)
                await client.send(GET_USER_SECURITY, user_security("US"), serial_no=4)
                assert await wire.nothing_for(600)
                assert sim.open_connections == 1
        _, proto_id, _, _, serial_no, body_len, _, _ = HEADER.unpack(header)
        assert (proto_id, serial_no, body_len) == (GET_USER_SECURITY, 3, OVERSIZE_BODY_LEN)
        with pytest.raises(FrameTooLargeError):
            FrameDecoder().feed(header)
        assert [record.serial_no for record in sim.requests] == [1, 2, 3, 4]

    async def test_silence_after_answers_that_many_then_nothing_but_keeps_the_socket(
        self,
    ) -> None:
        with anyio.fail_after(3600):
            async with (
                Simulator(faults=Faults(silence_after=1)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                reply = await client.call(
                    GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
                )
                await client.send(KEEP_ALIVE, KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)))
                await client.send(
                    MODIFY_USER_SECURITY, modify_user_security("Tech", 1, [(1, "00005")])
                )
                assert await Wire(client.stream).nothing_for(600)
                assert sim.open_connections == 1
                # Unanswered, but handled: the edit was made.
                assert (1, "00005") in sim.watchlists.find_group("Tech").members  # type: ignore[union-attr]
        assert reply.retType == 0
        assert [r.proto_id for r in sim.requests] == [
            INIT_CONNECT,
            GET_USER_SECURITY,
            KEEP_ALIVE,
            MODIFY_USER_SECURITY,
        ]

    async def test_silence_after_zero_answers_the_handshake_and_nothing_else(self) -> None:
        with anyio.fail_after(3600):
            async with (
                Simulator(faults=Faults(silence_after=0)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                await client.send(GET_USER_SECURITY, user_security("HK"))
                assert await Wire(client.stream).nothing_for(600)

    async def test_handshake_delay_holds_back_only_the_initconnect_reply(self) -> None:
        with anyio.fail_after(60):
            async with Simulator(faults=Faults(handshake_delay=2.5)) as sim:
                handshake, call = await time_handshake_and_call(sim.host, sim.port)
        assert handshake == pytest.approx(2.5)
        assert call == 0


# --- the handshake ---------------------------------------------------------------


@pytest.mark.anyio
async def test_refuse_handshake_fails_initconnect_and_leaves_the_connection_unusable() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(refuse_handshake=True)) as sim,
            RawClient.connect(sim.host, sim.port) as client,
        ):
            refused = await client.init_connect()
            after = await client.call(
                GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
            )
            assert sim.open_connections == 1
    assert (refused.retType, refused.retMsg) == (-1, texts.HANDSHAKE_REFUSED)
    assert not refused.HasField("s2c")
    assert after.retType == -1
    assert after.retMsg == texts.NOT_INITIALISED.format(proto_id=GET_USER_SECURITY)


@pytest.mark.anyio
async def test_faults_spare_everything_before_and_including_the_handshake() -> None:
    faults = Faults(corrupt_sha1=1, duplicate=1)
    with anyio.fail_after(5):
        async with (
            Simulator(faults=faults) as sim,
            RawClient.connect(sim.host, sim.port) as client,
        ):
            await client.stream.send(pipelined(range(1, 2)))
            init = InitConnect_pb2.Request(
                c2s=InitConnect_pb2.C2S(clientVer=1, clientID="t", packetEncAlgo=-1)
            )
            await client.send(INIT_CONNECT, init, serial_no=2)
            await client.send(GET_USER_SECURITY, user_security("HK"), serial_no=3)
            wire = Wire(client.stream)
            frames = [await wire.frame() for _ in range(4)]
    assert [(f.serial_no, f.sha1_ok) for f in frames] == [
        (1, True),
        (2, True),
        (3, False),
        (3, False),
    ]


@pytest.mark.anyio
async def test_changing_faults_affects_new_connections_only() -> None:
    with anyio.fail_after(5):
        async with Simulator() as sim, ready_client(sim.host, sim.port) as early:
            sim.faults = Faults(refuse_handshake=True)
            async with RawClient.connect(sim.host, sim.port) as late:
                assert (await late.init_connect()).retType == -1
            reply = await early.call(
                GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
            )
            assert reply.retType == 0
            sim.faults = Faults()
            async with ready_client(sim.host, sim.port):
                pass
            with pytest.raises(TypeError, match="faults must be a Faults"):
                sim.faults = {"refuse_handshake": True}  # type: ignore[assignment]
