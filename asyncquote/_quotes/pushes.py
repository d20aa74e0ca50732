"""Quote pushes to stream updates, and the Qot_Sub request the streams need.

The decoding itself (bytes to :class:`BasicQuote` / :class:`OrderBook`) is
the models' (:mod:`asyncquote._models.quote_convert`); here each update gets
the subscription pair it belongs to, and only pairs the book holds go on,
still as their protobuf messages (:data:`RawUpdate`): the stream conflates
them so, and its reader decodes only what it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._base.errors import ProtocolError
from .._models.market_data import BrokerQueue, Ticker, TimeSharePoint
from .._models.quote_convert import quote_push_messages
from .._models.quotes import BasicQuote, OrderBook
from .._opend.codec import parse_response
from .._opend.framing import Frame
from .._opend.quotes import ORDER_BOOK_SUB_TYPES, PUSH_SUB_TYPES
from .._opend.vocabulary import ProtoId
from .._pb import Qot_Common_pb2, Qot_Sub_pb2, Qot_UpdateOrderBook_pb2
from .book import Batch, Pair
from .market_data_pushes import KLineUpdate

__all__ = ["RawUpdate", "Update", "route_push", "sub_reply", "sub_request_body"]

Update = BasicQuote | OrderBook | Ticker | TimeSharePoint | KLineUpdate | BrokerQueue
"""What a stream delivers (besides its gap markers)."""

RawUpdate = Qot_Common_pb2.BasicQot | Qot_UpdateOrderBook_pb2.S2C
"""An update as the receive path routes it: the protobuf message of one
security's update, decoded into its :data:`Update` when a reader takes it."""

_SUB_TYPE_VALUES = {proto_id: int(sub_type) for proto_id, sub_type in PUSH_SUB_TYPES.items()}
_BOOK_SUB_TYPE_VALUES = {int(book): int(kind) for book, kind in ORDER_BOOK_SUB_TYPES.items()}


def route_push(
    proto_id: int,
    body: bytes,
    routes: Callable[[Pair], Mapping[Any, object] | None],
    latest: dict[Pair, RawUpdate],
) -> None:
    """Parse a quote push and hand each update of a pair the book holds, undecoded,
    to the streams ``routes`` names for it, keeping it in ``latest`` too.

    Runs in the receive path, so it does per update only what routing needs:
    one parse of the push, the security's market and code for the pair, one
    lookup of the pair (:meth:`~asyncquote._quotes.book.SubscriptionBook.routes`),
    a put per stream. The model is built when a reader takes the update
    (:func:`~asyncquote._models.quote_convert.update_from_pb`), so updates
    superseded while they wait cost nothing more.

    An order-book push (3013) goes to the pair of its ``orderBookType``
    (:data:`~asyncquote._opend.quotes.ORDER_BOOK_SUB_TYPES`): odd-lot books
    to ``ORDER_BOOK_ODD``, board-lot books to ``ORDER_BOOK``.

    Raises:
        ProtocolError: the push is malformed, or an update in it names no
            security (the updates before it were delivered), or a book of
            a type this version does not know.
        OpenDError: the push says ``retType != 0``.
    """
    sub_type = _SUB_TYPE_VALUES[proto_id]
    updates = quote_push_messages(proto_id, body)
    books = proto_id == ProtoId.UPDATE_ORDER_BOOK
    nameless = 0
    # Indexing: the repeated field's own iterator costs more than the
    # routing of a one-quote push (the usual one) does.
    for index in range(len(updates)):
        update = updates[index]
        if books:
            # An odd-lot book is its own pair (ORDER_BOOK_ODD), conflated apart
            # from the board-lot one; an absent orderBookType is board lots.
            sub_type = _book_sub_type(update.orderBookType)
        security = update.security
        pair = ((security.market, security.code), sub_type)
        streams = routes(pair)
        if streams is not None:
            latest[pair] = update
            for stream in streams:
                stream._put(pair, update)
        elif not update.HasField("security"):  # only looked at off the hot path
            nameless += 1
    if nameless:
        raise ProtocolError(f"{nameless} update(s) of a protocol {proto_id} push name no security")


def _book_sub_type(order_book_type: int) -> int:
    sub_type = _BOOK_SUB_TYPE_VALUES.get(order_book_type)
    if sub_type is None:
        raise ProtocolError(f"an order-book push of unknown orderBookType {order_book_type}")
    return sub_type


def sub_request_body(batch: Batch, *, subscribe: bool) -> bytes:
    """Qot_Sub (3001) for ``batch``: subscribing registers for pushes and asks for
    the current state at once (``isFirstPush``), with the batch's ``extendedTime``,
    ``session`` and K-line adjustments (``regPushRehabTypeList``);
    unsubscribing unregisters."""
    request = Qot_Sub_pb2.Request()
    c2s = request.c2s
    c2s.securityList.extend(
        Qot_Common_pb2.Security(market=market, code=code) for market, code in batch.securities
    )
    c2s.subTypeList.extend(batch.sub_types)
    c2s.isSubOrUnSub = subscribe
    c2s.isRegOrUnRegPush = subscribe
    if subscribe:
        c2s.isFirstPush = True
        # Said only when not OpenD's defaults, so a plain subscribe is the SDK's.
        options = batch.options
        if options.rehab_types:
            c2s.regPushRehabTypeList.extend(options.rehab_types)
        if options.extended_time:
            c2s.extendedTime = True
        if options.session:
            c2s.session = options.session
    return request.SerializeToString()


def sub_reply(frame: Frame) -> None:
    """Check a Qot_Sub reply.

    Raises:
        OpenDError: OpenD refused.
        ProtocolError: the reply is malformed.
    """
    parse_response(Qot_Sub_pb2.Response, frame.body, proto_id=ProtoId.SUB)
