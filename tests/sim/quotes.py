"""Live-quote requests and pushes over a raw client, for the simulator's quote tests.

Built on :mod:`.rawclient` (or its encrypted subclass) only, not on the
asyncquote client: replies are matched by serial number and every push that
arrives before a reply is kept, in order, for the test to look at.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TypeVar

from google.protobuf.message import Message

from asyncquote._opend.framing import Frame
from asyncquote._opend.vocabulary import parse_code
from asyncquote._pb import (
    KeepAlive_pb2,
    Qot_Common_pb2,
    Qot_GetBasicQot_pb2,
    Qot_GetOrderBook_pb2,
    Qot_GetSecuritySnapshot_pb2,
    Qot_GetSubInfo_pb2,
    Qot_RegQotPush_pb2,
    Qot_Sub_pb2,
    Qot_UpdateBasicQot_pb2,
    Qot_UpdateOrderBook_pb2,
)

from .rawclient import KEEP_ALIVE, RawClient

M = TypeVar("M", bound=Message)

SUB = 3001
REG_QOT_PUSH = 3002
GET_SUB_INFO = 3003
GET_BASIC_QOT = 3004
UPDATE_BASIC_QOT = 3005
GET_ORDER_BOOK = 3012
UPDATE_ORDER_BOOK = 3013
GET_SECURITY_SNAPSHOT = 3203
QUOTE, ORDER_BOOK, TICKER = 1, 2, 4
ORDER_BOOK_ODD = 22


def securities(codes: Sequence[str]) -> list[Qot_Common_pb2.Security]:
    keys = [parse_code(code) for code in codes]
    return [Qot_Common_pb2.Security(market=market, code=code) for market, code in keys]


def sub_request(
    codes: Sequence[str],
    sub_types: Sequence[int],
    *,
    subscribe: bool = True,
    push: bool | None = True,
    first_push: bool | None = None,
    unsub_all: bool = False,
    **options: object,
) -> Qot_Sub_pb2.Request:
    """A 3001 request; ``None`` leaves an optional flag out; ``options`` are more C2S
    fields (``extendedTime``, ``session``, ``regPushRehabTypeList``)."""
    c2s = Qot_Sub_pb2.C2S(
        securityList=securities(codes),
        subTypeList=sub_types,
        isSubOrUnSub=subscribe,
        **options,  # type: ignore[arg-type]
    )
    if push is not None:
        c2s.isRegOrUnRegPush = push
    if first_push is not None:
        c2s.isFirstPush = first_push
    if unsub_all:
        c2s.isUnsubAll = True
    return Qot_Sub_pb2.Request(c2s=c2s)


class QuoteClient:
    """A raw client's quote requests; pushes that arrive meanwhile are kept in :attr:`pushes`."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self.pushes: deque[Frame] = deque()

    async def call(self, proto_id: int, message: Message, response_type: type[M]) -> M:
        """Send a request; read frames, keeping pushes, until its reply."""
        serial_no = await self.client.send(proto_id, message)
        while True:
            frame = await self.client.receive()
            if frame.serial_no == serial_no and frame.proto_id == proto_id:
                return response_type.FromString(frame.body)
            assert frame.serial_no == 0, f"a reply to something else: {frame}"
            self.pushes.append(frame)

    async def next_push(self) -> Frame:
        """The oldest push kept, or the next to arrive."""
        if self.pushes:
            return self.pushes.popleft()
        frame = await self.client.receive()
        assert frame.serial_no == 0, f"not a push: {frame}"
        return frame

    async def quote_push(self) -> Qot_Common_pb2.BasicQot:
        """The next push, which must be a 3005 of one security."""
        frame = await self.next_push()
        assert frame.proto_id == UPDATE_BASIC_QOT, frame
        response = Qot_UpdateBasicQot_pb2.Response.FromString(frame.body)
        assert response.retType == 0
        (quote,) = response.s2c.basicQotList
        return quote

    async def book_push(self) -> Qot_UpdateOrderBook_pb2.S2C:
        """The next push, which must be a 3013."""
        frame = await self.next_push()
        assert frame.proto_id == UPDATE_ORDER_BOOK, frame
        response = Qot_UpdateOrderBook_pb2.Response.FromString(frame.body)
        assert response.retType == 0
        return response.s2c

    async def pushed_since(self) -> list[Frame]:
        """Every push that arrived before the reply to a KeepAlive sent now; forgets them."""
        request = KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1))
        await self.call(KEEP_ALIVE, request, KeepAlive_pb2.Response)
        pushes = list(self.pushes)
        self.pushes.clear()
        return pushes

    async def sub(self, *args: object, **kwargs: object) -> Qot_Sub_pb2.Response:
        request = sub_request(*args, **kwargs)  # type: ignore[arg-type]
        return await self.call(SUB, request, Qot_Sub_pb2.Response)

    async def reg_push(
        self, codes: Sequence[str], sub_types: Sequence[int], *, register: bool = True
    ) -> Qot_RegQotPush_pb2.Response:
        c2s = Qot_RegQotPush_pb2.C2S(
            securityList=securities(codes), subTypeList=sub_types, isRegOrUnReg=register
        )
        request = Qot_RegQotPush_pb2.Request(c2s=c2s)
        return await self.call(REG_QOT_PUSH, request, Qot_RegQotPush_pb2.Response)

    async def sub_info(self, *, all_connections: bool = False) -> Qot_GetSubInfo_pb2.Response:
        c2s = Qot_GetSubInfo_pb2.C2S(isReqAllConn=all_connections)
        request = Qot_GetSubInfo_pb2.Request(c2s=c2s)
        return await self.call(GET_SUB_INFO, request, Qot_GetSubInfo_pb2.Response)

    async def basic_qot(self, codes: Sequence[str]) -> Qot_GetBasicQot_pb2.Response:
        c2s = Qot_GetBasicQot_pb2.C2S(securityList=securities(codes))
        request = Qot_GetBasicQot_pb2.Request(c2s=c2s)
        return await self.call(GET_BASIC_QOT, request, Qot_GetBasicQot_pb2.Response)

    async def order_book(
        self, code: str, num: int = 10, book_type: int | None = None
    ) -> Qot_GetOrderBook_pb2.Response:
        (security,) = securities([code])
        c2s = Qot_GetOrderBook_pb2.C2S(security=security, num=num)
        if book_type is not None:
            c2s.orderBookType = book_type
        request = Qot_GetOrderBook_pb2.Request(c2s=c2s)
        return await self.call(GET_ORDER_BOOK, request, Qot_GetOrderBook_pb2.Response)

    async def snapshot(self, codes: Sequence[str]) -> Qot_GetSecuritySnapshot_pb2.Response:
        c2s = Qot_GetSecuritySnapshot_pb2.C2S(securityList=securities(codes))
        request = Qot_GetSecuritySnapshot_pb2.Request(c2s=c2s)
        return await self.call(GET_SECURITY_SNAPSHOT, request, Qot_GetSecuritySnapshot_pb2.Response)


def sub_info_pairs(conn: Qot_Common_pb2.ConnSubInfo) -> list[tuple[str, int]]:
    """A GetSubInfo entry's pairs as ``(code, sub_type)``, in the order listed."""
    from asyncquote._opend.vocabulary import format_code

    return [
        (format_code((security.market, security.code)), info.subType)
        for info in conn.subInfoList
        for security in info.securityList
    ]
