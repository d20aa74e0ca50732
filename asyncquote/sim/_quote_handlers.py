"""The simulator's live-quote protocols: subscriptions, quotes, order books and snapshots.

One job: the handlers of Qot_Sub (3001), Qot_RegQotPush (3002),
Qot_GetSubInfo (3003), Qot_GetBasicQot (3004), Qot_GetOrderBook (3012) and
Qot_GetSecuritySnapshot (3203), over the server's market (:mod:`._market`)
and subscription book (:mod:`._subscriptions`), whose rules they apply.
The pushes themselves (3005, 3013) are :mod:`._market_control`'s, but for
the first push a subscription asks for, which a handler queues behind its
reply (``ConnectionState.after_reply``).

Checks run in this order, and a refused request changes nothing: the list
of securities is not empty (3203: at most 400 of them); the list of kinds
is not empty and names only SubType values; every security is in the
simulator's database; then the subscription rules, the quota and the
one-minute rule. The simulator's market serves QUOTE, ORDER_BOOK,
ORDER_BOOK_ODD (the odd-lot book, ``orderBookType`` 1), TICKER,
RT_DATA, BROKER and every K-line kind (:mod:`._market_data_handlers`,
:mod:`._market_data_pushes`); the other kinds can be subscribed (each pair
costs its quota unit) but nothing is pushed for them. ``extendedTime``,
``session`` and ``regPushRehabTypeList`` are kept per connection and pair
for the pushes (which parts of the US day, which K-line adjustments). 3004
needs a QUOTE subscription on the asking connection, 3012 an ORDER_BOOK
one (ORDER_BOOK_ODD for the odd-lot book); snapshots need none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from google.protobuf.message import Message

from .._opend.quotes import (
    MAX_SNAPSHOT_SECURITIES,
    MIN_SUBSCRIPTION_SECONDS,
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
    Qot_RegQotPush_pb2,
    Qot_Sub_pb2,
)
from . import _texts as texts
from ._dispatch import Handler, failure
from ._market import BOOK_DEPTH
from ._market_data_pushes import first_pushes
from ._quote_messages import (
    basic_qot,
    basic_qot_push,
    fill_order_book,
    listing_of,
    order_book_push,
    snapshot,
)
from ._state import ConnectionState, ServerState
from ._subscriptions import (
    NotSubscribedError,
    Pair,
    QuotaExceededError,
    UnsubscribeTooSoonError,
)

__all__ = [
    "check_securities",
    "get_basic_qot",
    "get_order_book",
    "get_security_snapshot",
    "get_sub_info",
    "ok_response",
    "quote_handlers",
    "refuse_unsubscribed",
    "reg_qot_push",
    "sub",
]

R = TypeVar("R", bound=Message)

_SUB_TYPES = frozenset(sub_type.value for sub_type in SubType if sub_type is not SubType.NONE)
_QUOTE, _ORDER_BOOK = SubType.QUOTE.value, SubType.ORDER_BOOK.value
_ODD_LOT_BOOK = SubType.ORDER_BOOK_ODD.value


def _keys(securities: Iterable[Qot_Common_pb2.Security]) -> list[SecurityKey]:
    return [(security.market, security.code) for security in securities]


def _pair_names(pairs: Iterable[Pair]) -> list[str]:
    return [f"{format_code(key)} {SubType.sdk_name_of(sub_type)}" for key, sub_type in pairs]


def _unlisted(server: ServerState, keys: Iterable[SecurityKey]) -> list[SecurityKey]:
    """The keys the simulator does not know; lists in its market those its database gained."""
    market = server.market
    unknown = []
    for key in dict.fromkeys(keys):
        if key in market:
            continue
        try:
            info = server.watchlists.security(key)
        except KeyError:
            unknown.append(key)
        else:
            market.add(listing_of(info), server.market_clock())
    return unknown


def check_securities(
    server: ServerState, keys: Sequence[SecurityKey], response_type: type[Message]
) -> Message | None:
    """The refusal of an empty list or of unknown securities, else ``None``."""
    language = server.language
    if not keys:
        return failure(response_type, texts.empty_security_list(language))
    unknown = _unlisted(server, keys)
    if unknown:
        message = texts.unknown_securities(map(format_code, unknown), language)
        return failure(response_type, message, err_code=texts.ERR_UNKNOWN_SECURITY)
    return None


def _pairs(
    server: ServerState,
    securities: Iterable[Qot_Common_pb2.Security],
    sub_types: Sequence[int],
    response_type: type[Message],
) -> list[Pair] | Message:
    """The (security, kind) pairs a 3001 or 3002 names, or its refusal."""
    language = server.language
    keys = _keys(securities)
    refusal = None if keys else failure(response_type, texts.empty_security_list(language))
    if refusal is None and not sub_types:
        refusal = failure(response_type, texts.empty_sub_types(language))
    unknown_types = [value for value in dict.fromkeys(sub_types) if value not in _SUB_TYPES]
    if refusal is None and unknown_types:
        refusal = failure(response_type, texts.unknown_sub_types(unknown_types, language))
    if refusal is None:
        refusal = check_securities(server, keys, response_type)
    if refusal is not None:
        return refusal
    return [(key, sub_type) for key in dict.fromkeys(keys) for sub_type in dict.fromkeys(sub_types)]


def _register(
    server: ServerState, conn: ConnectionState, pairs: list[Pair], first_push: bool
) -> None:
    """Push ``pairs`` to ``conn`` from now on; queue their current state if ``first_push``."""
    server.subscriptions.register(conn.conn_id, pairs, True)
    conn.quote_pushes = True
    if not first_push:
        return
    market = server.market
    subscriptions = server.subscriptions
    conn_id = conn.conn_id
    for key, sub_type in pairs:
        if sub_type == _QUOTE:
            conn.after_reply.append((ProtoId.UPDATE_BASIC_QOT, basic_qot_push(market.quote(key))))
        elif sub_type == _ORDER_BOOK:
            book = market.order_book(key)
            body = order_book_push(book, market.quote(key).name)
            conn.after_reply.append((ProtoId.UPDATE_ORDER_BOOK, body))
        elif sub_type == _ODD_LOT_BOOK:
            body = order_book_push(market.odd_lot_book(key), market.quote(key).name)
            conn.after_reply.append((ProtoId.UPDATE_ORDER_BOOK, body))
        else:
            pair = (key, sub_type)
            parts = subscriptions.parts(conn_id, pair)
            rehab = subscriptions.rehab_types(conn_id, pair)
            conn.after_reply.extend(first_pushes(market, key, sub_type, parts, rehab))


def ok_response(response_type: type[R]) -> R:
    response = response_type(retType=texts.RET_OK)
    response.s2c.SetInParent()  # type: ignore[attr-defined]
    return response


def sub(
    server: ServerState, conn: ConnectionState, request: Qot_Sub_pb2.Request
) -> Qot_Sub_pb2.Response:
    """3001: subscribe to or unsubscribe from (security, kind) pairs, and (un)register pushes.

    ``isUnsubAll`` ignores the rest and drops every pair of the connection
    and every push registration. ``isRegOrUnRegPush`` registers (true) or
    unregisters (false) the pairs' pushes; absent, it leaves them alone.
    ``isFirstPush`` (true unless it says false) sends the current state of
    the pairs registered, right after the reply.
    """
    c2s = request.c2s
    response_type = Qot_Sub_pb2.Response
    subscriptions = server.subscriptions
    language = server.language
    conn_id = conn.conn_id
    try:
        if c2s.isUnsubAll:
            if subscriptions.unsubscribe_all(conn_id, server.now):
                server.on_subscriptions_change()
            return ok_response(response_type)
        pairs = _pairs(server, c2s.securityList, c2s.subTypeList, response_type)
        if isinstance(pairs, Message):
            return pairs  # type: ignore[return-value]
        if not c2s.isSubOrUnSub:
            if subscriptions.unsubscribe(conn_id, pairs, server.now):
                server.on_subscriptions_change()
            return ok_response(response_type)
        if subscriptions.subscribe(conn_id, pairs, server.now):
            server.on_subscriptions_change()
        subscriptions.set_options(
            conn_id,
            pairs,
            extended=c2s.extendedTime,
            session=c2s.session,
            rehab_types=c2s.regPushRehabTypeList,
        )
    except QuotaExceededError as exc:
        message = texts.subscription_quota_exceeded(
            _pair_names(exc.pairs), exc.remaining, exc.quota, language
        )
        return failure(response_type, message, err_code=texts.ERR_SUBSCRIPTION_QUOTA)
    except UnsubscribeTooSoonError as exc:
        message = texts.unsubscribe_too_soon(
            _pair_names(exc.pairs), MIN_SUBSCRIPTION_SECONDS, language
        )
        return failure(response_type, message, err_code=texts.ERR_UNSUBSCRIBE_TOO_SOON)
    if c2s.HasField("isRegOrUnRegPush"):
        if c2s.isRegOrUnRegPush:
            first_push = not c2s.HasField("isFirstPush") or c2s.isFirstPush
            _register(server, conn, pairs, first_push)
        else:
            subscriptions.register(conn_id, pairs, False)
    return ok_response(response_type)


def reg_qot_push(
    server: ServerState, conn: ConnectionState, request: Qot_RegQotPush_pb2.Request
) -> Qot_RegQotPush_pb2.Response:
    """3002: register (or unregister) pushes of pairs the connection has subscribed.

    Registering a pair it has not subscribed is refused, naming the pairs.
    ``isFirstPush`` (true unless it says false) sends their current state
    right after the reply. ``rehabTypeList``, when it names adjustments,
    replaces those the pairs' K-lines are pushed in.
    """
    c2s = request.c2s
    response_type = Qot_RegQotPush_pb2.Response
    pairs = _pairs(server, c2s.securityList, c2s.subTypeList, response_type)
    if isinstance(pairs, Message):
        return pairs  # type: ignore[return-value]
    if not c2s.isRegOrUnReg:
        server.subscriptions.register(conn.conn_id, pairs, False)
        return ok_response(response_type)
    first_push = not c2s.HasField("isFirstPush") or c2s.isFirstPush
    subscriptions = server.subscriptions
    if c2s.rehabTypeList and all(subscriptions.holds(conn.conn_id, pair) for pair in pairs):
        subscriptions.set_rehab_types(conn.conn_id, pairs, c2s.rehabTypeList)
    try:
        _register(server, conn, pairs, first_push)
    except NotSubscribedError as exc:
        message = texts.not_subscribed(_pair_names(exc.pairs), server.language)
        return failure(response_type, message, err_code=texts.ERR_NOT_SUBSCRIBED)
    return ok_response(response_type)


def get_sub_info(
    server: ServerState, conn: ConnectionState, request: Qot_GetSubInfo_pb2.Request
) -> Qot_GetSubInfo_pb2.Response:
    """3003: the asking connection's subscriptions (every connection's with ``isReqAllConn``).

    The asking connection always has an entry, marked ``isOwnConnData``;
    others have one while they hold pairs. Within an entry, the kinds come
    in the order first subscribed and the securities in the order subscribed.
    """
    subscriptions = server.subscriptions
    now = server.now
    own = conn.conn_id
    conns = subscriptions.connections() if request.c2s.isReqAllConn else []
    response = ok_response(Qot_GetSubInfo_pb2.Response)
    s2c = response.s2c
    for conn_id in [own, *(conn_id for conn_id in conns if conn_id != own)]:
        pairs = subscriptions.pairs_of(conn_id)
        by_type: dict[int, list[SecurityKey]] = {}
        for key, sub_type in pairs:
            by_type.setdefault(sub_type, []).append(key)
        entry = s2c.connSubInfoList.add(usedQuota=len(pairs), isOwnConnData=conn_id == own)
        for sub_type, keys in by_type.items():
            info = entry.subInfoList.add(subType=sub_type)
            for market, code in keys:
                info.securityList.add(market=market, code=code)
    s2c.totalUsedQuota = subscriptions.used(now)
    s2c.remainQuota = subscriptions.remaining(now)
    return response


def refuse_unsubscribed(
    server: ServerState,
    conn: ConnectionState,
    keys: Iterable[SecurityKey],
    sub_type: int,
    response_type: type[Message],
) -> Message | None:
    missing = [
        (key, sub_type)
        for key in keys
        if not server.subscriptions.holds(conn.conn_id, (key, sub_type))
    ]
    if not missing:
        return None
    message = texts.not_subscribed(_pair_names(missing), server.language)
    return failure(response_type, message, err_code=texts.ERR_NOT_SUBSCRIBED)


def get_basic_qot(
    server: ServerState, conn: ConnectionState, request: Qot_GetBasicQot_pb2.Request
) -> Qot_GetBasicQot_pb2.Response:
    """3004: the basic quotes of securities the connection subscribed to (QUOTE), in order."""
    response_type = Qot_GetBasicQot_pb2.Response
    keys = _keys(request.c2s.securityList)
    refusal = check_securities(server, keys, response_type) or refuse_unsubscribed(
        server, conn, dict.fromkeys(keys), _QUOTE, response_type
    )
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    response = ok_response(response_type)
    market = server.market
    response.s2c.basicQotList.extend(basic_qot(market.quote(key)) for key in keys)
    return response


def get_order_book(
    server: ServerState, conn: ConnectionState, request: Qot_GetOrderBook_pb2.Request
) -> Qot_GetOrderBook_pb2.Response:
    """3012: the best ``num`` levels (at most ten) of a book the connection subscribed to.

    ``orderBookType`` 1 asks for the odd-lot book, which needs an
    ORDER_BOOK_ODD subscription; absent or 0, the board-lot book (ORDER_BOOK).
    """
    c2s = request.c2s
    response_type = Qot_GetOrderBook_pb2.Response
    language = server.language
    key = (c2s.security.market, c2s.security.code)
    book_type = OrderBookType.from_value(c2s.orderBookType)
    sub_type = ORDER_BOOK_SUB_TYPES.get(book_type) if isinstance(book_type, OrderBookType) else None
    refusal = check_securities(server, [key], response_type)
    if refusal is None and c2s.num < 1:
        refusal = failure(response_type, texts.bad_order_book_levels(c2s.num, language))
    if refusal is None and sub_type is None:
        refusal = failure(response_type, texts.unknown_order_book_type(c2s.orderBookType, language))
    if refusal is None and sub_type is not None:
        refusal = refuse_unsubscribed(server, conn, [key], sub_type.value, response_type)
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    response = ok_response(response_type)
    market = server.market
    odd = book_type is OrderBookType.ODD
    book = market.odd_lot_book(key) if odd else market.order_book(key)
    fill_order_book(response.s2c, book, market.quote(key).name, min(c2s.num, BOOK_DEPTH))
    return response


def get_security_snapshot(
    server: ServerState, conn: ConnectionState, request: Qot_GetSecuritySnapshot_pb2.Request
) -> Qot_GetSecuritySnapshot_pb2.Response:
    """3203: snapshots of up to 400 securities, no subscription needed, in order."""
    response_type = Qot_GetSecuritySnapshot_pb2.Response
    keys = _keys(request.c2s.securityList)
    if len(keys) > MAX_SNAPSHOT_SECURITIES:
        message = texts.too_many_securities(len(keys), MAX_SNAPSHOT_SECURITIES, server.language)
        return failure(response_type, message, err_code=texts.ERR_TOO_MANY_SECURITIES)
    refusal = check_securities(server, keys, response_type)
    if refusal is not None:
        return refusal  # type: ignore[return-value]
    response = ok_response(response_type)
    market = server.market
    store = server.watchlists
    response.s2c.snapshotList.extend(
        snapshot(market.quote(key), market.order_book(key), listing_of(store.security(key)))
        for key in keys
    )
    return response


def quote_handlers() -> dict[ProtoId, Handler[Any]]:
    """The live-quote protocols and their handlers."""
    handlers: dict[ProtoId, Callable[..., Message]] = {
        ProtoId.SUB: sub,
        ProtoId.REG_QOT_PUSH: reg_qot_push,
        ProtoId.GET_SUB_INFO: get_sub_info,
        ProtoId.GET_BASIC_QOT: get_basic_qot,
        ProtoId.GET_ORDER_BOOK: get_order_book,
        ProtoId.GET_SECURITY_SNAPSHOT: get_security_snapshot,
    }
    return handlers
