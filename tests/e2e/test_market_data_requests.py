"""get_rt_ticker, get_rt_data, get_cur_kline and get_broker_queue against the
simulator, on every runner: scripted trades read back as the market keeps them."""

from __future__ import annotations

import pytest

import asyncquote
from asyncquote import AuType, InvalidArgumentError, KLType, NotSubscribedError, SubType
from asyncquote.sim import Simulator

from ..conftest import Runner

pytestmark = pytest.mark.anyio

TENCENT = "HK.00700"
KINDS = [SubType.TICKER, SubType.RT_DATA, SubType.K_1M, SubType.K_3M, SubType.BROKER]


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def test_scripted_trades_read_back_as_the_market_keeps_them(runner: Runner) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        client.subscribe([TENCENT], KINDS),
    ):
        market = sim.market
        for price, volume in ((400.2, 300), (401.0, 1000), (400.4, 200)):
            market.trade(TENCENT, price, volume)

        trades = await client.get_rt_ticker(TENCENT, num=3)
        assert [(t.sequence, t.price, t.volume, t.turnover) for t in trades] == [
            (t.sequence, t.price, t.volume, t.turnover) for t in market.tickers(TENCENT, 3)
        ]
        assert [t.volume for t in trades] == [300, 1000, 200]

        for ktype, period in (("K_1M", SubType.K_1M), (KLType.K_3M, SubType.K_3M)):
            bars = await client.get_cur_kline(TENCENT, 1000, ktype, AuType.QFQ)
            assert [
                (b.open_price, b.high_price, b.low_price, b.close_price, b.volume) for b in bars
            ] == [
                (k.open_price, k.high_price, k.low_price, k.close_price, k.volume)
                for k in market.klines(TENCENT, period)
            ]
            assert sum(b.volume or 0 for b in bars) == 1500
            assert bars[-1].close_price == 400.4

        points = await client.get_rt_data(TENCENT)
        assert [(p.minute, p.price, p.volume) for p in points] == [
            (p.minute, p.price, p.volume) for p in market.time_share(TENCENT)
        ]

        queue = await client.get_broker_queue(TENCENT)
        kept = market.broker_queue(TENCENT)
        assert queue.bids
        assert [(b.id, b.name, b.position) for b in queue.bids] == [
            (b.broker_id, b.name, b.position) for b in kept.bids
        ]
        assert [b.id for b in queue.asks] == [b.broker_id for b in kept.asks]


async def test_what_is_not_held_or_not_served_is_refused_before_sending(runner: Runner) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        client.subscribe([TENCENT, "US.AAPL"], [SubType.K_1M, SubType.BROKER]),
    ):
        before = len(sim.requests)
        with pytest.raises(NotSubscribedError) as caught:
            await client.get_cur_kline(TENCENT, 10, KLType.K_3M)
        assert caught.value.sub_type is SubType.K_3M
        with pytest.raises(InvalidArgumentError, match="only for Hong Kong"):
            await client.get_broker_queue("US.AAPL")
        assert len(sim.requests) == before
