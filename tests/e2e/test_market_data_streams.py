"""Streams of tickers and K-lines against the simulator, on every runner: a scripted
trade reaches both, and the bar it lands in agrees with it."""

from __future__ import annotations

import anyio
import pytest

import asyncquote
from asyncquote import AuType, KLineUpdate, SubType, Ticker
from asyncquote.sim import Simulator

from ..conftest import Runner

pytestmark = pytest.mark.anyio

TENCENT = "HK.00700"


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def test_a_scripted_trade_reaches_the_ticker_and_k_line_streams(runner: Runner) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        client.subscribe([TENCENT], [SubType.TICKER]) as trades,
        client.subscribe([TENCENT], [SubType.K_1M]) as bars,
    ):
        with anyio.fail_after(20):
            sim.market.trade(TENCENT, 401.4, 700)
            async for trade in trades:
                if isinstance(trade, Ticker) and trade.volume == 700:
                    break
            assert trade.price == 401.4
            (last,) = sim.market.tickers(TENCENT, 1)
            assert trade.sequence == last.sequence
            async for update in bars:
                if isinstance(update, KLineUpdate) and update.kline.close_price == 401.4:
                    break
            kept = sim.market.klines(TENCENT, SubType.K_1M)[-1]
            assert (update.closed, update.kline.timestamp, update.kline.volume) == (
                False, kept.start, kept.volume,
            )  # fmt: skip


async def test_streams_of_two_adjustments_on_one_pair_each_get_their_own(runner: Runner) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        client.subscribe([TENCENT], [SubType.K_1M]) as forward,
        client.subscribe([TENCENT], [SubType.K_1M], autype=asyncquote.AuType.HFQ) as backward,
    ):
        assert client.subscriptions.quota.own == 1
        with anyio.fail_after(20):
            sim.market.trade(TENCENT, 401.4, 700)
            for stream, au_type in [(forward, AuType.QFQ), (backward, AuType.HFQ)]:
                async for update in stream:
                    assert isinstance(update, KLineUpdate)
                    assert update.kline.au_type == au_type  # never the other stream's
                    if update.kline.close_price == 401.4:
                        break
