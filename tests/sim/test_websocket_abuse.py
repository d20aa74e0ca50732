"""WebSocket clients that misbehave at the frame level: each costs its own connection only.

Driven by :mod:`.rawws`, which writes RFC 6455 frames by hand, so it can send
what ``websockets``' own client never would: a request and a close frame in
one write, fragmented messages, strings that are not UTF-8. After each
attack a fresh client must still be served, by the same simulator.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import pytest

from asyncquote._pb import InitWebSocket_pb2
from asyncquote.sim import Simulator
from asyncquote.sim._websocket import websocket_key_digest

from ..interop.test_js_sdk import KEY as SIM_KEY
from ..interop.test_js_sdk import ws_port  # noqa: F401 (a fixture)
from . import rawws
from .rawclient import GET_USER_SECURITY, RawClient, user_security
from .wsclient import KEY, REPLY_HEADER, WATCHLIST, WsClient, codes, still_serves, websocket_port

pytestmark = pytest.mark.anyio

DIGEST = websocket_key_digest(KEY)


async def raw(sim: Simulator) -> rawws.RawWs:
    return await rawws.RawWs.open(sim.host, websocket_port(sim))


async def log_in(ws: rawws.RawWs) -> None:
    await ws.send(rawws.frame(rawws.BINARY, rawws.init_websocket(DIGEST)))
    reply = await ws.receive_message()
    assert reply is not None
    assert REPLY_HEADER.unpack_from(reply)[3] == 0  # error


def section_of(message: bytes) -> int:
    return int(REPLY_HEADER.unpack_from(message)[2])


def logged_with_traceback(caplog: pytest.LogCaptureFixture, error: str) -> int:
    """How many log records carry the exception whose message is ``error``."""
    return sum(1 for r in caplog.records if r.exc_info and str(r.exc_info[1]) == error)


# -- item 2a: a request and a close frame in one write ------------------------------


@pytest.mark.parametrize("logged_in", [False, True], ids=["before-login", "after-login"])
async def test_a_request_and_a_close_frame_in_one_write_end_that_connection_only(
    ws_sim: Simulator, logged_in: bool
) -> None:
    for _ in range(3):
        ws = await raw(ws_sim)
        try:
            if logged_in:
                await log_in(ws)
            body = user_security(WATCHLIST).SerializeToString()
            await ws.send(
                rawws.frame(rawws.BINARY, rawws.request(GET_USER_SECURITY, 9, body))
                + rawws.close_frame()
            )
            with anyio.fail_after(10):
                # Whatever the gateway still says, it ends with the close.
                while await ws.receive_message() is not None:
                    pass
        finally:
            await ws.aclose()
    await still_serves(ws_sim)


# -- item 2b: strings that are not UTF-8 in InitWebSocket ---------------------------


@pytest.mark.parametrize("field", ["client_id", "language"])
async def test_init_websocket_with_a_string_that_is_not_utf8_fails_that_login_only(
    ws_sim: Simulator, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    bad = b"\xff\xfe not utf-8 \xc3"
    strings = {"client_id": b"tests", "language": b"JavaScript"} | {field: bad}
    ws = await raw(ws_sim)
    try:
        await ws.send(rawws.frame(rawws.BINARY, rawws.init_websocket(DIGEST, **strings)))
        with anyio.fail_after(10):
            reply = await ws.receive_message()
        assert reply is not None
        _, cmd, section, error, errmsg = REPLY_HEADER.unpack_from(reply)
        assert (cmd, section, error, errmsg.rstrip(b"\0")) == (1, 1, -1, b"login failed")
        response = InitWebSocket_pb2.Response.FromString(reply[REPLY_HEADER.size :])
        assert response.retType == -1
        name = {"client_id": "clientID", "language": "programmingLanguage"}[field]
        assert f"{name} is not UTF-8" in response.retMsg
        # The connection is still open: the same client may log in properly.
        await ws.send(rawws.frame(rawws.BINARY, rawws.init_websocket(DIGEST)))
        with anyio.fail_after(10):
            again = await ws.receive_message()
        assert again is not None
        assert REPLY_HEADER.unpack_from(again)[3] == 0
    finally:
        await ws.aclose()
    await still_serves(ws_sim)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- the guard: an unexpected error in one connection ends that connection only -----


async def test_an_unexpected_error_serving_one_websocket_is_logged_once_and_spares_the_rest(
    ws_sim: Simulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = ws_sim._lifecycle.websocket
    assert gateway is not None
    real = gateway._log_in
    failures = iter([RuntimeError("a bug in the gateway")])

    async def log_in_once_failing(*args: object) -> object:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return await real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(gateway, "_log_in", log_in_once_failing)
    ws = await raw(ws_sim)
    try:
        with anyio.fail_after(10):
            assert await ws.receive_message() is None
    finally:
        await ws.aclose()
    await still_serves(ws_sim)
    assert logged_with_traceback(caplog, "a bug in the gateway") == 1


async def test_an_unexpected_error_serving_one_tcp_connection_is_logged_once_and_spares_the_rest(
    ws_sim: Simulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from asyncquote.sim import _connections

    real = _connections.Peer.run
    failures = iter([RuntimeError("a bug in the peer")])

    async def run_once_failing(self: _connections.Peer) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        await real(self)

    monkeypatch.setattr(_connections.Peer, "run", run_once_failing)
    async with RawClient.connect(ws_sim.host, ws_sim.port) as doomed:
        with anyio.fail_after(10):
            assert await doomed.closed_by_peer()
    await still_serves(ws_sim)
    assert logged_with_traceback(caplog, "a bug in the peer") == 1


# Only trio keeps the cancellation in the group; anyio on asyncio leaves it out.
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_the_guard_logs_an_error_grouped_with_a_cancellation_and_lets_the_cancellation_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A connection's tasks cancelled by the simulator's shutdown while one of
    # them fails end in one group holding both (trio keeps both). The error is
    # that connection's: logged, not raised out of the simulator; the
    # cancellation is the shutdown's and must reach the scope that asked for it.
    from asyncquote.sim._accept import serve_guarded

    async def fail_when_cancelled() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            raise RuntimeError("a bug in the peer")

    with anyio.CancelScope() as simulator:  # stands for the simulator's task group

        async def serve() -> None:
            async with anyio.create_task_group() as tg:
                tg.start_soon(fail_when_cancelled)
                tg.start_soon(anyio.sleep_forever)
                await anyio.lowlevel.checkpoint()
                simulator.cancel()

        await serve_guarded(serve, "the connection from a test")
        pytest.fail("the cancellation did not propagate")  # pragma: no cover
    assert simulator.cancelled_caught
    assert logged_with_traceback(caplog, "a bug in the peer") == 1


def failing_when_cancelled(serving: anyio.Event, error: str) -> Callable[[object], Awaitable[None]]:
    """A stand-in ``run``: a task group, one of whose tasks fails with ``error`` once
    cancelled (by the simulator's shutdown); sets ``serving`` once running."""

    async def run(self: object) -> None:
        async def fail_when_cancelled() -> None:
            try:
                await anyio.sleep_forever()
            finally:
                raise RuntimeError(error)

        async with anyio.create_task_group() as tg:
            tg.start_soon(fail_when_cancelled)
            tg.start_soon(anyio.sleep_forever)
            serving.set()

    return run


@pytest.mark.parametrize("front", ["tcp", "websocket"])
async def test_an_error_of_a_connection_amid_the_simulators_shutdown_is_logged(
    front: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Closing a connection's streams while cancelled must not replace its
    # error on the way to the guard (a checkpoint in aclose() raising anew).
    from asyncquote.sim import _connections, _websocket

    serving = anyio.Event()
    serves = _connections.Peer if front == "tcp" else _websocket._Bridge
    monkeypatch.setattr(serves, "run", failing_when_cancelled(serving, "a bug in serving"))
    with anyio.fail_after(10):
        async with Simulator(port=0, websocket_port=0, websocket_key=KEY) as sim:
            if front == "tcp":
                async with RawClient.connect(sim.host, sim.port):
                    await serving.wait()
            else:
                async with WsClient(sim.host, websocket_port(sim)) as ws:
                    assert (await ws.log_in(KEY)).error == 0
                    await serving.wait()
    assert logged_with_traceback(caplog, "a bug in serving") == 1


# -- item 3: fragmented messages ------------------------------------------------------


@pytest.mark.parametrize("pieces", [2, 5])
async def test_a_fragmented_init_websocket_is_reassembled_and_answered(
    ws_sim: Simulator, pieces: int
) -> None:
    ws = await raw(ws_sim)
    try:
        await ws.send(rawws.fragments(rawws.init_websocket(DIGEST), pieces))
        with anyio.fail_after(10):
            reply = await ws.receive_message()
        assert reply is not None
        _, cmd, section, error, _ = REPLY_HEADER.unpack_from(reply)
        assert (cmd, section, error) == (1, 1, 0)
        assert InitWebSocket_pb2.Response.FromString(reply[REPLY_HEADER.size :]).retType == 0
    finally:
        await ws.aclose()


async def test_a_fragmented_request_is_answered_as_a_whole_even_with_a_ping_between(
    ws_sim: Simulator,
) -> None:
    expected = [info.basic.security.code for info in ws_sim.watchlists.securities_in(WATCHLIST)]
    message = rawws.request(GET_USER_SECURITY, 77, user_security(WATCHLIST).SerializeToString())
    ws = await raw(ws_sim)
    try:
        await log_in(ws)
        # Control frames may come between the fragments of a message (RFC 6455 §5.4),
        # and the fragments may come in separate writes.
        await ws.send(rawws.frame(rawws.BINARY, message[:3], fin=False))
        await ws.send(rawws.frame(rawws.PING, b"hi"))
        await ws.send(rawws.frame(rawws.CONTINUATION, message[3:25], fin=False))
        await ws.send(rawws.frame(rawws.CONTINUATION, message[25:], fin=True))
        with anyio.fail_after(10):
            got = [await ws.receive() for _ in range(2)]
    finally:
        await ws.aclose()
    assert got[0] == (rawws.PONG, b"hi")
    assert got[1] is not None
    opcode, reply = got[1]
    assert opcode == rawws.BINARY
    assert section_of(reply) == 77
    assert codes(reply[REPLY_HEADER.size :]) == expected != []


async def test_a_fragmented_message_over_the_bound_closes_that_connection_only(
    ws_sim: Simulator,
) -> None:
    from asyncquote.sim._websocket_transport import MAX_MESSAGE

    chunk = bytes(64 * 1024)
    ws = await raw(ws_sim)
    try:
        await log_in(ws)
        await ws.send(rawws.frame(rawws.BINARY, rawws.request(GET_USER_SECURITY, 1), fin=False))
        close: tuple[int, bytes] | None = None
        with anyio.fail_after(20):
            try:
                for _ in range(MAX_MESSAGE // len(chunk) + 2):
                    await ws.send(rawws.frame(rawws.CONTINUATION, chunk, fin=False))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the gateway may have closed before the last one
            while (got := await ws.receive()) is not None:
                if got[0] == rawws.CLOSE:
                    close = got
                    break
    finally:
        await ws.aclose()
    assert close is not None
    assert int.from_bytes(close[1][:2], "big") == 1009  # message too big
    await still_serves(ws_sim)


# -- the command line: a crash there is the process exiting ---------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_sim_command_survives_a_request_and_close_and_bad_utf8(
    ws_port: int,  # noqa: F811 (the fixture imported above)
) -> None:
    # ws_port: ``asyncquote sim --websocket-port 0`` in a process of its own,
    # which a crash would end (it exited 1).
    port = ws_port
    digest = websocket_key_digest(SIM_KEY)
    body = user_security(WATCHLIST).SerializeToString()
    attacks = [
        rawws.frame(rawws.BINARY, rawws.request(GET_USER_SECURITY, 9, body)) + rawws.close_frame(),
        rawws.frame(rawws.BINARY, rawws.init_websocket(digest, client_id=b"\xff"))
        + rawws.close_frame(),
        rawws.frame(rawws.BINARY, rawws.init_websocket(digest, language=b"\xc3"))
        + rawws.close_frame(),
    ]
    for attack in attacks:
        ws = await rawws.RawWs.open("127.0.0.1", port)
        try:
            await ws.send(attack)
            with anyio.fail_after(10):
                while await ws.receive_message() is not None:
                    pass
        except anyio.BrokenResourceError:
            pass
        finally:
            await ws.aclose()
    with anyio.fail_after(10):
        async with WsClient("127.0.0.1", port) as ws_client:
            assert (await ws_client.log_in(SIM_KEY)).error == 0
            await ws_client.send(GET_USER_SECURITY, 5, body)
            assert codes((await ws_client.receive()).body) != []
