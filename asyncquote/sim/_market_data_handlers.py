"""The simulator's requests for subscribed market data: K-lines, time-share, tickers, brokers.

One job: the handlers of Qot_GetKL (3006), Qot_GetRT (3008),
Qot_GetTicker (3010) and Qot_GetBroker (3014), over the server's market
(:mod:`._market`). Like OpenD, each reads data the asking connection has
subscribed: 3006 the K-line kind of its ``klType`` (``K_1M``... through
:data:`~asyncquote._opend.quotes.KLINE_SUB_TYPES`), 3008 ``RT_DATA``, 3010
``TICKER``, 3014 ``BROKER``; otherwise it is refused, naming the pair.

Checks run in this order, and a refusal changes nothing: the security is
in the simulator's database; the request's own arguments (``klType`` a
period, ``rehabType`` an adjustment, ``reqNum``/``maxRetNum`` at least 1;
3014: a Hong Kong security); then the subscription. Counts above
1,000, OpenD's limit and all the market keeps, are served as 1,000.

Simplification: the replies hold every trade, US pre- and after-market
ones included, whatever ``extendedTime`` the subscription said; only the
pushes (:mod:`._market_data_pushes`) tell them apart. The simulator has no
corporate actions, so every ``rehabType`` gives the same K-lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.message import Message

from .._opend.quotes import KLINE_SUB_TYPES, AuType, KLType, SubType
from .._opend.vocabulary import Market, ProtoId, SecurityKey, format_code
from .._pb import Qot_GetBroker_pb2, Qot_GetKL_pb2, Qot_GetRT_pb2, Qot_GetTicker_pb2
from . import _texts as texts
from ._dispatch import Handler, failure
from ._market_data_messages import fill_broker_queue, kline, ticker, time_share
from ._quote_handlers import check_securities, ok_response, refuse_unsubscribed
from ._state import ConnectionState, ServerState
from ._tape import KLINE_HISTORY, TICKER_HISTORY

__all__ = ["get_broker", "get_kl", "get_rt", "get_ticker", "market_data_handlers"]

R = TypeVar("R", bound=Message)

_KL_TYPES = frozenset(KLINE_SUB_TYPES)
_AU_TYPES = frozenset(AuType)
# Markets whose securities have broker queues.
_BROKER_MARKETS = frozenset({Market.HK, Market.HK_FUTURE})


def _key(security: Any) -> SecurityKey:
    return (security.market, security.code)


def _refusal(
    server: ServerState,
    conn: ConnectionState,
    key: SecurityKey,
    sub_type: int,
    response_type: type[Message],
    argument_refusal: Callable[[], str | None] = lambda: None,
) -> Message | None:
    """The refusal of a request for ``key``'s data of ``sub_type``, else ``None``."""
    refusal = check_securities(server, [key], response_type)
    if refusal is not None:
        return refusal
    message = argument_refusal()
    if message is not None:
        return failure(response_type, message)
    return refuse_unsubscribed(server, conn, [key], sub_type, response_type)


def _reply(server: ServerState, response_type: type[R], key: SecurityKey) -> R:
    """A successful reply naming ``key`` and its name, to fill in."""
    response = ok_response(response_type)
    s2c = response.s2c  # type: ignore[attr-defined]
    s2c.security.market, s2c.security.code = key
    s2c.name = server.market.quote(key).name
    return response


def get_kl(
    server: ServerState, conn: ConnectionState, request: Qot_GetKL_pb2.Request
) -> Qot_GetKL_pb2.Response:
    """3006: the last ``reqNum`` K-lines of a period, oldest first (the open bar last)."""
    c2s = request.c2s
    response_type = Qot_GetKL_pb2.Response
    key = _key(c2s.security)
    language = server.language

    def arguments() -> str | None:
        if c2s.klType not in _KL_TYPES:
            return texts.unknown_kl_type(c2s.klType, language)
        if c2s.rehabType not in _AU_TYPES:
            return texts.unknown_rehab_type(c2s.rehabType, language)
        if c2s.reqNum < 1:
            return texts.bad_count("reqNum", c2s.reqNum, language)
        return None

    # An unknown klType is refused (arguments()) before its kind is needed.
    known = c2s.klType in _KL_TYPES
    sub_type = KLINE_SUB_TYPES[KLType(c2s.klType)] if known else SubType.NONE
    refusal = _refusal(server, conn, key, sub_type, response_type, arguments)
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    response = _reply(server, response_type, key)
    bars = server.market.klines(key, sub_type, min(c2s.reqNum, KLINE_HISTORY))
    response.s2c.klList.extend(kline(bar) for bar in bars)
    return response


def get_rt(
    server: ServerState, conn: ConnectionState, request: Qot_GetRT_pb2.Request
) -> Qot_GetRT_pb2.Response:
    """3008: the trading day's time-share points, one per minute traded, oldest first."""
    c2s = request.c2s
    response_type = Qot_GetRT_pb2.Response
    key = _key(c2s.security)
    refusal = _refusal(server, conn, key, SubType.RT_DATA, response_type)
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    response = _reply(server, response_type, key)
    response.s2c.rtList.extend(time_share(point) for point in server.market.time_share(key))
    return response


def get_ticker(
    server: ServerState, conn: ConnectionState, request: Qot_GetTicker_pb2.Request
) -> Qot_GetTicker_pb2.Response:
    """3010: the last ``maxRetNum`` trades, oldest first."""
    c2s = request.c2s
    response_type = Qot_GetTicker_pb2.Response
    key = _key(c2s.security)
    language = server.language

    def arguments() -> str | None:
        if c2s.maxRetNum < 1:
            return texts.bad_count("maxRetNum", c2s.maxRetNum, language)
        return None

    refusal = _refusal(server, conn, key, SubType.TICKER, response_type, arguments)
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    response = _reply(server, response_type, key)
    trades = server.market.tickers_after(key)[-min(c2s.maxRetNum, TICKER_HISTORY) :]
    response.s2c.tickerList.extend(ticker(trade) for trade in trades)
    return response


def get_broker(
    server: ServerState, conn: ConnectionState, request: Qot_GetBroker_pb2.Request
) -> Qot_GetBroker_pb2.Response:
    """3014: a Hong Kong security's broker queue, best positions first."""
    c2s = request.c2s
    response_type = Qot_GetBroker_pb2.Response
    key = _key(c2s.security)

    def arguments() -> str | None:
        if key[0] not in _BROKER_MARKETS:
            return texts.broker_queue_hk_only(format_code(key), server.language)
        return None

    refusal = _refusal(server, conn, key, SubType.BROKER, response_type, arguments)
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    market = server.market
    response = ok_response(response_type)
    fill_broker_queue(response.s2c, market.broker_queue(key), market.quote(key).name)
    return response


def market_data_handlers() -> dict[ProtoId, Handler[Any]]:
    """The market-data requests and their handlers."""
    handlers: dict[ProtoId, Callable[..., Message]] = {
        ProtoId.GET_KL: get_kl,
        ProtoId.GET_RT: get_rt,
        ProtoId.GET_TICKER: get_ticker,
        ProtoId.GET_BROKER: get_broker,
    }
    return handlers
