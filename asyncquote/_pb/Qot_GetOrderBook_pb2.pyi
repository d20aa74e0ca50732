from . import Qot_Common_pb2 as _Qot_Common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class C2S(_message.Message):
    __slots__ = ("security", "num", "orderBookType", "header")
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    NUM_FIELD_NUMBER: _ClassVar[int]
    ORDERBOOKTYPE_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    security: _Qot_Common_pb2.Security
    num: int
    orderBookType: int
    header: _Qot_Common_pb2.QotHeader
    def __init__(self, security: _Optional[_Union[_Qot_Common_pb2.Security, _Mapping]] = ..., num: _Optional[int] = ..., orderBookType: _Optional[int] = ..., header: _Optional[_Union[_Qot_Common_pb2.QotHeader, _Mapping]] = ...) -> None: ...

class S2C(_message.Message):
    __slots__ = ("security", "name", "orderBookAskList", "orderBookBidList", "svrRecvTimeBid", "svrRecvTimeBidTimestamp", "svrRecvTimeAsk", "svrRecvTimeAskTimestamp", "orderBookType")
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORDERBOOKASKLIST_FIELD_NUMBER: _ClassVar[int]
    ORDERBOOKBIDLIST_FIELD_NUMBER: _ClassVar[int]
    SVRRECVTIMEBID_FIELD_NUMBER: _ClassVar[int]
    SVRRECVTIMEBIDTIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SVRRECVTIMEASK_FIELD_NUMBER: _ClassVar[int]
    SVRRECVTIMEASKTIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ORDERBOOKTYPE_FIELD_NUMBER: _ClassVar[int]
    security: _Qot_Common_pb2.Security
    name: str
    orderBookAskList: _containers.RepeatedCompositeFieldContainer[_Qot_Common_pb2.OrderBook]
    orderBookBidList: _containers.RepeatedCompositeFieldContainer[_Qot_Common_pb2.OrderBook]
    svrRecvTimeBid: str
    svrRecvTimeBidTimestamp: float
    svrRecvTimeAsk: str
    svrRecvTimeAskTimestamp: float
    orderBookType: int
    def __init__(self, security: _Optional[_Union[_Qot_Common_pb2.Security, _Mapping]] = ..., name: _Optional[str] = ..., orderBookAskList: _Optional[_Iterable[_Union[_Qot_Common_pb2.OrderBook, _Mapping]]] = ..., orderBookBidList: _Optional[_Iterable[_Union[_Qot_Common_pb2.OrderBook, _Mapping]]] = ..., svrRecvTimeBid: _Optional[str] = ..., svrRecvTimeBidTimestamp: _Optional[float] = ..., svrRecvTimeAsk: _Optional[str] = ..., svrRecvTimeAskTimestamp: _Optional[float] = ..., orderBookType: _Optional[int] = ...) -> None: ...

class Request(_message.Message):
    __slots__ = ("c2s",)
    C2S_FIELD_NUMBER: _ClassVar[int]
    c2s: C2S
    def __init__(self, c2s: _Optional[_Union[C2S, _Mapping]] = ...) -> None: ...

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
