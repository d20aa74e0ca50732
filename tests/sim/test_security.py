"""One security of the market: its broker queue and odd-lot book sit on its book's levels."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncquote.sim._market import Exchange, Listing
from asyncquote.sim._security import MAX_ODD_LOT_ORDERS, MAX_QUEUED_BROKERS, broker_name

TENCENT = (1, "00700")
START = 1_700_000_000.0


APPLE = (11, "AAPL")


def market(seed: int = 5, *, rate: float = 0) -> Exchange:
    listings = [Listing(TENCENT, "Tencent", 3, 100, ""), Listing(APPLE, "Apple", 3, 1, "")]
    return Exchange(listings, seed=seed, rate=rate, start=START)


def test_the_broker_queue_is_on_the_books_levels_and_deterministic() -> None:
    m = market()
    m.trade(TENCENT, 400.2, 300, START + 1)
    queue, book = m.broker_queue(TENCENT), m.order_book(TENCENT)
    other = market()
    other.trade(TENCENT, 400.2, 300, START + 1)
    assert other.broker_queue(TENCENT) == queue
    for brokers, levels in ((queue.bids, book.bids), (queue.asks, book.asks)):
        assert 0 < len(brokers) <= MAX_QUEUED_BROKERS
        positions = [broker.position for broker in brokers]
        assert positions == sorted(positions)
        assert positions[0] == 1
        assert max(positions) <= len(levels)
        for broker in brokers:
            assert broker.name == broker_name(broker.broker_id)
            count = sum(1 for b in brokers if b.position == broker.position)
            assert count <= levels[broker.position - 1].order_count
    assert queue.update_time == START + 1


def test_the_broker_queue_changes_with_each_trade() -> None:
    m = market()
    before = m.broker_queue(TENCENT)
    m.trade(TENCENT, 400.2, 100, START + 1)
    assert m.broker_queue(TENCENT) != before


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), ticks=st.integers(0, 40))
def test_the_odd_lot_book_is_under_a_lot_at_the_board_lot_books_prices(
    seed: int, ticks: int
) -> None:
    m = market(seed, rate=1)
    m.step(START + ticks)
    odd, board = m.odd_lot_book(TENCENT), m.order_book(TENCENT)
    assert (odd.order_book_type, board.order_book_type) == (1, 0)
    for levels, board_levels in ((odd.bids, board.bids), (odd.asks, board.asks)):
        board_prices = [level.price for level in board_levels]
        prices = [level.price for level in levels]
        assert set(prices) <= set(board_prices)
        assert prices == [price for price in board_prices if price in prices]  # best first
        for level in levels:
            assert 1 <= level.volume < 100
            assert 1 <= level.order_count <= min(level.volume, MAX_ODD_LOT_ORDERS)
    price = m.quote(TENCENT).cur_price
    assert all(level.price < price for level in odd.bids)
    assert all(level.price > price for level in odd.asks)
    again = market(seed, rate=1)
    again.step(START + ticks)
    assert again.odd_lot_book(TENCENT) == odd  # deterministic from the seed


def test_the_odd_lot_book_changes_only_with_the_price_and_is_stamped_when_it_moved() -> None:
    m = market()
    m.trade(TENCENT, 400.2, 300, START + 1)
    moved = m.odd_lot_book(TENCENT)
    assert moved.update_time == START + 1
    assert moved.bids or moved.asks  # seed 5: some odd lots wait
    m.trade(TENCENT, 400.2, 100, START + 2)  # the same price: the same book
    assert m.odd_lot_book(TENCENT) is moved
    assert m.order_book(TENCENT).update_time == START + 2  # the board-lot book moved on
    m.trade(TENCENT, 400.4, 100, START + 3)
    assert m.odd_lot_book(TENCENT).update_time == START + 3
    m.trade(TENCENT, 400.2, 100, START + 4)  # back: the same levels, a new stamp
    back = m.odd_lot_book(TENCENT)
    assert (back.bids, back.asks, back.update_time) == (moved.bids, moved.asks, START + 4)


@pytest.mark.parametrize("seed", range(5))
def test_a_lot_of_one_share_has_no_odd_lots(seed: int) -> None:
    book = market(seed, rate=1).odd_lot_book(APPLE)
    assert (book.bids, book.asks, book.order_book_type) == ((), (), 1)
