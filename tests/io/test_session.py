"""The session on its own: reconnect backoff, state changes and ``on_closed``, with no socket.

The session gets a fake opener that hands out fake connections (or fails to)
as each test scripts, and runs on trio's autojumping virtual clock, so every
backoff delay is measured exactly and costs no real time.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import pytest
import trio.testing

from asyncquote._base.errors import ConnectError, ConnectionLostError, InvalidArgumentError
from asyncquote._io.session import STABLE_AFTER, ConnectionState, ReconnectPolicy, Session

pytestmark = pytest.mark.anyio


ADDRESS = "127.0.0.1:11111"
"""What a session reads besides its opener and its policy: the address, for messages."""


NO_JITTER = ReconnectPolicy(initial_delay=1.0, max_delay=8.0, multiplier=2.0, jitter=0.0)


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


class FakeConnection:
    """What the session uses of a connection: liveness and the loss callback."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_open = True
        self.on_lost: Callable[[Any], None] | None = None
        self.lost_reason = ""
        self.lost_cause: BaseException | None = None
        self._lost = anyio.Event()

    def lose(self, reason: str = "peer closed the connection") -> None:
        self.is_open = False
        self.lost_reason = reason
        if self.on_lost is not None:
            self.on_lost(self)
        self._lost.set()

    async def wait_lost(self) -> None:
        await self._lost.wait()

    def __repr__(self) -> str:
        return f"FakeConnection({self.name!r})"


class FakeOpener:
    """Opens connections as scripted: ``fail`` the next n attempts, record when each came."""

    def __init__(self) -> None:
        self.opened: list[FakeConnection] = []
        self.attempts: list[float] = []
        self.failures = 0
        self.lost_before_listening = False
        self._opened = anyio.Event()

    def __call__(self) -> AbstractAsyncContextManager[FakeConnection]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[FakeConnection]:
        self.attempts.append(anyio.current_time())
        if self.failures:
            self.failures -= 1
            raise ConnectError(f"attempt {len(self.attempts)} refused")
        connection = FakeConnection(f"c{len(self.opened)}")
        if self.lost_before_listening:
            self.lost_before_listening = False
            connection.is_open = False
            connection.lost_reason = "lost during the handshake"
            connection._lost.set()
        self.opened.append(connection)
        self._opened.set()
        self._opened = anyio.Event()
        yield connection

    async def wait_opened(self, count: int) -> FakeConnection:
        while len(self.opened) < count:
            await self._opened.wait()
        return self.opened[count - 1]


@asynccontextmanager
async def running(
    opener: FakeOpener, policy: ReconnectPolicy = NO_JITTER
) -> AsyncIterator[Session]:
    session = Session(opener, ADDRESS, policy, rng=random.Random(1))
    async with anyio.create_task_group() as tg:
        await tg.start(session.run)
        try:
            yield session
        finally:
            session.close()
            tg.cancel_scope.cancel()


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


async def test_the_first_connection_is_reported_to_the_starter_and_is_current() -> None:
    opener = FakeOpener()
    async with running(opener) as session:
        assert session.state is ConnectionState.CONNECTED
        assert session.current is opener.opened[0]
        assert await session.connection(1.0) is opener.opened[0]
        assert session.reconnects == 0


async def test_a_failed_first_connection_raises_to_the_starter_and_closes() -> None:
    opener = FakeOpener()
    opener.failures = 1
    session = Session(opener, ADDRESS, NO_JITTER)
    async with anyio.create_task_group() as tg:
        with pytest.raises(ConnectError, match="attempt 1 refused"):
            await tg.start(session.run)
    assert session.state is ConnectionState.CLOSED
    assert opener.attempts == [opener.attempts[0]]  # no reconnecting without a first connection


async def test_failed_attempts_wait_longer_each_time_up_to_the_cap() -> None:
    opener = FakeOpener()
    async with running(opener) as session:
        opener.failures = 5
        lost_at = anyio.current_time()
        opener.opened[0].lose()
        replacement = await opener.wait_opened(2)
        assert gaps([lost_at, *opener.attempts[1:]]) == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
        assert await session.connection(1.0) is replacement
        assert session.state is ConnectionState.CONNECTED
        assert session.reconnects == 1


async def test_a_connection_that_stays_up_starts_the_backoff_over() -> None:
    opener = FakeOpener()
    async with running(opener) as session:
        opener.failures = 2
        opener.opened[0].lose()
        second = await opener.wait_opened(2)
        await anyio.sleep(STABLE_AFTER)
        lost_at = anyio.current_time()
        second.lose()
        await opener.wait_opened(3)
        assert round(opener.attempts[-1] - lost_at, 6) == 1.0  # initial_delay again
        assert session.reconnects == 2


async def test_a_connection_lost_at_once_keeps_the_backoff_growing() -> None:
    opener = FakeOpener()
    async with running(opener):
        opener.opened[0].lose()
        second = await opener.wait_opened(2)
        second.lose()  # up for no time at all: the attempt counts as failed
        await opener.wait_opened(3)
        assert gaps(opener.attempts[1:]) == [2.0]


async def test_the_state_handler_hears_every_change_with_the_one_before() -> None:
    opener = FakeOpener()
    heard: list[tuple[ConnectionState, ConnectionState]] = []
    session = Session(opener, ADDRESS, NO_JITTER, rng=random.Random(1))
    session.on_state_changed = lambda state, previous: heard.append((state, previous))
    async with anyio.create_task_group() as tg:
        await tg.start(session.run)
        opener.opened[0].lose()
        await opener.wait_opened(2)
        session.close("done")
        tg.cancel_scope.cancel()
    assert heard == [
        (ConnectionState.CONNECTED, ConnectionState.CONNECTING),
        (ConnectionState.RECONNECTING, ConnectionState.CONNECTED),
        (ConnectionState.CONNECTED, ConnectionState.RECONNECTING),
        (ConnectionState.CLOSED, ConnectionState.CONNECTED),
    ]


async def test_a_state_handler_that_raises_does_not_stall_the_session() -> None:
    opener = FakeOpener()
    session = Session(opener, ADDRESS, NO_JITTER, rng=random.Random(1))

    def broken(state: ConnectionState, previous: ConnectionState) -> None:
        raise RuntimeError("bug in the owner")

    session.on_state_changed = broken
    async with anyio.create_task_group() as tg:
        await tg.start(session.run)
        opener.opened[0].lose()
        await opener.wait_opened(2)
        assert session.state is ConnectionState.CONNECTED
        session.close()
        tg.cancel_scope.cancel()


async def test_callers_wait_while_reconnecting_and_get_the_new_connection() -> None:
    opener = FakeOpener()
    async with running(opener) as session:
        opener.failures = 1
        opener.opened[0].lose()
        assert session.state is ConnectionState.RECONNECTING
        assert session.current is None
        started = anyio.current_time()
        connection = await session.connection(10.0)
        assert connection is opener.opened[1]
        assert anyio.current_time() - started == pytest.approx(3.0)  # 1 s, refused, then 2 s


async def test_a_caller_gives_up_after_its_timeout_chained_to_the_last_error() -> None:
    opener = FakeOpener()
    async with running(opener) as session:
        opener.failures = 100
        opener.opened[0].lose()
        await anyio.sleep(1.5)  # the first attempt has failed by now
        with pytest.raises(ConnectionLostError, match=r"within 0\.5 s") as caught:
            await session.connection(0.5)
        assert isinstance(caught.value.__cause__, ConnectError)


async def test_giving_up_after_max_attempts_closes_and_calls_on_closed_once() -> None:
    opener = FakeOpener()
    closed: list[ConnectionState] = []
    policy = ReconnectPolicy(initial_delay=1.0, jitter=0.0, max_attempts=2)
    async with running(opener, policy) as session:
        session.on_closed = lambda: closed.append(session.state)
        opener.failures = 100
        opener.opened[0].lose()
        await session.wait_for(ConnectionState.CLOSED)
        assert len(opener.attempts) == 3  # the first connection, then two attempts
        assert closed == [ConnectionState.CLOSED]
        with pytest.raises(ConnectionLostError, match="gave up reconnecting after 2 attempts"):
            session.raise_if_closed()
        with pytest.raises(ConnectionLostError, match="is closed"):
            await session.connection(1.0)
    assert closed == [ConnectionState.CLOSED]  # closing again calls it no more


async def test_with_reconnecting_off_a_loss_closes_the_session_saying_why() -> None:
    opener = FakeOpener()
    closed: list[bool] = []
    async with running(opener, ReconnectPolicy(enabled=False)) as session:
        session.on_closed = lambda: closed.append(True)
        opener.opened[0].lose("peer reset the connection")
        assert session.state is ConnectionState.CLOSED
        assert closed == [True]
        with pytest.raises(ConnectionLostError, match=r"was lost \(peer reset the connection\)"):
            session.raise_if_closed()
        await anyio.sleep(60)
        assert len(opener.attempts) == 1


async def test_close_by_the_owner_keeps_its_first_reason_and_forgets_the_connection() -> None:
    opener = FakeOpener()
    closed: list[bool] = []
    async with running(opener) as session:
        session.on_closed = lambda: closed.append(True)
        session.close("shutting down")
        assert session.state is ConnectionState.CLOSED
        assert session.current is None
        assert closed == [True]
        session.close("again")  # the first reason stands; no second callback
        with pytest.raises(ConnectionLostError, match="closed: shutting down"):
            session.raise_if_closed()
    assert closed == [True]
    assert len(opener.attempts) == 1


async def test_closed_is_final_even_if_the_owner_has_not_cancelled_run_yet() -> None:
    """A loss after close() must not bring the session back (nor call on_closed again)."""
    opener = FakeOpener()
    closed: list[bool] = []
    async with running(opener) as session:
        session.on_closed = lambda: closed.append(True)
        session.close("shutting down")
        opener.opened[0].lose()  # run() is still going: the owner cancels it only later
        await anyio.sleep(60)
        assert session.state is ConnectionState.CLOSED
        assert len(opener.attempts) == 1  # no reconnecting
        assert closed == [True]
    assert closed == [True]


async def test_closing_while_waiting_to_reconnect_makes_no_further_attempt() -> None:
    opener = FakeOpener()
    async with running(opener) as session:
        opener.opened[0].lose()
        assert session.state is ConnectionState.RECONNECTING
        session.close("shutting down")  # during the backoff delay
        await anyio.sleep(60)
        assert len(opener.attempts) == 1
        assert session.current is None
        assert session.state is ConnectionState.CLOSED


async def test_a_connection_lost_before_the_session_listens_is_still_replaced() -> None:
    opener = FakeOpener()
    async with running(opener) as session:
        opener.lost_before_listening = True
        opener.opened[0].lose()
        await opener.wait_opened(3)
        assert session.reconnects == 2
        assert session.state is ConnectionState.CONNECTED
        assert session.current is opener.opened[2]


def test_backoff_grows_exponentially_to_a_cap_with_bounded_jitter() -> None:
    policy = ReconnectPolicy(initial_delay=1.0, max_delay=10.0, multiplier=2.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.delay(n, rng) for n in range(6)] == [1, 2, 4, 8, 10, 10]
    jittery = ReconnectPolicy(initial_delay=1.0, max_delay=10.0, jitter=0.5)
    delays = [jittery.delay(3, rng) for _ in range(200)]
    assert min(delays) >= 4.0
    assert max(delays) <= 8.0
    assert len(set(delays)) > 100


@pytest.mark.parametrize(
    "kwargs",
    [{"initial_delay": -1}, {"multiplier": 0.5}, {"jitter": 2}, {"max_attempts": 0}],
)
def test_a_nonsensical_policy_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError):
        ReconnectPolicy(**kwargs)
