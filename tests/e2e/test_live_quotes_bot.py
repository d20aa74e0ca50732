"""The issue's "Done when" line end to end against the simulator, on every runner: a bot's
loop lives through an OpenD restart, and a reader that stops does not grow the client's
memory. (tests/e2e/test_live_quotes.py has the rest of the live quotes end to end.)

The bot is what the issue's "Done when" line says a user writes::

    async with client.subscribe([...], [SubType.QUOTE]) as s:
        async for q in s:
            ...

It runs in a task of its own; the test moves prices with the simulator's
market (``quote_rate=0``: only the test moves them) and restarts OpenD under
it: a simulator stopped and started again on the same port, which knows
nothing of the old connection's subscriptions, as a restarted OpenD does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import BasicQuote, OrderBook, ReconnectPolicy, StreamGap, SubType
from asyncquote._pb import Qot_Sub_pb2
from asyncquote.sim import Simulator

from ..conftest import Runner
from .test_reconnect import gateway

pytestmark = pytest.mark.anyio

FAST = ReconnectPolicy(initial_delay=0.01, max_delay=0.1, jitter=0)
CODES = ["HK.00700", "US.AAPL"]
SUB = 3001


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def eventually(predicate: Callable[[], object]) -> None:
    """Return once ``predicate()`` holds; the test's ``fail_after`` bounds the wait."""
    while not predicate():  # noqa: ASYNC110  (the bot's list has no event to wait on)
        await anyio.sleep(0.005)


def ticks_up(sim: Simulator, code: str, ticks: int) -> float:
    """A price ``ticks`` ticks above ``code``'s current one, on its ladder."""
    price = sim.market.quote(code).cur_price
    for _ in range(ticks):
        price = round(price + sim.market.quote(code).price_spread, 6)
        sim.market.set_price(code, price)
    return price


def sub_requests(sim: Simulator) -> list[Qot_Sub_pb2.Request]:
    found = []
    for record in sim.requests:
        if record.proto_id == SUB:
            request = Qot_Sub_pb2.Request()
            request.ParseFromString(record.body)
            found.append(request)
    return found


def pairs_of(request: Qot_Sub_pb2.Request) -> set[tuple[str, int]]:
    return {
        (f"{'HK' if s.market == 1 else 'US'}.{s.code}", t)
        for s in request.c2s.securityList
        for t in request.c2s.subTypeList
    }


def priced(updates: list[Any], code: str) -> list[float]:
    return [u.cur_price for u in updates if isinstance(u, BasicQuote) and str(u.security) == code]


async def test_a_bots_loop_goes_on_across_an_opend_restart(runner: Runner) -> None:
    got: list[BasicQuote | OrderBook | StreamGap] = []

    async def bot(client: asyncquote.QuoteClient) -> None:
        async with client.subscribe(CODES, [SubType.QUOTE]) as s:
            async for q in s:
                got.append(q)

    with anyio.fail_after(30):
        async with gateway(quote_rate=0) as gw:
            first = await gw.start()
            async with (
                asyncquote.connect("127.0.0.1", gw.port, reconnect=FAST) as client,
                anyio.create_task_group() as tg,
            ):
                tg.start_soon(bot, client)
                await eventually(lambda: len(got) == 2)  # the current state at once
                assert sorted(str(q.security) for q in got) == CODES  # type: ignore[union-attr]
                before = ticks_up(first, "HK.00700", 3)
                await eventually(lambda: before in priced(got, "HK.00700"))

                await gw.stop()  # OpenD goes away...
                second = await gw.start()  # ...and comes back, knowing no subscription
                await eventually(lambda: StreamGap(reconnects=1) in got)
                gap = got.index(StreamGap(reconnects=1))
                await eventually(lambda: len(got) >= gap + 3)  # the new connection's first pushes
                after = ticks_up(second, "US.AAPL", 2)
                await eventually(lambda: after in priced(got[gap:], "US.AAPL"))

                # The same loop, one gap, then what the new OpenD pushed.
                assert got.count(StreamGap(reconnects=1)) == 1
                fresh = got[gap + 1 : gap + 3]
                assert sorted(str(q.security) for q in fresh) == CODES  # type: ignore[union-attr]
                assert priced(fresh, "HK.00700") == [second.market.quote("HK.00700").cur_price]
                # Subscribed again exactly once, in one request, with the current state at once.
                (again,) = sub_requests(second)
                assert pairs_of(again) == {(code, SubType.QUOTE.value) for code in CODES}
                assert again.c2s.isSubOrUnSub
                assert again.c2s.isRegOrUnRegPush
                assert again.c2s.isFirstPush
                # What OpenD says it holds: the two pairs, once each.
                info = await client.query_subscription()
                assert info.total_used_quota == 2
                own = info.own
                assert own is not None
                held = [(s.sub_type, sorted(map(str, s.securities))) for s in own.subscriptions]
                assert held == [(SubType.QUOTE, CODES)]
                status = client.subscriptions
                assert status.quota.own == 2
                assert all(pair.subscribed for pair in status.pairs)
                tg.cancel_scope.cancel()


async def test_a_dropped_connection_is_subscribed_again_without_doubling_the_quota(
    runner: Runner,
) -> None:
    # The same OpenD process: the old connection's pairs linger for their
    # minute, and the new connection's subscription of the same pairs costs
    # nothing more.
    got: list[object] = []
    with anyio.fail_after(30):
        async with (
            Simulator(quote_rate=0) as sim,
            asyncquote.connect("127.0.0.1", sim.port, reconnect=FAST) as client,
            client.subscribe(CODES, [SubType.QUOTE, SubType.ORDER_BOOK]) as stream,
            anyio.create_task_group() as tg,
        ):

            async def read() -> None:
                async for update in stream:
                    got.append(update)

            tg.start_soon(read)
            await eventually(lambda: len(got) == 4)
            assert sim.used_subscription_quota == 4
            await sim.drop_connections()
            await eventually(lambda: len(got) >= 9)  # the gap, then four first pushes
            assert got[4] == StreamGap(reconnects=1)
            assert {(type(u).__name__, str(u.security)) for u in got[5:9]} == {  # type: ignore[attr-defined]
                (kind, code) for kind in ("BasicQuote", "OrderBook") for code in CODES
            }
            assert len(sub_requests(sim)) == 2  # one before, one after
            assert sim.used_subscription_quota == 4  # not 8
            info = await client.query_subscription()
            assert (info.total_used_quota, info.remain_quota) == (4, sim.subscription_quota - 4)
            assert client.subscriptions.quota.remaining == sim.subscription_quota - 4
            tg.cancel_scope.cancel()


async def test_a_flood_to_a_stopped_reader_keeps_one_update_per_pair(runner: Runner) -> None:
    codes = ["HK.00700", "HK.09988", "US.AAPL"]
    with anyio.fail_after(30):
        async with (
            Simulator(quote_rate=500) as sim,
            asyncquote.connect("127.0.0.1", sim.port) as client,
            client.subscribe(codes, [SubType.QUOTE, SubType.ORDER_BOOK]) as stream,
        ):
            # Nobody reads: the market moves every security 500 times a second.
            await eventually(lambda: stream.superseded >= 3000)
            assert stream.pending <= 6  # one per (security, type), however long the flood
            assert stream.dropped == 0
            # The receive loop never waited for the reader: requests are answered.
            quotes = await client.get_stock_quote(codes)
            assert [str(q.security) for q in quotes] == codes
            latest = [await anext_update(stream) for _ in range(stream.pending)]
            kinds = [(type(u).__name__, str(u.security)) for u in latest]  # type: ignore[attr-defined]
            assert len(kinds) == len(set(kinds))  # each pair once: its newest state


async def anext_update(stream: Any) -> object:
    async for update in stream:
        return update
    raise AssertionError("the stream ended")
