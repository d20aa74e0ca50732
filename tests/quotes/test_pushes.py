"""Order-book pushes routed by their type, against the hostile quote desk, on every runner.

A 3013 push says ``orderBookType`` 1 for the odd-lot book: it belongs to the
(security, ORDER_BOOK_ODD) pair, conflated apart from the board-lot book of
(security, ORDER_BOOK). The rest of :mod:`asyncquote._quotes.pushes` (the
Qot_Sub body, the other pushes) is read by the desk in tests/quotes/test_client.py.
"""

from __future__ import annotations

import logging

import pytest

import asyncquote
from asyncquote import NotSubscribedError, OrderBook, OrderBookType, SubType

from ..conftest import Runner
from ..hostile_peer import response_body
from ..hostile_quotes import ORDER_BOOK, ORDER_BOOK_ODD, order_book_s2c
from .test_client import TENCENT, desk_and_client, next_update

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def _book(update: object) -> OrderBook:
    assert isinstance(update, OrderBook)
    return update


async def test_odd_lot_pushes_reach_the_odd_lot_pair_and_board_lot_pushes_the_other(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.ORDER_BOOK]) as board,
        client.subscribe(["HK.00700"], [SubType.ORDER_BOOK_ODD]) as odd,
    ):
        first_board, first_odd = _book(await next_update(board)), _book(await next_update(odd))
        assert first_board.order_book_type in (None, OrderBookType.NORMAL)
        assert (first_board.bids[0].volume, first_odd.order_book_type) == (100, OrderBookType.ODD)
        assert first_odd.bids[0].volume == 7  # the desk's odd lots
        await desk.push((TENCENT, ORDER_BOOK_ODD), price=90.0)
        await desk.push((TENCENT, ORDER_BOOK), price=80.0)
        pushed_odd, pushed_board = _book(await next_update(odd)), _book(await next_update(board))
        assert (pushed_odd.order_book_type, pushed_odd.bids[0].price) == (OrderBookType.ODD, 89.8)
        assert pushed_board.bids[0].price == pytest.approx(79.8)
        assert pushed_board.order_book_type in (None, OrderBookType.NORMAL)
        assert (odd.pending, board.pending) == (0, 0)  # neither got the other's


async def test_a_stopped_reader_gets_the_newest_of_each_book_type(runner: Runner) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.ORDER_BOOK, SubType.ORDER_BOOK_ODD]) as stream,
    ):
        await desk.wait_for(lambda: desk.sub_requests(subscribe=True))
        for n in range(500):  # nobody reads meanwhile
            await desk.push((TENCENT, ORDER_BOOK_ODD), price=100.0 + n)
            await desk.push((TENCENT, ORDER_BOOK), price=1000.0 + n)
        assert await client.get_order_book("HK.00700", 1)  # every push has arrived
        assert stream.pending == 2  # one per pair, not one per book
        got = {}
        for _ in range(2):
            book = _book(await next_update(stream))
            got[book.order_book_type is OrderBookType.ODD] = book.bids[0].price
        assert got == {True: pytest.approx(599.0 - 0.2), False: pytest.approx(1499.0 - 0.2)}


async def test_a_book_of_an_unknown_type_is_dropped_and_logged_never_fatal(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.ORDER_BOOK, SubType.ORDER_BOOK_ODD]) as stream,
    ):
        for _ in range(2):
            await next_update(stream)
        strange = order_book_s2c(TENCENT, 50.0) + b"\x48\x07"  # orderBookType 7
        with caplog.at_level(logging.WARNING, logger="asyncquote.quotes"):
            await desk.gateway.push(response_body(strange), proto_id=3013)
            await desk.push((TENCENT, ORDER_BOOK_ODD), price=60.0)
            book = _book(await next_update(stream))
        assert (book.order_book_type, book.bids[0].price) == (OrderBookType.ODD, 59.8)
        assert any("orderBookType 7" in record.getMessage() for record in caplog.records)
        assert client.state is asyncquote.ConnectionState.CONNECTED


async def test_get_order_book_of_odd_lots_needs_their_subscription_and_says_odd_on_the_wire(
    runner: Runner,
) -> None:
    async with (
        desk_and_client() as (desk, client),
        client.subscribe(["HK.00700"], [SubType.ORDER_BOOK]) as stream,
    ):
        await next_update(stream)
        with pytest.raises(NotSubscribedError, match="no ORDER_BOOK_ODD subscription") as caught:
            await client.get_order_book("HK.00700", 5, OrderBookType.ODD)
        assert caught.value.sub_type is SubType.ORDER_BOOK_ODD
        assert desk.gateway.arrivals_of(3012) == []
        board = await client.get_order_book("HK.00700", 5)
        async with client.subscribe(["HK.00700"], [SubType.ORDER_BOOK_ODD]) as odd:
            await next_update(odd)
            book = await client.get_order_book("HK.00700", 5, order_book_type="ODD")
            desk.held[desk.gateway.connections[0]].pop((TENCENT, ORDER_BOOK_ODD))  # OpenD forgot
            with pytest.raises(NotSubscribedError, match="please subscribe first") as refused:
                await client.get_order_book("HK.00700", order_book_type=OrderBookType.ODD)
            assert refused.value.sub_type is SubType.ORDER_BOOK_ODD
    assert (book.order_book_type, book.bids[0].volume, len(book.bids)) == (OrderBookType.ODD, 7, 5)
    assert board.order_book_type in (None, OrderBookType.NORMAL)
    assert desk.book_types == [None, 1, 1]  # a board-lot request is the SDK's plain one
