"""Protocol ids and the protobuf classes that travel under them.

The connection deals in ``(proto_id, bytes)``; this module turns those bytes
into messages and back, and turns ``retType != 0`` into :class:`OpenDError`.
"""

from __future__ import annotations

import enum
from typing import Protocol, TypeVar

from google.protobuf.message import DecodeError, Message

from ._pb import (
    GetGlobalState_pb2,
    InitConnect_pb2,
    KeepAlive_pb2,
    Notify_pb2,
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
    Qot_ModifyUserSecurity_pb2,
)
from ._text import wire_text
from .errors import OpenDError, ProtocolError

__all__ = [
    "REQUEST_TYPES",
    "RESPONSE_TYPES",
    "ProtoId",
    "ResponseMessage",
    "check_response",
    "parse_message",
    "parse_response",
]


class ProtoId(enum.IntEnum):
    """Protocol ids asyncquote knows by name."""

    INIT_CONNECT = 1001
    GET_GLOBAL_STATE = 1002
    NOTIFY = 1003
    KEEP_ALIVE = 1004
    GET_USER_SECURITY = 3213
    MODIFY_USER_SECURITY = 3214
    GET_USER_SECURITY_GROUP = 3222


REQUEST_TYPES: dict[int, type[Message]] = {
    ProtoId.INIT_CONNECT: InitConnect_pb2.Request,
    ProtoId.GET_GLOBAL_STATE: GetGlobalState_pb2.Request,
    ProtoId.KEEP_ALIVE: KeepAlive_pb2.Request,
    ProtoId.GET_USER_SECURITY: Qot_GetUserSecurity_pb2.Request,
    ProtoId.MODIFY_USER_SECURITY: Qot_ModifyUserSecurity_pb2.Request,
    ProtoId.GET_USER_SECURITY_GROUP: Qot_GetUserSecurityGroup_pb2.Request,
}

RESPONSE_TYPES: dict[int, type[Message]] = {
    ProtoId.INIT_CONNECT: InitConnect_pb2.Response,
    ProtoId.GET_GLOBAL_STATE: GetGlobalState_pb2.Response,
    ProtoId.NOTIFY: Notify_pb2.Response,
    ProtoId.KEEP_ALIVE: KeepAlive_pb2.Response,
    ProtoId.GET_USER_SECURITY: Qot_GetUserSecurity_pb2.Response,
    ProtoId.MODIFY_USER_SECURITY: Qot_ModifyUserSecurity_pb2.Response,
    ProtoId.GET_USER_SECURITY_GROUP: Qot_GetUserSecurityGroup_pb2.Response,
}


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
