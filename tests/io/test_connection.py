"""Connection behaviour against a scripted in-process server over loopback TCP."""

from __future__ import annotations

import contextlib
import random
import socket

import anyio
import anyio.abc
import pytest

import asyncquote
from asyncquote._io.connection import Connection, open_connection
from asyncquote._io.wire import AsyncioWire, StreamWire
from asyncquote._opend.framing import Frame, encode_frame
from asyncquote._pb import Qot_GetUserSecurity_pb2

from ..conftest import Runner
from ..hostile_peer import Peer, RawFrame, scripted_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


GET_USER_SECURITY = 3213


def watchlist_reply(request: RawFrame) -> Qot_GetUserSecurity_pb2.Response:
    """A reply whose only security's code echoes the requested group name."""
    c2s = Qot_GetUserSecurity_pb2.Request.FromString(request.body).c2s
    response = Qot_GetUserSecurity_pb2.Response(retType=0)
    info = response.s2c.staticInfoList.add()
    basic = info.basic
    basic.security.market = 1
    basic.security.code = c2s.groupName
    basic.id = 1
    basic.lotSize = 100
    basic.secType = 3
    basic.name = f"echo of {c2s.groupName}"
    basic.listTime = "2020-01-01"
    return response


def group_of(request: RawFrame) -> str:
    return Qot_GetUserSecurity_pb2.Request.FromString(request.body).c2s.groupName


async def test_200_concurrent_calls_answered_in_random_order_each_get_their_own_reply() -> None:
    count = 200

    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        requests = await peer.receive_frames(count, proto_id=GET_USER_SECURITY)
        random.Random(1234).shuffle(requests)
        for request in requests:
            await peer.reply(request, watchlist_reply(request))
        await anyio.sleep_forever()

    results: dict[str, str] = {}
    async with (
        scripted_server(script) as (host, port),
        asyncquote.connect(host, port, quotas={GET_USER_SECURITY: None}) as client,
    ):

        async def call(name: str) -> None:
            items = await client.get_user_security(name)
            results[name] = items[0].basic.security.code

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i in range(count):
                    tg.start_soon(call, f"G{i}")
        assert client.connection.pending_count == 0
    assert results == {f"G{i}": f"G{i}" for i in range(count)}


async def test_a_late_reply_after_a_timeout_is_dropped_and_the_next_call_still_works() -> None:
    pushes: list[Frame] = []

    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        first = await peer.receive_frame()
        second = await peer.receive_frame()  # sent only after the first timed out
        await peer.reply(first, watchlist_reply(first))
        await peer.reply(second, watchlist_reply(second))
        await anyio.sleep_forever()

    async with (
        scripted_server(script) as (host, port),
        asyncquote.connect(host, port, push_handler=pushes.append) as client,
    ):
        with pytest.raises(asyncquote.RequestTimeoutError, match="3213"):
            await client.get_user_security("slow", timeout=0.2)
        assert client.connection.pending_count == 0
        with anyio.fail_after(5):
            items = await client.get_user_security("fast")
        assert items[0].basic.security.code == "fast"
    assert pushes == [], "a late reply must not be mistaken for a push"


async def test_a_cancelled_caller_leaves_no_pending_entry() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port) as client:
        with anyio.move_on_after(0.1) as scope:
            await client.get_user_security("never answered")
        assert scope.cancelled_caught
        assert client.connection.pending_count == 0


async def test_server_closing_mid_flight_wakes_every_waiter_with_connection_lost() -> None:
    waiting = 10

    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        await peer.receive_frames(waiting, proto_id=GET_USER_SECURITY)
        await peer.stream.aclose()

    errors: list[BaseException] = []
    async with (
        scripted_server(script) as (host, port),
        asyncquote.connect(host, port, reconnect=False) as client,
    ):

        async def call(i: int) -> None:
            try:
                await client.get_user_security(f"G{i}", timeout=60)
            except asyncquote.ConnectionLostError as exc:
                errors.append(exc)

        with anyio.fail_after(5):  # promptly: long before the 60 s call timeout
            async with anyio.create_task_group() as tg:
                for i in range(waiting):
                    tg.start_soon(call, i)
        assert len(errors) == waiting
        assert all(exc.__cause__ is not None for exc in errors)
        with pytest.raises(asyncquote.ConnectionLostError):
            await client.get_user_security("after the loss")
        assert client.state is asyncquote.ConnectionState.CLOSED


async def test_garbage_from_the_server_fails_waiters_with_a_chained_protocol_error() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        await peer.receive_frame()
        await peer.stream.send(b"XX" + bytes(60))
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port) as client:
        with anyio.fail_after(5), pytest.raises(asyncquote.ConnectionLostError) as info:
            await client.get_user_security("A")
        assert isinstance(info.value.__cause__, asyncquote.ProtocolError)


async def test_garbage_right_behind_a_good_reply_delivers_it_and_fails_the_rest_at_once() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        first, _ = await peer.receive_frames(2, proto_id=GET_USER_SECURITY)
        body = watchlist_reply(first).SerializeToString()
        good = encode_frame(GET_USER_SECURITY, first.serial_no, body)
        await peer.stream.send(good + b"XX" + bytes(60))  # one chunk
        await anyio.sleep_forever()  # nothing more arrives to reveal the fault

    async with (
        scripted_server(script) as (host, port),
        asyncquote.connect(host, port, retry_reads=False) as client,
    ):
        outcomes: dict[str, object] = {}

        async def call(name: str) -> None:
            try:
                outcomes[name] = (await client.get_user_security(name))[0].basic.security.code
            except asyncquote.ConnectionLostError as exc:
                outcomes[name] = exc

        # Well inside the request timeout: the fault is seen with the chunk.
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call, "first")
                await anyio.wait_all_tasks_blocked()
                tg.start_soon(call, "second")
        assert outcomes["first"] == "first"
        assert isinstance(outcomes["second"], asyncquote.ConnectionLostError)
        assert isinstance(outcomes["second"].__cause__, asyncquote.ProtocolError)


async def test_serial_wrap_around_skips_serials_still_in_flight() -> None:
    seen: list[int] = []

    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        requests = await peer.receive_frames(4, proto_id=GET_USER_SECURITY)
        seen.extend(r.serial_no for r in requests)
        for request in reversed(requests):
            await peer.reply(request, watchlist_reply(request))
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port) as client:
        connection = client.connection
        results: dict[str, str] = {}

        async def call(name: str) -> None:
            results[name] = (await client.get_user_security(name))[0].basic.security.code

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                connection._protocol._next_serial = 1  # white-box: force the wrap-around
                tg.start_soon(call, "holds serial 1")
                await anyio.wait_all_tasks_blocked()
                connection._protocol._next_serial = 0xFFFF_FFFE
                for name in ("max-1", "max", "after wrap"):
                    tg.start_soon(call, name)
                    await anyio.wait_all_tasks_blocked()
    assert seen == [1, 0xFFFF_FFFE, 0xFFFF_FFFF, 2]
    assert results == {name: name for name in ("holds serial 1", "max-1", "max", "after wrap")}


async def test_push_frames_reach_the_push_hook_and_never_a_waiting_caller() -> None:
    pushes: list[Frame] = []

    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        request = await peer.receive_frame()
        # A Notify that happens to carry the waiting call's serial, then an
        # unsolicited quote push, then the real reply.
        await peer.send(1003, request.serial_no, b"")
        await peer.send(3005, 999_999, b"\x08\x00")
        await peer.reply(request, watchlist_reply(request))
        await anyio.sleep_forever()

    async with (
        scripted_server(script) as (host, port),
        asyncquote.connect(host, port, push_handler=pushes.append) as client,
    ):
        with anyio.fail_after(5):
            items = await client.get_user_security("mine")
    assert items[0].basic.security.code == "mine"
    assert [(p.proto_id, p.serial_no) for p in pushes] == [
        (1003, pushes[0].serial_no),
        (3005, 999_999),
    ]


async def test_a_failing_push_hook_does_not_break_the_connection() -> None:
    def broken_hook(frame: Frame) -> None:
        raise RuntimeError("user bug")

    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        request = await peer.receive_frame()
        await peer.send(1003, 0, b"")
        await peer.reply(request, watchlist_reply(request))
        await anyio.sleep_forever()

    async with (
        scripted_server(script) as (host, port),
        asyncquote.connect(host, port, push_handler=broken_hook) as client,
    ):
        with anyio.fail_after(5):
            assert (await client.get_user_security("ok"))[0].basic.name == "echo of ok"


async def test_a_reply_with_the_wrong_protocol_id_is_a_protocol_error_for_that_call_only() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        first = await peer.receive_frame()
        await peer.send(3222, first.serial_no, b"")
        second = await peer.receive_frame()
        await peer.reply(second, watchlist_reply(second))
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port) as client:
        with anyio.fail_after(5):
            with pytest.raises(asyncquote.ProtocolError, match="3222"):
                await client.get_user_security("first")
            assert (await client.get_user_security("second"))[0].basic.security.code == "second"


async def test_malformed_protobuf_in_a_reply_is_a_protocol_error_and_the_connection_survives() -> (
    None
):
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        first = await peer.receive_frame()
        await peer.reply(first, b"\xff\xff\xff")
        second = await peer.receive_frame()
        await peer.reply(second, watchlist_reply(second))
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port) as client:
        with anyio.fail_after(5):
            with pytest.raises(asyncquote.ProtocolError):
                await client.get_user_security("first")
            assert (await client.get_user_security("second"))[0].basic.security.code == "second"


async def test_an_opend_error_carries_ret_type_err_code_and_message() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        request = await peer.receive_frame()
        response = Qot_GetUserSecurity_pb2.Response(retType=-1, errCode=3, retMsg="未知自选股分组")
        await peer.reply(request, response)
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port) as client:
        with anyio.fail_after(5), pytest.raises(asyncquote.OpenDError) as info:
            await client.get_user_security("nope")
    assert (info.value.ret_type, info.value.err_code, info.value.message) == (
        -1,
        3,
        "未知自选股分组",
    )
    assert info.value.proto_id == GET_USER_SECURITY


# ["A"]: unhashable, so it must not reach the cache of names already checked.
@pytest.mark.parametrize("bad", [None, 3213, b"A", ["A"], "", "   ", "x" * 10_000])
async def test_a_bad_group_name_raises_before_anything_is_sent(bad: object) -> None:
    peers: list[Peer] = []

    async def script(peer: Peer) -> None:
        peers.append(peer)
        await peer.answer_handshake()
        request = await peer.receive_frame()
        await peer.reply(request, watchlist_reply(request))
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port) as client:
        for _ in range(2):  # refused again: a refusal is not remembered as checked
            with pytest.raises(asyncquote.InvalidArgumentError, match="group_name"):
                await client.get_user_security(bad)  # type: ignore[arg-type]
        with anyio.fail_after(5):
            assert (await client.get_user_security("fine"))[0].basic.security.code == "fine"
    assert [f.proto_id for f in peers[0].received] == [1001, GET_USER_SECURITY]


async def test_keepalive_is_sent_at_four_fifths_of_the_interval() -> None:
    keepalive_at: list[float] = []
    arrived = anyio.Event()

    async def script(peer: Peer) -> None:
        await peer.answer_handshake(keepalive_interval=1)
        start = anyio.current_time()
        frame = await peer.receive_frame()
        keepalive_at.append(anyio.current_time() - start)
        assert frame.proto_id == 1004
        arrived.set()
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port), asyncquote.connect(host, port):
        with anyio.fail_after(5):
            await arrived.wait()
    assert 0.6 <= keepalive_at[0] <= 1.0


async def test_connect_refused_raises_connect_error_naming_host_and_port() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()  # nothing listens there now
    with pytest.raises(asyncquote.ConnectError, match=f"127.0.0.1:{port}"):
        async with asyncquote.connect("127.0.0.1", port):
            pass


async def test_a_refused_handshake_raises_connect_error() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake(ret_type=-1)
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port):
        with pytest.raises(asyncquote.ConnectError, match="refused the handshake") as info:
            async with asyncquote.connect(host, port):
                pass
    assert f"{host}:{port}" in str(info.value)


async def test_a_silent_handshake_times_out_as_connect_error() -> None:
    async def script(peer: Peer) -> None:
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port):
        with pytest.raises(asyncquote.ConnectError, match=f"{port}.*within 0.3 s"):
            async with asyncquote.connect(host, port, connect_timeout=0.3):
                pass


async def test_leaving_the_block_leaves_no_task_behind(loop_name: str) -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake(keepalive_interval=1)
        while True:
            request = await peer.receive_frame()
            await peer.reply(request, watchlist_reply(request))

    def library_tasks() -> list[str]:
        names = [task.name or "" for task in anyio.get_running_tasks()]
        return [name for name in names if "asyncquote." in name]

    async with scripted_server(script) as (host, port):
        assert library_tasks() == []
        async with open_connection(host, port) as connection:
            assert connection.info is not None
            assert connection.info.conn_id == 7
            # The timeout alarm, keepalive and dead-peer watchdog; on trio
            # also the stream's reader and writer (on asyncio, the transport
            # protocol does their work without tasks).
            expected = 5 if loop_name == "trio" else 3
            assert len(library_tasks()) == expected, library_tasks()
        assert library_tasks() == []


async def test_an_error_in_the_users_block_propagates_unchanged() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port):
        with pytest.raises(KeyError, match="user"):
            async with asyncquote.connect(host, port):
                raise KeyError("user")


async def test_closing_while_requests_are_being_written_raises_nothing_stray() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        await anyio.sleep_forever()

    async with scripted_server(script) as (host, port):
        for _ in range(20):
            async with open_connection(host, port) as connection:

                async def call() -> None:
                    with contextlib.suppress(asyncquote.ConnectionLostError):
                        await connection.request(GET_USER_SECURITY, b"\x0a\x03\x0a\x01A")

                async with anyio.create_task_group() as tg:
                    for _ in range(50):
                        tg.start_soon(call)
                    await anyio.lowlevel.checkpoint()
                    await connection.aclose()


async def test_a_bug_while_handling_received_bytes_fails_the_call_with_a_typed_error() -> None:
    # Regression (issue 11, item 1): on trio the exception escaped the
    # connection's task group; on asyncio the loop logged it as a transport
    # failure that did not say where it came from.
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        request = await peer.receive_frame()
        await peer.reply(request, watchlist_reply(request))
        await anyio.sleep_forever()

    def broken(data: bytes) -> list[object]:
        raise ZeroDivisionError("a bug")

    async with scripted_server(script) as (host, port), open_connection(host, port) as connection:
        connection._protocol.receive_data = broken  # type: ignore[method-assign,assignment]
        with anyio.fail_after(5), pytest.raises(asyncquote.ConnectionLostError) as info:
            await connection.request(GET_USER_SECURITY, b"\x0a\x03\x0a\x01A")
        assert isinstance(info.value.__cause__, ZeroDivisionError)
        assert "received" in str(info.value)
        assert "ZeroDivisionError" in str(info.value)


async def test_a_failing_loss_callback_neither_hangs_the_close_nor_keeps_callers_waiting() -> None:
    # Regression (issue 11, item 1): an exception from the loss handler inside
    # connection_lost left the waiters asleep and aclose() waiting forever.
    async def script(peer: Peer) -> None:
        await peer.answer_handshake()
        await peer.receive_frame()
        await peer.stream.aclose()

    def broken(connection: object) -> None:
        raise ZeroDivisionError("a bug")

    async with scripted_server(script) as (host, port):
        with anyio.fail_after(5):
            async with open_connection(host, port) as connection:
                connection.on_lost = broken
                with pytest.raises(asyncquote.ConnectionLostError):
                    await connection.request(GET_USER_SECURITY, b"\x0a\x03\x0a\x01A", timeout=60)


def test_open_connection_takes_the_connection_options_fields() -> None:
    # open_connection() builds its ConnectionOptions from its arguments by
    # name: one list of the connection's settings (issue 22).
    import dataclasses
    import inspect

    from asyncquote._io.connection_options import ConnectionOptions

    names = [name for name in inspect.signature(open_connection).parameters]
    fields = [field.name for field in dataclasses.fields(ConnectionOptions)]
    assert sorted("rsa_cipher" if name == "rsa_key" else name for name in names) == sorted(fields)


def shrink_send_buffer(connection: Connection) -> None:
    """Fix the client socket's send buffer small (loopback would grow it to MiBs)."""
    wire = connection._wire
    if isinstance(wire, AsyncioWire):
        sock = wire._transport.get_extra_info("socket")  # type: ignore[union-attr]
    else:
        assert isinstance(wire, StreamWire)
        sock = wire._stream.extra(anyio.abc.SocketAttribute.raw_socket)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)


async def test_a_caller_cancelled_while_its_frame_is_half_sent_leaves_the_stream_whole() -> None:
    # The peer does not read at first and has a small receive buffer, so the
    # socket takes only part of a 2 MiB request when its caller is cancelled.
    # The rest must still follow (or the connection close): the peer then
    # reads that frame whole (its SHA-1 checks) and the next call's after it.
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    raw = listener.listeners[0].extra(anyio.abc.SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    reading = anyio.Event()
    received: list[RawFrame] = []
    big = bytes(range(256)) * 8192

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            peer = Peer(stream)
            await peer.answer_handshake()
            await reading.wait()
            received.extend(await peer.receive_frames(2))
            await peer.reply(received[1], watchlist_reply(received[1]))
            await anyio.sleep_forever()

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        async with open_connection("127.0.0.1", port, keepalive=False) as connection:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as callers:
                    shrink_send_buffer(connection)
                    callers.start_soon(connection.request, GET_USER_SECURITY, big)
                    await anyio.wait_all_tasks_blocked()
                    assert connection._wire.write_blocked_since is not None  # half-sent
                    callers.cancel_scope.cancel()
                reading.set()
                body = Qot_GetUserSecurity_pb2.Request()
                body.c2s.groupName = "after"
                frame = await connection.request(GET_USER_SECURITY, body.SerializeToString())
            assert connection.is_open
        tg.cancel_scope.cancel()
    assert [r.body for r in received] == [big, body.SerializeToString()]
    reply = Qot_GetUserSecurity_pb2.Response.FromString(frame.body)
    assert reply.s2c.staticInfoList[0].basic.security.code == "after"
