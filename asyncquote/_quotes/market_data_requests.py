"""Market-data requests: tickers (3010), time-share (3008), K-lines (3006), broker queues (3014).

Named and defaulted as the official SDK's ``get_rt_ticker``, ``get_rt_data``,
``get_cur_kline`` and ``get_broker_queue``. Each reads what OpenD keeps for a
subscription of this connection, so, as for basic quotes, the client checks
its own book first (:class:`~asyncquote.NotSubscribedError`, nothing sent)
and maps OpenD's refusal for that reason to the same error. Every argument
is checked before anything is sent (:class:`~asyncquote.InvalidArgumentError`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from google.protobuf.message import Message

from .._base.args import check_duration, check_int
from .._base.errors import InvalidArgumentError, NotSubscribedError, OpenDError
from .._models.market_data import BrokerQueue, KLine, Ticker, TimeSharePoint
from .._models.market_data_convert import (
    broker_queue_from_response,
    klines_from_response,
    tickers_from_response,
    time_share_from_response,
)
from .._models.watchlist import Security
from .._opend.codec import parse_response
from .._opend.framing import Frame
from .._opend.quotes import (
    BROKER_QUEUE_MARKETS,
    KLINE_SUB_TYPES,
    MAX_KLINES,
    MAX_TICKERS,
    AuType,
    KLType,
    SubType,
)
from .._opend.vocabulary import REQUEST_TYPES, ProtoId, SecurityKey, format_code
from .._pb import Qot_GetBroker_pb2, Qot_GetKL_pb2, Qot_GetRT_pb2, Qot_GetTicker_pb2
from .args import check_code
from .requests import QuoteRequestsClient, is_subscription_refusal, reply_decoder, security_list

__all__ = ["MarketDataRequestsClient", "check_au_type", "check_broker_code", "check_k_type"]

_T = TypeVar("_T")

_KLINE_PERIODS = {sub_type: period for period, sub_type in KLINE_SUB_TYPES.items()}
_AU_TYPES_BY_SDK_NAME = {au_type.sdk_name: au_type for au_type in AuType}

_PROTO_IDS: dict[type[Message], ProtoId] = {
    REQUEST_TYPES[proto_id]: proto_id
    for proto_id in (ProtoId.GET_TICKER, ProtoId.GET_RT, ProtoId.GET_KL, ProtoId.GET_BROKER)
}

_tickers = reply_decoder(Qot_GetTicker_pb2.Response, ProtoId.GET_TICKER, tickers_from_response)
_time_share = reply_decoder(Qot_GetRT_pb2.Response, ProtoId.GET_RT, time_share_from_response)
_broker_queue = reply_decoder(
    Qot_GetBroker_pb2.Response, ProtoId.GET_BROKER, broker_queue_from_response
)


def check_k_type(ktype: object) -> KLType:
    """A K-line period: a :class:`KLType`, a K-line :class:`SubType`, or the
    SDK's name of either (``"K_DAY"``)."""
    period: KLType | None = None
    if isinstance(ktype, KLType):
        period = ktype
    elif isinstance(ktype, SubType):
        period = _KLINE_PERIODS.get(ktype)
    elif isinstance(ktype, str):
        period = KLType.__members__.get(ktype)
    if period is None or period is KLType.NONE:
        raise InvalidArgumentError(
            f"ktype must be a K-line period such as KLType.K_DAY or 'K_1M', not {ktype!r}"
        )
    return period


def check_au_type(autype: object) -> AuType:
    """A price adjustment: an :class:`AuType` or the SDK's string for one
    (``"qfq"``, ``"hfq"``, ``"None"``)."""
    if isinstance(autype, AuType):
        return autype
    found = _AU_TYPES_BY_SDK_NAME.get(autype) if isinstance(autype, str) else None
    if found is None:
        raise InvalidArgumentError(
            f"autype must be AuType.QFQ, AuType.HFQ or AuType.NONE "
            f"(or 'qfq', 'hfq', 'None'), not {autype!r}"
        )
    return found


def check_broker_code(code: object) -> SecurityKey:
    """A security with broker queues: only Hong Kong's exchange publishes them."""
    key = check_code("code", code)
    if key[0] not in BROKER_QUEUE_MARKETS:
        raise InvalidArgumentError(
            f"broker queues exist only for Hong Kong securities (HK.), not {format_code(key)}"
        )
    return key


def _check_timeout(timeout: object) -> float | None:
    return None if timeout is None else check_duration("timeout", timeout, positive=True)


class MarketDataRequestsClient(QuoteRequestsClient):
    """The market-data requests of :class:`~asyncquote.QuoteClient`; see the module docstring."""

    async def _ask(
        self,
        key: SecurityKey,
        sub_type: SubType,
        request: Message,
        decode: Callable[[Frame], _T],
        timeout: float | None,
    ) -> _T:
        """Send ``request`` (its ``c2s.security`` set here), which needs ``sub_type``
        of ``key``: not at all without it in the book, and OpenD's refusal for
        want of it becomes :class:`NotSubscribedError`."""
        self._require([key], sub_type)
        request.c2s.security.CopyFrom(security_list([key])[0])  # type: ignore[attr-defined]
        proto_id = _PROTO_IDS[type(request)]
        try:
            return await self._exchange(proto_id, request.SerializeToString(), decode, timeout)
        except OpenDError as exc:
            if is_subscription_refusal(exc.message):
                raise NotSubscribedError((format_code(key),), sub_type, exc.message) from exc
            raise

    async def get_rt_ticker(
        self, code: str | Security, num: int = 500, *, timeout: float | None = None
    ) -> list[Ticker]:
        """The latest ``num`` trades of one security, oldest first (protocol 3010).

        OpenD answers only with a ``SubType.TICKER`` subscription of the
        security on this connection, and keeps only the latest 1,000.

        Args:
            code: a code like ``"HK.00700"`` or a :class:`Security`.
            num: how many trades, 1 to 1000 (the SDK's default, 500).
            timeout: as for :meth:`request`.

        Raises:
            InvalidArgumentError: a bad code, ``num`` or timeout; nothing is sent.
            NotSubscribedError: no ``TICKER`` subscription (nothing is sent),
                or OpenD refused for that reason.
            OpenDError, RequestTimeoutError, ConnectionLostError, ProtocolError:
                see :meth:`request`.
        """
        self._check_loop()
        key = check_code("code", code)
        count = check_int("num", num, minimum=1, maximum=MAX_TICKERS)
        seconds = _check_timeout(timeout)
        request = Qot_GetTicker_pb2.Request()
        request.c2s.maxRetNum = count
        return await self._ask(key, SubType.TICKER, request, _tickers, seconds)

    async def get_rt_data(
        self, code: str | Security, *, timeout: float | None = None
    ) -> list[TimeSharePoint]:
        """Today's time-share points of one security, a minute each (protocol 3008).

        OpenD answers only with a ``SubType.RT_DATA`` subscription of the
        security on this connection.

        Raises:
            InvalidArgumentError: a bad code or timeout; nothing is sent.
            NotSubscribedError: no ``RT_DATA`` subscription (nothing is sent),
                or OpenD refused for that reason.
            OpenDError, RequestTimeoutError, ConnectionLostError, ProtocolError:
                see :meth:`request`.
        """
        self._check_loop()
        key = check_code("code", code)
        seconds = _check_timeout(timeout)
        request = Qot_GetRT_pb2.Request()
        return await self._ask(key, SubType.RT_DATA, request, _time_share, seconds)

    async def get_cur_kline(
        self,
        code: str | Security,
        num: int,
        ktype: KLType | SubType | str = KLType.K_DAY,
        autype: AuType | str = AuType.QFQ,
        *,
        timeout: float | None = None,
    ) -> list[KLine]:
        """The latest ``num`` bars of one security's K-line, oldest first (protocol 3006).

        OpenD answers only with the subscription of the period
        (``SubType.K_DAY`` for ``KLType.K_DAY``...) of the security on this
        connection. The last bar may still be open (its interval not over).

        Args:
            code: a code like ``"HK.00700"`` or a :class:`Security`.
            num: how many bars, 1 to 1000.
            ktype: the period: a :class:`KLType`, the K-line :class:`SubType`
                of it, or the SDK's name (``"K_1M"``); daily by default.
            autype: the price adjustment: an :class:`AuType` or the SDK's
                string (``"qfq"``); forward-adjusted by default, as the SDK.
            timeout: as for :meth:`request`.

        Raises:
            InvalidArgumentError: a bad code, ``num``, ``ktype``, ``autype`` or
                timeout; nothing is sent.
            NotSubscribedError: no subscription of the period (nothing is
                sent), or OpenD refused for that reason.
            OpenDError, RequestTimeoutError, ConnectionLostError, ProtocolError:
                see :meth:`request`.
        """
        self._check_loop()
        key = check_code("code", code)
        count = check_int("num", num, minimum=1, maximum=MAX_KLINES)
        period = check_k_type(ktype)
        adjustment = check_au_type(autype)
        seconds = _check_timeout(timeout)
        request = Qot_GetKL_pb2.Request()
        c2s = request.c2s
        c2s.rehabType, c2s.klType, c2s.reqNum = adjustment, period, count

        def decode(frame: Frame) -> list[KLine]:
            reply = parse_response(Qot_GetKL_pb2.Response, frame.body, proto_id=ProtoId.GET_KL)
            return klines_from_response(reply, period, adjustment)

        return await self._ask(key, KLINE_SUB_TYPES[period], request, decode, seconds)

    async def get_broker_queue(
        self, code: str | Security, *, timeout: float | None = None
    ) -> BrokerQueue:
        """The brokers queued on each side of one Hong Kong security (protocol 3014).

        OpenD answers only with a ``SubType.BROKER`` subscription of the
        security on this connection. The SDK returns two tables; the
        :class:`BrokerQueue` holds both sides (``to_dataframe`` gives one row
        per broker).

        Raises:
            InvalidArgumentError: a bad code, a security outside Hong Kong,
                or a bad timeout; nothing is sent.
            NotSubscribedError: no ``BROKER`` subscription (nothing is sent),
                or OpenD refused for that reason.
            OpenDError, RequestTimeoutError, ConnectionLostError, ProtocolError:
                see :meth:`request`.
        """
        self._check_loop()
        key = check_broker_code(code)
        seconds = _check_timeout(timeout)
        request = Qot_GetBroker_pb2.Request()
        return await self._ask(key, SubType.BROKER, request, _broker_queue, seconds)
