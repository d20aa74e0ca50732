"""Parsing protobuf bodies, and turning ``retType != 0`` into :class:`OpenDError`.

The connection deals in ``(proto_id, bytes)``; this module turns those bytes
into messages. Protocol ids and the message types per id live in
:mod:`asyncquote._opend` (re-exported here).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from google.protobuf.message import DecodeError, Message

from ._errors import OpenDError, ProtocolError

# Re-exported: they were always importable from here.
from ._opend import REQUEST_TYPES, RESPONSE_TYPES, ProtoId
from ._text import wire_text

__all__ = [
    "REQUEST_TYPES",
    "RESPONSE_TYPES",
    "ProtoId",
    "ResponseMessage",
    "check_response",
    "parse_message",
    "parse_response",
]


class ResponseMessage(Protocol):
    """The fields every OpenD ``Response`` message shares."""

    @property
    def retType(self) -> int: ...
    @property
    def retMsg(self) -> str: ...
    @property
    def errCode(self) -> int: ...


M = TypeVar("M", bound=Message)


def parse_message(message_type: type[M], body: bytes, *, proto_id: int = 0) -> M:
    """Parse ``body`` as ``message_type``.

    Raises:
        ProtocolError: the bytes are not a valid message of that type
            (including a proto2 ``required`` field that is missing).
    """
    message = message_type()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise ProtocolError(
            f"malformed {message_type.DESCRIPTOR.full_name} in protocol {proto_id} body: {exc}"
        ) from exc
    # ParseFromString accepts a message whose proto2 `required` fields are
    # missing; the rest of the library relies on them being present.
    if not message.IsInitialized():
        # FindInitializationErrors exists on every runtime but not in the stubs.
        missing = ", ".join(message.FindInitializationErrors())  # type: ignore[attr-defined]
        raise ProtocolError(
            f"{message_type.DESCRIPTOR.full_name} in protocol {proto_id} body "
            f"lacks required fields: {missing}"
        )
    return message


def check_response(proto_id: int, response: ResponseMessage) -> None:
    """Raise :class:`OpenDError` unless the response says success.

    A ``retMsg`` that is not UTF-8 is decoded with U+FFFD for the bad bytes.
    """
    if response.retType != 0:
        raise OpenDError(response.retType, response.errCode, wire_text(response.retMsg), proto_id)


def parse_response(response_type: type[M], body: bytes, *, proto_id: int) -> M:
    """Parse a reply body as ``response_type`` and check that it says success.

    Raises:
        ProtocolError: the bytes are not a valid ``response_type``.
        OpenDError: the response's ``retType`` is not 0.
    """
    response = parse_message(response_type, body, proto_id=proto_id)
    check_response(proto_id, response)  # type: ignore[arg-type]
    return response
