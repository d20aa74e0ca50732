"""Sans-I/O framing against golden frames, hostile streams and random splits."""

from __future__ import annotations

import hashlib
import struct
import tracemalloc
from collections.abc import Iterable, Sequence
from contextlib import suppress
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote._base.errors import (
    BadMagicError,
    ChecksumMismatchError,
    FrameTooLargeError,
    ProtocolError,
    TruncatedFrameError,
)
from asyncquote._opend.framing import HEADER_SIZE, Frame, FrameDecoder, encode_frame

from ..golden import VECTORS, Vector

U32_MAX = 2**32 - 1
STREAM = b"".join(v.frame for v in VECTORS)


def expected_frame(vector: Vector) -> Frame:
    """The frame a decoder must produce for ``vector``, from its header bytes."""
    return Frame(
        proto_id=vector.proto_id,
        serial_no=vector.serial_no,
        body=vector.body,
        body_sha1=vector.header[16:36],
        proto_fmt=0,
        proto_ver=0,
    )


EXPECTED = [expected_frame(v) for v in VECTORS]


def header(proto_id: int = 3213, serial_no: int = 1, body_len: int = 0) -> bytes:
    """A well-formed header announcing ``body_len`` bytes (digest of nothing)."""
    return struct.pack(
        "<2sIBBII20s8s",
        b"FT",
        proto_id,
        0,
        0,
        serial_no,
        body_len,
        hashlib.sha1(b"").digest(),
        bytes(8),
    )


def feed_all(decoder: FrameDecoder, chunks: Iterable[bytes]) -> list[Frame]:
    """Feed every chunk, then signal end of stream; return all frames."""
    frames: list[Frame] = []
    for chunk in chunks:
        frames += decoder.feed(chunk)
    decoder.close()
    return frames


def split(data: bytes, points: Sequence[int]) -> list[bytes]:
    """Cut ``data`` at the given offsets (any order, duplicates allowed)."""
    cuts = [0, *sorted(p % (len(data) + 1) for p in points), len(data)]
    return [data[a:b] for a, b in pairwise(cuts)]


# -- golden frames ----------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_encode_frame_reproduces_the_golden_bytes(vector: Vector) -> None:
    assert encode_frame(vector.proto_id, vector.serial_no, vector.body) == vector.frame


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_decoder_reads_the_golden_header_fields_and_body(vector: Vector) -> None:
    decoder = FrameDecoder()
    [frame] = decoder.feed(vector.frame)
    assert frame == expected_frame(vector)
    assert frame.body_sha1 == hashlib.sha1(vector.body).digest()
    assert decoder.buffered == 0


def test_decoder_accepts_one_byte_at_a_time() -> None:
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for i in range(len(STREAM)):
        frames += decoder.feed(STREAM[i : i + 1])
    decoder.close()
    assert frames == EXPECTED


def test_decoder_returns_many_frames_from_one_chunk() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(STREAM) == EXPECTED
    assert decoder.buffered == 0


def test_decoder_reassembles_a_frame_split_at_every_point() -> None:
    two = VECTORS[0].frame + VECTORS[1].frame
    for cut in range(len(two) + 1):
        assert feed_all(FrameDecoder(), [two[:cut], two[cut:]]) == EXPECTED[:2], cut


def test_decoder_keeps_a_partial_frame_buffered_until_the_rest_arrives() -> None:
    frame = VECTORS[0].frame
    decoder = FrameDecoder()
    assert decoder.feed(frame[:-1]) == []
    assert decoder.buffered == len(frame) - 1
    assert decoder.feed(frame[-1:]) == [EXPECTED[0]]
    assert decoder.buffered == 0


def test_empty_chunks_and_an_empty_stream_are_harmless() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    decoder.close()


def test_a_frame_with_an_empty_body_decodes() -> None:
    [frame] = FrameDecoder().feed(encode_frame(1004, 7, b""))
    assert frame == Frame(1004, 7, b"", hashlib.sha1(b"").digest())


# -- encoding ----------------------------------------------------------------


def test_encode_frame_hashes_the_plaintext_but_counts_the_wire_body() -> None:
    wire, plaintext = b"\x01" * 32, b"secret"
    data = encode_frame(3213, 9, wire, plaintext=plaintext, proto_fmt=1, proto_ver=2)
    fields = struct.unpack("<2sIBBII20s8s", data[:HEADER_SIZE])
    assert fields == (b"FT", 3213, 1, 2, 9, 32, hashlib.sha1(plaintext).digest(), bytes(8))
    assert data[HEADER_SIZE:] == wire
    # The receiver cannot check such a digest against the wire body...
    with pytest.raises(ChecksumMismatchError):
        FrameDecoder().feed(data)
    # ...so on encrypted connections it turns the check off and does it later.
    [frame] = FrameDecoder(verify_sha1=False).feed(data)
    assert frame == Frame(3213, 9, wire, hashlib.sha1(plaintext).digest(), 1, 2)


@pytest.mark.parametrize(
    "fields",
    [
        {"proto_id": -1},
        {"proto_id": U32_MAX + 1},
        {"serial_no": -1},
        {"serial_no": U32_MAX + 1},
        {"proto_fmt": 256},
        {"proto_fmt": -1},
        {"proto_ver": 256},
    ],
    ids=repr,
)
def test_encode_frame_rejects_header_fields_that_do_not_fit(fields: dict[str, int]) -> None:
    kwargs = {"proto_id": 1001, "serial_no": 1, **fields}
    with pytest.raises(ValueError, match=next(iter(fields))):
        encode_frame(body=b"", **kwargs)


def test_encode_frame_accepts_the_largest_header_values() -> None:
    data = encode_frame(U32_MAX, U32_MAX, b"x", proto_fmt=255, proto_ver=255)
    assert FrameDecoder().feed(data) == [
        Frame(U32_MAX, U32_MAX, b"x", hashlib.sha1(b"x").digest(), 255, 255)
    ]


# -- faults ------------------------------------------------------------------


def test_bad_magic_is_rejected() -> None:
    bad = b"XT" + VECTORS[0].frame[2:]
    with pytest.raises(BadMagicError, match="magic"):
        FrameDecoder().feed(bad)


def test_a_corrupted_body_fails_the_sha1_check() -> None:
    frame = bytearray(VECTORS[0].frame)
    frame[-1] ^= 0x01
    with pytest.raises(ChecksumMismatchError, match="SHA-1"):
        FrameDecoder().feed(bytes(frame))


def test_a_corrupted_digest_fails_the_sha1_check() -> None:
    frame = bytearray(VECTORS[0].frame)
    frame[20] ^= 0x80
    with pytest.raises(ChecksumMismatchError):
        FrameDecoder().feed(bytes(frame))


def test_oversize_length_is_rejected_from_the_header_alone() -> None:
    decoder = FrameDecoder(max_body_len=1024)
    with pytest.raises(FrameTooLargeError, match="4294967295"):
        decoder.feed(header(body_len=U32_MAX))
    assert decoder.buffered <= HEADER_SIZE


def test_oversize_length_is_rejected_without_allocating_it() -> None:
    # With the default cap, a header announcing 4 GiB must fail at once and
    # allocate nothing like the announced size.
    decoder = FrameDecoder()
    tracemalloc.start()
    try:
        with pytest.raises(FrameTooLargeError):
            decoder.feed(header(body_len=U32_MAX) + b"\x00" * 100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    assert decoder.buffered < 1024


def test_a_body_exactly_at_the_cap_is_accepted() -> None:
    data = encode_frame(3213, 1, b"x" * 16)
    assert len(FrameDecoder(max_body_len=16).feed(data)) == 1
    with pytest.raises(FrameTooLargeError):
        FrameDecoder(max_body_len=15).feed(data)


def test_a_negative_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="max_body_len"):
        FrameDecoder(max_body_len=-1)


@pytest.mark.parametrize("cut", [1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 1, -1])
def test_eof_mid_frame_raises_truncated_frame_error(cut: int) -> None:
    decoder = FrameDecoder()
    assert decoder.feed(VECTORS[0].frame[:cut]) == []
    with pytest.raises(TruncatedFrameError):
        decoder.close()


def test_good_frames_before_garbage_are_returned_and_the_error_comes_next_call() -> None:
    decoder = FrameDecoder()
    garbage = b"GARBAGE!" * 8
    assert decoder.feed(VECTORS[0].frame + VECTORS[1].frame + garbage) == EXPECTED[:2]
    with pytest.raises(BadMagicError):
        decoder.feed(b"")


def test_check_reports_a_fault_held_back_behind_good_frames_and_nothing_otherwise() -> None:
    decoder = FrameDecoder()
    decoder.feed(VECTORS[0].frame + VECTORS[1].frame[:10])
    decoder.check()  # a partial frame is not a fault
    decoder.feed(VECTORS[1].frame[10:] + b"GARBAGE!" * 8)
    with pytest.raises(BadMagicError):
        decoder.check()


@pytest.mark.parametrize(
    ("poison", "error"),
    [
        (b"XX" + bytes(60), BadMagicError),
        (header(body_len=1) + b"x", ChecksumMismatchError),
        (header(body_len=U32_MAX), FrameTooLargeError),
    ],
    ids=["bad-magic", "bad-sha1", "too-large"],
)
def test_decoder_stays_poisoned_after_an_error(poison: bytes, error: type[ProtocolError]) -> None:
    decoder = FrameDecoder(max_body_len=1024)
    with pytest.raises(error):
        decoder.feed(poison)
    # A valid frame afterwards cannot be trusted to be aligned: still an error.
    with pytest.raises(error):
        decoder.feed(VECTORS[0].frame)
    with pytest.raises(error):
        decoder.close()


def test_decoder_stays_poisoned_after_a_truncated_stream() -> None:
    decoder = FrameDecoder()
    decoder.feed(VECTORS[0].frame[:10])
    with pytest.raises(TruncatedFrameError):
        decoder.close()
    with pytest.raises(TruncatedFrameError):
        decoder.feed(VECTORS[0].frame)


# -- properties --------------------------------------------------------------

frames_strategy = st.lists(
    st.builds(
        lambda proto_id, serial_no, body, fmt, ver: Frame(
            proto_id, serial_no, body, hashlib.sha1(body).digest(), fmt, ver
        ),
        st.integers(0, U32_MAX),
        st.integers(0, U32_MAX),
        st.binary(max_size=300),
        st.integers(0, 255),
        st.integers(0, 255),
    ),
    max_size=8,
)
split_points = st.lists(st.integers(min_value=0), max_size=20)


def encode(frame: Frame) -> bytes:
    return encode_frame(
        frame.proto_id,
        frame.serial_no,
        frame.body,
        proto_fmt=frame.proto_fmt,
        proto_ver=frame.proto_ver,
    )


@given(frames=frames_strategy, points=split_points)
def test_any_valid_frames_split_anywhere_decode_identically(
    frames: list[Frame], points: list[int]
) -> None:
    stream = b"".join(encode(f) for f in frames)
    decoder = FrameDecoder()
    assert feed_all(decoder, split(stream, points)) == frames
    assert decoder.buffered == 0


@st.composite
def hostile_streams(draw: st.DrawFn) -> bytes:
    """Random bytes, or valid frames with bytes flipped, cut or inserted."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=400))
    data = bytearray(b"".join(encode(f) for f in draw(frames_strategy)))
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and pos < len(data):
            data[pos] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[pos:]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@given(
    stream=hostile_streams(),
    points=split_points,
    max_body_len=st.integers(0, 400),
    verify_sha1=st.booleans(),
)
def test_arbitrary_byte_streams_only_raise_protocol_errors(
    stream: bytes, points: list[int], max_body_len: int, verify_sha1: bool
) -> None:
    decoder = FrameDecoder(max_body_len=max_body_len, verify_sha1=verify_sha1)
    for chunk in split(stream, points):
        try:
            frames = decoder.feed(chunk)
        except ProtocolError:
            break
        for frame in frames:
            assert len(frame.body) <= max_body_len
    else:
        with suppress(ProtocolError):
            decoder.close()
