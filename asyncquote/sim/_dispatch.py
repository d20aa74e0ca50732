"""Turn one request frame into one reply frame, without I/O.

A :class:`Route` binds a protocol id to its request class and handler; the
:class:`Dispatcher` applies OpenD's gatekeeping that every protocol shares
(InitConnect first, protobuf only, parseable body, known protocol) and then
calls the handler. The server does the sockets; this module does the rest,
so it can be tested and extended (encryption, say) on plain bytes. Quotas are
enforced here, against the ledger in :class:`~._state.ServerState`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from .._base.errors import ProtocolError
from .._opend.codec import parse_message
from .._opend.framing import Frame, encode_frame
from .._opend.vocabulary import RESPONSE_TYPES
from .._pb import KeepAlive_pb2
from ..sim import _texts as texts
from ._state import ConnectionState, ServerState

__all__ = ["Dispatcher", "Handler", "Route", "failure", "refusal"]

_log = logging.getLogger("asyncquote.sim")

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)

Handler = Callable[[ServerState, ConnectionState, Req], Message]
"""A protocol handler: parsed request in, complete Response message out."""

# Every OpenD Response shares fields 1-3 (retType, retMsg, errCode), so an
# error reply to a protocol we do not know serialises the same through any of
# them.
_GENERIC_RESPONSE: type[Message] = KeepAlive_pb2.Response


@dataclass(frozen=True, slots=True)
class Route(Generic[Req]):
    """How to serve one protocol id.

    Attributes:
        request_type: the protobuf ``Request`` class to parse the body as.
        handler: builds the reply.
        needs_init: refuse the request until InitConnect has succeeded.
        needs_quote_login: refuse the request while the gateway is not
            logged in to the quote server (``ServerState.gateway``).
    """

    request_type: type[Req]
    handler: Handler[Req]
    needs_init: bool = True
    needs_quote_login: bool = False


def failure(
    response_type: type[Resp],
    message: str,
    *,
    ret_type: int = texts.RET_FAILED,
    err_code: int = texts.ERR_FAILED,
) -> Resp:
    """A Response of ``response_type`` that reports a failure and carries no ``s2c``.

    The defaults are OpenD's plain refusal: ``retType`` -1, a nonzero ``errCode``.
    """
    return response_type(retType=ret_type, errCode=err_code, retMsg=message)


def refusal(
    proto_id: int,
    message: str,
    *,
    ret_type: int = texts.RET_FAILED,
    err_code: int = texts.ERR_FAILED,
) -> bytes:
    """The serialised failure Response to a request of ``proto_id`` (see :func:`failure`)."""
    response_type = RESPONSE_TYPES.get(proto_id, _GENERIC_RESPONSE)
    return failure(response_type, message, ret_type=ret_type, err_code=err_code).SerializeToString()


class Dispatcher:
    """Maps request frames to reply bytes using a route table.

    Gatekeeping runs in OpenD's order as far as it is known: protocol known,
    InitConnect done, protobuf format, parseable body, gateway logged in to
    the quote server (for the routes that need it), then the quota, then the
    handler. A request refused before the quota check does not count
    against it.

    Args:
        routes: protocol id → :class:`Route`.
        server: shared state handed to every handler; its ledger enforces quotas.
    """

    def __init__(self, routes: Mapping[int, Route[Any]], server: ServerState) -> None:
        self._routes = dict(routes)
        self._server = server

    def reply(self, conn: ConnectionState, frame: Frame, now: float) -> tuple[bytes, bool]:
        """The reply to ``frame``, which arrived at ``now`` (in :func:`anyio.current_time`).

        Returns:
            ``(data, over_quota)``: the complete reply frame, header and body,
            and whether the request was refused for exceeding its quota.

        Never raises for anything the client sent: every fault becomes a
        failed Response, echoing the request's proto id and serial number.
        """
        body, over_quota = self.respond(conn, frame, now)
        return encode_frame(frame.proto_id, frame.serial_no, body), over_quota

    def respond(self, conn: ConnectionState, frame: Frame, now: float) -> tuple[bytes, bool]:
        """Like :meth:`reply`, but return only the serialised reply body.

        ``frame.body`` must be the plaintext: on an encrypted connection the
        caller decrypts requests and encrypts replies.
        """
        proto_id = frame.proto_id
        response_type = RESPONSE_TYPES.get(proto_id, _GENERIC_RESPONSE)
        over_quota = False
        admitted = self._admit(conn, frame, response_type)
        if isinstance(admitted, Message):
            response = admitted
        else:
            quota = self._server.quotas.over_quota(proto_id, now)
            if quota is not None:
                over_quota = True
                message = texts.quota_exceeded(proto_id, quota, self._server.language)
                response = failure(response_type, message, err_code=texts.ERR_TOO_FREQUENT)
            else:
                route, request = admitted
                self._server.now = now
                try:
                    response = route.handler(self._server, conn, request)
                except Exception:
                    # A bug in one handler must cost one request, not the server.
                    _log.exception("handler for protocol %d failed", proto_id)
                    response = failure(
                        response_type,
                        texts.INTERNAL_ERROR.format(proto_id=proto_id),
                        ret_type=texts.RET_UNKNOWN,
                    )
        return response.SerializeToString(), over_quota

    def _admit(
        self, conn: ConnectionState, frame: Frame, response_type: type[Message]
    ) -> tuple[Route[Any], Message] | Message:
        """The route and parsed request, or the refusal when the frame cannot be served."""
        proto_id = frame.proto_id
        route = self._routes.get(proto_id)
        if route is None:
            return failure(response_type, texts.UNKNOWN_PROTOCOL.format(proto_id=proto_id))
        if route.needs_init and not conn.initialised:
            return failure(response_type, texts.NOT_INITIALISED.format(proto_id=proto_id))
        if frame.proto_fmt != 0:
            return failure(
                response_type, texts.UNSUPPORTED_FORMAT.format(proto_fmt=frame.proto_fmt)
            )
        try:
            request = parse_message(route.request_type, frame.body, proto_id=proto_id)
        except ProtocolError as exc:
            return failure(
                response_type,
                texts.INVALID_PACKET.format(proto_id=proto_id, detail=exc.__cause__ or exc),
                ret_type=texts.RET_INVALID,
                err_code=texts.ERR_INVALID_PACKET,
            )
        if route.needs_quote_login and not self._server.gateway.quote_logged_in:
            message = texts.not_logged_in(self._server.language)
            return failure(response_type, message, err_code=texts.ERR_NOT_LOGGED_IN)
        return route, request
