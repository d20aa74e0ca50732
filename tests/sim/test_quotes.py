"""Live-quote requests to the simulator: subscriptions and their rules, quotes, books, snapshots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from asyncquote._models.events import ApiQuotaChanged
from asyncquote._opend.vocabulary import Quota
from asyncquote.sim import Simulator

from .quotes import ORDER_BOOK, ORDER_BOOK_ODD, QUOTE, TICKER, QuoteClient, sub_info_pairs
from .rawclient import ready_client

pytestmark = pytest.mark.anyio

TENCENT, APPLE, MOUTAI = "HK.00700", "US.AAPL", "SH.600519"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator whose prices move only when a test moves them."""
    async with Simulator(quote_rate=0) as simulator:
        yield simulator


async def connect(sim: Simulator) -> AsyncIterator[QuoteClient]:
    async with ready_client(sim.host, sim.port) as client:
        yield QuoteClient(client)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[QuoteClient]:
    async for quotes in connect(sim):
        yield quotes


# --- subscribing ----------------------------------------------------------------


async def test_subscribing_with_push_sends_the_current_state_right_after_the_reply(
    sim: Simulator, client: QuoteClient
) -> None:
    response = await client.sub([TENCENT, APPLE], [QUOTE, ORDER_BOOK])
    assert response.retType == 0, response.retMsg
    assert not client.pushes  # nothing before the reply
    quotes = [await client.quote_push(), await client.book_push()]
    first, book = quotes
    assert (first.security.code, first.curPrice) == ("00700", sim.market.quote(TENCENT).cur_price)
    assert first.updateTime  # the market's time, as OpenD writes it
    assert book.security.code == "00700"
    assert [level.price for level in book.orderBookBidList] == [
        level.price for level in sim.market.order_book(TENCENT).bids
    ]
    assert (await client.quote_push()).security.code == "AAPL"
    assert (await client.book_push()).security.code == "AAPL"
    assert await client.pushed_since() == []


async def test_is_first_push_false_sends_nothing_until_the_price_moves(
    sim: Simulator, client: QuoteClient
) -> None:
    assert (await client.sub([TENCENT], [QUOTE], first_push=False)).retType == 0
    assert await client.pushed_since() == []
    sim.market.set_price(TENCENT, 400.2)
    assert (await client.quote_push()).curPrice == 400.2


async def test_without_push_registration_nothing_is_pushed_but_quotes_can_be_asked(
    sim: Simulator, client: QuoteClient
) -> None:
    assert (await client.sub([TENCENT], [QUOTE], push=None)).retType == 0
    sim.market.set_price(TENCENT, 400.2)
    response = await client.basic_qot([TENCENT])
    assert await client.pushed_since() == []
    assert response.retType == 0, response.retMsg
    assert response.s2c.basicQotList[0].curPrice == 400.2
    # Registering later (3002) sends the current state and then every move.
    assert (await client.reg_push([TENCENT], [QUOTE])).retType == 0
    assert (await client.quote_push()).curPrice == 400.2
    sim.market.set_price(TENCENT, 400.4)
    assert (await client.quote_push()).curPrice == 400.4
    # Unregistering (3001 with isRegOrUnRegPush false) stops them.
    assert (await client.sub([TENCENT], [QUOTE], push=False)).retType == 0
    sim.market.set_price(TENCENT, 400.6)
    assert await client.pushed_since() == []


async def test_registering_pushes_of_pairs_not_subscribed_is_refused(client: QuoteClient) -> None:
    await client.sub([TENCENT], [QUOTE], push=None)
    response = await client.reg_push([TENCENT, APPLE], [QUOTE])
    assert response.retType == -1
    assert response.retMsg == "Not subscribed on this connection; subscribe first: US.AAPL QUOTE"
    assert await client.pushed_since() == []


@pytest.mark.parametrize(
    ("codes", "sub_types", "message"),
    [
        ([], [QUOTE], "No securities given: securityList is empty"),
        ([TENCENT], [], "No subscription types given: subTypeList is empty"),
        ([TENCENT], [QUOTE, 3, 99], "Unknown subscription type: 3, 99"),
        ([TENCENT, "HK.99999"], [QUOTE], "Unknown stock: HK.99999"),
    ],
)
async def test_a_malformed_subscription_is_refused_and_changes_nothing(
    client: QuoteClient, codes: list[str], sub_types: list[int], message: str
) -> None:
    response = await client.sub(codes, sub_types)
    assert (response.retType, response.retMsg) == (-1, message)
    info = await client.sub_info()
    assert info.s2c.totalUsedQuota == 0


async def test_each_pair_costs_one_unit_and_the_quota_refuses_what_exceeds_it() -> None:
    async with Simulator(quote_rate=0, subscription_quota=3) as sim:
        async for first in connect(sim):
            async for second in connect(sim):
                assert (await first.sub([TENCENT], [QUOTE, ORDER_BOOK])).retType == 0
                # The same pair on another connection costs nothing.
                assert (await second.sub([TENCENT], [QUOTE], push=None)).retType == 0
                refused = await second.sub([APPLE, MOUTAI], [QUOTE], push=None)
                assert refused.retType == -1
                assert refused.retMsg == (
                    "Subscription quota exceeded: 2 more needed, 1 of 3 left: "
                    "US.AAPL QUOTE, SH.600519 QUOTE"
                )
                info = await second.sub_info(all_connections=True)
                assert (info.s2c.totalUsedQuota, info.s2c.remainQuota) == (2, 1)
                # A kind the market does not serve still costs its unit.
                assert (await second.sub([APPLE], [TICKER], push=None)).retType == 0
                assert sim.used_subscription_quota == 3


async def test_the_quota_used_is_notified_after_each_change_that_changes_it(
    sim: Simulator,
) -> None:
    async with (
        ready_client(sim.host, sim.port, recvNotify=True) as raw_watcher,
        ready_client(sim.host, sim.port) as raw_client,
    ):
        watcher, client = QuoteClient(raw_watcher), QuoteClient(raw_client)
        assert (await watcher.sub([TENCENT], [QUOTE], push=None)).retType == 0
        # After the reply: the reply, then the Notify.
        first = await watcher.client.notify()
        await client.sub([TENCENT, APPLE], [QUOTE], push=None)
        second = await watcher.client.notify()
        await client.sub([APPLE], [QUOTE], push=None)  # changes nothing: no Notify
        assert await watcher.pushed_since() == []
    assert first.s2c.usedQuota.usedSubQuota == 1
    assert second.s2c.usedQuota.usedSubQuota == 2
    assert sim.gateway.used_subscription_quota == 2


async def test_the_quota_follows_what_the_gateway_says(sim: Simulator, client: QuoteClient) -> None:
    assert sim.subscription_quota == sim.gateway.subscription_quota == 1000
    sim.push(ApiQuotaChanged(subscription_quota=1, history_kline_quota=100))
    assert sim.subscription_quota == 1
    refused = await client.sub([TENCENT, APPLE], [QUOTE], push=None)
    assert refused.retMsg.startswith("Subscription quota exceeded: 2 more needed, 1 of 1 left")


async def test_get_sub_info_lists_the_connections_pairs_by_kind(client: QuoteClient) -> None:
    await client.sub([TENCENT, APPLE], [QUOTE], push=None)
    await client.sub([TENCENT], [ORDER_BOOK], push=None)
    info = (await client.sub_info()).s2c
    (own,) = info.connSubInfoList
    assert own.isOwnConnData
    assert own.usedQuota == 3
    assert [sub.subType for sub in own.subInfoList] == [QUOTE, ORDER_BOOK]
    assert sub_info_pairs(own) == [(TENCENT, QUOTE), (APPLE, QUOTE), (TENCENT, ORDER_BOOK)]
    assert (info.totalUsedQuota, info.remainQuota) == (3, 997)


async def test_get_sub_info_of_every_connection_marks_the_askers_own(sim: Simulator) -> None:
    async for first in connect(sim):
        async for second in connect(sim):
            async for idle in connect(sim):
                await first.sub([TENCENT], [QUOTE], push=None)
                await second.sub([APPLE], [QUOTE], push=None)
                mine = (await idle.sub_info()).s2c.connSubInfoList
                everyone = (await idle.sub_info(all_connections=True)).s2c.connSubInfoList
    assert [(conn.isOwnConnData, conn.usedQuota) for conn in mine] == [(True, 0)]
    assert [(conn.isOwnConnData, sub_info_pairs(conn)) for conn in everyone] == [
        (True, []),
        (False, [(TENCENT, QUOTE)]),
        (False, [(APPLE, QUOTE)]),
    ]


# --- the one-minute rule, on a virtual clock --------------------------------------


class TestOnAVirtualClock:
    """Minutes pass at once: trio on an autojumping clock."""

    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_unsubscribing_within_a_minute_is_refused_then_allowed(self) -> None:
        async with Simulator(quote_rate=0, language="zh") as sim:
            async for client in connect(sim):
                await client.sub([TENCENT], [QUOTE, ORDER_BOOK], push=None)
                await anyio.sleep(59)
                refused = await client.sub([TENCENT], [QUOTE], subscribe=False, push=False)
                assert refused.retType == -1
                assert refused.retMsg == "反订阅失败，订阅后至少60秒才能反订阅：HK.00700 QUOTE"
                await anyio.sleep(1)
                done = await client.sub([TENCENT], [QUOTE], subscribe=False, push=False)
                assert done.retType == 0, done.retMsg
                info = (await client.sub_info()).s2c
        assert sub_info_pairs(info.connSubInfoList[0]) == [(TENCENT, ORDER_BOOK)]
        assert info.totalUsedQuota == 1

    async def test_unsubscribe_all_keeps_the_rule_and_stops_every_push(self) -> None:
        async with Simulator(quote_rate=0) as sim:
            async for client in connect(sim):
                await client.sub([TENCENT, APPLE], [QUOTE], first_push=False)
                refused = await client.sub([], [], subscribe=False, push=None, unsub_all=True)
                assert refused.retType == -1
                assert refused.retMsg.startswith(
                    "Unsubscribe failed: a subscription can be cancelled"
                )
                await anyio.sleep(60)
                done = await client.sub([], [], subscribe=False, push=None, unsub_all=True)
                assert done.retType == 0, done.retMsg
                sim.market.set_price(TENCENT, 400.2)
                assert await client.pushed_since() == []
                assert (await client.sub_info()).s2c.totalUsedQuota == 0

    async def test_a_closed_connections_pairs_count_until_their_minute_is_up(self) -> None:
        async with Simulator(quote_rate=0) as sim:
            async for watcher in connect(sim):
                async for leaver in connect(sim):
                    await leaver.sub([TENCENT, APPLE], [QUOTE], push=None)
                    await anyio.sleep(30)
                await anyio.sleep(0.1)  # the server notices the close
                assert sim.open_connections == 1
                info = (await watcher.sub_info(all_connections=True)).s2c
                assert info.totalUsedQuota == 2
                assert len(info.connSubInfoList) == 1  # the closed connection is gone
                await anyio.sleep(30)
                assert (await watcher.sub_info()).s2c.totalUsedQuota == 0


# --- quotes, books and snapshots ---------------------------------------------------


async def test_get_basic_qot_needs_a_quote_subscription_on_the_connection(
    sim: Simulator, client: QuoteClient
) -> None:
    refused = await client.basic_qot([TENCENT, APPLE])
    assert refused.retType == -1
    assert refused.retMsg == (
        "Not subscribed on this connection; subscribe first: HK.00700 QUOTE, US.AAPL QUOTE"
    )
    await client.sub([TENCENT, APPLE], [ORDER_BOOK], push=None)
    assert (await client.basic_qot([TENCENT])).retType == -1  # a book is not a quote
    await client.sub([TENCENT, APPLE], [QUOTE], push=None)
    response = await client.basic_qot([APPLE, TENCENT])
    assert response.retType == 0, response.retMsg
    apple, tencent = response.s2c.basicQotList
    expected = sim.market.quote(TENCENT)
    assert (apple.security.code, tencent.security.code) == ("AAPL", "00700")
    assert (tencent.curPrice, tencent.highPrice, tencent.lowPrice, tencent.volume) == (
        expected.cur_price,
        expected.high_price,
        expected.low_price,
        expected.volume,
    )
    assert tencent.name == expected.name
    assert tencent.priceSpread == expected.price_spread


async def test_get_order_book_needs_an_order_book_subscription_and_caps_at_ten(
    sim: Simulator, client: QuoteClient
) -> None:
    refused = await client.order_book(TENCENT)
    assert (
        refused.retMsg == "Not subscribed on this connection; subscribe first: HK.00700 ORDER_BOOK"
    )
    await client.sub([TENCENT], [ORDER_BOOK], push=None)
    five = (await client.order_book(TENCENT, 5)).s2c
    book = sim.market.order_book(TENCENT)
    assert [(level.price, level.volume, level.orederCount) for level in five.orderBookAskList] == [
        (level.price, level.volume, level.order_count) for level in book.asks[:5]
    ]
    assert len(five.orderBookBidList) == 5
    assert five.orderBookBidList[0].price < sim.market.quote(TENCENT).cur_price
    assert five.svrRecvTimeBid  # Hong Kong books say when they were received
    assert len((await client.order_book(TENCENT, 50)).s2c.orderBookAskList) == 10
    zero = await client.order_book(TENCENT, 0)
    assert (zero.retType, zero.retMsg) == (-1, "num must be at least 1, not 0")


async def test_the_odd_lot_book_needs_its_own_subscription_and_says_it_is_odd(
    sim: Simulator, client: QuoteClient
) -> None:
    await client.sub([TENCENT], [ORDER_BOOK], push=None)
    refused = await client.order_book(TENCENT, 5, book_type=1)
    assert refused.retMsg == (
        "Not subscribed on this connection; subscribe first: HK.00700 ORDER_BOOK_ODD"
    )
    unknown = await client.order_book(TENCENT, 5, book_type=7)
    assert (unknown.retType, unknown.retMsg) == (-1, "Unknown order book type: 7")
    response = await client.sub([TENCENT], [ORDER_BOOK_ODD])
    assert response.retType == 0, response.retMsg
    first = await client.book_push()  # the first push: the odd-lot book
    odd = sim.market.odd_lot_book(TENCENT)
    assert first.orderBookType == 1
    assert [(level.price, level.volume) for level in first.orderBookBidList] == [
        (level.price, level.volume) for level in odd.bids
    ]
    answer = (await client.order_book(TENCENT, 3, book_type=1)).s2c
    assert answer.orderBookType == 1
    levels = [(level.price, level.volume, level.orederCount) for level in answer.orderBookAskList]
    assert levels == [(level.price, level.volume, level.order_count) for level in odd.asks[:3]]
    assert all(volume < 100 for _, volume, _ in levels)  # fewer shares than HK.00700's lot
    board = (await client.order_book(TENCENT, 3, book_type=0)).s2c
    assert not board.HasField("orderBookType")  # the board-lot book, as before
    assert board.orderBookBidList[0].volume % 100 == 0


async def test_a_snapshot_needs_no_subscription_and_takes_at_most_400_codes(
    sim: Simulator, client: QuoteClient
) -> None:
    response = await client.snapshot([TENCENT, APPLE])
    assert response.retType == 0, response.retMsg
    tencent, apple = response.s2c.snapshotList
    quote, book = sim.market.quote(TENCENT), sim.market.order_book(TENCENT)
    assert (tencent.basic.security.code, apple.basic.security.code) == ("00700", "AAPL")
    assert tencent.basic.curPrice == quote.cur_price
    assert tencent.basic.lotSize == 100
    assert tencent.basic.type == 3
    assert (tencent.basic.bidPrice, tencent.basic.askPrice) == (
        book.bids[0].price,
        book.asks[0].price,
    )
    too_many = await client.snapshot([TENCENT] * 401)
    assert (too_many.retType, too_many.retMsg) == (
        -1,
        "Too many securities: at most 400 per request, got 401",
    )
    assert (await client.snapshot([TENCENT] * 400)).retType == 0
    unknown = await client.snapshot(["US.NOPE"])
    assert unknown.retMsg == "Unknown stock: US.NOPE"


async def test_snapshots_are_held_to_their_quota() -> None:
    async with Simulator(quote_rate=0, quotas={3203: Quota(2, 30.0)}) as sim:
        async for client in connect(sim):
            assert [(await client.snapshot([TENCENT])).retType for _ in range(2)] == [0, 0]
            refused = await client.snapshot([TENCENT])
    assert refused.retType == -1
    assert refused.retMsg == (
        "Get market snapshot too frequent, request failed: at most 2 requests per 30 seconds."
    )
    assert Simulator().quotas[3203] == Quota(60, 30.0)  # OpenD's, by default


async def test_quote_calls_are_refused_while_logged_out(
    sim: Simulator, client: QuoteClient
) -> None:
    await client.sub([TENCENT], [QUOTE], first_push=False)
    sim.log_out()
    sim.market.set_price(TENCENT, 400.2)
    refused = await client.snapshot([TENCENT])
    assert refused.retMsg == "Not logged in to the quote server, request failed."
    assert await client.pushed_since() == []  # no quotes flow while logged out
    sim.log_in()
    sim.market.set_price(TENCENT, 400.4)
    assert (await client.quote_push()).curPrice == 400.4
