"""The fault pipeline alone: replies in, what goes out (or not) checked, no sockets."""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from asyncquote._base.errors import FrameTooLargeError
from asyncquote._opend.framing import HEADER_SIZE, MAGIC, FrameDecoder, encode_frame
from asyncquote.sim import Faults
from asyncquote.sim._fault_pipeline import FaultPipeline, HangUp
from asyncquote.sim._faults import GARBAGE_SIZE, OVERSIZE_BODY_LEN

pytestmark = pytest.mark.anyio


class FakeOutbox:
    """Records what the pipeline does with the outbox."""

    def __init__(self) -> None:
        self.queued: list[bytes] = []
        self.sent: list[bytes] = []
        self.started: list[tuple[Callable[..., Any], tuple[object, ...]]] = []
        self.flushes = 0

    def put(self, data: bytes) -> None:
        self.queued.append(data)

    async def flush(self) -> None:
        self.flushes += 1
        self.sent.extend(self.queued)
        self.queued.clear()

    async def flush_quietly(self) -> None:
        await self.flush()

    async def send_quietly(self, data: bytes) -> None:
        self.put(data)
        await self.flush()

    def start(self, func: Callable[..., Coroutine[Any, Any, object]], *args: object) -> None:
        self.started.append((func, args))


def pipeline(**faults: Any) -> tuple[FaultPipeline, FakeOutbox]:
    outbox = FakeOutbox()
    return FaultPipeline(Faults(**faults), random.Random(1), outbox), outbox


def reply(serial_no: int, body: bytes = b"body") -> bytes:
    return encode_frame(1004, serial_no, body)


async def test_a_reply_the_faults_do_not_pick_is_queued_unchanged() -> None:
    faults, outbox = pipeline(duplicate=2)
    await faults.reply(1004, 1, reply(1))
    assert outbox.queued == [reply(1)]


async def test_duplicate_queues_the_reply_twice_back_to_back() -> None:
    faults, outbox = pipeline(duplicate=1)
    await faults.reply(1004, 1, reply(1))
    assert outbox.queued == [reply(1) + reply(1)]


async def test_corrupt_sha1_flips_every_bit_of_the_digest_and_keeps_the_body() -> None:
    faults, outbox = pipeline(corrupt_sha1=1)
    await faults.reply(1004, 7, reply(7))
    [sent] = FrameDecoder(verify_sha1=False).feed(outbox.queued[0])
    [original] = FrameDecoder().feed(reply(7))
    assert (sent.proto_id, sent.serial_no, sent.body) == (1004, 7, b"body")
    assert sent.body_sha1 == bytes(b ^ 0xFF for b in original.body_sha1)


async def test_unknown_serial_uses_a_serial_no_request_has_used() -> None:
    faults, outbox = pipeline(unknown_serial=1)
    taken = 5 + (1 << 31)  # the first candidate, half the serial space away
    for serial_no in (5, taken):
        faults.arrived(serial_no)
    await faults.reply(1004, 5, reply(5))
    [sent] = FrameDecoder().feed(outbox.queued[0])
    assert sent.serial_no == taken + 1
    assert sent.body == b"body"


async def test_garbage_replaces_the_reply_with_bytes_that_are_no_frame() -> None:
    faults, outbox = pipeline(garbage=1)
    await faults.reply(1004, 1, reply(1))
    [data] = outbox.queued
    assert len(data) == GARBAGE_SIZE
    assert not data.startswith(MAGIC)


async def test_oversize_sends_a_header_claiming_a_huge_body_then_falls_silent() -> None:
    faults, outbox = pipeline(oversize_after=1)
    await faults.reply(1004, 1, reply(1))
    await faults.reply(1004, 2, reply(2))
    await faults.reply(1004, 3, reply(3))
    first, header = outbox.queued
    assert first == reply(1)
    assert len(header) == HEADER_SIZE
    with pytest.raises(FrameTooLargeError, match=f"body of {OVERSIZE_BODY_LEN} bytes"):
        FrameDecoder().feed(header)


async def test_drop_after_sends_what_is_queued_then_hangs_up() -> None:
    faults, outbox = pipeline(drop_after=1)
    await faults.reply(1004, 1, reply(1))
    with pytest.raises(HangUp):
        await faults.reply(1004, 2, reply(2))
    assert outbox.sent == [reply(1)]


async def test_truncate_after_sends_half_a_reply_then_hangs_up() -> None:
    faults, outbox = pipeline(truncate_after=0)
    data = reply(1, b"0123456789")
    with pytest.raises(HangUp):
        await faults.reply(1004, 1, data)
    assert outbox.sent == [data[: HEADER_SIZE + 5]]


async def test_silence_after_queues_nothing_more() -> None:
    faults, outbox = pipeline(silence_after=1)
    for serial_no in (1, 2, 3):
        await faults.reply(1004, serial_no, reply(serial_no))
    assert outbox.queued == [reply(1)]


async def test_reorder_holds_a_batch_and_releases_it_reversed() -> None:
    faults, outbox = pipeline(reorder=3)
    for serial_no in (1, 2, 3, 4):
        await faults.reply(1004, serial_no, reply(serial_no))
    assert outbox.queued == [reply(3), reply(2), reply(1)]
    # The first batch and the second each started a timer for a partial batch.
    assert len(outbox.started) == 2
    faults.release()
    assert outbox.queued[3:] == [reply(4)]


async def test_reply_delay_hands_each_reply_to_a_task() -> None:
    faults, outbox = pipeline(reply_delay=0.5)
    await faults.reply(1004, 1, reply(1))
    assert outbox.queued == []
    [(_, args)] = outbox.started
    assert args == (0.5, reply(1))


async def test_handshake_reply_is_queued_or_held_back_by_handshake_delay() -> None:
    faults, outbox = pipeline(silence_after=0)
    await faults.handshake_reply(reply(1))
    assert outbox.queued == [reply(1)]
    faults, outbox = pipeline(handshake_delay=2.0)
    await faults.handshake_reply(reply(1))
    assert outbox.queued == []
    [(_, args)] = outbox.started
    assert args == (2.0, reply(1))
