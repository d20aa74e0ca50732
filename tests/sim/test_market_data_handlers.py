"""Requests for K-lines, time-share, tickers and broker queues (3006, 3008, 3010, 3014)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from asyncquote._opend.quotes import SubType
from asyncquote.sim import Simulator

from .market_data import BROKER, K_1M, K_3M, K_DAY, KL_1M, KL_3M, RT_DATA, TICKER, MarketDataClient
from .rawclient import ready_client

pytestmark = pytest.mark.anyio

TENCENT, APPLE = "HK.00700", "US.AAPL"
ERR_NOT_SUBSCRIBED = 8


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(quote_rate=0) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[MarketDataClient]:
    async with ready_client(sim.host, sim.port) as raw:
        yield MarketDataClient(raw)


async def test_each_request_needs_its_own_subscription(client: MarketDataClient) -> None:
    # Subscribed to everything but what each request reads.
    assert (await client.sub([TENCENT], [1, 2, K_DAY], push=None)).retType == 0
    refusals = [
        await client.kl(TENCENT, KL_1M),
        await client.rt(TENCENT),
        await client.ticker(TENCENT),
        await client.broker(TENCENT),
    ]
    for response, kind in zip(refusals, ["K_1M", "RT_DATA", "TICKER", "BROKER"], strict=True):
        assert response.retType != 0
        assert response.errCode == ERR_NOT_SUBSCRIBED
        assert f"HK.00700 {kind}" in response.retMsg
    assert (await client.sub([TENCENT], [K_1M, RT_DATA, TICKER, BROKER], push=None)).retType == 0
    assert (await client.kl(TENCENT, KL_1M)).retType == 0
    assert (await client.kl(TENCENT, KL_3M)).errCode == ERR_NOT_SUBSCRIBED  # K_3M not held
    assert (await client.rt(TENCENT)).retType == 0
    assert (await client.ticker(TENCENT)).retType == 0
    assert (await client.broker(TENCENT)).retType == 0


async def test_a_subscription_of_another_connection_does_not_count(sim: Simulator) -> None:
    async with ready_client(sim.host, sim.port) as a, ready_client(sim.host, sim.port) as b:
        holder, asker = MarketDataClient(a), MarketDataClient(b)
        assert (await holder.sub([TENCENT], [TICKER], push=None)).retType == 0
        assert (await asker.ticker(TENCENT)).errCode == ERR_NOT_SUBSCRIBED


async def test_scripted_trades_read_back_the_same_in_every_kind(
    sim: Simulator, client: MarketDataClient
) -> None:
    await client.sub([TENCENT], [1, K_1M, K_3M, RT_DATA, TICKER, BROKER], push=None)
    market = sim.market
    market.trade(TENCENT, 400.2, 300)
    market.trade(TENCENT, 401.0, 1000)
    market.trade(TENCENT, 400.4, 200)
    tickers = (await client.ticker(TENCENT, 3)).s2c.tickerList
    assert [(t.price, t.volume, t.dir, t.type) for t in tickers] == [
        (400.2, 300, tickers[0].dir, 1),
        (401.0, 1000, 1, 1),
        (400.4, 200, 2, 1),
    ]
    assert [t.sequence for t in tickers] == [1, 2, 3]
    assert tickers[1].turnover == 401_000.0
    quote = (await client.basic_qot([TENCENT])).s2c.basicQotList[0]
    assert quote.volume == 1500
    assert quote.curPrice == 400.4
    for kl_type, period in ((KL_1M, SubType.K_1M), (KL_3M, SubType.K_3M)):
        response = await client.kl(TENCENT, kl_type, 1000)
        assert response.retType == 0, response.retMsg
        bars = response.s2c.klList
        expected = market.klines(TENCENT, period)
        assert [(b.openPrice, b.highPrice, b.lowPrice, b.closePrice, b.volume) for b in bars] == [
            (k.open_price, k.high_price, k.low_price, k.close_price, k.volume) for k in expected
        ]
        assert sum(b.volume for b in bars) == 1500
        assert bars[-1].closePrice == 400.4
        assert max(b.highPrice for b in bars) >= 401.0
    points = (await client.rt(TENCENT)).s2c.rtList
    assert sum(p.volume for p in points) == 1500
    assert points[-1].price == 400.4
    assert points[-1].avgPrice == pytest.approx(quote.turnover / quote.volume)
    brokers = (await client.broker(TENCENT)).s2c
    queue = market.broker_queue(TENCENT)
    assert [(b.id, b.name, b.pos) for b in brokers.brokerBidList] == [
        (b.broker_id, b.name, b.position) for b in queue.bids
    ]
    assert [b.id for b in brokers.brokerAskList] == [b.broker_id for b in queue.asks]
    assert brokers.brokerBidList


async def test_counts_are_capped_and_bad_arguments_refused(client: MarketDataClient) -> None:
    await client.sub([TENCENT, APPLE], [K_1M, TICKER, BROKER], push=None)
    assert len((await client.ticker(TENCENT, 1)).s2c.tickerList) == 1  # the opening print
    assert len((await client.ticker(TENCENT, 5000)).s2c.tickerList) == 1
    for response in (
        await client.ticker(TENCENT, 0),
        await client.kl(TENCENT, KL_1M, 0),
        await client.kl(TENCENT, 99),
        await client.kl(TENCENT, 0),
        await client.kl(TENCENT, KL_1M, rehab=7),
        await client.broker(APPLE),
    ):
        assert response.retType != 0
        assert response.errCode != ERR_NOT_SUBSCRIBED, response.retMsg
    assert "Hong Kong" in (await client.broker(APPLE)).retMsg
    assert "K-line" in (await client.kl(TENCENT, 99)).retMsg
    assert "US.NOPE" in (await client.ticker("US.NOPE")).retMsg
