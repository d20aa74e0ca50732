"""One security of the market: its broker queue sits on its order book's levels."""

from __future__ import annotations

from asyncquote.sim._market import Exchange, Listing
from asyncquote.sim._security import MAX_QUEUED_BROKERS, broker_name

TENCENT = (1, "00700")
START = 1_700_000_000.0


def market(seed: int = 5) -> Exchange:
    return Exchange([Listing(TENCENT, "Tencent", 3, 100, "")], seed=seed, rate=0, start=START)


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
