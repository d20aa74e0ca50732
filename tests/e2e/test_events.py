"""OpenD's health end to end: Notify pushes from a scripted gateway become events,
``client.gateway``, ``wait_ready()`` and errors that say what OpenD reports.

The gateway is ``tests/hostile_peer.py``'s, which writes its Notify pushes and
GetGlobalState replies with its own encoder.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import (
    ConnectionState,
    ConnectionStateChanged,
    GatewayEvent,
    GatewayEventType,
    GatewayNotReadyError,
    LoginStatusChanged,
    ProgramStatusChanged,
    ProgramStatusType,
    QuoteRight,
    QuoteRightsChanged,
    ReconnectPolicy,
)

from ..conftest import Runner
from ..hostile_peer import (
    HostileConnection,
    HostileGateway,
    RawFrame,
    Stock,
    conn_status_notify,
    global_state_body,
    gtw_event_notify,
    hostile_gateway,
    notify_body,
    program_status_notify,
    qot_right_notify,
)

pytestmark = pytest.mark.anyio

FAST = ReconnectPolicy(initial_delay=0.01, max_delay=0.05, jitter=0)
NO_QUOTAS: dict[int, asyncquote.Quota | None] = {3213: None, 3222: None, 3214: None}


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@asynccontextmanager
async def gateway_and_client(
    gateway: HostileGateway | None = None, **options: Any
) -> AsyncIterator[tuple[HostileGateway, asyncquote.QuoteClient]]:
    gateway = gateway or HostileGateway(groups={"Tech": [Stock(11, "AAPL")]})
    options.setdefault("keepalive", False)
    options.setdefault("quotas", NO_QUOTAS)
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, **options) as client,
    ):
        with anyio.fail_after(20):
            yield gw, client


async def next_event(events: asyncquote.Subscription[asyncquote.Event]) -> asyncquote.Event:
    async for event in events:
        return event
    raise AssertionError("the events ended")


async def test_notify_pushes_become_typed_events_in_order() -> None:
    async with gateway_and_client() as (gw, client), client.events() as events:
        await gw.push(gtw_event_notify(7, "logged in elsewhere"))
        await gw.push(conn_status_notify(quote=False))
        await gw.push(program_status_notify(11, "kicked"))
        await gw.push(qot_right_notify(2, 5, 4))
        got = [await next_event(events) for _ in range(4)]
    assert got[0] == GatewayEvent(
        type=GatewayEventType.KICKED_OUT, description="logged in elsewhere"
    )
    assert got[1] == LoginStatusChanged(quote_logged_in=False, trade_logged_in=True)
    assert isinstance(got[2], ProgramStatusChanged)
    assert got[2].program_status.type is ProgramStatusType.FORCE_LOGOUT
    assert isinstance(got[3], QuoteRightsChanged)
    assert got[3].quote_rights.hk is QuoteRight.LEVEL1


async def test_every_subscriber_gets_every_event() -> None:
    async with (
        gateway_and_client() as (gw, client),
        client.events() as first,
        client.events() as second,
    ):
        await gw.push(conn_status_notify(quote=True))
        assert await next_event(first) == await next_event(second)


async def test_the_raw_push_handler_still_gets_every_push_notify_included() -> None:
    frames: list[asyncquote._opend.framing.Frame] = []
    async with gateway_and_client(push_handler=frames.append) as (gw, client):
        async with client.events() as events:
            await gw.push(conn_status_notify(quote=True))
            await gw.push(b"\x08\x00", proto_id=3005)  # a push the library does not know
            await gw.push(b"not protobuf at all")  # a malformed Notify
            await gw.push(gtw_event_notify(4, "done"))
            event = await next_event(events)
            assert isinstance(event, LoginStatusChanged)
            event = await next_event(events)  # the malformed one is not an event
            assert isinstance(event, GatewayEvent)
        assert [frame.proto_id for frame in frames] == [1003, 3005, 1003, 1003]
        assert await client.get_user_security("Tech")  # the connection lived on


async def test_a_malformed_notify_neither_kills_the_connection_nor_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with gateway_and_client() as (gw, client), client.events() as events:
        await gw.push(b"\xff\xff\xff")
        await gw.push(program_status_notify(77))  # unknown to this version: still an event
        event = await next_event(events)
        assert isinstance(event, ProgramStatusChanged)
        assert event.program_status.type == 77
        assert await client.get_user_security("Tech")
        assert client.state is ConnectionState.CONNECTED
        assert client.reconnects == 0
    assert "malformed Notify" in caplog.text


async def test_the_gateway_status_follows_the_pushes() -> None:
    async with gateway_and_client() as (gw, client), client.events() as events:
        assert (await client.wait_ready()).ready  # from the GetGlobalState refresh
        await gw.push(conn_status_notify(quote=False, trade=False))
        await next_event(events)
        assert client.gateway.quote_logged_in is False
        assert client.gateway.trade_logged_in is False
        assert not client.gateway.ready
        await gw.push(program_status_notify(4, "sms sent"))
        await next_event(events)
        assert client.gateway.program_status is not None
        assert client.gateway.program_status.type is ProgramStatusType.NEED_PHONE_VERIFY_CODE
        await gw.push(qot_right_notify(3, 2, 5))
        await next_event(events)
        assert client.gateway.quote_rights is not None
        assert client.gateway.quote_rights.hk is QuoteRight.LEVEL2


async def test_get_global_state_is_typed_and_updates_the_gateway_status() -> None:
    gateway = HostileGateway(global_state=global_state_body(quote_logged_in=False))
    async with gateway_and_client(gateway) as (_gw, client):
        state = await client.get_global_state()
        assert state.quote_logged_in is False
        assert state.server_version == 904
        assert client.gateway.quote_logged_in is False


NOT_READY = [status for status in ProgramStatusType if status is not ProgramStatusType.READY]


@pytest.mark.parametrize("status", NOT_READY, ids=lambda s: s.name)
async def test_wait_ready_raises_what_opend_reports_for_each_status_but_ready(
    status: ProgramStatusType,
) -> None:
    gateway = HostileGateway(global_state=global_state_body(program_status=status))
    async with gateway_and_client(gateway) as (_gw, client):
        with pytest.raises(GatewayNotReadyError) as info:
            await client.wait_ready(timeout=0.2)
    error = info.value
    assert error.status.program_status is not None
    assert error.status.program_status.type is status
    assert f"program status {status.name}" in str(error)
    assert error.status.program_status.summary in str(error)


async def test_wait_ready_says_a_phone_code_is_needed() -> None:
    gateway = HostileGateway(
        global_state=global_state_body(quote_logged_in=False, program_status=4)
    )
    async with gateway_and_client(gateway) as (_gw, client):
        with pytest.raises(GatewayNotReadyError, match="OpenD needs a phone verification code"):
            await client.wait_ready(timeout=0.2)
        assert "not logged in to the quote server" in client.gateway.summary


async def test_wait_ready_needs_the_quote_login_too() -> None:
    gateway = HostileGateway(global_state=global_state_body(quote_logged_in=False))
    async with gateway_and_client(gateway) as (_gw, client):
        with pytest.raises(GatewayNotReadyError, match="not logged in to the quote server"):
            await client.wait_ready(timeout=0.2)
        # Known now: a timeout of 0 checks without waiting and says the same.
        with pytest.raises(GatewayNotReadyError, match="not logged in to the quote server"):
            await client.wait_ready(timeout=0)


async def test_wait_ready_returns_when_opend_becomes_ready() -> None:
    gateway = HostileGateway(
        global_state=global_state_body(quote_logged_in=False, program_status=2)
    )
    async with gateway_and_client(gateway) as (gw, client), anyio.create_task_group() as tg:
        ready: list[asyncquote.GatewayStatus] = []

        async def wait() -> None:
            ready.append(await client.wait_ready(timeout=math.inf))

        tg.start_soon(wait)
        async with client.events() as events:
            while client.gateway.program_status is None:  # until the refresh has answered
                await client._gateway.wait_changed()
            await gw.push(program_status_notify(10))
            await next_event(events)
            assert not ready  # still logged out of quotes
            await gw.push(conn_status_notify(quote=True))
    assert ready
    assert ready[0].ready


async def test_wait_ready_asks_once_when_nothing_is_known_and_returns_at_once_when_ready() -> None:
    async with gateway_and_client() as (gw, client):
        await client.wait_ready()
        asked = len(gw.arrivals_of(1002))
        assert asked == 1  # the refresh and wait_ready did not both ask
        for _ in range(5):
            assert (await client.wait_ready(timeout=0)).ready
        assert len(gw.arrivals_of(1002)) == asked  # known ready: nothing sent


async def test_wait_ready_when_opend_refuses_global_state_says_the_state_is_unknown() -> None:
    gateway = HostileGateway(
        groups={"Tech": [Stock(11, "AAPL")]},
        global_state=global_state_body(ret_type=-1, ret_msg="nope"),
    )
    async with gateway_and_client(gateway) as (_gw, client):
        with pytest.raises(GatewayNotReadyError, match="not known") as info:
            await client.wait_ready(timeout=0.3)
        assert isinstance(info.value.__cause__, asyncquote.OpenDError)
        # The refused refresh did not hurt the connection.
        assert await client.get_user_security("Tech")


@pytest.mark.parametrize("bad", [math.nan, -1, "1", True, [1]], ids=repr)
async def test_wait_ready_refuses_a_bad_timeout(bad: object) -> None:
    async with gateway_and_client() as (_gw, client):
        with pytest.raises(asyncquote.InvalidArgumentError, match="timeout"):
            await client.wait_ready(timeout=bad)  # type: ignore[arg-type]


async def test_wait_ready_on_a_closed_client_raises_connection_lost() -> None:
    async with gateway_and_client() as (_gw, client):
        pass
    with pytest.raises(asyncquote.ConnectionLostError):
        await client.wait_ready()


@pytest.mark.parametrize("bad", [0, -5, 2.5, None, True])
async def test_events_refuses_a_bad_buffer(bad: object) -> None:
    async with gateway_and_client() as (_gw, client):
        with pytest.raises(asyncquote.InvalidArgumentError, match="buffer"):
            client.events(buffer=bad)  # type: ignore[arg-type]


async def test_a_push_flood_is_bounded_drops_are_counted_and_calls_go_on() -> None:
    pushes = 3000
    gateway = HostileGateway(groups={"Tech": [Stock(11, "AAPL")]})
    async with (
        gateway_and_client(gateway) as (gw, client),
        client.events(buffer=8) as slow,
        client.events(buffer=pushes + 10) as complete,
    ):
        async with anyio.create_task_group() as tg:

            async def flood() -> None:
                for number in range(pushes):
                    await gw.push(gtw_event_notify(4, str(number)))

            async def call() -> None:
                for _ in range(20):
                    assert await client.get_user_security("Tech")

            tg.start_soon(flood)
            tg.start_soon(call)
        # Every push has been read by the client once the complete reader has them all.
        seen = [await next_event(complete) for _ in range(pushes)]
        assert [event.description for event in seen] == [str(n) for n in range(pushes)]  # type: ignore[union-attr]
        assert slow.pending == 8  # never more than its buffer
        assert slow.dropped == pushes - 8
        newest = [await next_event(slow) for _ in range(8)]
        assert [event.description for event in newest] == [  # type: ignore[union-attr]
            str(n) for n in range(pushes - 8, pushes)
        ]
        assert complete.dropped == 0


async def test_events_tell_the_story_across_a_reconnect() -> None:
    async with gateway_and_client(reconnect=FAST) as (gw, client), client.events() as events:
        await client.wait_ready()
        await gw.push(conn_status_notify(quote=False))
        assert isinstance(await next_event(events), LoginStatusChanged)
        await gw.drop_all()
        assert await next_event(events) == ConnectionStateChanged(
            state=ConnectionState.RECONNECTING, previous=ConnectionState.CONNECTED
        )
        assert client.gateway.quote_logged_in is None  # unknown while not connected
        assert await next_event(events) == ConnectionStateChanged(
            state=ConnectionState.CONNECTED, previous=ConnectionState.RECONNECTING
        )

        # Refreshed on the new connection by the client itself (not by
        # wait_ready(), which would ask on its own): logged in again.
        def refreshed() -> bool:
            return client.gateway.quote_logged_in is True and len(gw.arrivals_of(1002)) == 2

        for _ in range(1000):
            if refreshed():
                break
            await anyio.sleep(0.01)
        assert refreshed()
        status = await client.wait_ready()
        assert status.quote_logged_in is True
        assert len(gw.arrivals_of(1002)) == 2
        await gw.push(program_status_notify(3))  # pushes on the new connection arrive too
        assert isinstance(await next_event(events), ProgramStatusChanged)


async def test_the_last_event_says_closed_and_the_iteration_ends() -> None:
    async with gateway_and_client() as (_gw, client):
        events_cm = client.events()
        events = await events_cm.__aenter__()
    try:
        got = [event async for event in events]
    finally:
        await events_cm.__aexit__(None, None, None)
    assert got == [
        ConnectionStateChanged(state=ConnectionState.CLOSED, previous=ConnectionState.CONNECTED)
    ]


async def test_a_client_that_never_asks_about_health_sends_no_global_state() -> None:
    async with gateway_and_client() as (gw, client):
        assert await client.get_user_security("Tech")
        await gw.push(conn_status_notify(quote=False))
        with anyio.fail_after(5):
            while client._gateway.status.quote_logged_in is not False:
                await client._gateway.wait_changed()  # pushes still keep the status current
    assert gw.arrivals_of(1002) == []


async def test_the_refresh_never_queues_for_quota() -> None:
    # A user-set quota for 1002, used up by the user: the refresh is skipped
    # rather than queued ahead of (or behind) the user's calls.
    quotas = {**NO_QUOTAS, 1002: asyncquote.Quota(1, 3600.0)}
    async with gateway_and_client(quotas=quotas, reconnect=FAST) as (gw, client):
        await client.get_global_state()
        assert client.quota(1002).used == 1
        async with client.events() as events:
            await gw.drop_all()
            while await next_event(events) != ConnectionStateChanged(
                state=ConnectionState.CONNECTED, previous=ConnectionState.RECONNECTING
            ):
                pass
        await client.wait_for_state(ConnectionState.CONNECTED)
        assert await client.get_user_security("Tech")
        assert len(gw.arrivals_of(1002)) == 1
        assert client.quota(1002).queued == 0


async def test_an_error_while_opend_reports_a_lost_login_says_so() -> None:
    async def refuse(connection: HostileConnection, frame: RawFrame) -> bool:
        if frame.proto_id != 3213:
            return False
        from ..hostile_peer import response_body

        await connection.send(3213, frame.serial, response_body(ret_type=-1, ret_msg="failed"))
        return True

    gateway = HostileGateway(on_request=refuse)
    async with gateway_and_client(gateway) as (gw, client), client.events() as events:
        await client.wait_ready()  # the refresh has answered: only pushes change it now
        with pytest.raises(asyncquote.OpenDError) as before:
            await client.get_user_security("Tech")
        assert before.value.gateway_status is None  # nothing wrong was reported
        assert "OpenD reports" not in str(before.value)
        await gw.push(conn_status_notify(quote=False))
        await gw.push(program_status_notify(11, "kicked"))
        await next_event(events)
        await next_event(events)
        with pytest.raises(asyncquote.OpenDError) as after:
            await client.get_user_security("Tech")  # the call still went out
    assert len(gw.arrivals_of(3213)) == 2
    error = after.value
    assert error.message == "failed"  # OpenD's words are kept as they were
    assert error.gateway_status is not None
    assert "meanwhile OpenD reports: OpenD was logged out by the servers" in str(error)
    assert "not logged in to the quote server" in str(error)


async def test_a_timeout_while_opend_reports_trouble_says_so() -> None:
    gateway = HostileGateway(
        groups={"Tech": []},
        never_reply={3213},
        global_state=global_state_body(program_status=3),
    )
    async with gateway_and_client(gateway) as (_gw, client):
        with pytest.raises(GatewayNotReadyError):
            await client.wait_ready(timeout=0.2)
        with pytest.raises(asyncquote.RequestTimeoutError, match="picture verification"):
            await client.get_user_security("Tech", timeout=0.05)


async def test_a_caller_sharing_a_request_that_times_out_on_its_own_is_told_too() -> None:
    gateway = HostileGateway(
        groups={"Tech": []},
        never_reply={3213},
        global_state=global_state_body(program_status=3),
    )
    async with gateway_and_client(gateway) as (_gw, client), anyio.create_task_group() as tg:
        with pytest.raises(GatewayNotReadyError):
            await client.wait_ready(timeout=0.2)
        # The leader waits long; the follower joins its flight and gives up first.
        tg.start_soon(partial(client.get_user_security, "Tech", timeout=30))
        await anyio.sleep(0.05)
        with pytest.raises(asyncquote.RequestTimeoutError, match="sharing") as caught:
            await client.get_user_security("Tech", timeout=0.05)
        assert caught.value.gateway_status is not None
        assert "picture verification" in str(caught.value)
        tg.cancel_scope.cancel()


async def test_events_of_a_closed_client_end_at_once() -> None:
    async with gateway_and_client() as (_gw, client):
        pass
    async with client.events() as events:
        assert [event async for event in events] == []


async def test_one_subscription_read_by_two_tasks_refuses_the_second_and_ends_on_close() -> None:
    got: list[asyncquote.Event] = []
    ended = anyio.Event()

    async def read_until_the_end(events: asyncquote.Subscription[asyncquote.Event]) -> None:
        got.extend([event async for event in events])
        ended.set()

    async with anyio.create_task_group() as tg, AsyncExitStack() as subscriptions:
        async with gateway_and_client() as (_, client):
            # Entered here, left after the client closes: the close ends it.
            events = await subscriptions.enter_async_context(client.events())
            tg.start_soon(read_until_the_end, events)
            await anyio.wait_all_tasks_blocked()  # the first reader waits for an event
            with pytest.raises(asyncquote.UsageError, match="another task"):
                await next_event(events)
        with anyio.fail_after(5):  # bounds a hang: the close ends the first reader
            await ended.wait()
    assert isinstance(got[-1], ConnectionStateChanged)
    assert got[-1].state is ConnectionState.CLOSED


#: Malformed Notify pushes in the flood below.
FLOOD = 2_000


async def test_a_flood_of_malformed_notify_logs_a_bounded_number_of_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "asyncquote.notify")
    async with gateway_and_client() as (gw, client), client.events() as events:
        for _ in range(FLOOD):
            await gw.push(b"\xff\xff\xff")  # not protobuf
            await gw.push(notify_body(2))  # ProgramStatus without its part
        await gw.push(conn_status_notify(quote=True))  # after the flood, in order
        assert isinstance(await next_event(events), LoginStatusChanged)
        assert client.state is ConnectionState.CONNECTED
    warnings = [r for r in caplog.records if r.name == "asyncquote.notify"]
    # Once per kind per minute: the flood takes far less than a minute.
    assert len(warnings) == 2, len(warnings)
    assert {r.getMessage().split(":")[0] for r in warnings} == {
        "dropped a malformed Notify push",
        "dropped a Notify push of type 2 without its programStatus",
    }


async def test_a_global_state_answer_from_a_lost_connection_does_not_stand_for_the_next() -> None:
    # OpenD answers GetGlobalState and drops the connection in one go; the
    # next connection's OpenD never answers it. Whatever the client knows
    # about the new connection's OpenD, it did not learn it from that answer.
    answered = []

    async def answer_then_drop(connection: HostileConnection, frame: RawFrame) -> bool:
        if frame.proto_id != 1002:
            return False
        if not answered:
            answered.append(frame)
            await connection.send(1002, frame.serial, global_state_body())
            await connection.close()
        return True  # later connections: no answer at all

    gateway = HostileGateway(groups={"Tech": [Stock(11, "AAPL")]}, on_request=answer_then_drop)
    async with gateway_and_client(gateway, reconnect=FAST) as (gw, client):
        assert client.gateway.ready is False  # starts the refresh
        while client.reconnects == 0 or client.state is not ConnectionState.CONNECTED:
            await client._gateway.wait_changed()
        await gw.wait_for_arrivals(1002, 2)  # the new connection's refresh was sent
        assert await client.get_user_security("Tech")  # a round trip
        assert not client.gateway.known
        assert not client.gateway.ready
