"""K-line, time-share, ticker and broker-queue requests and pushes over a raw client."""

from __future__ import annotations

from google.protobuf.message import Message

from asyncquote._pb import (
    Qot_GetBroker_pb2,
    Qot_GetKL_pb2,
    Qot_GetRT_pb2,
    Qot_GetTicker_pb2,
    Qot_UpdateBasicQot_pb2,
    Qot_UpdateBroker_pb2,
    Qot_UpdateKL_pb2,
    Qot_UpdateOrderBook_pb2,
    Qot_UpdateRT_pb2,
    Qot_UpdateTicker_pb2,
)

from .quotes import UPDATE_BASIC_QOT, UPDATE_ORDER_BOOK, QuoteClient, securities

GET_KL, UPDATE_KL, GET_RT, UPDATE_RT = 3006, 3007, 3008, 3009
GET_TICKER, UPDATE_TICKER, GET_BROKER, UPDATE_BROKER = 3010, 3011, 3014, 3015
# SubType values (Qot_Common.SubType) and KLType values (Qot_Common.KLType).
TICKER, RT_DATA, K_DAY, K_1M, BROKER, K_3M = 4, 5, 6, 11, 14, 17
KL_1M, KL_DAY, KL_3M = 1, 2, 10
QFQ = 1

PUSH_TYPES: dict[int, type[Message]] = {
    UPDATE_BASIC_QOT: Qot_UpdateBasicQot_pb2.Response,
    UPDATE_ORDER_BOOK: Qot_UpdateOrderBook_pb2.Response,
    UPDATE_KL: Qot_UpdateKL_pb2.Response,
    UPDATE_RT: Qot_UpdateRT_pb2.Response,
    UPDATE_TICKER: Qot_UpdateTicker_pb2.Response,
    UPDATE_BROKER: Qot_UpdateBroker_pb2.Response,
}


class MarketDataClient(QuoteClient):
    """A :class:`QuoteClient` that also asks for and reads K-lines, RT, tickers and brokers."""

    async def kl(
        self, code: str, kl_type: int = KL_1M, num: int = 10, rehab: int = QFQ
    ) -> Qot_GetKL_pb2.Response:
        (security,) = securities([code])
        c2s = Qot_GetKL_pb2.C2S(rehabType=rehab, klType=kl_type, security=security, reqNum=num)
        return await self.call(GET_KL, Qot_GetKL_pb2.Request(c2s=c2s), Qot_GetKL_pb2.Response)

    async def rt(self, code: str) -> Qot_GetRT_pb2.Response:
        (security,) = securities([code])
        c2s = Qot_GetRT_pb2.C2S(security=security)
        return await self.call(GET_RT, Qot_GetRT_pb2.Request(c2s=c2s), Qot_GetRT_pb2.Response)

    async def ticker(self, code: str, num: int = 100) -> Qot_GetTicker_pb2.Response:
        (security,) = securities([code])
        c2s = Qot_GetTicker_pb2.C2S(security=security, maxRetNum=num)
        request = Qot_GetTicker_pb2.Request(c2s=c2s)
        return await self.call(GET_TICKER, request, Qot_GetTicker_pb2.Response)

    async def broker(self, code: str) -> Qot_GetBroker_pb2.Response:
        (security,) = securities([code])
        c2s = Qot_GetBroker_pb2.C2S(security=security)
        request = Qot_GetBroker_pb2.Request(c2s=c2s)
        return await self.call(GET_BROKER, request, Qot_GetBroker_pb2.Response)

    async def data_pushes(self) -> list[tuple[int, Message]]:
        """Every push so far (up to a KeepAlive's reply), as ``(proto id, s2c)``, in order."""
        found = []
        for frame in await self.pushed_since():
            response = PUSH_TYPES[frame.proto_id].FromString(frame.body)
            assert response.retType == 0  # type: ignore[attr-defined]
            found.append((frame.proto_id, response.s2c))  # type: ignore[attr-defined]
        return found
