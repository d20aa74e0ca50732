"""Quote pushes to stream updates, and the Qot_Sub request the streams need.

The decoding itself (bytes to :class:`BasicQuote` / :class:`OrderBook`) is
the models' (:func:`quote_push_from_body`); here each update gets the
subscription pair it belongs to, and only pairs the book holds go on.
"""

from __future__ import annotations

from collections.abc import Callable

from .._models.quote_convert import quote_push_from_body
from .._models.quotes import BasicQuote, OrderBook
from .._opend.codec import parse_response
from .._opend.framing import Frame
from .._opend.quotes import PUSH_SUB_TYPES
from .._opend.vocabulary import ProtoId
from .._pb import Qot_Common_pb2, Qot_Sub_pb2
from .book import Batch, Pair

__all__ = ["Update", "route_push", "sub_reply", "sub_request_body"]

Update = BasicQuote | OrderBook
"""What a stream delivers (besides its gap markers)."""


def route_push(
    proto_id: int,
    body: bytes,
    tracked: Callable[[Pair], bool],
    deliver: Callable[[Pair, Update], None],
) -> None:
    """Decode a quote push and hand each update of a ``tracked`` pair to ``deliver``.

    Raises:
        ProtocolError: the push is malformed.
        OpenDError: the push says ``retType != 0``.
    """
    sub_type = int(PUSH_SUB_TYPES[proto_id])
    for update in quote_push_from_body(proto_id, body):
        security = update.security
        pair = ((int(security.market), security.code), sub_type)
        if tracked(pair):
            deliver(pair, update)


def sub_request_body(batch: Batch, *, subscribe: bool) -> bytes:
    """Qot_Sub (3001) for ``batch``: subscribing registers for pushes and asks for
    the current state at once (``isFirstPush``); unsubscribing unregisters."""
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
    return request.SerializeToString()


def sub_reply(frame: Frame) -> None:
    """Check a Qot_Sub reply.

    Raises:
        OpenDError: OpenD refused.
        ProtocolError: the reply is malformed.
    """
    parse_response(Qot_Sub_pb2.Response, frame.body, proto_id=ProtoId.SUB)
