from . import Qot_Common_pb2 as _Qot_Common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class S2C(_message.Message):
    __slots__ = ("security", "name", "rtList")
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RTLIST_FIELD_NUMBER: _ClassVar[int]
    security: _Qot_Common_pb2.Security
    name: str
    rtList: _containers.RepeatedCompositeFieldContainer[_Qot_Common_pb2.TimeShare]
    def __init__(self, security: _Optional[_Union[_Qot_Common_pb2.Security, _Mapping]] = ..., name: _Optional[str] = ..., rtList: _Optional[_Iterable[_Union[_Qot_Common_pb2.TimeShare, _Mapping]]] = ...) -> None: ...

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
