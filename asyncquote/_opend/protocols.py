"""OpenD's protocol ids and the protobuf messages that travel under them.

Part of OpenD's vocabulary (:mod:`asyncquote._opend` re-exports every name
here, the very same objects); apart only to keep that module short. Pure
data: no I/O, no event loop, no pydantic.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import ModuleType

from google.protobuf.message import Message

from .._pb import (
    GetGlobalState_pb2,
    InitConnect_pb2,
    KeepAlive_pb2,
    Notify_pb2,
    Qot_GetBasicQot_pb2,
    Qot_GetBroker_pb2,
    Qot_GetKL_pb2,
    Qot_GetOrderBook_pb2,
    Qot_GetRT_pb2,
    Qot_GetSecuritySnapshot_pb2,
    Qot_GetSubInfo_pb2,
    Qot_GetTicker_pb2,
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
    Qot_ModifyUserSecurity_pb2,
    Qot_RegQotPush_pb2,
    Qot_Sub_pb2,
    Qot_UpdateBasicQot_pb2,
    Qot_UpdateBroker_pb2,
    Qot_UpdateKL_pb2,
    Qot_UpdateOrderBook_pb2,
    Qot_UpdateRT_pb2,
    Qot_UpdateTicker_pb2,
)

__all__ = ["PUSH_PROTO_IDS", "REQUEST_TYPES", "RESPONSE_TYPES", "ProtoId", "RetType"]


class ProtoId(enum.IntEnum):
    """Protocol ids asyncquote knows by name (upper snake case of the protocol's name)."""

    INIT_CONNECT = 1001
    GET_GLOBAL_STATE = 1002
    NOTIFY = 1003
    KEEP_ALIVE = 1004
    SUB = 3001
    REG_QOT_PUSH = 3002
    GET_SUB_INFO = 3003
    GET_BASIC_QOT = 3004
    UPDATE_BASIC_QOT = 3005
    GET_KL = 3006
    UPDATE_KL = 3007
    GET_RT = 3008
    UPDATE_RT = 3009
    GET_TICKER = 3010
    UPDATE_TICKER = 3011
    GET_ORDER_BOOK = 3012
    UPDATE_ORDER_BOOK = 3013
    GET_BROKER = 3014
    UPDATE_BROKER = 3015
    GET_SECURITY_SNAPSHOT = 3203
    GET_USER_SECURITY = 3213
    MODIFY_USER_SECURITY = 3214
    GET_USER_SECURITY_GROUP = 3222


#: The protocols OpenD only pushes: they have a ``Response`` and no ``Request``.
PUSH_PROTO_IDS: frozenset[ProtoId] = frozenset(
    {
        ProtoId.NOTIFY,
        ProtoId.UPDATE_BASIC_QOT,
        ProtoId.UPDATE_KL,
        ProtoId.UPDATE_RT,
        ProtoId.UPDATE_TICKER,
        ProtoId.UPDATE_ORDER_BOOK,
        ProtoId.UPDATE_BROKER,
    }
)

# Each protocol's generated module: its Request and Response travel under the id.
_MODULES: Mapping[ProtoId, ModuleType] = {
    ProtoId.INIT_CONNECT: InitConnect_pb2,
    ProtoId.GET_GLOBAL_STATE: GetGlobalState_pb2,
    ProtoId.NOTIFY: Notify_pb2,
    ProtoId.KEEP_ALIVE: KeepAlive_pb2,
    ProtoId.SUB: Qot_Sub_pb2,
    ProtoId.REG_QOT_PUSH: Qot_RegQotPush_pb2,
    ProtoId.GET_SUB_INFO: Qot_GetSubInfo_pb2,
    ProtoId.GET_BASIC_QOT: Qot_GetBasicQot_pb2,
    ProtoId.UPDATE_BASIC_QOT: Qot_UpdateBasicQot_pb2,
    ProtoId.GET_KL: Qot_GetKL_pb2,
    ProtoId.UPDATE_KL: Qot_UpdateKL_pb2,
    ProtoId.GET_RT: Qot_GetRT_pb2,
    ProtoId.UPDATE_RT: Qot_UpdateRT_pb2,
    ProtoId.GET_TICKER: Qot_GetTicker_pb2,
    ProtoId.UPDATE_TICKER: Qot_UpdateTicker_pb2,
    ProtoId.GET_ORDER_BOOK: Qot_GetOrderBook_pb2,
    ProtoId.UPDATE_ORDER_BOOK: Qot_UpdateOrderBook_pb2,
    ProtoId.GET_BROKER: Qot_GetBroker_pb2,
    ProtoId.UPDATE_BROKER: Qot_UpdateBroker_pb2,
    ProtoId.GET_SECURITY_SNAPSHOT: Qot_GetSecuritySnapshot_pb2,
    ProtoId.GET_USER_SECURITY: Qot_GetUserSecurity_pb2,
    ProtoId.MODIFY_USER_SECURITY: Qot_ModifyUserSecurity_pb2,
    ProtoId.GET_USER_SECURITY_GROUP: Qot_GetUserSecurityGroup_pb2,
}

#: The ``Request`` message of each protocol a client sends (pushes have none).
REQUEST_TYPES: Mapping[int, type[Message]] = {
    proto_id: module.Request
    for proto_id, module in _MODULES.items()
    if proto_id not in PUSH_PROTO_IDS
}

#: The ``Response`` message of each protocol, the pushes' included.
RESPONSE_TYPES: Mapping[int, type[Message]] = {
    proto_id: module.Response for proto_id, module in _MODULES.items()
}


class RetType(enum.IntEnum):
    """``retType`` of every Response (``Common.RetType``): 0 is success."""

    OK = 0
    FAILED = -1
    TIMEOUT = -100
    DISCONNECTED = -200
    UNKNOWN = -400
    INVALID = -500
