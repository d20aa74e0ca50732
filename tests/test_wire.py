"""The asyncio wire against a recording fake transport: batching, flow control, endings."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from asyncquote._loss import Loss
from asyncquote._wire import MAX_UNSENT_BYTES, AsyncioWire
from asyncquote.errors import BadMagicError, ProtocolError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the wire under test is asyncio's own


class RecordingSink:
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


def wired(sink: RecordingSink) -> tuple[AsyncioWire, RecordingTransport]:
    wire = AsyncioWire(sink)
    transport = RecordingTransport(wire)
    wire.connection_made(transport)
    return wire, transport


async def next_round() -> None:
    await asyncio.sleep(0)


async def test_a_lone_frame_is_written_at_once() -> None:
    wire, transport = wired(RecordingSink())
    wire.send(b"one")
    assert transport.writes == [b"one"]


async def test_frames_sent_in_one_round_after_the_first_go_out_together_when_it_ends() -> None:
    wire, transport = wired(RecordingSink())
    for n in range(100):
        wire.send(b"%d," % n)
    assert transport.writes == [b"0,"]
    await next_round()
    assert transport.writes == [b"0,", b"".join(b"%d," % n for n in range(1, 100))]


async def test_after_bytes_arrive_the_next_frame_goes_out_at_once_again() -> None:
    sink = RecordingSink()
    wire, transport = wired(sink)
    wire.send(b"request-1")
    wire.data_received(b"reply-1")
    wire.send(b"request-2")
    assert transport.writes == [b"request-1", b"request-2"]
    assert sink.chunks == [b"reply-1"]


async def test_nothing_is_written_while_the_transport_is_paused_and_all_of_it_on_resume() -> None:
    wire, transport = wired(RecordingSink())
    wire.pause_writing()
    wire.send(b"a")
    wire.send(b"b")
    await next_round()
    assert transport.writes == []
    wire.resume_writing()
    assert transport.writes == [b"ab"]


async def test_garbage_from_the_peer_ends_the_wire_and_aborts_the_transport() -> None:
    sink = RecordingSink(reject=b"garbage")
    wire, transport = wired(sink)
    wire.data_received(b"garbage")
    assert transport.aborted
    cause, reason = sink.endings[0]
    assert isinstance(cause, ProtocolError)
    assert "invalid data" in reason


async def test_endings_are_reported_with_their_cause() -> None:
    sink = RecordingSink()
    wire, _ = wired(sink)
    assert wire.eof_received() is False  # the transport closes itself
    assert sink.eofs == 1
    wire.connection_lost(None)
    wire.connection_lost(ConnectionResetError("reset"))
    (clean, clean_reason), (failed, failed_reason) = sink.endings
    assert isinstance(clean, anyio.EndOfStream)
    assert clean_reason == "the gateway closed the connection"
    assert isinstance(failed, ConnectionResetError)
    assert "transport failed" in failed_reason


async def test_aclose_aborts_waits_for_the_transport_and_later_sends_are_dropped() -> None:
    sink = RecordingSink()
    wire, transport = wired(sink)
    with anyio.fail_after(1):
        await wire.aclose()
    assert transport.aborted
    assert len(sink.endings) == 1
    wire.send(b"too late")
    await next_round()
    assert transport.writes == []
    with anyio.fail_after(1):
        await wire.aclose()  # again: nothing more to do


class Boom(RuntimeError):
    pass


class FailingSink(RecordingSink):
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
    callback: str, failing: str
) -> None:
    # Regression (issue 11, item 1): an exception escaping a protocol callback
    # is only logged by the event loop; the wire must fail itself instead,
    # saying which callback raised what, and still close.
    sink = FailingSink(failing)
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


async def test_a_transport_that_is_not_an_asyncio_transport_is_accepted() -> None:
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

    sink = RecordingSink()
    wire = AsyncioWire(sink)
    transport = DuckTransport()
    wire.connection_made(transport)  # type: ignore[arg-type]
    wire.send(b"hello")
    assert transport.writes == [b"hello"]
    assert sink.endings == []


async def test_an_object_that_cannot_be_written_to_fails_the_wire_in_connection_made() -> None:
    sink = RecordingSink()
    wire = AsyncioWire(sink)
    wire.connection_made(object())  # type: ignore[arg-type]
    cause, reason = sink.endings[0]
    assert "connection_made" in reason
    assert cause is not None


async def test_frames_piling_up_for_a_peer_that_does_not_read_are_capped() -> None:
    sink = RecordingSink()
    wire, transport = wired(sink)
    wire.pause_writing()
    assert wire.write_blocked_since is not None
    chunk = bytes(64 * 1024)
    for _ in range(MAX_UNSENT_BYTES // len(chunk) + 1):
        wire.send(chunk)
    assert transport.aborted
    (_cause, reason), *_ = sink.endings
    assert "not reading" in reason
    assert wire._unsent == 0  # dropped, not kept
