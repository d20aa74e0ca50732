"""Reconnects, observable state and dead-peer detection, under trio's virtual clock,
and (``TestOnEveryLoop``) on asyncio, uvloop and trio in real time.

The "restarted OpenD" is a simulator closed and started again on the same port.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import pytest
import trio.testing

import asyncquote
from asyncquote import ConnectionState, Quota, ReconnectPolicy
from asyncquote._pb import KeepAlive_pb2
from asyncquote.sim import Faults, Simulator

from ..conftest import Runner
from ..hostile_peer import HostileGateway, Peer, Stock, hostile_gateway, scripted_server

TECH = [Stock(11, "AAPL"), Stock(11, "NVDA")]

pytestmark = pytest.mark.anyio

FAST = ReconnectPolicy(initial_delay=0.5, max_delay=4.0, jitter=0.0)


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


async def free_port() -> int:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port: int = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    return port


class Gateway:
    """A simulator that a test can stop and start again on one port.

    Each run lives in its own task, so stopping it never tangles its task
    group with the client's (trio checks that task groups nest).
    """

    def __init__(self, tg: anyio.abc.TaskGroup, port: int, **options: object) -> None:
        self._tg = tg
        self.port = port
        self._options = options
        self._stop = anyio.Event()
        self._stopped = anyio.Event()
        self.sim: Simulator | None = None

    async def start(self, **options: object) -> Simulator:
        self._stop, self._stopped = anyio.Event(), anyio.Event()
        await self._tg.start(self._run, {**self._options, **options})
        assert self.sim is not None
        return self.sim

    async def _run(
        self, options: dict[str, object], *, task_status: anyio.abc.TaskStatus[None]
    ) -> None:
        try:
            async with Simulator(port=self.port, **options) as sim:  # type: ignore[arg-type]
                self.sim = sim
                task_status.started()
                await self._stop.wait()
        finally:
            self._stopped.set()

    async def stop(self) -> None:
        self._stop.set()
        await self._stopped.wait()


@asynccontextmanager
async def gateway(**options: object) -> AsyncIterator[Gateway]:
    port = await free_port()
    async with anyio.create_task_group() as tg:
        yield Gateway(tg, port, **options)
        tg.cancel_scope.cancel()


async def test_a_restarted_gateway_is_reconnected_and_waiting_calls_go_through() -> None:
    async with gateway() as gw:
        await gw.start()
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=FAST, timeout=60) as client:
            assert client.state is ConnectionState.CONNECTED
            await client.get_user_security("Tech")
            await gw.stop()  # the gateway goes away
            await client.wait_for_state(ConnectionState.RECONNECTING)
            results: list[int] = []

            async def call_while_down() -> None:
                results.append(len(await client.get_user_security("HK")))

            async with anyio.create_task_group() as tg:
                tg.start_soon(call_while_down)
                await anyio.sleep(5)  # several failed attempts meanwhile
                assert results == []
                second = await gw.start()
                await client.wait_for_state(ConnectionState.CONNECTED)
            assert client.reconnects == 1
            assert client.quota(3213).used == 2, "the limiter outlives the connection"
        assert results == [len(second.watchlists.securities_in("HK"))]


async def test_calls_in_flight_when_the_connection_drops_raise_connection_lost() -> None:
    async with gateway() as gw:
        await gw.start(faults=Faults(reply_delay=10.0))
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=FAST, timeout=60) as client:
            errors: list[BaseException] = []

            async def call() -> None:
                try:
                    await client.get_user_security("Tech")
                except asyncquote.ConnectionLostError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                await anyio.sleep(1)
                await gw.stop()  # the gateway dies mid-call
            assert len(errors) == 1
            await gw.start()
            await client.wait_for_state(ConnectionState.CONNECTED)
            assert await client.get_user_security("Tech")


async def test_with_retry_reads_a_dropped_read_is_retried_once_on_the_new_connection() -> None:
    async with gateway() as gw:
        await gw.start(faults=Faults(reply_delay=10.0))
        async with asyncquote.connect(
            "127.0.0.1", gw.port, reconnect=FAST, timeout=60, retry_reads=True
        ) as client:
            results: list[int] = []

            async def call() -> None:
                results.append(len(await client.get_user_security("Tech")))

            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                await anyio.sleep(1)
                await gw.stop()
                second = await gw.start()
            assert results == [len(second.watchlists.securities_in("Tech"))]


async def test_edits_are_not_retried_after_a_drop_even_with_retry_reads() -> None:
    async with gateway() as gw:
        await gw.start(faults=Faults(reply_delay=10.0))
        async with asyncquote.connect(
            "127.0.0.1", gw.port, reconnect=FAST, timeout=60, retry_reads=True
        ) as client:
            errors: list[BaseException] = []

            async def edit() -> None:
                try:
                    await client.modify_user_security("Tech", asyncquote.ModifyOp.ADD, ["US.NVDA"])
                except asyncquote.ConnectionLostError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(edit)
                await anyio.sleep(1)
                await gw.stop()
            assert len(errors) == 1


async def test_a_call_waits_for_the_new_connection_only_up_to_its_timeout() -> None:
    async with gateway() as gw:
        await gw.start()
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=FAST) as client:
            await gw.stop()
            await client.wait_for_state(ConnectionState.RECONNECTING)
            start = anyio.current_time()
            with pytest.raises(asyncquote.ConnectionLostError, match="within 3 s"):
                await client.get_user_security("Tech", timeout=3)
            assert anyio.current_time() - start == pytest.approx(3, abs=0.1)


async def test_with_reconnect_off_a_lost_connection_closes_the_client() -> None:
    async with gateway() as gw:
        await gw.start()
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=False) as client:
            await gw.stop()
            await client.wait_for_state(ConnectionState.CLOSED)
            await gw.start()
            with pytest.raises(asyncquote.ConnectionLostError, match="lost"):
                await client.get_user_security("Tech")


async def test_giving_up_after_max_attempts_closes_the_client() -> None:
    policy = ReconnectPolicy(initial_delay=1, jitter=0, max_attempts=3)
    async with gateway() as gw:
        await gw.start()
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=policy) as client:
            await gw.stop()
            with anyio.fail_after(60):
                await client.wait_for_state(ConnectionState.CLOSED)
            with pytest.raises(asyncquote.ConnectionLostError, match="gave up reconnecting"):
                await client.get_user_security("Tech")


async def test_state_changes_can_be_subscribed_to() -> None:
    seen: list[ConnectionState] = []
    async with gateway() as gw:
        await gw.start()
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=FAST) as client:

            async def watch() -> None:
                async with client.state_changes() as states:
                    async for state in states:
                        seen.append(state)

            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                await anyio.sleep(0.1)
                await gw.stop()
                await client.wait_for_state(ConnectionState.RECONNECTING)
                await gw.start()
                await client.wait_for_state(ConnectionState.CONNECTED)
                await anyio.sleep(0.1)
                tg.cancel_scope.cancel()
    assert seen == [ConnectionState.RECONNECTING, ConnectionState.CONNECTED]


async def test_a_state_changes_reader_that_never_reads_holds_only_the_newest_states() -> None:
    drops = 200  # 400 states: more than a subscription keeps (256, as for events())
    async with gateway() as gw, AsyncExitStack() as stack:
        sim = await gw.start()
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=FAST) as client:
            # Subscribed, and read only once the client is gone.
            states = await stack.enter_async_context(client.state_changes())
            for _ in range(drops):
                await sim.drop_connections()
                with anyio.fail_after(60):
                    await client.wait_for_state(ConnectionState.RECONNECTING)
                    await client.wait_for_state(ConnectionState.CONNECTED)
            assert client.reconnects == drops
        seen = [state async for state in states]
    assert len(seen) == 256, "the newest states, not every one since subscribing"
    assert seen[-2:] == [ConnectionState.CONNECTED, ConnectionState.CLOSED]
    assert states.dropped == 2 * drops + 1 - 256  # type: ignore[attr-defined]


async def test_closing_the_client_stops_reconnecting_and_leaves_no_task() -> None:
    async with gateway() as gw:
        await gw.start()
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=FAST) as client:
            await gw.stop()
            await client.wait_for_state(ConnectionState.RECONNECTING)
            await anyio.sleep(3)
        assert client.state is ConnectionState.CLOSED
        names = [t.name or "" for t in anyio.get_running_tasks()]
        assert not [n for n in names if "asyncquote." in n and "sim" not in n], names
        with pytest.raises(asyncquote.ConnectionLostError, match="closed by the client"):
            await client.get_user_security("Tech")


async def test_a_silent_peer_is_treated_as_lost_and_replaced() -> None:
    connections = 0

    async def script(peer: Peer) -> None:
        nonlocal connections
        connections += 1
        await peer.answer_handshake(keepalive_interval=2)
        if connections == 1:
            await anyio.sleep_forever()  # socket open, nothing ever sent again
        while True:
            request = await peer.receive_frame()
            if request.proto_id == 1004:
                reply = KeepAlive_pb2.Response(retType=0)
                reply.s2c.time = 0
                await peer.reply(request, reply)

    async with (
        scripted_server(script) as (host, port),
        asyncquote.connect(host, port, reconnect=FAST, dead_peer_after=3) as client,
    ):
        start = anyio.current_time()
        await client.wait_for_state(ConnectionState.RECONNECTING)
        # 3 keepalive intervals of 2 s without a byte.
        assert anyio.current_time() - start == pytest.approx(6, abs=0.5)
        await client.wait_for_state(ConnectionState.CONNECTED)
        await anyio.sleep(60)  # the second connection answers keepalives: it stays
        assert client.state is ConnectionState.CONNECTED
        assert connections == 2


async def test_the_quota_window_survives_a_reconnect() -> None:
    quota = {3213: Quota(2, 30.0)}
    async with gateway(quotas=quota) as gw:
        await gw.start()
        async with asyncquote.connect(
            "127.0.0.1", gw.port, reconnect=FAST, quotas=quota, keepalive=False
        ) as client:
            await client.get_user_security("Tech")
            await client.get_user_security("HK")
            await gw.stop()
            second = await gw.start()
            await client.wait_for_state(ConnectionState.CONNECTED)
            start = anyio.current_time()
            await client.get_user_security("US")
            assert anyio.current_time() - start >= 25, "still inside the old window"
        assert len(second.rejections) == 0


async def test_a_gateway_that_handshakes_and_hangs_up_sees_growing_delays_and_max_attempts() -> (
    None
):
    # Regression (issue 11, item 8): the attempt counter was reset by every
    # successful handshake, so a flapping gateway got a connection every
    # 0.5 s for ever and max_attempts was never reached.
    policy = ReconnectPolicy(initial_delay=0.5, max_delay=30, jitter=0, max_attempts=5)
    async with hostile_gateway(HostileGateway(flap=True)) as gw:
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=policy) as client:
            with anyio.fail_after(300):
                await client.wait_for_state(ConnectionState.CLOSED)
            with pytest.raises(asyncquote.ConnectionLostError, match="gave up reconnecting"):
                await client.get_user_security("Tech")
        handshakes = [at for at, proto, _ in gw.arrivals if proto == 1001]
    assert len(handshakes) == 1 + 5
    gaps = [b - a for a, b in itertools.pairwise(handshakes)]
    assert gaps == pytest.approx([0.5, 1, 2, 4, 8], abs=0.05)


async def test_a_connection_that_stayed_up_resets_the_backoff() -> None:
    policy = ReconnectPolicy(initial_delay=0.5, max_delay=30, jitter=0)
    async with hostile_gateway(HostileGateway(flap=True)) as gw:
        async with asyncquote.connect("127.0.0.1", gw.port, reconnect=policy) as client:
            await gw.wait_for_arrivals(1001, 4)  # delays 0.5, 1, 2 so far
            gw.flap = False
            await client.wait_for_state(ConnectionState.CONNECTED)
            await anyio.sleep(60)  # a stable connection
            gw.flap = True
            dropped_at = anyio.current_time()
            await gw.drop_all()
            await gw.wait_for_arrivals(1001, 7)
        handshakes = [at for at, proto, _ in gw.arrivals if proto == 1001]
    # Before: 0.5, 1, 2, 4 (growing while it flapped); after the stable one:
    # 0.5 again, then growing again.
    assert handshakes[5] - dropped_at == pytest.approx(0.5, abs=0.05), "the backoff starts over"
    assert handshakes[6] - handshakes[5] == pytest.approx(1.0, abs=0.05)


class TestOnEveryLoop:
    """Reconnecting on asyncio, uvloop and trio, with small real delays."""

    @pytest.fixture
    def anyio_backend(self, runner: Runner) -> object:
        return runner.anyio_backend

    async def test_a_restarted_gateway_is_reconnected_and_calls_go_on(self) -> None:
        gateway = HostileGateway(groups={"Tech": TECH})
        fast = ReconnectPolicy(initial_delay=0.01, jitter=0)
        async with (
            hostile_gateway(gateway) as gw,
            asyncquote.connect("127.0.0.1", gw.port, reconnect=fast, keepalive=False) as client,
        ):
            with anyio.fail_after(10):
                assert len(await client.get_user_security("Tech")) == 2
                await gw.drop_all()
                await client.wait_for_state(ConnectionState.RECONNECTING)
                await client.wait_for_state(ConnectionState.CONNECTED)
                assert len(await client.get_user_security("Tech", max_age=None)) == 2
            assert client.reconnects == 1
            assert gw.handshakes == 2

    async def test_a_flapping_gateway_exhausts_max_attempts(self) -> None:
        policy = ReconnectPolicy(initial_delay=0.01, multiplier=2, jitter=0, max_attempts=4)
        async with hostile_gateway(HostileGateway(flap=True)) as gw:
            async with asyncquote.connect("127.0.0.1", gw.port, reconnect=policy) as client:
                with anyio.fail_after(10):
                    await client.wait_for_state(ConnectionState.CLOSED)
            assert gw.handshakes == 1 + 4
