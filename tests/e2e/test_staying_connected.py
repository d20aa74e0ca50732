"""Staying correct against a hostile gateway (issue 11): one deadline per call,
the quota measured where requests arrive, liveness from answers, a peer that
stops reading, closing with callers queued, and read retries after a drop.

The peer is ``tests/hostile_peer.py``, written independently of the library.
Tests in which time has to pass run on trio with an autojumping MockClock;
the others run on asyncio, uvloop and trio with small real durations.
"""

from __future__ import annotations

import contextlib
import logging

import anyio
import pytest
import trio.testing

import asyncquote
from asyncquote import ConnectionState, Quota, ReconnectPolicy
from asyncquote._io.connection import open_connection
from asyncquote._pb import Qot_GetUserSecurity_pb2

from ..conftest import Runner
from ..hostile_peer import (
    HostileConnection,
    HostileGateway,
    RawFrame,
    Stock,
    hostile_gateway,
    pack_frame,
    response_body,
)

pytestmark = pytest.mark.anyio

GUS = 3213
TECH = [Stock(11, "AAPL"), Stock(11, "NVDA")]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


async def fetch(client: asyncquote.QuoteClient, group: str, **kwargs: float) -> object:
    """One 3213 request per call (``get_user_security`` merges concurrent calls)."""
    request = Qot_GetUserSecurity_pb2.Request()
    request.c2s.groupName = group
    return await client.request(GUS, request, Qot_GetUserSecurity_pb2.Response, **kwargs)


def most_in_any_window(arrivals: list[float], period: float) -> int:
    return max((sum(1 for u in arrivals if t <= u < t + period) for t in arrivals), default=0)


# -- item 5: one deadline ---------------------------------------------------------


async def test_a_call_made_while_reconnecting_has_one_deadline_for_connection_and_reply() -> None:
    # Regression (issue 11, item 5): with timeout=2 a call waited 1.8 s for the
    # new connection and then 2 s more for its reply.
    gateway = HostileGateway(groups={"Tech": TECH}, never_reply={GUS})
    policy = ReconnectPolicy(initial_delay=1.8, jitter=0)
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, reconnect=policy, keepalive=False) as client,
    ):
        await gw.drop_all()
        await client.wait_for_state(ConnectionState.RECONNECTING)
        start = anyio.current_time()
        with pytest.raises(asyncquote.RequestTimeoutError, match="within 2 s"):
            await client.get_user_security("Tech", timeout=2)
        elapsed = anyio.current_time() - start
        assert gw.handshakes == 2, "the call did go out on the new connection"
        assert elapsed == pytest.approx(2.0, abs=0.05)


async def test_time_queued_for_quota_is_bounded_by_queue_timeout_not_by_timeout() -> None:
    # The other half of the rule: the deadline starts once the quota lets the
    # call through.
    gateway = HostileGateway(groups={"A": TECH, "B": TECH})
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect(
            "127.0.0.1", gw.port, quotas={GUS: Quota(1, 30.0)}, keepalive=False
        ) as client,
    ):
        await fetch(client, "A", timeout=2)
        start = anyio.current_time()
        await fetch(client, "B", timeout=2)  # queued for about 30 s, then answered
        assert anyio.current_time() - start >= 29
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect(
            "127.0.0.1", gw.port, quotas={GUS: Quota(1, 30.0)}, keepalive=False, queue_timeout=5
        ) as client,
    ):
        await fetch(client, "A", timeout=60)
        with pytest.raises(asyncquote.RateLimitError, match="queue_timeout"):
            await fetch(client, "B", timeout=60)


async def test_a_read_retry_that_would_start_past_the_deadline_is_not_sent() -> None:
    # The retry after a drop shares the call's deadline; if waiting for quota
    # used it up, sending would only spend quota on a call already over.
    gateway = HostileGateway(groups={"Tech": TECH}, never_reply={GUS})
    fast = ReconnectPolicy(initial_delay=0.1, jitter=0)
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect(
            "127.0.0.1", gw.port, quotas={GUS: Quota(1, 30.0)}, reconnect=fast, keepalive=False
        ) as client,
    ):

        async def drop_when_it_arrives() -> None:
            await gw.wait_for_arrivals(GUS)
            await gw.drop_all()

        async with anyio.create_task_group() as tg:
            tg.start_soon(drop_when_it_arrives)
            with pytest.raises(asyncquote.ConnectionLostError):
                await client.get_user_security("Tech", timeout=5)
        assert len(gw.arrivals_of(GUS)) == 1


# -- item 6: the quota at the peer ------------------------------------------------


async def arrivals_behind_a_stall(
    quota: Quota, *, callers: int, timeout: float, stall: float
) -> list[float]:
    """Arrival times at a gateway that stops reading for ``stall`` seconds
    while ``callers`` calls with ``timeout`` go through ``quota``."""
    gateway = HostileGateway(groups={f"G{i}": [] for i in range(callers)})
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect(
            "127.0.0.1", gw.port, quotas={GUS: quota}, timeout=timeout, keepalive=False
        ) as client,
    ):
        gw.stall_reading()

        async def call(i: int) -> None:
            with contextlib.suppress(asyncquote.RequestTimeoutError):
                await fetch(client, f"G{i}")

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for i in range(callers):
                    tg.start_soon(call, i)
                await anyio.sleep(stall)
                gw.resume_reading()
    return gw.arrivals_of(GUS)


async def test_the_quota_holds_where_requests_arrive_when_the_gateway_stops_reading() -> None:
    # Regression (issue 11, item 6): slots were freed when callers gave up, so
    # requests still sitting in the socket arrived all at once (29 in 1 s).
    arrivals = await arrivals_behind_a_stall(Quota(10, 1.0), callers=40, timeout=0.3, stall=2.5)
    assert len(arrivals) == 40
    assert most_in_any_window(arrivals, 1.0) <= 10


async def test_a_request_given_up_on_is_settled_by_its_late_reply_or_by_the_close() -> None:
    gateway = HostileGateway(groups={"Tech": TECH}, reply_delay={GUS: 5.0})
    body = Qot_GetUserSecurity_pb2.Request(c2s={"groupName": "Tech"}).SerializeToString()
    settled: list[str] = []
    async with (
        hostile_gateway(gateway) as gw,
        open_connection("127.0.0.1", gw.port, keepalive=False) as connection,
    ):
        for name in ("late reply", "close"):
            with pytest.raises(asyncquote.RequestTimeoutError):
                await connection.request(
                    GUS, body, timeout=1, on_settled=lambda name=name: settled.append(name)
                )
            assert name not in settled, "given up on, but perhaps still in the socket"
            if name == "late reply":
                # White-box: thousands of later calls pushed its serial out of
                # the memory of recent serials; the late reply still counts.
                connection._protocol._recent.clear()
                await anyio.sleep(10)
                assert settled == ["late reply"]
    assert settled == ["late reply", "close"]


# -- item 7: liveness from answers --------------------------------------------------


async def lost_reason_of_a_call(client: asyncquote.QuoteClient) -> str:
    with pytest.raises(asyncquote.ConnectionLostError) as info:
        await fetch(client, "Tech", timeout=1000)
    return str(info.value)


async def test_a_peer_trickling_a_huge_reply_is_declared_dead() -> None:
    # Regression (issue 11, item 7): a byte every 100 ms kept a peer "alive"
    # for ever, although it answered nothing.
    async def trickle(connection: HostileConnection, frame: RawFrame) -> bool:
        if frame.proto_id != GUS:
            return False
        body = bytes(1 << 20)
        await connection.send_raw(pack_frame(GUS, frame.serial, body)[:44])
        await connection.trickle(body, every=0.1)
        return True

    gateway = HostileGateway(groups={"Tech": TECH}, keepalive_interval=2, on_request=trickle)
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, reconnect=False, dead_peer_after=3) as client,
    ):
        with anyio.fail_after(100):
            reason = await lost_reason_of_a_call(client)
        assert "keepalive" in reason


async def test_a_peer_that_pushes_but_never_answers_keepalive_is_declared_dead() -> None:
    gateway = HostileGateway(groups={"Tech": TECH}, keepalive_interval=2, answer_keepalive=False)
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, reconnect=False, dead_peer_after=3) as client,
    ):
        peer = gw.connections[0]

        async def push_forever() -> None:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                while True:
                    await peer.send(1003, 0, response_body(b""))
                    await anyio.sleep(0.5)

        async with anyio.create_task_group() as tg:
            tg.start_soon(push_forever)
            with anyio.fail_after(100):
                await client.wait_for_state(ConnectionState.CLOSED)
            tg.cancel_scope.cancel()
        with pytest.raises(asyncquote.ConnectionLostError, match="keepalive"):
            await fetch(client, "Tech")


@pytest.mark.parametrize("interval", [0, -5, 2_000_000_000])
async def test_a_senseless_keepalive_interval_is_clamped_with_a_log_line(
    interval: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Regression (issue 11, item 7): 0 or less turned keepalive and liveness
    # off; a huge one made them meaningless.
    caplog.set_level(logging.WARNING, "asyncquote")
    gateway = HostileGateway(keepalive_interval=interval, answer_keepalive=False)
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, reconnect=False) as client,
    ):
        with anyio.fail_after(600):
            await client.wait_for_state(ConnectionState.CLOSED)
    assert any("keepAliveInterval" in r.getMessage() for r in caplog.records), caplog.text


# -- on every event loop -----------------------------------------------------------


class TestOnEveryLoop:
    @pytest.fixture
    def anyio_backend(self, runner: Runner) -> object:
        return runner.anyio_backend

    async def test_the_outgoing_buffer_is_bounded_when_the_peer_stops_reading(self) -> None:
        # Regression (issue 11, item 7): requests of calls that had long
        # timed out piled up unsent without limit (7.7 MB were seen).
        gateway = HostileGateway()
        async with (
            hostile_gateway(gateway) as gw,
            open_connection("127.0.0.1", gw.port, keepalive=False) as connection,
        ):
            gw.stall_reading()
            body = bytes(64 * 1024)

            async def call() -> None:
                with contextlib.suppress(asyncquote.AsyncQuoteError):
                    await connection.request(GUS, body, timeout=2)

            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    for _ in range(400):  # 25 MiB: more than any socket buffers
                        tg.start_soon(call)
            assert not connection.is_open
            assert "not reading" in connection.lost_reason

    async def test_a_peer_that_has_not_read_for_too_long_fails_the_connection(self) -> None:
        # Regression (issue 11, item 7): with keepalive off nothing noticed a
        # peer that stopped reading.
        gateway = HostileGateway(keepalive_interval=1)
        async with (
            hostile_gateway(gateway) as gw,
            open_connection(
                "127.0.0.1", gw.port, keepalive=False, dead_peer_after=1.5
            ) as connection,
        ):
            gw.stall_reading()
            body = bytes(64 * 1024)
            async with anyio.create_task_group() as tg:

                async def call() -> None:
                    with contextlib.suppress(asyncquote.AsyncQuoteError):
                        await connection.request(GUS, body, timeout=60)

                for _ in range(400):
                    tg.start_soon(call)
                    await anyio.sleep(0.002)
                    blocked_since = connection._wire.write_blocked_since
                    if blocked_since is not None and anyio.current_time() - blocked_since > 0.05:
                        break  # the socket buffers are full: the peer reads nothing
                assert connection._wire.write_blocked_since is not None
                with anyio.fail_after(10):
                    await connection.wait_lost()
            assert "not reading" in connection.lost_reason
            assert "1.5 s" in connection.lost_reason

    async def test_the_quota_holds_where_requests_arrive_on_every_loop(self) -> None:
        # Item 6 again, in real time and small: 3 per 0.3 s, a 0.5 s stall.
        arrivals = await arrivals_behind_a_stall(Quota(3, 0.3), callers=9, timeout=0.05, stall=0.5)
        assert len(arrivals) == 9
        assert most_in_any_window(arrivals, 0.3) <= 3

    # -- item 9 -------------------------------------------------------------------

    async def test_leaving_the_block_fails_every_caller_queued_for_quota_at_once(self) -> None:
        # Regression (issue 11, item 9): queued callers were failed only when
        # their turn came, up to a whole quota window after the block ended.
        gateway = HostileGateway(groups={f"G{i}": [] for i in range(18)})
        outcomes: list[object] = []
        async with hostile_gateway(gateway) as gw:
            with anyio.fail_after(10):  # the window is 30 s
                async with (
                    anyio.create_task_group() as tg,
                    asyncquote.connect(
                        "127.0.0.1", gw.port, quotas={GUS: Quota(2, 30.0)}, keepalive=False
                    ) as client,
                ):

                    async def call(i: int) -> None:
                        try:
                            outcomes.append(await fetch(client, f"G{i}"))
                        except asyncquote.ConnectionLostError as exc:
                            outcomes.append(exc)

                    for i in range(18):
                        tg.start_soon(call, i)
                    await anyio.wait_all_tasks_blocked()
                    assert client.quota(GUS).queued == 16
        lost = [o for o in outcomes if isinstance(o, asyncquote.ConnectionLostError)]
        assert len(outcomes) == 18
        assert len(lost) >= 16  # and the two sent may have been in flight still
        assert all("closed by the client" in str(exc) for exc in lost)

    async def test_a_client_that_closes_itself_fails_every_queued_caller_at_once(self) -> None:
        # The same when the client closes because the connection was lost and
        # reconnecting is off (or gave up), not because the block ended.
        gateway = HostileGateway(groups={f"G{i}": [] for i in range(18)})
        lost: list[asyncquote.ConnectionLostError] = []
        async with (
            hostile_gateway(gateway) as gw,
            asyncquote.connect(
                "127.0.0.1",
                gw.port,
                quotas={GUS: Quota(2, 30.0)},
                keepalive=False,
                reconnect=False,
            ) as client,
        ):

            async def call(i: int) -> None:
                try:
                    await fetch(client, f"G{i}")
                except asyncquote.ConnectionLostError as exc:
                    lost.append(exc)

            with anyio.fail_after(10):  # the window is 30 s
                async with anyio.create_task_group() as tg:
                    for i in range(18):
                        tg.start_soon(call, i)
                    await anyio.wait_all_tasks_blocked()
                    assert client.quota(GUS).queued == 16
                    await gw.drop_all()
            assert client.state is ConnectionState.CLOSED
        queued = [exc for exc in lost if "closed: the connection was lost" in str(exc)]
        assert len(queued) == 16  # the two sent were lost with their connection

    async def test_leaving_the_block_fails_every_caller_waiting_for_a_reconnect(self) -> None:
        gateway = HostileGateway(groups={"Tech": TECH})
        outcomes: list[BaseException] = []
        slow = ReconnectPolicy(initial_delay=60, jitter=0)
        async with hostile_gateway(gateway) as gw:
            with anyio.fail_after(10):
                async with (
                    anyio.create_task_group() as tg,
                    asyncquote.connect(
                        "127.0.0.1", gw.port, reconnect=slow, keepalive=False
                    ) as client,
                ):
                    await gw.drop_all()
                    await client.wait_for_state(ConnectionState.RECONNECTING)

                    async def call() -> None:
                        try:
                            await fetch(client, "Tech", timeout=100)
                        except asyncquote.ConnectionLostError as exc:
                            outcomes.append(exc)

                    for _ in range(5):
                        tg.start_soon(call)
                    await anyio.wait_all_tasks_blocked()
        assert len(outcomes) == 5
        assert all("closed by the client" in str(exc) for exc in outcomes)

    # -- item 11 ------------------------------------------------------------------

    async def test_a_read_in_flight_when_the_gateway_drops_is_retried_by_default(self) -> None:
        # Regression (issue 11, item 11): reads failed after a drop unless the
        # user had opted in with retry_reads=True.
        gateway = HostileGateway(groups={"Tech": TECH}, never_reply={GUS})
        fast = ReconnectPolicy(initial_delay=0.01, jitter=0)
        async with (
            hostile_gateway(gateway) as gw,
            asyncquote.connect("127.0.0.1", gw.port, reconnect=fast, keepalive=False) as client,
        ):
            results: list[list[str]] = []

            async def read() -> None:
                items = await client.get_user_security("Tech", timeout=30)
                results.append([str(item.security) for item in items])

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(read)
                    await gw.wait_for_arrivals(GUS)
                    gateway.never_reply.clear()
                    await gw.drop_all()
        assert results == [["US.AAPL", "US.NVDA"]]
        assert len(gw.arrivals_of(GUS)) == 2

    async def test_an_edit_in_flight_when_the_gateway_drops_is_never_retried(self) -> None:
        gateway = HostileGateway(groups={"Tech": TECH}, never_reply={3214})
        fast = ReconnectPolicy(initial_delay=0.01, jitter=0)
        async with (
            hostile_gateway(gateway) as gw,
            asyncquote.connect("127.0.0.1", gw.port, reconnect=fast, keepalive=False) as client,
        ):
            errors: list[BaseException] = []

            async def edit() -> None:
                try:
                    await client.modify_user_security(
                        "Tech", asyncquote.ModifyOp.ADD, ["HK.00700"], timeout=30
                    )
                except asyncquote.ConnectionLostError as exc:
                    errors.append(exc)

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(edit)
                    await gw.wait_for_arrivals(3214)
                    gateway.never_reply.clear()
                    await gw.drop_all()
            assert len(errors) == 1
            assert len(gw.arrivals_of(3214)) == 1

    async def test_read_retries_can_be_turned_off(self) -> None:
        gateway = HostileGateway(groups={"Tech": TECH}, never_reply={GUS})
        fast = ReconnectPolicy(initial_delay=0.01, jitter=0)
        async with (
            hostile_gateway(gateway) as gw,
            asyncquote.connect(
                "127.0.0.1", gw.port, reconnect=fast, keepalive=False, retry_reads=False
            ) as client,
        ):
            errors: list[BaseException] = []

            async def read() -> None:
                try:
                    await client.get_user_security("Tech", timeout=30)
                except asyncquote.ConnectionLostError as exc:
                    errors.append(exc)

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(read)
                    await gw.wait_for_arrivals(GUS)
                    await gw.drop_all()
            assert len(errors) == 1
