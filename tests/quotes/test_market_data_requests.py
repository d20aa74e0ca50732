"""Tickers, time-share, K-lines and broker queues requested from the hostile peer's
desk (``tests/hostile_market_data.py``), on every runner; Hypothesis over the arguments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asyncquote
from asyncquote import (
    AuType,
    InvalidArgumentError,
    KLType,
    NotSubscribedError,
    OpenDError,
    SubType,
    TickerDirect,
)
from asyncquote._opend.vocabulary import SecurityKey, format_code

from ..conftest import Runner
from ..hostile_market_data import MarketDataDesk
from ..hostile_peer import HostileGateway, hostile_gateway
from .test_client import FAST

pytestmark = pytest.mark.anyio

TENCENT: SecurityKey = (1, "00700")
APPLE: SecurityKey = (11, "AAPL")
MARKET_DATA = (3006, 3008, 3010, 3014)


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@asynccontextmanager
async def desk_and_client(
    *held: tuple[SecurityKey, SubType], deadline: float = 20
) -> AsyncIterator[tuple[MarketDataDesk, asyncquote.QuoteClient]]:
    """The desk and a client connected to it, holding the subscriptions ``held``."""
    gateway = HostileGateway()
    desk = MarketDataDesk(gateway)
    async with (
        hostile_gateway(gateway),
        asyncquote.connect("127.0.0.1", gateway.port, keepalive=False, reconnect=FAST) as client,
        AsyncExitStack() as streams,
    ):
        with anyio.fail_after(deadline):
            for key, kind in held:
                await streams.enter_async_context(client.subscribe([format_code(key)], [kind]))
            yield desk, client


def sent(desk: MarketDataDesk) -> int:
    return sum(len(desk.gateway.arrivals_of(proto_id)) for proto_id in MARKET_DATA)


async def test_each_request_needs_its_subscription_and_sends_nothing_without_it(
    runner: Runner,
) -> None:
    async with desk_and_client((TENCENT, SubType.K_1M), (TENCENT, SubType.QUOTE)) as (desk, client):
        calls = [
            (client.get_rt_ticker("HK.00700"), SubType.TICKER),
            (client.get_rt_data("HK.00700"), SubType.RT_DATA),
            (client.get_cur_kline("HK.00700", 5), SubType.K_DAY),
            (client.get_cur_kline("HK.00700", 5, KLType.K_5M), SubType.K_5M),
            (client.get_broker_queue("HK.00700"), SubType.BROKER),
        ]
        for call, kind in calls:
            with pytest.raises(NotSubscribedError) as caught:
                await call
            assert (caught.value.codes, caught.value.sub_type) == (("HK.00700",), kind)
        assert sent(desk) == 0


async def test_the_latest_trades_oldest_first(runner: Runner) -> None:
    async with desk_and_client((TENCENT, SubType.TICKER)) as (desk, client):
        desk.prices[TENCENT] = 300.0
        trades = await client.get_rt_ticker("HK.00700", num=3)
        assert [t.sequence for t in trades] == [2197, 2198, 2199]
        last = trades[-1]
        assert (last.code, last.name, last.time) == ("HK.00700", "Some Co", "2026-01-05 10:19:59")
        assert (last.price, last.volume, last.direction) == (311.99, 120_000, TickerDirect.SELL)
        assert len(await client.get_rt_ticker("HK.00700")) == 500  # the SDK's default
        assert [c2s[2] for _, c2s in desk.asked] == [[3], [500]]


async def test_time_share_points(runner: Runner) -> None:
    async with desk_and_client((TENCENT, SubType.RT_DATA)) as (_, client):
        points = await client.get_rt_data("HK.00700")
        assert [(p.time, p.minute, p.price, p.volume) for p in points[:2]] == [
            ("2026-01-05 09:30:00", 570, 100.0, 100),
            ("2026-01-05 09:31:00", 571, 101.0, 200),
        ]
        assert points[1].avg_price == 100.5
        assert not points[1].is_blank


@pytest.mark.parametrize("ktype", [KLType.K_1M, SubType.K_1M, "K_1M"])
@pytest.mark.parametrize(("autype", "au_type"), [(AuType.HFQ, AuType.HFQ), ("None", AuType.NONE)])
async def test_klines_of_the_period_and_adjustment_asked_for(
    runner: Runner, ktype: object, autype: object, au_type: AuType
) -> None:
    async with desk_and_client((TENCENT, SubType.K_1M)) as (desk, client):
        bars = await client.get_cur_kline("HK.00700", 4, ktype, autype)  # type: ignore[arg-type]
        assert [bar.open_price for bar in bars] == [126.0, 127.0, 128.0, 129.0]
        assert {(bar.k_type, bar.au_type) for bar in bars} == {(KLType.K_1M, au_type)}
        assert (bars[-1].volume, bars[-1].pe, bars[-1].change_rate) == (30_000, 12.0, 1.25)
        ((_, c2s),) = desk.asked
        assert (c2s[1], c2s[2], c2s[4]) == ([int(au_type)], [1], [4])


async def test_the_default_kline_is_daily_and_forward_adjusted_as_the_sdks(
    runner: Runner,
) -> None:
    async with desk_and_client((TENCENT, SubType.K_DAY)) as (desk, client):
        (bar,) = await client.get_cur_kline("HK.00700", 1)
        assert (bar.k_type, bar.au_type) == (KLType.K_DAY, AuType.QFQ)
        ((_, c2s),) = desk.asked
        assert (c2s[1], c2s[2]) == ([1], [2])


async def test_a_broker_queue_has_both_sides_and_only_hong_kong_has_one(runner: Runner) -> None:
    async with desk_and_client((TENCENT, SubType.BROKER), (APPLE, SubType.BROKER)) as (
        desk,
        client,
    ):
        queue = await client.get_broker_queue("HK.00700")
        assert [(b.id, b.name, b.position) for b in queue.bids] == [
            (8000, "Broker 8000", 0),
            (8001, "Broker 8001", 1),
        ]
        assert [b.id for b in queue.asks] == [9000, 9001]
        with pytest.raises(InvalidArgumentError, match="only for Hong Kong securities"):
            await client.get_broker_queue("US.AAPL")
        assert len(desk.gateway.arrivals_of(3014)) == 1


async def test_opends_refusal_for_want_of_a_subscription_is_the_same_error(
    runner: Runner,
) -> None:
    async with desk_and_client((TENCENT, SubType.TICKER), (TENCENT, SubType.K_3M)) as (
        desk,
        client,
    ):
        desk.held[desk.gateway.connections[0]].clear()  # OpenD forgot them
        with pytest.raises(NotSubscribedError, match="please subscribe first") as caught:
            await client.get_cur_kline("HK.00700", 10, "K_3M")
        assert caught.value.sub_type is SubType.K_3M
        assert isinstance(caught.value.__cause__, OpenDError)
        desk.refusal = "no quote right for this market"
        with pytest.raises(OpenDError, match="no quote right") as refused:
            await client.get_rt_ticker("HK.00700")
        assert not isinstance(refused.value, NotSubscribedError)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.get_rt_ticker("HK.00700", num=0), "num must be from 1 to 1000"),
        (lambda c: c.get_rt_ticker("HK.00700", num=1001), "num must be from 1 to 1000"),
        (lambda c: c.get_rt_ticker(["HK.00700"]), "code must be a Security"),
        (lambda c: c.get_rt_data("HK"), "market prefix"),
        (lambda c: c.get_cur_kline("HK.00700", 10, "K_2M"), "ktype must be a K-line period"),
        (lambda c: c.get_cur_kline("HK.00700", 10, SubType.TICKER), "ktype"),
        (lambda c: c.get_cur_kline("HK.00700", 10, KLType.NONE), "ktype"),
        (lambda c: c.get_cur_kline("HK.00700", 10, 2), "ktype"),
        (lambda c: c.get_cur_kline("HK.00700", 10, autype="QFQ"), "autype"),
        (lambda c: c.get_cur_kline("HK.00700", 10, autype=None), "autype"),
        (lambda c: c.get_cur_kline("HK.00700", True), "num must be an int"),
        (lambda c: c.get_broker_queue("SH.600000"), "only for Hong Kong"),
        (lambda c: c.get_rt_data("HK.00700", timeout=0), "timeout"),
    ],
)
async def test_bad_arguments_are_refused_before_sending(
    runner: Runner, call: object, words: str
) -> None:
    async with desk_and_client() as (desk, client):
        before = len(desk.gateway.arrivals)
        with pytest.raises(InvalidArgumentError, match=words):
            await call(client)  # type: ignore[operator]
        assert len(desk.gateway.arrivals) == before


_ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2000), st.floats(), st.text(max_size=8),
    st.sampled_from([*KLType, *SubType, *AuType]), st.lists(st.just("HK.00700"), max_size=1),
)  # fmt: skip


def _mostly(plausible: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """``plausible`` four times in five (so the later checks are reached), else anything."""
    return st.integers(0, 4).flatmap(lambda n: plausible if n else _ANYTHING)


_ARGUMENTS = {
    "code": _mostly(st.sampled_from(["HK.00700", "HK.00700", "US.AAPL", "HK.00001", "HK."])),
    "num": _mostly(st.integers(-2, 1002)),
    "ktype": _mostly(st.sampled_from([*KLType, *SubType, "K_1M", "K_DAY", "K_2M"])),
    "autype": _mostly(st.sampled_from([*AuType, "qfq", "hfq", "None", "QFQ"])),
}
_CALLS = {
    "get_rt_ticker": ("code", "num"),
    "get_rt_data": ("code",),
    "get_cur_kline": ("code", "num", "ktype", "autype"),
    "get_broker_queue": ("code",),
}


def _call() -> st.SearchStrategy[tuple[str, dict[str, object]]]:
    return st.sampled_from(sorted(_CALLS)).flatmap(
        lambda name: st.tuples(
            st.just(name), st.fixed_dictionaries({arg: _ARGUMENTS[arg] for arg in _CALLS[name]})
        )
    )


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_any_arguments_give_a_result_or_only_documented_errors(backend: str) -> None:
    """Arguments of any type and value: a result, or InvalidArgumentError with
    nothing sent, or NotSubscribedError (only TICKER and K_1M of HK.00700 held)."""

    held = (TENCENT, SubType.TICKER), (TENCENT, SubType.K_1M)
    with (
        start_blocking_portal(backend) as portal,
        portal.wrap_async_context_manager(desk_and_client(*held, deadline=600)) as entered,
    ):
        desk, client = entered

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(_call())
        def check(call: tuple[str, dict[str, object]]) -> None:
            name, arguments = call
            before = len(desk.gateway.arrivals)
            try:
                portal.call(lambda: getattr(client, name)(**arguments))
            except InvalidArgumentError:
                assert len(desk.gateway.arrivals) == before
            except NotSubscribedError:
                pass

        check()
