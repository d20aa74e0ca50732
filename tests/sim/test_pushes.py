"""A connection's push writer alone, over an in-memory stream whose sends can be held."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.lowlevel
import pytest

from asyncquote._opend.framing import FrameDecoder, encode_frame
from asyncquote._pb import InitConnect_pb2

from .rawclient import INIT_CONNECT, NOTIFY
from .test_peer import ScriptedStream, make_peer

pytestmark = pytest.mark.anyio


class HeldStream(ScriptedStream):
    """Hands out its chunks, then waits for :meth:`end`; a send can be held at :attr:`hold`."""

    def __init__(self, *chunks: bytes) -> None:
        super().__init__(*chunks)
        self.hold: anyio.Event | None = None
        self.holding = anyio.Event()
        self._ended = anyio.Event()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if self._chunks:
            return self._chunks.popleft()
        await self._ended.wait()
        raise anyio.EndOfStream

    async def send(self, item: bytes) -> None:
        hold, self.hold = self.hold, None
        if hold is not None:
            self.holding.set()
            await hold.wait()
        self.sends.append(item)

    def end(self) -> None:
        self._ended.set()

    def pushes(self) -> list[bytes]:
        frames = FrameDecoder().feed(b"".join(self.sends))
        return [frame.body for frame in frames if frame.proto_id == NOTIFY]


def init_connect_asking_for_pushes() -> bytes:
    c2s = InitConnect_pb2.C2S(clientVer=1, clientID="tests", packetEncAlgo=-1, recvNotify=True)
    return encode_frame(INIT_CONNECT, 1, InitConnect_pb2.Request(c2s=c2s).SerializeToString())


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await anyio.lowlevel.checkpoint()


async def test_a_push_queued_while_the_writer_sends_goes_out_without_another_push() -> None:
    stream = HeldStream(init_connect_asking_for_pushes())
    peer, _ = make_peer(stream)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(peer.run)
            await until(lambda: len(stream.sends) == 1)  # the InitConnect reply
            hold = stream.hold = anyio.Event()
            assert peer.notify(b"first")
            await stream.holding.wait()  # the writer is sending "first"
            assert peer.notify(b"second")
            hold.set()
            # "second" needs no third push (nor a request) to be sent.
            await until(lambda: stream.pushes() == [b"first", b"second"])
            stream.end()


async def test_pushes_beyond_the_backlog_are_refused_until_the_client_reads() -> None:
    stream = HeldStream(init_connect_asking_for_pushes())
    peer, _ = make_peer(stream)
    peer._push_backlog = 2
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(peer.run)
            await until(lambda: len(stream.sends) == 1)
            hold = stream.hold = anyio.Event()
            assert peer.notify(b"1")
            await stream.holding.wait()  # "1" is being sent: the client is not reading
            assert [peer.notify(b"2"), peer.notify(b"3"), peer.notify(b"4")] == [
                True,
                True,
                False,
            ]
            hold.set()
            await until(lambda: stream.pushes() == [b"1", b"2", b"3"])
            assert peer.notify(b"5")  # room again once sent
            await until(lambda: stream.pushes() == [b"1", b"2", b"3", b"5"])
            stream.end()
