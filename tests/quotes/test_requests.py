"""The quote requests against the hostile peer's quote desk, on every runner:
basic quotes, order books, snapshots and the subscription query."""

from __future__ import annotations

import pytest

from asyncquote import (
    InvalidArgumentError,
    NotSubscribedError,
    OpenDError,
    OrderBook,
    SubType,
)

from ..conftest import Runner
from .test_client import TENCENT, desk_and_client, next_update

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def arrivals(desk: object, proto_id: int) -> int:
    return len(desk.gateway.arrivals_of(proto_id))  # type: ignore[attr-defined]


async def test_a_quote_without_a_subscription_names_the_codes_and_sends_nothing(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.ORDER_BOOK]) as stream,
    ):
        await next_update(stream)
        with pytest.raises(NotSubscribedError) as caught:
            await client.get_stock_quote(["HK.00700", "US.AAPL"])
        assert caught.value.codes == ("HK.00700", "US.AAPL")
        assert caught.value.sub_type is SubType.QUOTE
        assert arrivals(desk, 3004) == 0
        with pytest.raises(NotSubscribedError, match=r"no ORDER_BOOK subscription for US\.AAPL"):
            await client.get_order_book("US.AAPL")
        assert arrivals(desk, 3012) == 0


async def test_opends_refusal_for_a_missing_subscription_is_the_same_error(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream,
    ):
        await next_update(stream)
        desk.held[desk.gateway.connections[0]].clear()  # OpenD forgot it
        with pytest.raises(NotSubscribedError, match="please subscribe first") as caught:
            await client.get_stock_quote(["HK.00700"])
        assert isinstance(caught.value.__cause__, OpenDError)


async def test_a_quote_left_less_than_a_minute_ago_is_still_answered(runner: Runner) -> None:
    async with desk_and_client(minute=5.0) as (_, client):
        async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
            await next_update(stream)
        (quote,) = await client.get_stock_quote(["HK.00700"])
        assert str(quote.security) == "HK.00700"


async def test_an_order_book_has_the_levels_asked_for(runner: Runner) -> None:
    async with (
        desk_and_client() as (_, client),
        client.subscribe(["HK.00700"], [SubType.ORDER_BOOK]) as stream,
    ):
        await next_update(stream)
        book = await client.get_order_book("HK.00700", num=5)
        assert isinstance(book, OrderBook)
        assert (len(book.bids), len(book.asks)) == (5, 5)
        assert book.asks[0].price > book.bids[0].price
        assert book.bids[0].order_count == 1
        with pytest.raises(InvalidArgumentError, match="num"):
            await client.get_order_book("HK.00700", num=0)


async def test_snapshots_of_many_codes_come_in_requests_of_400_in_the_order_asked(
    runner: Runner,
) -> None:
    codes = [f"HK.{n:05d}" for n in range(900, 0, -1)]
    async with desk_and_client() as (desk, client):
        snapshots = await client.get_market_snapshot([*codes, codes[0]])
        assert [str(s.basic.security) for s in snapshots] == codes
        assert arrivals(desk, 3203) == 3  # 400 + 400 + 100
        assert client.quota(3203).used == 3


async def test_query_subscription_tells_the_quota_to_the_client(runner: Runner) -> None:
    async with desk_and_client() as (desk, client):
        desk.quota, desk.used_elsewhere = 300, 20
        async with client.subscribe(["HK.00700"], [SubType.QUOTE, SubType.ORDER_BOOK]) as stream:
            await next_update(stream)
            info = await client.query_subscription()
            assert (info.total_used_quota, info.remain_quota) == (22, 278)
            (own,) = info.connections
            assert own.is_own_connection
            assert {s.sub_type for s in own.subscriptions} == {SubType.QUOTE, SubType.ORDER_BOOK}
            quota = client.subscriptions.quota
            assert (quota.total, quota.used, quota.remaining, quota.own) == (300, 22, 278, 2)
        assert TENCENT in {key for (key, _) in desk.subscribed()}


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.get_stock_quote([]), "codes must not be empty"),
        (lambda c: c.get_stock_quote("HK.00700"), "not a single str"),
        (lambda c: c.get_market_snapshot(["HK"]), "market prefix"),
        (lambda c: c.get_order_book(["HK.00700"]), "code must be a Security"),
        (lambda c: c.query_subscription(all_connections=1), "all_connections"),
        (lambda c: c.get_stock_quote(["HK.00700"], timeout=-1), "timeout"),
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


@pytest.mark.parametrize(
    ("codes", "sub_types", "words"),
    [
        ([], [SubType.QUOTE], "codes must not be empty"),
        (["HK.00700"], [], "sub_types must not be empty"),
        (["HK.00700"], [42], "unknown subscription type 42"),
        (["HK.00700"], [SubType.NONE], "unknown subscription type"),
        (["HK.00700"], SubType.QUOTE, "must be a list"),
    ],
)
async def test_bad_subscriptions_are_refused_before_sending(
    runner: Runner, codes: object, sub_types: object, words: str
) -> None:
    async with desk_and_client() as (desk, client):
        before = len(desk.gateway.arrivals)
        with pytest.raises(InvalidArgumentError, match=words):
            async with client.subscribe(codes, sub_types):  # type: ignore[arg-type]
                pass
        assert len(desk.gateway.arrivals) == before
        assert client.subscriptions.pairs == ()
