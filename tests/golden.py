"""Golden frames from an independent implementation, in ``tests/data/frames.json``.

Each vector is one whole frame (header + body) plus the message it carries as
protobuf JSON. The file is a copy of the team's shared vectors so that a clone
of the project tests on its own.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from asyncquote._opend.framing import HEADER_SIZE

FRAMES_JSON = Path(__file__).parent / "data" / "frames.json"


@dataclass(frozen=True)
class Vector:
    """One golden frame."""

    name: str
    proto_id: int
    serial_no: int
    direction: str
    message_type: str
    """Protobuf full name, e.g. ``"Qot_GetUserSecurity.Response"``."""
    json: dict[str, Any]
    """The message in protobuf's JSON mapping."""
    frame: bytes

    @property
    def header(self) -> bytes:
        return self.frame[:HEADER_SIZE]

    @property
    def body(self) -> bytes:
        return self.frame[HEADER_SIZE:]

    def message_class(self) -> type[Message]:
        """Our generated class for this vector's ``message_type``."""
        package, _, name = self.message_type.partition(".")
        module = importlib.import_module(f"asyncquote._pb.{package}_pb2")
        cls: type[Message] = getattr(module, name)
        return cls

    def message(self) -> Message:
        """The body parsed with our generated class."""
        message = self.message_class()()
        message.ParseFromString(self.body)
        return message

    def __str__(self) -> str:  # readable pytest ids
        return self.name


def _load() -> list[Vector]:
    raw = json.loads(FRAMES_JSON.read_text(encoding="utf-8"))["vectors"]
    return [
        Vector(
            name=v["name"],
            proto_id=v["proto_id"],
            serial_no=v["serial_no"],
            direction=v["direction"],
            message_type=v["message_type"],
            json=v["json"],
            frame=bytes.fromhex(v["frame_hex"]),
        )
        for v in raw
    ]


VECTORS: list[Vector] = _load()
BY_NAME: dict[str, Vector] = {v.name: v for v in VECTORS}
