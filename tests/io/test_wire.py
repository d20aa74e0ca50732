"""The wire drivers: every driver against one fake peer, and asyncio's driver on a fake transport.

The drivers only move bytes. :class:`TestEveryDriver` runs asyncio, uvloop
and trio drivers against a peer socket over loopback TCP, feeding them a
recording sink instead of a connection, and checks what the peer receives and
what the sink hears. :class:`TestAsyncioWire` drives the asyncio wire through
a recording fake transport: batching, flow control, endings.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

from asyncquote._base.errors import BadMagicError, ProtocolError
from asyncquote._io.wire import (
    MAX_UNSENT_BYTES,
    AsyncioWire,
    StreamWire,
    Wire,
    connect_wire,
    loss_for,
)
from asyncquote._opend.loss import Loss, LossKind

from ..conftest import Runner

pytestmark = pytest.mark.anyio

# -- every driver, over loopback TCP ------------------------------------------


class RecordingSink:
    """Records what a driver reports; on ``reject`` it aborts, as the connection does on garbage."""

    def __init__(self, *, reject: bytes | None = None, raise_on: bytes | None = None) -> None:
        self.received = bytearray()
        self.eofs = 0
        self.losses: list[Loss] = []
        self.wire: Wire | None = None
        self._reject = reject
        self._raise_on = raise_on
        self.ended = anyio.Event()
        self.arrived = anyio.Event()

    async def wait_received(self, count: int) -> bytes:
        while len(self.received) < count:
            self.arrived = anyio.Event()
            await self.arrived.wait()
        return bytes(self.received)

    def data_received(self, data: bytes) -> None:
        if self._raise_on is not None and self._raise_on in data:
            raise ZeroDivisionError("a bug")
        self.received += data
        self.arrived.set()
        if self._reject is not None and self._reject in data:
            self.transport_lost(Loss(LossKind.INVALID_DATA))
            assert self.wire is not None
            self.wire.abort()

    def eof_received(self) -> None:
        self.eofs += 1
        self.ended.set()

    def transport_lost(self, loss: Loss) -> None:
        self.losses.append(loss)
        self.ended.set()


@dataclass
class Pair:
    wire: Wire
    peer: anyio.abc.SocketStream
    sink: RecordingSink

    async def peer_reads_until_closed(self) -> bytes:
        got = bytearray()
        with anyio.fail_after(5):
            try:
                while True:
                    got += await self.peer.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return bytes(got)


@asynccontextmanager
async def wired(sink: RecordingSink) -> AsyncIterator[Pair]:
    """A driver for the running loop, connected to a peer socket this test drives."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    # A small, fixed receive buffer (inherited by the accepted socket), so
    # that a peer that stops reading is felt after kilobytes, not after the
    # tens of MiB that loopback autotuning would otherwise absorb.
    raw = listener.listeners[0].extra(anyio.abc.SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    async with listener, anyio.create_task_group() as tg:
        with anyio.fail_after(5):
            wire = await connect_wire("127.0.0.1", port, sink)
            peer = await listener.listeners[0].accept()  # type: ignore[attr-defined]
        sink.wire = wire
        await tg.start(wire.run)
        async with peer:
            try:
                yield Pair(wire, peer, sink)
            finally:
                await wire.aclose()
                tg.cancel_scope.cancel()


class TestEveryDriver:
    @pytest.fixture
    def anyio_backend(self, runner: Runner) -> object:
        return runner.anyio_backend

    async def test_bytes_go_both_ways_in_order(self) -> None:
        async with wired(RecordingSink()) as pair:
            for n in range(100):
                pair.wire.send(b"%d," % n)
            expected = b"".join(b"%d," % n for n in range(100))
            got = bytearray()
            with anyio.fail_after(5):
                while len(got) < len(expected):
                    got += await pair.peer.receive()
            assert bytes(got) == expected
            await pair.peer.send(b"reply-1")
            await pair.peer.send(b"reply-2")
            with anyio.fail_after(5):
                assert await pair.sink.wait_received(14) == b"reply-1reply-2"
            assert pair.sink.losses == []

    async def test_the_peer_closing_is_an_end_of_stream_for_the_sink(self) -> None:
        async with wired(RecordingSink()) as pair:
            await pair.peer.aclose()
            with anyio.fail_after(5):
                await pair.sink.ended.wait()
            assert pair.sink.eofs == 1 or pair.sink.losses[0].kind is LossKind.PEER_CLOSED

    async def test_garbage_makes_the_sink_abort_and_the_peer_sees_the_transport_closed(
        self,
    ) -> None:
        async with wired(RecordingSink(reject=b"garbage")) as pair:
            await pair.peer.send(b"garbage")
            await pair.peer_reads_until_closed()
            assert pair.sink.losses[0].kind is LossKind.INVALID_DATA
            pair.wire.send(b"too late")  # dropped, never raises

    async def test_a_bug_in_the_sink_fails_the_wire_saying_where_and_closes_it(self) -> None:
        async with wired(RecordingSink(raise_on=b"boom")) as pair:
            await pair.peer.send(b"boom")
            await pair.peer_reads_until_closed()
            (loss, *_) = pair.sink.losses
            assert loss.kind is LossKind.INTERNAL_ERROR
            assert loss.where == "data_received"
            assert isinstance(loss.cause, ZeroDivisionError)

    async def test_aclose_closes_the_transport_and_is_idempotent(self) -> None:
        async with wired(RecordingSink()) as pair:
            with anyio.fail_after(5):
                await pair.wire.aclose()
                await pair.wire.aclose()
            await pair.peer_reads_until_closed()

    async def test_a_frame_the_socket_takes_only_part_of_is_finished_before_the_next(
        self,
    ) -> None:
        # A frame larger than the sockets' buffers, while the peer does not
        # read: the socket takes part of it and the rest waits. A frame sent
        # once the socket has room again (the peer read some and replied)
        # must still go out after all of it, never inside it.
        async with wired(RecordingSink()) as pair:
            big = bytes(range(256)) * 4096  # 1 MiB
            pair.wire.send(big)
            await anyio.wait_all_tasks_blocked()
            assert pair.wire.write_blocked_since is not None  # only part of it went out
            got = bytearray()
            with anyio.fail_after(10):
                while len(got) < 256 * 1024:
                    got += await pair.peer.receive()
                await pair.peer.send(b"x")
                await pair.sink.wait_received(1)
                pair.wire.send(b"tail")
                while len(got) < len(big) + 4:
                    got += await pair.peer.receive()
            assert got == big + b"tail"
            assert pair.sink.losses == []

    async def test_frames_piling_up_for_a_peer_that_does_not_read_are_capped(self) -> None:
        async with wired(RecordingSink()) as pair:
            chunk = bytes(64 * 1024)
            with anyio.fail_after(10):
                # The peer reads nothing: the sockets' buffers fill, then the outbox.
                while not pair.sink.losses:
                    pair.wire.send(chunk)
                    await anyio.lowlevel.checkpoint()
            assert pair.sink.losses[0] == Loss(LossKind.BACKLOG, limit=MAX_UNSENT_BYTES)
            assert "not reading" in str(pair.sink.losses[0])
            assert pair.wire.write_blocked_since is not None
            await pair.peer_reads_until_closed()

    @pytest.mark.parametrize(
        ("exc", "where", "kind"),
        [
            (None, "transport", LossKind.PEER_CLOSED),
            (anyio.EndOfStream(), "data_received", LossKind.PEER_CLOSED),
            (anyio.ClosedResourceError(), "data_received", LossKind.CLOSED_BY_CLIENT),
            (ConnectionResetError(), "data_received", LossKind.TRANSPORT_FAILED),
            (anyio.BrokenResourceError(), "write", LossKind.SEND_FAILED),
            (ConnectionResetError(), "write", LossKind.SEND_FAILED),
            (RuntimeError("odd"), "transport", LossKind.TRANSPORT_FAILED),
            (BadMagicError("bad"), "data_received", LossKind.INVALID_DATA),
            (ZeroDivisionError(), "resume_writing", LossKind.INTERNAL_ERROR),
        ],
    )
    async def test_transport_errors_become_a_loss_in_one_place(
        self, exc: BaseException | None, where: str, kind: LossKind
    ) -> None:
        loss = loss_for(exc, where)
        assert loss.kind is kind
        if exc is None:
            assert isinstance(loss.cause, anyio.EndOfStream)
        elif kind is LossKind.CLOSED_BY_CLIENT:
            assert loss.cause is None  # our own close: nothing failed
        else:
            assert loss.cause is exc


# -- the asyncio wire on a recording fake transport ----------------------------


class CallbackSink:
    def __init__(self, *, reject: bytes | None = None) -> None:
        self.chunks: list[bytes] = []
        self.endings: list[tuple[BaseException | None, str]] = []
        self.eofs = 0
        self._reject = reject

    def data_received(self, data: bytes) -> None:
        if data == self._reject:
            raise BadMagicError("bad frame magic")
        self.chunks.append(data)

    def eof_received(self) -> None:
        self.eofs += 1

    def transport_lost(self, loss: Loss) -> None:
        self.endings.append((loss.cause, str(loss)))


class RecordingTransport(asyncio.Transport):
    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.aborted = False
        self._protocol = protocol

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return 0  # written at once

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        if not self.aborted:
            self.aborted = True
            asyncio.get_running_loop().call_soon(self._protocol.connection_lost, None)


def on_fake_transport(sink: CallbackSink) -> tuple[AsyncioWire, RecordingTransport]:
    wire = AsyncioWire(sink)
    transport = RecordingTransport(wire)
    wire.connection_made(transport)
    return wire, transport


async def next_round() -> None:
    await asyncio.sleep(0)


class Boom(RuntimeError):
    pass


class FailingCallbackSink(CallbackSink):
    """A sink whose callbacks raise once, as a bug would."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    def data_received(self, data: bytes) -> None:
        if self.failing == "data_received":
            raise Boom("in data_received")
        super().data_received(data)

    def eof_received(self) -> None:
        if self.failing == "eof_received":
            raise Boom("in eof_received")
        super().eof_received()

    def transport_lost(self, loss: Loss) -> None:
        super().transport_lost(loss)
        if self.failing == "transport_lost" and len(self.endings) == 1:
            raise Boom("in transport_lost")


class FailingTransport(RecordingTransport):
    def write(self, data: Any) -> None:
        raise Boom("in write")


def drive(wire: AsyncioWire, callback: str) -> None:
    if callback == "data_received":
        wire.data_received(b"x")
    elif callback == "eof_received":
        wire.eof_received()
    elif callback == "connection_lost":
        wire.connection_lost(None)
    elif callback == "resume_writing":
        wire.pause_writing()
        wire.send(b"queued while paused")
        wire.resume_writing()
    else:
        raise AssertionError(callback)


class TestAsyncioWire:
    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"  # the wire under test is asyncio's own

    async def test_a_lone_frame_is_written_at_once(self) -> None:
        wire, transport = on_fake_transport(CallbackSink())
        wire.send(b"one")
        assert transport.writes == [b"one"]

    async def test_frames_sent_in_one_round_after_the_first_go_out_together_when_it_ends(
        self,
    ) -> None:
        wire, transport = on_fake_transport(CallbackSink())
        for n in range(100):
            wire.send(b"%d," % n)
        assert transport.writes == [b"0,"]
        await next_round()
        assert transport.writes == [b"0,", b"".join(b"%d," % n for n in range(1, 100))]

    async def test_after_bytes_arrive_the_next_frame_goes_out_at_once_again(self) -> None:
        sink = CallbackSink()
        wire, transport = on_fake_transport(sink)
        wire.send(b"request-1")
        wire.data_received(b"reply-1")
        wire.send(b"request-2")
        assert transport.writes == [b"request-1", b"request-2"]
        assert sink.chunks == [b"reply-1"]

    async def test_nothing_is_written_while_the_transport_is_paused_and_all_of_it_on_resume(
        self,
    ) -> None:
        wire, transport = on_fake_transport(CallbackSink())
        wire.pause_writing()
        wire.send(b"a")
        wire.send(b"b")
        await next_round()
        assert transport.writes == []
        wire.resume_writing()
        assert transport.writes == [b"ab"]

    async def test_garbage_from_the_peer_ends_the_wire_and_aborts_the_transport(self) -> None:
        sink = CallbackSink(reject=b"garbage")
        wire, transport = on_fake_transport(sink)
        wire.data_received(b"garbage")
        assert transport.aborted
        cause, reason = sink.endings[0]
        assert isinstance(cause, ProtocolError)
        assert "invalid data" in reason

    async def test_endings_are_reported_with_their_cause(self) -> None:
        sink = CallbackSink()
        wire, _ = on_fake_transport(sink)
        assert wire.eof_received() is False  # the transport closes itself
        assert sink.eofs == 1
        wire.connection_lost(None)
        wire.connection_lost(ConnectionResetError("reset"))
        (clean, clean_reason), (failed, failed_reason) = sink.endings
        assert isinstance(clean, anyio.EndOfStream)
        assert clean_reason == "the gateway closed the connection"
        assert isinstance(failed, ConnectionResetError)
        assert "transport failed" in failed_reason

    async def test_aclose_aborts_waits_for_the_transport_and_later_sends_are_dropped(self) -> None:
        sink = CallbackSink()
        wire, transport = on_fake_transport(sink)
        with anyio.fail_after(1):
            await wire.aclose()
        assert transport.aborted
        assert len(sink.endings) == 1
        wire.send(b"too late")
        await next_round()
        assert transport.writes == []
        with anyio.fail_after(1):
            await wire.aclose()  # again: nothing more to do

    @pytest.mark.parametrize(
        ("callback", "failing"),
        [
            ("data_received", "data_received"),
            ("eof_received", "eof_received"),
            ("connection_lost", "transport_lost"),
            ("resume_writing", "write"),
        ],
    )
    async def test_an_exception_in_a_transport_callback_fails_the_wire_with_its_story(
        self, callback: str, failing: str
    ) -> None:
        # Regression (issue 11, item 1): an exception escaping a protocol callback
        # is only logged by the event loop; the wire must fail itself instead,
        # saying which callback raised what, and still close.
        sink = FailingCallbackSink(failing)
        wire = AsyncioWire(sink)
        transport = (FailingTransport if failing == "write" else RecordingTransport)(wire)
        wire.connection_made(transport)
        drive(wire, callback)  # raises nothing into the event loop
        told = [reason for cause, reason in sink.endings if isinstance(cause, Boom)]
        assert told, sink.endings
        assert "Boom" in told[0]
        assert (callback if failing != "write" else "write") in told[0]
        with anyio.fail_after(1):
            await wire.aclose()  # closed, or closing: never a hang

    async def test_a_transport_that_is_not_an_asyncio_transport_is_accepted(self) -> None:
        # Regression (issue 11, item 1): uvloop's transports are not subclasses of
        # asyncio.Transport; connection_made asserted that they were.
        class DuckTransport:
            def __init__(self) -> None:
                self.writes: list[bytes] = []

            def write(self, data: bytes) -> None:
                self.writes.append(data)

            def is_closing(self) -> bool:
                return False

            def abort(self) -> None:
                pass

        sink = CallbackSink()
        wire = AsyncioWire(sink)
        transport = DuckTransport()
        wire.connection_made(transport)  # type: ignore[arg-type]
        wire.send(b"hello")
        assert transport.writes == [b"hello"]
        assert sink.endings == []

    async def test_an_object_that_cannot_be_written_to_fails_the_wire_in_connection_made(
        self,
    ) -> None:
        sink = CallbackSink()
        wire = AsyncioWire(sink)
        wire.connection_made(object())  # type: ignore[arg-type]
        cause, reason = sink.endings[0]
        assert "connection_made" in reason
        assert cause is not None

    async def test_frames_piling_up_for_a_peer_that_does_not_read_are_capped(self) -> None:
        sink = CallbackSink()
        wire, transport = on_fake_transport(sink)
        wire.pause_writing()
        assert wire.write_blocked_since is not None
        chunk = bytes(64 * 1024)
        for _ in range(MAX_UNSENT_BYTES // len(chunk) + 1):
            wire.send(chunk)
        assert transport.aborted
        (_cause, reason), *_ = sink.endings
        assert "not reading" in reason
        assert wire._unsent == 0  # dropped, not kept


# -- the stream wire on a fake socket stream -----------------------------------


class FakeSocket:
    """A non-blocking socket that takes at most ``room`` more bytes."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.sent: list[bytes] = []
        self.error: OSError | None = None
        self.family = socket.AF_INET

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 1)

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 2)

    def send(self, data: bytes) -> int:
        if self.error is not None:
            raise self.error
        taken = min(len(data), self.room)
        if not taken:
            raise BlockingIOError
        self.room -= taken
        self.sent.append(bytes(data[:taken]))
        return taken


class FakeSocketStream(anyio.abc.SocketStream):
    """Its async ``send`` (the writer's) waits for ``unblock`` and records what it sent."""

    def __init__(self, sock: FakeSocket) -> None:
        self.sock = sock
        self.writer_sends: list[bytes] = []
        self.writer_started = anyio.Event()
        self.unblock = anyio.Event()
        self.incoming, self._incoming = anyio.create_memory_object_stream[bytes](10)

    @property
    def _raw_socket(self) -> Any:
        return self.sock

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return await self._incoming.receive()

    async def send(self, item: bytes) -> None:
        self.writer_started.set()
        await self.unblock.wait()
        self.writer_sends.append(item)
        self.sock.sent.append(item)

    async def send_eof(self) -> None:
        pass

    async def aclose(self) -> None:
        self.incoming.close()
        self._incoming.close()


@asynccontextmanager
async def stream_wire(
    room: int,
) -> AsyncIterator[tuple[StreamWire, FakeSocketStream, CallbackSink]]:
    stream = FakeSocketStream(FakeSocket(room))
    sink = CallbackSink()
    wire = StreamWire(stream, sink)
    async with anyio.create_task_group() as tg:
        await tg.start(wire.run)
        with anyio.fail_after(5):
            yield wire, stream, sink
        await wire.aclose()


class TestStreamWire:
    @pytest.fixture
    def anyio_backend(self, runner: Runner) -> object:
        return runner.anyio_backend

    async def test_the_first_frame_is_sent_by_its_caller_and_later_ones_together_by_the_writer(
        self,
    ) -> None:
        async with stream_wire(room=100) as (wire, stream, _):
            stream.unblock.set()
            wire.send(b"a")
            assert stream.sock.sent == [b"a"]  # at once, in the caller
            wire.send(b"b")
            wire.send(b"c")
            await anyio.wait_all_tasks_blocked()
            assert stream.writer_sends == [b"bc"]
            await stream.incoming.send(b"reply")  # bytes arrived: the caller may send again
            await anyio.wait_all_tasks_blocked()
            wire.send(b"d")
            assert stream.sock.sent == [b"a", b"bc", b"d"]
            assert stream.writer_sends == [b"bc"]

    async def test_a_frame_sent_while_the_writer_sends_waits_for_it_even_if_the_socket_has_room(
        self,
    ) -> None:
        async with stream_wire(room=10) as (wire, stream, sink):
            wire.send(b"0123456789abcdef")  # the socket takes 10 bytes, the writer the rest
            await stream.writer_started.wait()
            await stream.incoming.send(b"reply")
            await anyio.wait_all_tasks_blocked()
            assert sink.chunks == [b"reply"]
            stream.sock.room = 100  # room again, but the writer is still in its send
            wire.send(b"next")
            stream.unblock.set()
            await anyio.wait_all_tasks_blocked()
            assert stream.sock.sent == [b"0123456789", b"abcdef", b"next"]
            assert sink.endings == []

    async def test_a_failed_send_by_the_caller_is_a_send_failure_and_closes_the_wire(
        self,
    ) -> None:
        async with stream_wire(room=100) as (wire, stream, sink):
            stream.sock.error = BrokenPipeError()
            wire.send(b"a")
            (cause, reason), *_ = sink.endings
            assert isinstance(cause, BrokenPipeError)
            assert reason.startswith("sending failed")
            wire.send(b"b")  # dropped, never raises
            assert stream.writer_sends == []
