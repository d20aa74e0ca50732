"""Issue 11 item 3: read-your-writes across single-flight, ``max_age`` and watchers.

The gateway snapshots a group when a 3213 request arrives and replies 300 ms
later, as a slow OpenD does: a read in flight across an edit answers with the
group as it was before the edit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

import asyncquote
from asyncquote import ModifyOp, SecurityStaticInfo
from asyncquote._client.watch import WatchlistChange

from ..conftest import Runner
from ..hostile_peer import HostileConnection, HostileGateway, RawFrame, Stock, hostile_gateway

pytestmark = pytest.mark.anyio

GUS = 3213
NO_QUOTAS: dict[int, asyncquote.Quota | None] = {3213: None, 3222: None, 3214: None}


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@asynccontextmanager
async def slow_gateway() -> AsyncIterator[tuple[HostileGateway, asyncquote.QuoteClient]]:
    gateway = signalling(
        HostileGateway(
            groups={"Tech": [Stock(11, "AAPL")], "Other": [Stock(1, "00700")]},
            reply_delay={GUS: 0.3},
        )
    )
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, keepalive=False, quotas=NO_QUOTAS) as client,
    ):
        yield gw, client


_arrived: dict[int, anyio.Event] = {}


def signalling(gateway: HostileGateway) -> HostileGateway:
    """Make :func:`first_read_arrived` work for ``gateway``."""
    event = _arrived[id(gateway)] = anyio.Event()

    async def on_request(connection: HostileConnection, frame: RawFrame) -> bool:
        if frame.proto_id == GUS:
            event.set()
        return False  # the gateway answers as usual

    gateway.on_request = on_request
    return gateway


async def first_read_arrived(gateway: HostileGateway) -> None:
    await _arrived[id(gateway)].wait()


def codes(items: list[SecurityStaticInfo]) -> list[str]:
    return [str(item.security) for item in items]


async def test_a_read_after_an_edit_does_not_join_a_flight_sent_before_it() -> None:
    async with slow_gateway() as (gateway, client), anyio.create_task_group() as tg:
        stale: list[list[str]] = []
        landed = anyio.Event()

        async def early_read() -> None:
            stale.append(codes(await client.get_user_security("Tech")))
            landed.set()

        tg.start_soon(early_read)
        await first_read_arrived(gateway)
        await client.modify_user_security("Tech", ModifyOp.ADD, ["US.NVDA"])
        after = codes(await client.get_user_security("Tech"))
        assert after == ["US.AAPL", "US.NVDA"]
        # The early read got the snapshot from before the edit; max_age does
        # not serve it.
        await landed.wait()
        assert stale == [["US.AAPL"]]
        assert codes(await client.get_user_security("Tech", max_age=10)) == after


async def test_a_stale_reply_landing_after_an_edit_is_never_served_by_max_age() -> None:
    async with slow_gateway() as (gateway, client), anyio.create_task_group() as tg:
        landed = anyio.Event()

        async def early_read() -> None:
            await client.get_user_security("Tech")
            landed.set()

        tg.start_soon(early_read)
        await first_read_arrived(gateway)
        await client.modify_user_security("Tech", ModifyOp.ADD, ["US.NVDA"])
        await landed.wait()  # the pre-edit reply has been decoded (and, before the fix, kept)
        arrived = len(gateway.arrivals_of(GUS))
        assert codes(await client.get_user_security("Tech", max_age=10)) == [
            "US.AAPL",
            "US.NVDA",
        ]
        assert len(gateway.arrivals_of(GUS)) == arrived + 1


async def test_an_edit_of_one_group_invalidates_flights_of_every_group() -> None:
    # System groups mirror custom ones, so an edit of "Tech" may change "All".
    async with slow_gateway() as (gateway, client), anyio.create_task_group() as tg:
        tg.start_soon(client.get_user_security, "Other")
        await first_read_arrived(gateway)
        await client.modify_user_security("Tech", ModifyOp.ADD, ["US.NVDA"])
        await client.get_user_security("Other")
        assert len(gateway.arrivals_of(GUS)) == 2, "the read after the edit sent its own request"


async def test_a_watcher_started_after_an_edit_sees_it() -> None:
    async with slow_gateway() as (gateway, client), anyio.create_task_group() as tg:
        tg.start_soon(client.get_user_security, "Tech")
        await first_read_arrived(gateway)
        await client.modify_user_security("Tech", ModifyOp.ADD, ["US.NVDA"])
        async with client.watch_user_security(["Tech"], interval=60) as events:
            first = await events.__anext__()
        assert isinstance(first, WatchlistChange)
        assert codes(list(first.current)) == ["US.AAPL", "US.NVDA"]


# -- issue 11 item 4: each caller of a shared flight keeps its own timeout ------


@asynccontextmanager
async def delayed(delay: float) -> AsyncIterator[tuple[HostileGateway, asyncquote.QuoteClient]]:
    gateway = signalling(
        HostileGateway(groups={"Tech": [Stock(11, "AAPL")]}, reply_delay={GUS: delay})
    )
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, keepalive=False, quotas=NO_QUOTAS) as client,
    ):
        yield gw, client


async def test_a_follower_with_a_short_timeout_fails_at_its_own_while_the_flight_goes_on() -> None:
    async with delayed(2.0) as (gateway, client), anyio.create_task_group() as tg:
        leader: list[list[str]] = []

        async def lead() -> None:
            leader.append(codes(await client.get_user_security("Tech", timeout=30)))

        tg.start_soon(lead)
        await first_read_arrived(gateway)
        with pytest.raises(asyncquote.RequestTimeoutError, match=r"within 0\.5 s"):
            await client.get_user_security("Tech", timeout=0.5)
        assert leader == [], "the follower gave up before the flight ended"
    assert leader == [["US.AAPL"]]
    assert len(gateway.arrivals_of(GUS)) == 1


async def test_a_leader_timing_out_does_not_fail_a_follower_with_more_time() -> None:
    async with delayed(1.0) as (gateway, client), anyio.create_task_group() as tg:
        outcome: list[BaseException] = []

        async def lead() -> None:
            try:
                await client.get_user_security("Tech", timeout=0.3)
            except asyncquote.RequestTimeoutError as exc:
                outcome.append(exc)

        tg.start_soon(lead)
        await first_read_arrived(gateway)
        assert codes(await client.get_user_security("Tech", timeout=5)) == ["US.AAPL"]
        assert len(outcome) == 1
        assert "0.3 s" in str(outcome[0])


async def test_a_cancelled_leader_does_not_fail_a_follower() -> None:
    async with delayed(0.5) as (gateway, client), anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def lead() -> None:
            with scope:
                await client.get_user_security("Tech", timeout=5)

        async def cancel_leader_soon() -> None:
            await anyio.sleep(0.1)
            scope.cancel()

        tg.start_soon(lead)
        await first_read_arrived(gateway)
        tg.start_soon(cancel_leader_soon)
        assert codes(await client.get_user_security("Tech", timeout=5)) == ["US.AAPL"]
