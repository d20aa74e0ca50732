"""The dispatcher on plain frames: gatekeeping and fault containment, no sockets."""

from __future__ import annotations

from asyncquote._client.ratelimit import Quota
from asyncquote._opend.framing import Frame, FrameDecoder, encode_frame
from asyncquote._pb import KeepAlive_pb2, Qot_GetUserSecurity_pb2
from asyncquote.sim._dispatch import Dispatcher, Route
from asyncquote.sim._handlers import default_routes
from asyncquote.sim._quotas import QuotaLedger
from asyncquote.sim._state import ConnectionState, ServerState
from asyncquote.sim._watchlists import WatchlistStore

KEEP_ALIVE = 1004
GET_USER_SECURITY = 3213


def frame_of(proto_id: int, serial_no: int, body: bytes) -> Frame:
    (frame,) = FrameDecoder().feed(encode_frame(proto_id, serial_no, body))
    return frame


def reply_to(
    dispatcher: Dispatcher, conn: ConnectionState, frame: Frame, now: float = 0.0
) -> Frame:
    data, _ = dispatcher.reply(conn, frame, now)
    (reply,) = FrameDecoder().feed(data)
    return reply


def broken_handler(
    server: ServerState, conn: ConnectionState, request: KeepAlive_pb2.Request
) -> KeepAlive_pb2.Response:
    raise RuntimeError("bug")


def test_a_failing_handler_costs_one_request_not_the_server() -> None:
    server = ServerState(watchlists=WatchlistStore([], []))
    routes = default_routes()
    routes[KEEP_ALIVE] = Route(KeepAlive_pb2.Request, broken_handler, needs_init=False)
    dispatcher = Dispatcher(routes, server)
    body = KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)).SerializeToString()
    reply = reply_to(dispatcher, ConnectionState(conn_id=1), frame_of(KEEP_ALIVE, 9, body))
    response = KeepAlive_pb2.Response.FromString(reply.body)
    assert (reply.proto_id, reply.serial_no) == (KEEP_ALIVE, 9)
    assert response.retType == -400
    assert "simulator error" in response.retMsg


def test_the_wall_clock_can_be_pinned() -> None:
    server = ServerState(watchlists=WatchlistStore([], []), wall_clock=lambda: 1_700_000_000.5)
    dispatcher = Dispatcher(default_routes(), server)
    conn = ConnectionState(conn_id=3, initialised=True)
    body = KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)).SerializeToString()
    reply = reply_to(dispatcher, conn, frame_of(KEEP_ALIVE, 1, body))
    assert KeepAlive_pb2.Response.FromString(reply.body).s2c.time == 1_700_000_000


def test_requests_refused_before_the_quota_check_do_not_count_against_it() -> None:
    server = ServerState(
        watchlists=WatchlistStore.sample(), quotas=QuotaLedger({3213: Quota(1, 30)})
    )
    dispatcher = Dispatcher(default_routes(), server)
    body = Qot_GetUserSecurity_pb2.Request(
        c2s=Qot_GetUserSecurity_pb2.C2S(groupName="HK")
    ).SerializeToString()
    stranger = ConnectionState(conn_id=1)
    member = ConnectionState(conn_id=2, initialised=True)
    _, refused_over_quota = dispatcher.reply(stranger, frame_of(GET_USER_SECURITY, 1, body), 0.0)
    _, malformed_over_quota = dispatcher.reply(member, frame_of(GET_USER_SECURITY, 2, b"\xff"), 0.0)
    data, first_over_quota = dispatcher.reply(member, frame_of(GET_USER_SECURITY, 3, body), 0.0)
    _, second_over_quota = dispatcher.reply(member, frame_of(GET_USER_SECURITY, 4, body), 0.0)
    assert (refused_over_quota, malformed_over_quota) == (False, False)
    assert (first_over_quota, second_over_quota) == (False, True)
    (reply,) = FrameDecoder().feed(data)
    assert Qot_GetUserSecurity_pb2.Response.FromString(reply.body).retType == 0
