"""Live quotes end to end against the simulator's market, on every runner: streams,
reconnects, the quota, the requests; the one-minute rule on trio's virtual clock."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import (
    BasicQuote,
    OrderBook,
    OrderBookType,
    ReconnectPolicy,
    StreamGap,
    SubscriptionQuotaError,
    SubType,
)
from asyncquote._pb import Qot_Sub_pb2
from asyncquote.sim import Simulator

from ..conftest import OnTriosVirtualClock, Runner

pytestmark = pytest.mark.anyio

FAST = ReconnectPolicy(initial_delay=0.01, max_delay=0.05, jitter=0)
TENCENT, APPLE = "HK.00700", "US.AAPL"


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def sub_requests(sim: Simulator, *, subscribe: bool) -> list[tuple[int, float, int]]:
    """``(conn_id, time, pairs)`` of each Qot_Sub the simulator read."""
    found = []
    for record in sim.requests:
        if record.proto_id == 3001:
            c2s = Qot_Sub_pb2.Request.FromString(record.body).c2s
            if c2s.isSubOrUnSub is subscribe:
                pairs = len(c2s.securityList) * len(c2s.subTypeList)
                found.append((record.conn_id, record.time, pairs))
    return found


async def next_update(stream: Any) -> object:
    async for update in stream:
        return update
    raise AssertionError("the stream ended")


async def test_a_price_set_in_the_market_reaches_the_stream_and_the_requests(
    runner: Runner,
) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        client.subscribe([TENCENT], [SubType.QUOTE, SubType.ORDER_BOOK]) as stream,
    ):
        with anyio.fail_after(10):
            first = {type(await next_update(stream)) for _ in range(2)}
            assert first == {BasicQuote, OrderBook}
            sim.market.set_price(TENCENT, 400.2)
            pushed = {type(u): u for u in [await next_update(stream) for _ in range(2)]}
            quote, book = pushed[BasicQuote], pushed[OrderBook]
            assert isinstance(quote, BasicQuote)
            assert isinstance(book, OrderBook)
            assert (str(quote.security), quote.cur_price) == (TENCENT, 400.2)
            assert [level.price for level in book.bids[:2]] == [400.0, 399.8]
            (asked,) = await client.get_stock_quote([TENCENT])
            assert asked.cur_price == 400.2
            levels = await client.get_order_book(TENCENT, num=5)
            assert len(levels.asks) == len(levels.bids) == 5
            snapshots = await client.get_market_snapshot([APPLE, TENCENT])
            assert [str(s.basic.security) for s in snapshots] == [APPLE, TENCENT]
            assert snapshots[1].basic.cur_price == 400.2


async def test_the_odd_lot_book_streams_apart_from_the_board_lot_one_and_is_asked_for(
    runner: Runner,
) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        client.subscribe([TENCENT], [SubType.ORDER_BOOK, SubType.ORDER_BOOK_ODD]) as stream,
    ):
        with anyio.fail_after(10):
            first = [await next_update(stream) for _ in range(2)]
            kinds = {getattr(book, "order_book_type", "?") for book in first}
            assert kinds == {None, OrderBookType.ODD}
            sim.market.set_price(TENCENT, 400.2)
            pushed = {}
            while len(pushed) < 2:
                book = await next_update(stream)
                assert isinstance(book, OrderBook)
                pushed[book.order_book_type] = book
            odd, board = pushed[OrderBookType.ODD], pushed[None]
            market_odd = sim.market.odd_lot_book(TENCENT)
            assert [(lv.price, lv.volume) for lv in odd.bids] == [
                (lv.price, lv.volume) for lv in market_odd.bids
            ]
            assert all(level.volume < 100 for level in (*odd.bids, *odd.asks))
            assert [level.price for level in board.bids[:2]] == [400.0, 399.8]
            asked = await client.get_order_book(TENCENT, 3, OrderBookType.ODD)
            assert asked.order_book_type is OrderBookType.ODD
            assert asked.asks == odd.asks[:3]
            assert (await client.get_order_book(TENCENT, 3)).order_book_type is None


async def test_a_restarted_connection_resubscribes_once_and_reports_the_gap(
    runner: Runner,
) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, reconnect=FAST) as client,
        client.subscribe([TENCENT, APPLE], [SubType.QUOTE]) as stream,
    ):
        with anyio.fail_after(10):
            for _ in range(2):
                await next_update(stream)
            used = sim.used_subscription_quota
            await sim.drop_connections()
            assert await next_update(stream) == StreamGap(reconnects=1)
            update = await next_update(stream)
            assert isinstance(update, BasicQuote)
            sim.market.set_price(APPLE, 190.5)
            while getattr(update, "cur_price", None) != 190.5:
                update = await next_update(stream)
        requests = sub_requests(sim, subscribe=True)
        again = [r for r in requests if r[0] == client.info.conn_id]
        assert [pairs for _, _, pairs in again] == [2]  # once, both pairs
        assert len(requests) == 2  # and the first connection's subscribe
        assert sim.used_subscription_quota == used  # the same two pairs: no unit twice


async def test_a_subscription_over_the_simulators_quota_is_refused_before_sending(
    runner: Runner,
) -> None:
    async with (
        Simulator(port=0, quote_rate=0, subscription_quota=2) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        with anyio.fail_after(10):
            with pytest.raises(SubscriptionQuotaError) as caught:
                async with client.subscribe([TENCENT, APPLE], [SubType.QUOTE, SubType.ORDER_BOOK]):
                    pass
            assert (caught.value.needed, caught.value.remaining) == (4, 2)
            assert sub_requests(sim, subscribe=True) == []
            async with client.subscribe([TENCENT, APPLE], [SubType.QUOTE]) as stream:
                await next_update(stream)
                assert client.subscriptions.quota.remaining == 0


class TestOnTriosVirtualClock(OnTriosVirtualClock):
    """OpenD's minute, as the simulator keeps it, on trio's virtual clock."""

    async def test_leaving_a_block_unsubscribes_a_minute_after_the_subscribe(self) -> None:
        async with (
            Simulator(port=0, quote_rate=0) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        ):
            async with client.subscribe([TENCENT], [SubType.QUOTE]) as stream:
                await next_update(stream)
            assert sim.used_subscription_quota == 1
            (pending,) = client.subscriptions.pending_unsubscribes
            assert pending.security == TENCENT
            await anyio.sleep(59)
            assert sub_requests(sim, subscribe=False) == []
            await anyio.sleep(2)
            ((_, subscribed_at, _),) = sub_requests(sim, subscribe=True)
            ((_, unsubscribed_at, pairs),) = sub_requests(sim, subscribe=False)
            assert pairs == 1
            assert 60.0 <= unsubscribed_at - subscribed_at < 61.0
            assert sim.used_subscription_quota == 0
            assert client.subscriptions.pending_unsubscribes == ()
