"""OpenD framing, sans-I/O: frames in, bytes out; bytes in, frames out.

A frame is a 44-byte little-endian header followed by the body::

    magic "FT" | proto_id u32 | fmt u8 | ver u8 | serial u32 | body_len u32
    | sha1(plaintext body) 20 bytes | 8 reserved bytes

This module knows nothing of sockets, event loops or protobuf, so it can be
tested with plain bytes and reused by the client and the simulator alike.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from .._base.errors import (
    BadMagicError,
    ChecksumMismatchError,
    FrameTooLargeError,
    TruncatedFrameError,
)

__all__ = [
    "DEFAULT_MAX_BODY_LEN",
    "HEADER_SIZE",
    "MAGIC",
    "Frame",
    "FrameDecoder",
    "encode_frame",
    "replace_header",
]

MAGIC = b"FT"
_HEADER = struct.Struct("<2sIBBII20s8s")
HEADER_SIZE = _HEADER.size  # 44
_RESERVED = bytes(8)
_U32_MAX = 0xFFFF_FFFF

#: Largest body a decoder accepts unless told otherwise. OpenD's biggest real
#: replies (full watchlists, long K-line pages) are a few MiB.
DEFAULT_MAX_BODY_LEN = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    ``body`` is the body as it travelled on the wire; ``body_sha1`` is the
    digest from the header, which is of the *plaintext* body (the two differ
    only on encrypted connections).
    """

    proto_id: int
    serial_no: int
    body: bytes
    body_sha1: bytes
    proto_fmt: int = 0
    proto_ver: int = 0


# The slot descriptors of Frame's fields; see _new_frame.
_set_proto_id = Frame.__dict__["proto_id"].__set__
_set_serial_no = Frame.__dict__["serial_no"].__set__
_set_body = Frame.__dict__["body"].__set__
_set_body_sha1 = Frame.__dict__["body_sha1"].__set__
_set_proto_fmt = Frame.__dict__["proto_fmt"].__set__
_set_proto_ver = Frame.__dict__["proto_ver"].__set__


def _new_frame(
    proto_id: int, serial_no: int, body: bytes, body_sha1: bytes, proto_fmt: int, proto_ver: int
) -> Frame:
    """``Frame(...)``, at about half the cost, for the decoder's inner loop.

    A frozen dataclass's ``__init__`` goes through ``object.__setattr__`` once
    per field; writing the slots through their descriptors gives the same
    instance without the detour.
    """
    frame: Frame = object.__new__(Frame)
    _set_proto_id(frame, proto_id)
    _set_serial_no(frame, serial_no)
    _set_body(frame, body)
    _set_body_sha1(frame, body_sha1)
    _set_proto_fmt(frame, proto_fmt)
    _set_proto_ver(frame, proto_ver)
    return frame


def encode_frame(
    proto_id: int,
    serial_no: int,
    body: bytes,
    *,
    plaintext: bytes | None = None,
    proto_fmt: int = 0,
    proto_ver: int = 0,
) -> bytes:
    """Return header + body for one frame.

    ``body`` is what goes on the wire. On an encrypted connection pass the
    unencrypted body as ``plaintext``: the header's SHA-1 is always of the
    plaintext, while ``body_len`` is of what is sent.
    """
    if not (
        0 <= proto_id <= _U32_MAX
        and 0 <= serial_no <= _U32_MAX
        and 0 <= proto_fmt <= 0xFF
        and 0 <= proto_ver <= 0xFF
        and len(body) <= _U32_MAX
    ):
        # Slow path only to name the culprit; the check above is per frame.
        for name, value, limit in (
            ("proto_id", proto_id, _U32_MAX),
            ("serial_no", serial_no, _U32_MAX),
            ("proto_fmt", proto_fmt, 0xFF),
            ("proto_ver", proto_ver, 0xFF),
            ("body length", len(body), _U32_MAX),
        ):
            if not 0 <= value <= limit:
                raise ValueError(f"{name} {value} does not fit in the header (0..{limit})")
    digest = hashlib.sha1(body if plaintext is None else plaintext).digest()
    header = _HEADER.pack(
        MAGIC, proto_id, proto_fmt, proto_ver, serial_no, len(body), digest, _RESERVED
    )
    return header + body


def replace_header(
    data: bytes,
    *,
    serial_no: int | None = None,
    body_len: int | None = None,
    flip_sha1: bool = False,
) -> bytes:
    """``data``, one encoded frame, with header fields changed and the body untouched.

    For a peer that must send malformed frames on purpose (the simulator's
    fault injection): another serial number, a body length that does not
    match the body, or a SHA-1 with every bit flipped.
    """
    magic, proto_id, fmt, ver, serial, length, digest, reserved = _HEADER.unpack_from(data)
    if flip_sha1:
        digest = bytes(b ^ 0xFF for b in digest)
    header = _HEADER.pack(
        magic,
        proto_id,
        fmt,
        ver,
        serial if serial_no is None else serial_no,
        length if body_len is None else body_len,
        digest,
        reserved,
    )
    return header + data[HEADER_SIZE:]


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, get whole frames back.

    Chunks may split frames anywhere, or carry many frames at once. The body
    length is checked against ``max_body_len`` as soon as a header is
    complete, before any of the body is buffered, so a hostile length cannot
    make us allocate it.

    After an error the decoder is poisoned: the stream can no longer be
    trusted to be aligned on frame boundaries, so every later call raises the
    same error.

    Args:
        max_body_len: cap on a single frame's body, in bytes.
        verify_sha1: check each body against the header's digest. Turn it off
            on encrypted connections, where the digest is of the plaintext and
            the caller checks it after decrypting.
    """

    def __init__(
        self, *, max_body_len: int = DEFAULT_MAX_BODY_LEN, verify_sha1: bool = True
    ) -> None:
        if max_body_len < 0:
            raise ValueError("max_body_len must be >= 0")
        self._max_body_len = max_body_len
        self._verify_sha1 = verify_sha1
        self._buffer = bytearray()
        self._error: Exception | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as part of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every frame it completes, in order.

        If the chunk holds good frames followed by a fault, the good frames are
        returned and the fault is raised by the next call.

        Raises:
            BadMagicError, ChecksumMismatchError, FrameTooLargeError: the bytes
                are not a frame (or a fault found in an earlier chunk).
        """
        if self._error is not None:
            raise self._stored_error()
        buf = self._buffer
        chunk: bytes | bytearray
        if not buf and type(data) is bytes:
            # Nothing left over from the last chunk (the usual case): read
            # frames straight from this one, sparing a copy into the buffer
            # and a second copy of every body out of it.
            chunk = data
        else:
            buf += data
            chunk = buf
        frames: list[Frame] = []
        offset = 0
        end = len(chunk)
        max_body_len = self._max_body_len
        verify_sha1 = self._verify_sha1
        try:
            while end - offset >= HEADER_SIZE:
                magic, proto_id, fmt, ver, serial, body_len, digest, _ = _HEADER.unpack_from(
                    chunk, offset
                )
                if magic != MAGIC:
                    raise BadMagicError(f"bad frame magic {bytes(magic)!r}, expected {MAGIC!r}")
                if body_len > max_body_len:
                    raise FrameTooLargeError(
                        f"frame body of {body_len} bytes exceeds the "
                        f"{max_body_len}-byte limit (proto {proto_id}, serial {serial})"
                    )
                body_start = offset + HEADER_SIZE
                body_end = body_start + body_len
                if body_end > end:
                    break
                if chunk is buf:
                    body = bytes(buf[body_start:body_end])
                else:
                    body = data[body_start:body_end]
                if verify_sha1 and hashlib.sha1(body).digest() != digest:
                    raise ChecksumMismatchError(
                        f"SHA-1 mismatch in frame body (proto {proto_id}, serial {serial})"
                    )
                frames.append(_new_frame(proto_id, serial, body, digest, fmt, ver))
                offset = body_end
        except (BadMagicError, FrameTooLargeError, ChecksumMismatchError) as exc:
            self._error = exc
            # Frames completed before the fault are good: hand them over and
            # report the fault on the next call.
            if not frames:
                raise
        finally:
            if chunk is buf:
                if offset:
                    del buf[:offset]
            elif offset < end:
                buf += memoryview(chunk)[offset:]
        return frames

    def check(self) -> None:
        """Raise the fault found in an earlier chunk, if any.

        :meth:`feed` hands over the good frames that precede a fault and
        keeps the fault for its next call; call this after dispatching them
        to learn of it without waiting for more data.

        Raises:
            BadMagicError, ChecksumMismatchError, FrameTooLargeError: the fault
                :meth:`feed` found.
            TruncatedFrameError: likewise.
        """
        if self._error is not None:
            raise self._stored_error()

    def _stored_error(self) -> Exception:
        # A fresh instance each time, so repeated calls do not pile tracebacks
        # onto one shared exception object.
        assert self._error is not None
        again = type(self._error)(*self._error.args)
        again.__cause__ = self._error
        return again

    def close(self) -> None:
        """Signal end of stream.

        Raises:
            TruncatedFrameError: if a partial frame is still buffered.
        """
        if self._error is not None:
            raise self._stored_error()
        if self._buffer:
            pending = len(self._buffer)
            self._buffer.clear()
            self._error = TruncatedFrameError(
                f"stream ended {pending} bytes into an incomplete frame"
            )
            raise self._error
