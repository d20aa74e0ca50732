from . import Common_pb2 as _Common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotifyType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NotifyType_None: _ClassVar[NotifyType]
    NotifyType_GtwEvent: _ClassVar[NotifyType]
    NotifyType_ProgramStatus: _ClassVar[NotifyType]
    NotifyType_ConnStatus: _ClassVar[NotifyType]
    NotifyType_QotRight: _ClassVar[NotifyType]
    NotifyType_APILevel: _ClassVar[NotifyType]
    NotifyType_APIQuota: _ClassVar[NotifyType]
    NotifyType_UsedQuota: _ClassVar[NotifyType]
NotifyType_None: NotifyType
NotifyType_GtwEvent: NotifyType
NotifyType_ProgramStatus: NotifyType
NotifyType_ConnStatus: NotifyType
NotifyType_QotRight: NotifyType
NotifyType_APILevel: NotifyType
NotifyType_APIQuota: NotifyType
NotifyType_UsedQuota: NotifyType

class GtwEvent(_message.Message):
    __slots__ = ("eventType", "desc")
    EVENTTYPE_FIELD_NUMBER: _ClassVar[int]
    DESC_FIELD_NUMBER: _ClassVar[int]
    eventType: int
    desc: str
    def __init__(self, eventType: _Optional[int] = ..., desc: _Optional[str] = ...) -> None: ...

class ProgramStatus(_message.Message):
    __slots__ = ("programStatus",)
    PROGRAMSTATUS_FIELD_NUMBER: _ClassVar[int]
    programStatus: _Common_pb2.ProgramStatus
    def __init__(self, programStatus: _Optional[_Union[_Common_pb2.ProgramStatus, _Mapping]] = ...) -> None: ...

class ConnectStatus(_message.Message):
    __slots__ = ("qotLogined", "trdLogined")
    QOTLOGINED_FIELD_NUMBER: _ClassVar[int]
    TRDLOGINED_FIELD_NUMBER: _ClassVar[int]
    qotLogined: bool
    trdLogined: bool
    def __init__(self, qotLogined: bool = ..., trdLogined: bool = ...) -> None: ...

class QotRight(_message.Message):
    __slots__ = ("hkQotRight", "usQotRight", "cnQotRight", "hkOptionQotRight", "hasUSOptionQotRight", "hkFutureQotRight", "usFutureQotRight", "usOptionQotRight", "usIndexQotRight", "usOtcQotRight", "sgFutureQotRight", "jpFutureQotRight", "usCMEFutureQotRight", "usCBOTFutureQotRight", "usNYMEXFutureQotRight", "usCOMEXFutureQotRight", "usCBOEFutureQotRight", "shQotRight", "szQotRight", "ccQotRight", "sgStockQotRight", "myStockQotRight", "jpStockQotRight", "ecQotRight")
    HKQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    CNQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    HKOPTIONQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    HASUSOPTIONQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    HKFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USOPTIONQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USINDEXQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USOTCQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    SGFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    JPFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USCMEFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USCBOTFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USNYMEXFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USCOMEXFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    USCBOEFUTUREQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    SHQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    SZQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    CCQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    SGSTOCKQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    MYSTOCKQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    JPSTOCKQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    ECQOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    hkQotRight: int
    usQotRight: int
    cnQotRight: int
    hkOptionQotRight: int
    hasUSOptionQotRight: bool
    hkFutureQotRight: int
    usFutureQotRight: int
    usOptionQotRight: int
    usIndexQotRight: int
    usOtcQotRight: int
    sgFutureQotRight: int
    jpFutureQotRight: int
    usCMEFutureQotRight: int
    usCBOTFutureQotRight: int
    usNYMEXFutureQotRight: int
    usCOMEXFutureQotRight: int
    usCBOEFutureQotRight: int
    shQotRight: int
    szQotRight: int
    ccQotRight: int
    sgStockQotRight: int
    myStockQotRight: int
    jpStockQotRight: int
    ecQotRight: int
    def __init__(self, hkQotRight: _Optional[int] = ..., usQotRight: _Optional[int] = ..., cnQotRight: _Optional[int] = ..., hkOptionQotRight: _Optional[int] = ..., hasUSOptionQotRight: bool = ..., hkFutureQotRight: _Optional[int] = ..., usFutureQotRight: _Optional[int] = ..., usOptionQotRight: _Optional[int] = ..., usIndexQotRight: _Optional[int] = ..., usOtcQotRight: _Optional[int] = ..., sgFutureQotRight: _Optional[int] = ..., jpFutureQotRight: _Optional[int] = ..., usCMEFutureQotRight: _Optional[int] = ..., usCBOTFutureQotRight: _Optional[int] = ..., usNYMEXFutureQotRight: _Optional[int] = ..., usCOMEXFutureQotRight: _Optional[int] = ..., usCBOEFutureQotRight: _Optional[int] = ..., shQotRight: _Optional[int] = ..., szQotRight: _Optional[int] = ..., ccQotRight: _Optional[int] = ..., sgStockQotRight: _Optional[int] = ..., myStockQotRight: _Optional[int] = ..., jpStockQotRight: _Optional[int] = ..., ecQotRight: _Optional[int] = ...) -> None: ...

class APILevel(_message.Message):
    __slots__ = ("apiLevel",)
    APILEVEL_FIELD_NUMBER: _ClassVar[int]
    apiLevel: str
    def __init__(self, apiLevel: _Optional[str] = ...) -> None: ...

class APIQuota(_message.Message):
    __slots__ = ("subQuota", "historyKLQuota")
    SUBQUOTA_FIELD_NUMBER: _ClassVar[int]
    HISTORYKLQUOTA_FIELD_NUMBER: _ClassVar[int]
    subQuota: int
    historyKLQuota: int
    def __init__(self, subQuota: _Optional[int] = ..., historyKLQuota: _Optional[int] = ...) -> None: ...

class UsedQuota(_message.Message):
    __slots__ = ("usedSubQuota", "usedKLineQuota")
    USEDSUBQUOTA_FIELD_NUMBER: _ClassVar[int]
    USEDKLINEQUOTA_FIELD_NUMBER: _ClassVar[int]
    usedSubQuota: int
    usedKLineQuota: int
    def __init__(self, usedSubQuota: _Optional[int] = ..., usedKLineQuota: _Optional[int] = ...) -> None: ...

class S2C(_message.Message):
    __slots__ = ("type", "event", "programStatus", "connectStatus", "qotRight", "apiLevel", "apiQuota", "usedQuota")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PROGRAMSTATUS_FIELD_NUMBER: _ClassVar[int]
    CONNECTSTATUS_FIELD_NUMBER: _ClassVar[int]
    QOTRIGHT_FIELD_NUMBER: _ClassVar[int]
    APILEVEL_FIELD_NUMBER: _ClassVar[int]
    APIQUOTA_FIELD_NUMBER: _ClassVar[int]
    USEDQUOTA_FIELD_NUMBER: _ClassVar[int]
    type: int
    event: GtwEvent
    programStatus: ProgramStatus
    connectStatus: ConnectStatus
    qotRight: QotRight
    apiLevel: APILevel
    apiQuota: APIQuota
    usedQuota: UsedQuota
    def __init__(self, type: _Optional[int] = ..., event: _Optional[_Union[GtwEvent, _Mapping]] = ..., programStatus: _Optional[_Union[ProgramStatus, _Mapping]] = ..., connectStatus: _Optional[_Union[ConnectStatus, _Mapping]] = ..., qotRight: _Optional[_Union[QotRight, _Mapping]] = ..., apiLevel: _Optional[_Union[APILevel, _Mapping]] = ..., apiQuota: _Optional[_Union[APIQuota, _Mapping]] = ..., usedQuota: _Optional[_Union[UsedQuota, _Mapping]] = ...) -> None: ...

class Response(_message.Message):
    __slots__ = ("retType", "retMsg", "errCode", "s2c")
    RETTYPE_FIELD_NUMBER: _ClassVar[int]
    RETMSG_FIELD_NUMBER: _ClassVar[int]
    ERRCODE_FIELD_NUMBER: _ClassVar[int]
    S2C_FIELD_NUMBER: _ClassVar[int]
    retType: int
    retMsg: str
    errCode: int
    s2c: S2C
    def __init__(self, retType: _Optional[int] = ..., retMsg: _Optional[str] = ..., errCode: _Optional[int] = ..., s2c: _Optional[_Union[S2C, _Mapping]] = ...) -> None: ...
