"""Parsing protobuf bodies, and turning ``retType != 0`` into :class:`OpenDError`.

The connection deals in ``(proto_id, bytes)``; this module turns those bytes
into messages. Protocol ids and the message types per id live in
:mod:`asyncquote._opend.vocabulary` (re-exported here).
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from google.protobuf.message import DecodeError, Message

from .._base.errors import OpenDError, ProtocolError
from .._base.text import wire_text

# Re-exported: they were always importable from here.
from .vocabulary import REQUEST_TYPES, RESPONSE_TYPES, ProtoId

__all__ = [
    "REQUEST_TYPES",
    "RESPONSE_TYPES",
    "ProtoId",
    "ResponseMessage",
    "Unfinished",
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
R = TypeVar("R")


class Unfinished(Generic[R]):
    """A reply decoded in part: :meth:`finish` decodes the rest.

    A decoder returns one instead of its result when the reply is too large
    to decode without holding up the event loop; :meth:`finish` goes on in
    slices and lets other tasks run between them.
    """

    __slots__ = ()

    async def finish(self) -> R:
        """Decode the rest of the reply and return the result."""
        raise NotImplementedError


def parse_message(
    message_type: type[M], body: bytes, *, proto_id: int = 0, check_required: bool = True
) -> M:
    """Parse ``body`` as ``message_type``.

    ``check_required=False`` leaves the proto2 ``required`` fields unchecked,
    for a caller that checks them itself more cheaply (the watchlist
    converters do: ``IsInitialized`` walks the whole message).

    Raises:
        ProtocolError: the bytes are not a valid message of that type
            (including a proto2 ``required`` field that is missing, when checked).
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
    if check_required and not message.IsInitialized():
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


def parse_response(
    response_type: type[M], body: bytes, *, proto_id: int, check_required: bool = True
) -> M:
    """Parse a reply body as ``response_type`` and check that it says success.

    ``check_required`` is as for :func:`parse_message`.

    Raises:
        ProtocolError: the bytes are not a valid ``response_type``.
        OpenDError: the response's ``retType`` is not 0.
    """
    response = parse_message(response_type, body, proto_id=proto_id, check_required=check_required)
    check_response(proto_id, response)  # type: ignore[arg-type]
    return response
