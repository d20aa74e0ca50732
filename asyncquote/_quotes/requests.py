"""The quote requests: basic quotes (3004), order books (3012), snapshots (3203), quota (3003).

Each method checks its arguments (nothing is sent on a bad one) and goes
through the client's call machinery (quota, connection, deadline). Basic
quotes and order books need a subscription on this connection: the client
checks its own book first and names what is missing
(:class:`~asyncquote.NotSubscribedError`), and maps OpenD's own refusal to
the same error. Snapshots need none; any number of securities is split into
requests of at most 400, each through the 3203 quota of the rate limiter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from google.protobuf.message import Message

from .._base.args import check_duration, check_flag
from .._base.errors import NotSubscribedError, OpenDError
from .._client.gateway_client import GatewayClient
from .._client.monitor import GatewayMonitor
from .._client.options import ClientOptions
from .._io.session import Session
from .._models.quote_convert import (
    basic_quotes_from_response,
    order_book_from_response,
    subscription_info_from_response,
)
from .._models.quotes import BasicQuote, OrderBook, SubscriptionInfo
from .._models.snapshot_convert import snapshots_from_response
from .._models.snapshots import Snapshot
from .._models.watchlist import Security
from .._opend.codec import parse_response
from .._opend.framing import Frame
from .._opend.quotes import (
    MAX_SNAPSHOT_SECURITIES,
    ORDER_BOOK_SUB_TYPES,
    OrderBookType,
    SubType,
)
from .._opend.vocabulary import ProtoId, SecurityKey, format_code
from .._pb import (
    Qot_Common_pb2,
    Qot_GetBasicQot_pb2,
    Qot_GetOrderBook_pb2,
    Qot_GetSecuritySnapshot_pb2,
    Qot_GetSubInfo_pb2,
)
from .args import check_code, check_codes, check_levels, check_order_book_type
from .live import LiveQuotes

__all__ = ["QuoteRequestsClient", "is_subscription_refusal", "reply_decoder", "security_list"]

_R = TypeVar("_R", bound=Message)
_T = TypeVar("_T")


def security_list(keys: Iterable[SecurityKey]) -> list[Qot_Common_pb2.Security]:
    return [Qot_Common_pb2.Security(market=market, code=code) for market, code in keys]


def is_subscription_refusal(message: str) -> bool:
    return "订阅" in message or "subscri" in message.lower()


def _key(security: Security) -> SecurityKey:
    return (int(security.market), security.code)


def reply_decoder(
    response_type: type[_R], proto_id: ProtoId, convert: Callable[[_R], _T]
) -> Callable[[Frame], _T]:
    """The decoder of one protocol's reply frames: parsed, checked, converted to models."""

    def decode(frame: Frame) -> _T:
        return convert(parse_response(response_type, frame.body, proto_id=proto_id))

    return decode


_subscription_info = reply_decoder(
    Qot_GetSubInfo_pb2.Response, ProtoId.GET_SUB_INFO, subscription_info_from_response
)
_basic_quotes = reply_decoder(
    Qot_GetBasicQot_pb2.Response, ProtoId.GET_BASIC_QOT, basic_quotes_from_response
)
_order_book = reply_decoder(
    Qot_GetOrderBook_pb2.Response, ProtoId.GET_ORDER_BOOK, order_book_from_response
)
_snapshots = reply_decoder(
    Qot_GetSecuritySnapshot_pb2.Response, ProtoId.GET_SECURITY_SNAPSHOT, snapshots_from_response
)


class QuoteRequestsClient(GatewayClient):
    """The quote requests of :class:`~asyncquote.QuoteClient`; see the module docstring."""

    def __init__(
        self, session: Session, options: ClientOptions, monitor: GatewayMonitor, live: LiveQuotes
    ) -> None:
        super().__init__(session, options, monitor)
        # connect() wires it to the pushes and the session's states.
        self._live = live

    def _require(self, keys: Iterable[SecurityKey], sub_type: SubType) -> None:
        book = self._live.book
        missing = [format_code(key) for key in keys if not book.holds((key, sub_type.value))]
        if missing:
            raise NotSubscribedError(tuple(missing), sub_type)

    async def query_subscription(
        self, *, all_connections: bool = False, timeout: float | None = None
    ) -> SubscriptionInfo:
        """What OpenD says is subscribed, and the subscription quota (protocol 3003).

        The quota figures also become what the client checks subscriptions
        against (see :attr:`subscriptions`).

        Args:
            all_connections: every connection's subscriptions, not only this one's.
            timeout: as for :meth:`request`.

        Raises:
            InvalidArgumentError: a bad argument; nothing is sent.
            OpenDError, RequestTimeoutError, ConnectionLostError, ProtocolError:
                see :meth:`request`.
        """
        self._check_loop()
        check_flag("all_connections", all_connections)
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        request = Qot_GetSubInfo_pb2.Request()
        request.c2s.isReqAllConn = all_connections
        book = self._live.book
        epoch = book.epoch
        info: SubscriptionInfo = await self._exchange(
            ProtoId.GET_SUB_INFO, request.SerializeToString(), _subscription_info, timeout
        )
        if book.epoch == epoch:  # else the figures are of a connection that is gone
            book.report_quota(used=info.total_used_quota, remaining=info.remain_quota)
        return info

    async def get_stock_quote(
        self, codes: Iterable[str | Security], *, timeout: float | None = None
    ) -> list[BasicQuote]:
        """The basic quote of each security (protocol 3004), in the order asked.

        OpenD answers only for securities this client subscribed to
        ``SubType.QUOTE`` (an open :meth:`subscribe` block, or one left less
        than a minute ago).

        Raises:
            InvalidArgumentError: an empty or bad list of codes; nothing is sent.
            NotSubscribedError: codes without a ``QUOTE`` subscription
                (named; nothing is sent), or OpenD refused for that reason.
            OpenDError, RequestTimeoutError, ConnectionLostError, ProtocolError:
                see :meth:`request`.
        """
        self._check_loop()
        keys = check_codes(codes)
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        self._require(keys, SubType.QUOTE)
        request = Qot_GetBasicQot_pb2.Request()
        request.c2s.securityList.extend(security_list(keys))
        try:
            quotes: list[BasicQuote] = await self._exchange(
                ProtoId.GET_BASIC_QOT, request.SerializeToString(), _basic_quotes, timeout
            )
        except OpenDError as exc:
            if is_subscription_refusal(exc.message):
                codes_asked = tuple(format_code(key) for key in keys)
                raise NotSubscribedError(codes_asked, SubType.QUOTE, exc.message) from exc
            raise
        order = {key: index for index, key in enumerate(keys)}
        return sorted(quotes, key=lambda quote: order.get(_key(quote.security), len(order)))

    async def get_order_book(
        self,
        code: str | Security,
        num: int = 10,
        order_book_type: OrderBookType | str = OrderBookType.NORMAL,
        *,
        timeout: float | None = None,
    ) -> OrderBook:
        """The order book of one security, ``num`` levels a side (protocol 3012).

        OpenD answers only with the subscription of the book's type on this
        connection: ``SubType.ORDER_BOOK`` for the board-lot book,
        ``SubType.ORDER_BOOK_ODD`` for the odd-lot one.

        Args:
            code: a code like ``"HK.00700"`` or a :class:`Security`.
            num: levels a side, 1 to 40 (OpenD gives at most 10 with LV2
                quote rights, 40 with SF).
            order_book_type: ``OrderBookType.NORMAL`` (board lots, the
                default) or ``OrderBookType.ODD`` (odd lots: orders of fewer
                shares than a lot), or the SDK's name (``"ODD"``).
            timeout: as for :meth:`request`.

        Raises:
            InvalidArgumentError: a bad code, ``num``, ``order_book_type`` or
                timeout; nothing is sent.
            NotSubscribedError: no subscription of the book's type (nothing
                is sent), or OpenD refused for that reason.
            OpenDError, RequestTimeoutError, ConnectionLostError, ProtocolError:
                see :meth:`request`.
        """
        self._check_loop()
        key = check_code("code", code)
        levels = check_levels(num)
        book_type = check_order_book_type(order_book_type)
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        sub_type = ORDER_BOOK_SUB_TYPES[book_type]
        self._require([key], sub_type)
        request = Qot_GetOrderBook_pb2.Request()
        request.c2s.security.CopyFrom(security_list([key])[0])
        request.c2s.num = levels
        if book_type is not OrderBookType.NORMAL:
            # Absent means board lots: a plain request stays the SDK's own.
            request.c2s.orderBookType = book_type
        try:
            book: OrderBook = await self._exchange(
                ProtoId.GET_ORDER_BOOK, request.SerializeToString(), _order_book, timeout
            )
        except OpenDError as exc:
            if is_subscription_refusal(exc.message):
                raise NotSubscribedError((format_code(key),), sub_type, exc.message) from exc
            raise
        return book

    async def get_market_snapshot(
        self, codes: Iterable[str | Security], *, timeout: float | None = None
    ) -> list[Snapshot]:
        """A snapshot of each security (protocol 3203), in the order asked; no subscription needed.

        Any number of codes: they are asked for 400 at a time (OpenD's most
        per request), each request within the 3203 quota (60 per 30 s) of the
        client's rate limiter, queueing as every call does. A code asked for
        twice is answered once. A security OpenD does not return is left out.

        Args:
            codes: codes like ``"HK.00700"`` or :class:`Security` objects.
            timeout: for each request, as for :meth:`request`.

        Raises:
            InvalidArgumentError: an empty or bad list of codes; nothing is sent.
            OpenDError, RateLimitError, RequestTimeoutError: see :meth:`request`
                (requests answered before the failure are lost with it).
            ConnectionLostError, ProtocolError: see :meth:`request` (likewise).
        """
        self._check_loop()
        keys = check_codes(codes)
        if timeout is not None:
            check_duration("timeout", timeout, positive=True)
        found: dict[SecurityKey, Snapshot] = {}
        for start in range(0, len(keys), MAX_SNAPSHOT_SECURITIES):
            request = Qot_GetSecuritySnapshot_pb2.Request()
            request.c2s.securityList.extend(
                security_list(keys[start : start + MAX_SNAPSHOT_SECURITIES])
            )
            snapshots: list[Snapshot] = await self._exchange(
                ProtoId.GET_SECURITY_SNAPSHOT, request.SerializeToString(), _snapshots, timeout
            )
            for snapshot in snapshots:
                found[_key(snapshot.basic.security)] = snapshot
        return [found[key] for key in keys if key in found]
