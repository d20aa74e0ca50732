"""The client against every fault the simulator can inject.

Faults seen at once run under every runner; those that take seconds to show
run under trio's virtual clock (TestOnTriosVirtualClock).

Each test asserts the typed error the caller sees, and that the client is
usable again where the fault was not the connection's.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import anyio
import pytest

import asyncquote
from asyncquote import ConnectionState, ReconnectPolicy
from asyncquote._base.errors import (
    BadMagicError,
    ChecksumMismatchError,
    FrameTooLargeError,
    TruncatedFrameError,
)
from asyncquote._opend.framing import Frame
from asyncquote.sim import NO_QUOTAS, Faults, Simulator

from ..conftest import OnTriosVirtualClock, Runner

pytestmark = pytest.mark.anyio

NO_CLIENT_QUOTAS = {3213: None, 3222: None, 3214: None}


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def connect(
    sim: Simulator, **options: object
) -> AbstractAsyncContextManager[asyncquote.QuoteClient]:
    """A client without quotas, keepalives or reconnects, unless a test asks."""
    settings: dict[str, object] = {
        "quotas": NO_CLIENT_QUOTAS,
        "keepalive": False,
        "timeout": 2.0,
        "reconnect": False,
    }
    settings.update(options)
    return asyncquote.connect(sim.host, sim.port, **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("faults", "cause"),
    [
        (Faults(corrupt_sha1=1), ChecksumMismatchError),
        (Faults(garbage=1), BadMagicError),
        (Faults(truncate_after=0), TruncatedFrameError),
        (Faults(oversize_after=0), FrameTooLargeError),
    ],
    ids=["corrupt-sha1", "garbage", "truncated-frame", "oversize-length"],
)
async def test_a_corrupt_byte_stream_loses_the_connection_with_the_framing_error_as_cause(
    faults: Faults, cause: type[Exception]
) -> None:
    async with Simulator(port=0, quotas=NO_QUOTAS, faults=faults) as sim, connect(sim) as client:
        with pytest.raises(asyncquote.ConnectionLostError) as info:
            await client.get_user_security("Tech")
        assert isinstance(info.value.__cause__, cause)
        await client.wait_for_state(ConnectionState.CLOSED)


async def test_a_dropped_connection_fails_the_waiting_call_and_the_next_one_reconnects() -> None:
    policy = ReconnectPolicy(initial_delay=0.1, jitter=0)
    async with (
        Simulator(port=0, quotas=NO_QUOTAS, faults=Faults(drop_after=2)) as sim,
        connect(sim, reconnect=policy, retry_reads=False) as client,
    ):
        assert await client.get_user_security("Tech")
        assert await client.get_user_security("HK")
        with pytest.raises(asyncquote.ConnectionLostError, match="closed the connection"):
            await client.get_user_security("US")
        assert await client.get_user_security("US")  # a new connection
        assert client.reconnects == 1


async def test_duplicate_replies_are_dropped_quietly() -> None:
    pushes: list[Frame] = []
    async with (
        Simulator(port=0, quotas=NO_QUOTAS, faults=Faults(duplicate=1)) as sim,
        connect(sim, push_handler=pushes.append) as client,
    ):
        for group in ("Tech", "HK", "US"):
            items = await client.get_user_security(group)
            assert items == await client.get_user_security(group)
    assert pushes == []


@pytest.mark.parametrize("faults", [Faults(reorder=5), Faults(reorder=4, shuffle=True, seed=3)])
async def test_out_of_order_replies_each_reach_their_own_caller(faults: Faults) -> None:
    async with (
        Simulator(port=0, quotas=NO_QUOTAS, faults=faults) as sim,
        connect(sim) as client,
    ):
        groups = ["All", "HK", "US", "CN", "Tech", "Futures", "Options"] * 3
        results: dict[int, int] = {}

        async def call(i: int, group: str) -> None:
            results[i] = len(await client.get_user_security(group))

        async with anyio.create_task_group() as tg:
            for i, group in enumerate(groups):
                tg.start_soon(call, i, group)
        expected = {g: len(sim.watchlists.securities_in(g)) for g in set(groups)}
    assert results == {i: expected[g] for i, g in enumerate(groups)}


async def test_a_refused_handshake_is_a_connect_error() -> None:
    async with Simulator(port=0, faults=Faults(refuse_handshake=True)) as sim:
        with pytest.raises(asyncquote.ConnectError, match="refused the handshake"):
            async with asyncquote.connect(sim.host, sim.port):
                pass


class TestOnTriosVirtualClock(OnTriosVirtualClock):
    """Faults that take seconds to show: a timeout, a keepalive, reconnect backoff."""

    async def test_after_a_corrupt_stream_the_client_reconnects_and_works_again(self) -> None:
        faults = Faults(garbage=3)  # every third reply is garbage
        policy = ReconnectPolicy(initial_delay=0.1, jitter=0)
        async with (
            Simulator(port=0, quotas=NO_QUOTAS, faults=faults) as sim,
            connect(sim, reconnect=policy, retry_reads=True) as client,
        ):
            for _ in range(10):
                assert await client.get_user_security("Tech")
            assert client.reconnects >= 3

    async def test_a_reply_with_an_unknown_serial_leaves_its_call_to_time_out(self) -> None:
        pushes: list[Frame] = []
        async with (
            Simulator(port=0, quotas=NO_QUOTAS, faults=Faults(unknown_serial=2)) as sim,
            connect(sim, push_handler=pushes.append) as client,
        ):
            assert await client.get_user_security("Tech")  # request 1: fine
            with pytest.raises(asyncquote.RequestTimeoutError):
                await client.get_user_security("HK")  # request 2: answered under another serial
            assert await client.get_user_security("US")  # the client is still usable
        assert [p.proto_id for p in pushes] == [3213], "the stray reply is unsolicited: a push"

    async def test_a_gateway_that_falls_silent_is_detected_and_replaced(self) -> None:
        policy = ReconnectPolicy(initial_delay=0.1, jitter=0)
        async with (
            Simulator(
                port=0, quotas=NO_QUOTAS, keepalive_interval=2, faults=Faults(silence_after=1)
            ) as sim,
            connect(sim, reconnect=policy, keepalive=True, timeout=30, retry_reads=False) as client,
        ):
            start = anyio.current_time()
            assert await client.get_user_security("Tech")  # request 1 is answered
            with pytest.raises(asyncquote.ConnectionLostError, match="no keepalive"):
                await client.get_user_security("HK")  # then silence
            # Three keepalive intervals (2 s) without an answer.
            assert anyio.current_time() - start == pytest.approx(6, abs=1)
            await client.wait_for_state(ConnectionState.CONNECTED)
            assert client.reconnects == 1

    async def test_a_slow_handshake_is_a_connect_error_naming_the_address(self) -> None:
        async with Simulator(port=0, faults=Faults(handshake_delay=30)) as sim:
            with pytest.raises(asyncquote.ConnectError, match=f"{sim.port}.*within 5 s"):
                async with asyncquote.connect(sim.host, sim.port, connect_timeout=5):
                    pass

    async def test_delayed_replies_beyond_the_timeout_time_out_and_arrive_late_harmlessly(
        self,
    ) -> None:
        pushes: list[Frame] = []
        async with (
            Simulator(port=0, quotas=NO_QUOTAS, faults=Faults(reply_delay=5.0)) as sim,
            connect(sim, push_handler=pushes.append, timeout=2.0) as client,
        ):
            with pytest.raises(asyncquote.RequestTimeoutError):
                await client.get_user_security("Tech")
            assert await client.get_user_security("HK", timeout=10)  # the late reply came meanwhile
        assert pushes == []
