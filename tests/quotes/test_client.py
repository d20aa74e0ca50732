"""Streams of live quotes against the hostile peer's quote desk, on every runner.

The desk (``tests/hostile_quotes.py``) reads our requests with its own
decoder and writes its replies and pushes with its own encoder; it keeps
OpenD's rules: subscriptions per connection, a quota of distinct pairs, no
unsubscribe within ``min_seconds`` of the subscribe, pushes only to
registered connections, the current state at once on ``isFirstPush``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import (
    BasicQuote,
    OrderBook,
    ReconnectPolicy,
    StreamGap,
    SubscriptionQuotaError,
    SubType,
)

from ..conftest import OnTriosVirtualClock, Runner
from ..hostile_peer import HostileGateway, hostile_gateway, pb_message, response_body
from ..hostile_quotes import QuoteDesk, SubRequest

pytestmark = pytest.mark.anyio

TENCENT = (1, "00700")
APPLE = (11, "AAPL")
QUOTE, ORDER_BOOK = 1, 2
FAST = ReconnectPolicy(initial_delay=0.01, max_delay=0.05, jitter=0)
#: The one-minute rule, shortened for the desk and the client alike (on
#: trio's virtual clock, TestTheRealMinute keeps OpenD's 60 s).
SHORT_MINUTE = 0.3


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@asynccontextmanager
async def desk_and_client(
    minute: float = SHORT_MINUTE, deadline: float = 20, **options: Any
) -> AsyncIterator[tuple[QuoteDesk, asyncquote.QuoteClient]]:
    gateway = HostileGateway()
    desk = QuoteDesk(gateway, min_seconds=minute)
    options.setdefault("keepalive", False)
    options.setdefault("reconnect", FAST)
    async with (
        hostile_gateway(gateway),
        asyncquote.connect("127.0.0.1", gateway.port, **options) as client,
    ):
        client._live.book.unsubscribe_delay = minute  # tests only: OpenD's minute, shortened
        with anyio.fail_after(deadline):
            yield desk, client


async def eventually(predicate: Callable[[], object]) -> None:
    """Return once ``predicate()`` holds (the client's side of an exchange: looked at
    every few milliseconds; the test's own deadline bounds the wait)."""
    while not predicate():  # noqa: ASYNC110  (nothing to wait on: the client sets no event)
        await anyio.sleep(0.005)


async def next_update(stream: Any) -> object:
    async for update in stream:
        return update
    raise AssertionError("the stream ended")


async def test_a_stream_starts_with_the_current_state_and_gets_pushes(runner: Runner) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.QUOTE, SubType.ORDER_BOOK]) as stream,
    ):
        first = [await next_update(stream), await next_update(stream)]
        assert {type(update) for update in first} == {BasicQuote, OrderBook}
        await desk.push((TENCENT, QUOTE), price=101.5)
        quote = await next_update(stream)
        assert isinstance(quote, BasicQuote)
        assert (str(quote.security), quote.cur_price) == ("HK.00700", 101.5)
    (request,) = desk.sub_requests(subscribe=True)
    assert request.pairs == {(TENCENT, QUOTE), (TENCENT, ORDER_BOOK)}
    assert request.register_push
    assert request.first_push


async def test_pushes_interleaved_with_replies_reach_both(runner: Runner) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700", "US.AAPL"], [SubType.QUOTE]) as stream,
    ):
        for _ in range(2):
            await next_update(stream)  # the first pushes
        async with anyio.create_task_group() as tg:
            tg.start_soon(desk.push, (TENCENT, QUOTE), 90.0)
            quotes = await client.get_stock_quote(["US.AAPL", "HK.00700"])
            tg.start_soon(desk.push, (APPLE, QUOTE), 200.0)
        assert [str(quote.security) for quote in quotes] == ["US.AAPL", "HK.00700"]
        prices = {}
        while len(prices) < 2:
            update = await next_update(stream)
            assert isinstance(update, BasicQuote)
            prices[str(update.security)] = update.cur_price
        assert prices == {"HK.00700": 90.0, "US.AAPL": 200.0}


async def test_a_stopped_reader_gets_the_newest_state_and_the_count_it_missed(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700", "US.AAPL"], [SubType.QUOTE], buffer=1) as stream,
    ):
        await desk.wait_for(lambda: desk.sub_requests(subscribe=True))
        for n in range(2000):  # nobody reads meanwhile
            await desk.push((TENCENT, QUOTE), price=100.0 + n)
            await desk.push((APPLE, QUOTE), price=300.0 + n)
        sentinel = await client.get_stock_quote(["HK.00700"])  # every push has arrived
        assert sentinel
        assert stream.pending == 2  # one per pair: bounded whatever the flood
        got = [await next_update(stream), await next_update(stream)]
        assert [(str(q.security), q.cur_price) for q in got] == [  # type: ignore[attr-defined]
            ("HK.00700", 2099.0),
            ("US.AAPL", 2299.0),
        ]
        assert stream.superseded == 2 * 2000  # the two first pushes too
        assert stream.dropped == 0


async def test_two_streams_on_one_pair_share_one_subscription(runner: Runner) -> None:
    async with desk_and_client() as (desk, client):
        async with client.subscribe(["HK.00700"], [SubType.QUOTE], name="bot") as first:
            async with client.subscribe(["HK.00700"], [SubType.QUOTE], name="ui") as second:
                assert isinstance(await next_update(first), BasicQuote)
                assert isinstance(await next_update(second), BasicQuote)  # the kept state
                (pair,) = client.subscriptions.pairs
                assert (pair.security, pair.sub_type, pair.streams) == (
                    "HK.00700",
                    SubType.QUOTE,
                    ("bot", "ui"),
                )
                assert client.subscriptions.quota.own == 1
                await desk.push((TENCENT, QUOTE), price=1.0)
                assert [await next_update(first), await next_update(second)] == [
                    (await client.get_stock_quote(["HK.00700"]))[0]
                ] * 2
            assert client.subscriptions.pairs[0].streams == ("bot",)
            await desk.push((TENCENT, QUOTE), price=2.0)
            assert getattr(await next_update(first), "cur_price", None) == 2.0
        assert len(desk.sub_requests(subscribe=True)) == 1
        assert desk.used() == 1


async def test_leaving_within_the_minute_defers_the_unsubscribe_then_sends_it(
    runner: Runner,
) -> None:
    async with desk_and_client() as (desk, client):
        async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
            await next_update(stream)
        status = client.subscriptions
        assert status.pairs == ()
        (pending,) = status.pending_unsubscribes
        assert pending.security == "HK.00700"
        assert pending.due_in is not None
        assert 0 < pending.due_in <= SHORT_MINUTE + 1e-6  # (uvloop's millisecond clock)
        assert desk.sub_requests(subscribe=False) == []  # not yet: OpenD would refuse
        await desk.wait_for(lambda: desk.sub_requests(subscribe=False))
        (subscribe,) = desk.sub_requests(subscribe=True)
        (unsubscribe,) = desk.sub_requests(subscribe=False)
        assert unsubscribe.pairs == {(TENCENT, QUOTE)}
        assert unsubscribe.at - subscribe.at >= SHORT_MINUTE - 1e-6  # (float subtraction)
        assert desk.subscribed() == set()
        await eventually(lambda: not client.subscriptions.pending_unsubscribes)


async def test_asking_again_within_the_minute_costs_nothing_and_cancels_the_unsubscribe(
    runner: Runner,
) -> None:
    async with desk_and_client(minute=5.0) as (desk, client):
        async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
            await next_update(stream)
        async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
            assert client.subscriptions.pending_unsubscribes == ()
            assert isinstance(await next_update(stream), BasicQuote)  # the kept state
        assert len(desk.requests) == 1  # one subscribe, nothing else


async def test_a_reconnect_resubscribes_once_and_the_stream_reports_the_gap(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700", "US.AAPL"], [SubType.QUOTE]) as quotes,
        client.subscribe(["HK.00700"], [SubType.QUOTE, SubType.ORDER_BOOK]) as books,
    ):
        for _ in range(2):
            await next_update(quotes)
        await desk.gateway.drop_all()
        assert await next_update(quotes) == StreamGap(reconnects=1)
        update = await next_update(quotes)  # the first push on the new connection
        assert isinstance(update, BasicQuote)
        wanted = {(TENCENT, QUOTE), (APPLE, QUOTE), (TENCENT, ORDER_BOOK)}

        def again() -> list[SubRequest]:
            return [r for r in desk.sub_requests(subscribe=True) if r.connection == 1]

        await desk.wait_for(lambda: set().union(*(r.pairs for r in again())) == wanted)
        # Each pair once (HK.00700 with both types, US.AAPL with one: two requests).
        assert sorted(len(r.pairs) for r in again()) == [1, 2]
        assert all(r.first_push and r.register_push for r in again())
        assert desk.used() == 3  # no pair counted twice
        assert quotes.gaps == books.gaps == 1
        await eventually(lambda: all(pair.subscribed for pair in client.subscriptions.pairs))


async def test_a_subscription_over_the_known_quota_is_refused_before_sending(
    runner: Runner,
) -> None:
    async with desk_and_client() as (desk, client):
        desk.quota = 2
        with pytest.raises(SubscriptionQuotaError) as caught:
            async with client.subscribe(["HK.00700", "US.AAPL", "HK.09988"], [SubType.QUOTE]):
                pass
        assert (caught.value.needed, caught.value.remaining, caught.value.total) == (3, 2, 2)
        assert desk.requests == []  # asked for the quota (3003), sent no Qot_Sub
        assert client.subscriptions.quota.remaining == 2
        async with client.subscribe(["HK.00700", "US.AAPL"], [SubType.QUOTE]):
            assert client.subscriptions.quota.remaining == 0


async def test_opends_own_quota_refusal_is_a_subscription_quota_error(runner: Runner) -> None:
    async with desk_and_client() as (desk, client):
        await client.query_subscription()  # the client learns 100 remain...
        desk.used_elsewhere = 100  # ...and another client takes them all
        with pytest.raises(SubscriptionQuotaError, match="subscription quota exceeded"):
            async with client.subscribe(["HK.00700"], [SubType.QUOTE]):
                pass
        assert client.subscriptions.pairs == ()
        assert client.subscriptions.quota.own == 0


async def test_unknown_and_malformed_pushes_are_logged_and_never_fatal(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream,
    ):
        await next_update(stream)
        with caplog.at_level(logging.WARNING, logger="asyncquote.quotes"):
            await desk.gateway.push(b"\xff\xff not protobuf", proto_id=3005)
            await desk.gateway.push(b"\x08\x00", proto_id=3013)  # no s2c
            await desk.gateway.push(response_body(ret_type=-1, ret_msg="bad"), proto_id=3005)
            await desk.gateway.push(b"whatever", proto_id=3999)  # a push we do not know
            await desk.push((TENCENT, QUOTE), price=7.0)
            assert getattr(await next_update(stream), "cur_price", None) == 7.0
        dropped = [r for r in caplog.records if "dropped a push" in r.getMessage()]
        assert {r.getMessage().split("protocol ")[1][:4] for r in dropped} == {"3005", "3013"}
        assert client.state is asyncquote.ConnectionState.CONNECTED


async def test_a_quote_that_cannot_be_decoded_is_skipped_by_the_reader_and_logged(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    # It parses and names its security, so the receive path routes it as it
    # is; it lacks the quote's other required fields, so its reader cannot
    # decode it. Superseded before it is read, it costs nothing and says nothing.
    security = pb_message((1, TENCENT[0]), (2, TENCENT[1]))
    unreadable = response_body(pb_message((1, pb_message((1, security)))))
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700", "US.AAPL"], [SubType.QUOTE]) as stream,
    ):
        for _ in range(2):
            await next_update(stream)
        with caplog.at_level(logging.WARNING, logger="asyncquote.quotes"):
            await desk.gateway.push(unreadable, proto_id=3005)
            await desk.push((TENCENT, QUOTE), price=8.0)
            await client.get_stock_quote(["HK.00700"])  # both pushes have arrived
            assert getattr(await next_update(stream), "cur_price", None) == 8.0
            assert "skipped an update" not in caplog.text
            await desk.gateway.push(unreadable, proto_id=3005)
            await desk.push((APPLE, QUOTE), price=9.0)
            update = await next_update(stream)
        assert (str(getattr(update, "security", None)), getattr(update, "cur_price", None)) == (
            "US.AAPL",
            9.0,
        )
        assert "skipped an update OpenD sent" in caplog.text
        assert "lacks required fields" in caplog.text
        assert client.state is asyncquote.ConnectionState.CONNECTED


class TestTheRealMinute(OnTriosVirtualClock):
    """OpenD's own 60 s, on trio's virtual clock."""

    async def test_the_unsubscribe_waits_a_minute_from_the_subscribe_and_no_longer(
        self,
    ) -> None:
        async with desk_and_client(minute=60.0, deadline=600) as (desk, client):
            async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
                await next_update(stream)
                await anyio.sleep(20)
            await anyio.sleep(39)  # 59 s after the subscribe
            assert desk.sub_requests(subscribe=False) == []
            await desk.wait_for(lambda: desk.sub_requests(subscribe=False))
            (subscribe,) = desk.sub_requests(subscribe=True)
            (unsubscribe,) = desk.sub_requests(subscribe=False)
            assert 60.0 <= unsubscribe.at - subscribe.at < 61.0
            assert desk.subscribed() == set()

    async def test_an_unsubscribe_opend_refuses_is_retried_a_minute_later(self) -> None:
        async with desk_and_client(minute=60.0, deadline=600) as (desk, client):
            async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
                await next_update(stream)
            client._live.book.unsubscribe_delay = 30.0  # as if our clock ran ahead of OpenD's
            await desk.wait_for(lambda: len(desk.sub_requests(subscribe=False)) == 2)
            first, second = desk.sub_requests(subscribe=False)
            assert second.at - first.at == pytest.approx(30.0, abs=1.0)
            assert desk.subscribed() == set()  # the second one was allowed
            await eventually(lambda: client.subscriptions.pending_unsubscribes == ())


async def test_a_stream_ends_with_connection_lost_when_the_connection_is_not_replaced(
    runner: Runner,
) -> None:
    async with (
        desk_and_client(reconnect=False) as (desk, client),
        client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream,
    ):
        await next_update(stream)
        await desk.push((TENCENT, QUOTE), price=5.0)
        await desk.gateway.drop_all()
        read: list[object] = []

        async def read_all() -> None:
            async for update in stream:
                read.append(update)

        with pytest.raises(asyncquote.ConnectionLostError):
            await read_all()
        assert [getattr(update, "cur_price", None) for update in read] == [5.0]
        with pytest.raises(asyncquote.ConnectionLostError):
            async with client.subscribe(["HK.00700"], [SubType.QUOTE]):
                pass


async def test_leaving_the_block_ends_a_reader_in_another_task(runner: Runner) -> None:
    read: list[object] = []

    async def reader(stream: Any) -> None:
        async for update in stream:
            read.append(update)
        read.append("ended")

    async with desk_and_client() as (_, client), anyio.create_task_group() as tg:
        async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
            tg.start_soon(reader, stream)
            await eventually(lambda: read)
        await eventually(lambda: read[-1] == "ended")
        assert read[-1] == "ended"
        assert isinstance(read[0], BasicQuote)


async def test_options_go_on_the_wire_and_a_wider_stream_subscribes_the_pair_again(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["US.AAPL"], [SubType.QUOTE]) as plain,
    ):
        await next_update(plain)
        (first,) = desk.sub_requests(subscribe=True)
        assert (first.extended_time, first.session, first.rehab_types) == (False, 0, ())
        async with client.subscribe(
            ["US.AAPL"], [SubType.QUOTE], extended_time=True, session="ALL", name="night"
        ) as wide:
            await next_update(wide)
            second = desk.sub_requests(subscribe=True)[-1]
            assert second.pairs == {(APPLE, QUOTE)}
            assert (second.extended_time, second.session) == (True, asyncquote.Session.ALL)
            assert desk.used() == 1
            async with client.subscribe(["US.AAPL"], [SubType.QUOTE], extended_time=True):
                pass  # covered by the pair's subscription already: nothing sent
            assert len(desk.sub_requests(subscribe=True)) == 2
            await desk.gateway.drop_all()
            while not isinstance(update := await next_update(wide), StreamGap):
                assert isinstance(update, BasicQuote)  # the kept state, the first push
            await desk.wait_for(
                lambda: [r for r in desk.sub_requests(subscribe=True) if r.connection == 1]
            )
            (again,) = [r for r in desk.sub_requests(subscribe=True) if r.connection == 1]
            assert (again.extended_time, again.session) == (True, asyncquote.Session.ALL)


async def test_k_lines_of_another_adjustment_register_it(runner: Runner) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.K_1M], autype="hfq") as stream,
    ):
        (request,) = desk.sub_requests(subscribe=True)
        assert request.rehab_types == (asyncquote.AuType.HFQ,)
        del stream
