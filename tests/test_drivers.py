"""Every driver, one suite: asyncio, uvloop and trio against one fake peer over loopback TCP.

The drivers only move bytes: these tests feed them a recording sink instead
of a connection, and check what the peer receives and what the sink hears.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

from asyncquote._loss import Loss, LossKind
from asyncquote._wire import MAX_UNSENT_BYTES, Wire, connect_wire, loss_for
from asyncquote.errors import BadMagicError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


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


async def test_bytes_go_both_ways_in_order() -> None:
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


async def test_the_peer_closing_is_an_end_of_stream_for_the_sink() -> None:
    async with wired(RecordingSink()) as pair:
        await pair.peer.aclose()
        with anyio.fail_after(5):
            await pair.sink.ended.wait()
        assert pair.sink.eofs == 1 or pair.sink.losses[0].kind is LossKind.PEER_CLOSED


async def test_garbage_makes_the_sink_abort_and_the_peer_sees_the_transport_closed() -> None:
    async with wired(RecordingSink(reject=b"garbage")) as pair:
        await pair.peer.send(b"garbage")
        await pair.peer_reads_until_closed()
        assert pair.sink.losses[0].kind is LossKind.INVALID_DATA
        pair.wire.send(b"too late")  # dropped, never raises


async def test_a_bug_in_the_sink_fails_the_wire_saying_where_and_closes_it() -> None:
    async with wired(RecordingSink(raise_on=b"boom")) as pair:
        await pair.peer.send(b"boom")
        await pair.peer_reads_until_closed()
        (loss, *_) = pair.sink.losses
        assert loss.kind is LossKind.INTERNAL_ERROR
        assert loss.where == "data_received"
        assert isinstance(loss.cause, ZeroDivisionError)


async def test_aclose_closes_the_transport_and_is_idempotent() -> None:
    async with wired(RecordingSink()) as pair:
        with anyio.fail_after(5):
            await pair.wire.aclose()
            await pair.wire.aclose()
        await pair.peer_reads_until_closed()


async def test_frames_piling_up_for_a_peer_that_does_not_read_are_capped() -> None:
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
    exc: BaseException | None, where: str, kind: LossKind
) -> None:
    loss = loss_for(exc, where)
    assert loss.kind is kind
    if exc is None:
        assert isinstance(loss.cause, anyio.EndOfStream)
    elif kind is LossKind.CLOSED_BY_CLIENT:
        assert loss.cause is None  # our own close: nothing failed
    else:
        assert loss.cause is exc
