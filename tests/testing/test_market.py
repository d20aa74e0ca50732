"""``opend.market``: a test moves prices, and the subscribers get them, from any thread.

The subscriber here is a raw client (``tests/sim/quotes.py``), not the
asyncquote client: this is the gateway's side of the story.
"""

from __future__ import annotations

import datetime
import threading
import zoneinfo
from dataclasses import replace

import pytest

from asyncquote import InvalidArgumentError
from asyncquote._opend.quotes import SubType
from asyncquote.sim import NotListedError, PriceError
from asyncquote.testing import OpenD
from tests.sim.market_data import (
    BROKER,
    K_1M,
    RT_DATA,
    TICKER,
    UPDATE_BROKER,
    UPDATE_KL,
    UPDATE_RT,
    UPDATE_TICKER,
    MarketDataClient,
)
from tests.sim.quotes import ORDER_BOOK, QUOTE, UPDATE_BASIC_QOT, QuoteClient
from tests.sim.rawclient import ready_client

pytestmark = pytest.mark.anyio

TENCENT = "HK.00700"


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


async def test_a_price_set_by_the_test_is_pushed_to_the_subscriber(opend: OpenD) -> None:
    async with ready_client(opend.host, opend.port) as raw:
        client = QuoteClient(raw)
        await client.sub([TENCENT], [QUOTE, ORDER_BOOK], first_push=False)
        quote = opend.market.set_price(TENCENT, 400.2)
        pushed = await client.quote_push()
        book = await client.book_push()
        assert opend.used_subscription_quota == 2
    assert quote.cur_price == pushed.curPrice == 400.2
    assert pushed.volume == quote.volume
    assert book.orderBookBidList[0].price == 400.0
    assert opend.market.quote(TENCENT) == quote
    assert opend.market.order_book(TENCENT).asks[0].price == 400.4
    odd = opend.market.odd_lot_book(TENCENT)
    assert odd.order_book_type == 1
    assert all(level.price >= 400.4 and level.volume < 100 for level in odd.asks)


async def test_prices_stay_put_unless_the_test_moves_them(opend: OpenD) -> None:
    assert opend.market.rate == 0
    assert opend.market.seed == 0
    assert TENCENT in opend.market.codes
    async with ready_client(opend.host, opend.port) as raw:
        client = QuoteClient(raw)
        await client.sub([TENCENT], [QUOTE])
        first = await client.quote_push()
        assert await client.pushed_since() == []
    assert first.volume == 0
    assert opend.market.quote(TENCENT).moves == 0


@pytest.mark.opend(quote_rate=5, market_seed=3, subscription_quota=1)
async def test_the_market_and_the_quota_are_options(opend: OpenD) -> None:
    assert (opend.market.rate, opend.market.seed, opend.subscription_quota) == (5, 3, 1)
    async with ready_client(opend.host, opend.port) as raw:
        client = QuoteClient(raw)
        refused = await client.sub([TENCENT], [QUOTE, ORDER_BOOK])
    assert refused.retMsg.startswith("Subscription quota exceeded: 2 more needed, 1 of 1 left")


PRE_MARKET = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))


@pytest.mark.opend(clock_start=PRE_MARKET)
def test_the_market_clock_starts_where_the_test_says(opend: OpenD) -> None:
    trade = opend.market.trade("US.AAPL", 250.0, 10)
    # It runs on from there at real speed: an hour is far more than this test takes.
    assert PRE_MARKET.timestamp() <= trade.time < PRE_MARKET.timestamp() + 3600
    assert trade.extended  # a pre-market trade, at whatever hour the test runs


def test_the_same_seed_gives_the_same_prices() -> None:
    with OpenD.start(market_seed=7) as first, OpenD.start(market_seed=7) as second:
        # All but the time: each market opens when its gateway starts.
        opened = replace(first.market.quote(TENCENT), update_time=0.0)
        assert opened == replace(second.market.quote(TENCENT), update_time=0.0)
    with OpenD.start(market_seed=8) as other:
        assert other.market.quote(TENCENT).cur_price != opened.cur_price


def test_the_markets_errors_reach_the_test(opend: OpenD) -> None:
    with pytest.raises(PriceError, match=r"400\.1 is not a valid price") as caught:
        opend.market.set_price(TENCENT, 400.1)
    assert caught.value.nearest == (400.0, 400.2)
    with pytest.raises(PriceError):
        opend.market.set_price(TENCENT, -1)
    with pytest.raises(NotListedError):
        opend.market.quote("HK.99999")
    with pytest.raises(InvalidArgumentError):
        opend.market.order_book("00700")


@pytest.mark.opend(watchlists={"Mine": ["US.MADEUP"]})
def test_a_security_the_test_made_up_is_listed_too(opend: OpenD) -> None:
    assert opend.market.set_price("US.MADEUP", 12.34).cur_price == 12.34
    opend.set_watchlist("Later", ["HK.99998"])
    assert opend.market.quote("HK.99998").moves == 0


def test_many_threads_may_move_prices_at_once(opend: OpenD) -> None:
    before = opend.market.quote(TENCENT).volume

    def trade() -> None:
        for _ in range(25):
            opend.market.set_price(TENCENT, 400.2)

    threads = [threading.Thread(target=trade) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    quote = opend.market.quote(TENCENT)
    assert quote.volume == before + 100 * 100  # a lot of 100 shares a trade
    assert quote.moves == 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quote_rate": -1}, "quote_rate"),
        ({"quote_rate": "fast"}, "quote_rate"),
        ({"market_seed": 1.5}, "market_seed"),
        ({"subscription_quota": -1}, "subscription_quota"),
        ({"clock_start": datetime.datetime(2026, 1, 5, 8, 0)}, "clock_start"),
        ({"clock_start": "08:00"}, "clock_start"),
    ],
)
def test_bad_market_options_are_refused_where_given(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message), OpenD.start(**kwargs):
        pass


async def test_a_scripted_trade_reaches_every_kind_consistently(opend: OpenD) -> None:
    async with ready_client(opend.host, opend.port) as raw:
        client = MarketDataClient(raw)
        kinds = [QUOTE, TICKER, K_1M, RT_DATA, BROKER]
        assert (await client.sub([TENCENT], kinds, first_push=False)).retType == 0
        trade = opend.market.trade(TENCENT, 400.4, 700)
        pushes = dict(await client.data_pushes())
    ticker = pushes[UPDATE_TICKER].tickerList[-1]  # type: ignore[attr-defined]
    bar = pushes[UPDATE_KL].klList[-1]  # type: ignore[attr-defined]
    point = pushes[UPDATE_RT].rtList[-1]  # type: ignore[attr-defined]
    quote = pushes[UPDATE_BASIC_QOT].basicQotList[0]  # type: ignore[attr-defined]
    assert (ticker.price, ticker.volume, ticker.sequence) == (400.4, 700, trade.sequence)
    assert bar.closePrice == point.price == quote.curPrice == 400.4
    assert bar.volume == point.volume == quote.volume == 700
    assert opend.market.tickers(TENCENT, 1) == [trade]
    assert opend.market.klines(TENCENT, SubType.K_1M, 1)[0].volume == 700
    assert opend.market.time_share(TENCENT)[-1].volume == 700
    brokers = pushes[UPDATE_BROKER].brokerBidList  # type: ignore[attr-defined]
    assert [b.id for b in brokers] == [b.broker_id for b in opend.market.broker_queue(TENCENT).bids]


def test_trades_from_many_threads_are_each_a_ticker(opend: OpenD) -> None:
    def trade() -> None:
        for _ in range(25):
            opend.market.trade(TENCENT, 400.2, 200)

    threads = [threading.Thread(target=trade) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tickers = opend.market.tickers(TENCENT, 100)
    assert [t.volume for t in tickers] == [200] * 100
    assert [t.sequence for t in tickers] == list(range(1, 101))
    assert opend.market.quote(TENCENT).volume == 20_000
    with pytest.raises(InvalidArgumentError, match="lot"):
        opend.market.trade(TENCENT, 400.2, 150)
