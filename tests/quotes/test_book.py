"""The subscription book with plain numbers: reference counts, the one-minute rule, the quota."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote import InvalidArgumentError, SubscriptionQuotaError
from asyncquote._quotes.book import Pair, SubscriptionBook, batches

TENCENT = (1, "00700")
ALIBABA = (1, "09988")
APPLE = (11, "AAPL")
QUOTE, ORDER_BOOK = 1, 2


def subscribe_all(book: SubscriptionBook, stream: str, pairs: list[Pair], now: float) -> None:
    for batch in book.acquire(stream, pairs):
        book.subscribed(batch, now)


def sent_pairs(planned: list) -> set[Pair]:  # type: ignore[type-arg]
    return {pair for batch in planned for pair in batch.pairs}


def test_two_streams_on_one_pair_share_one_subscription_and_one_unit() -> None:
    book = SubscriptionBook()
    first = book.acquire("a", [(TENCENT, QUOTE)])
    assert sent_pairs(first) == {(TENCENT, QUOTE)}
    book.subscribed(first[0], 0.0)
    assert book.acquire("b", [(TENCENT, QUOTE)]) == []  # held already: nothing to send
    assert book.own == 1
    assert set(book.routes((TENCENT, QUOTE)) or ()) == {"a", "b"}


def test_the_last_stream_leaving_defers_the_unsubscribe_to_a_minute_after_the_reply() -> None:
    book = SubscriptionBook()
    subscribe_all(book, "a", [(TENCENT, QUOTE)], now=5.0)
    subscribe_all(book, "b", [(TENCENT, QUOTE)], now=6.0)
    book.release("a")
    assert book.next_due() is None  # b still wants it
    book.release("b")
    assert book.routes((TENCENT, QUOTE)) == {}  # pushes stop at once; held until unsubscribed
    assert book.next_due() == 65.0
    assert book.take_due(64.9) == []
    due = book.take_due(65.0)
    assert sent_pairs(due) == {(TENCENT, QUOTE)}
    assert book.take_due(100.0) == []  # in flight already
    assert book.unsubscribed(due[0]) == []
    assert book.routes((TENCENT, QUOTE)) is None  # pushes of it are not routed any more
    assert book.own == 0
    assert book.snapshot(100.0).pending_unsubscribes == ()


def test_a_pair_left_after_its_minute_is_due_at_once() -> None:
    book = SubscriptionBook()
    subscribe_all(book, "a", [(TENCENT, QUOTE)], now=0.0)
    book.release("a")
    assert sent_pairs(book.take_due(120.0)) == {(TENCENT, QUOTE)}


def test_asking_again_for_a_pending_pair_cancels_its_unsubscribe_and_sends_nothing() -> None:
    book = SubscriptionBook()
    subscribe_all(book, "a", [(TENCENT, QUOTE)], now=0.0)
    book.release("a")
    assert book.acquire("b", [(TENCENT, QUOTE)]) == []
    assert book.next_due() is None
    assert book.take_due(1000.0) == []
    assert book.own == 1


def test_a_pair_taken_back_while_its_unsubscribe_is_in_flight_is_subscribed_again() -> None:
    book = SubscriptionBook()
    subscribe_all(book, "a", [(TENCENT, QUOTE)], now=0.0)
    book.release("a")
    (unsubscribe,) = book.take_due(60.0)
    assert book.acquire("b", [(TENCENT, QUOTE)]) == []  # waits for the unsubscribe's answer
    again = book.unsubscribed(unsubscribe)
    assert sent_pairs(again) == {(TENCENT, QUOTE)}
    book.subscribed(again[0], 61.0)
    assert book.snapshot(61.0).pairs[0].subscribed


def test_a_failed_unsubscribe_is_retried_later_then_given_up() -> None:
    book = SubscriptionBook()
    subscribe_all(book, "a", [(TENCENT, QUOTE)], now=0.0)
    book.release("a")
    now = 60.0
    for attempt in range(1, 4):
        (unsubscribe,) = book.take_due(now)
        again, abandoned = book.unsubscribe_failed(unsubscribe, now)
        assert again == []
        if attempt < 3:
            assert abandoned == []
            assert book.next_due() == now + 60.0
            now += 60.0
    assert abandoned == [(TENCENT, QUOTE)]
    assert book.own == 0


def test_a_subscribe_whose_outcome_is_unknown_counts_as_subscribed() -> None:
    book = SubscriptionBook()
    (batch,) = book.acquire("a", [(TENCENT, QUOTE)])
    book.release("a")  # the caller gave up while the request was on its way
    assert book.own == 1  # OpenD may still subscribe it
    status = book.snapshot(0.0)
    assert [p.due_in for p in status.pending_unsubscribes] == [None]
    book.subscribed(batch, 3.0)  # the answer (or the timeout) came
    assert book.next_due() == 63.0


def test_a_refused_subscribe_frees_what_nobody_holds() -> None:
    book = SubscriptionBook()
    (batch,) = book.acquire("a", [(TENCENT, QUOTE)])
    book.refused(batch)
    book.release("a")
    assert book.own == 0
    assert book.next_due() is None


def test_a_subscription_over_the_quota_is_refused_and_changes_nothing() -> None:
    book = SubscriptionBook()
    book.report_quota(used=8, remaining=2)  # others use 8 of 10
    subscribe_all(book, "a", [(TENCENT, QUOTE), (TENCENT, ORDER_BOOK)], now=0.0)
    assert book.remaining() == 0
    with pytest.raises(SubscriptionQuotaError) as caught:
        book.acquire("b", [(TENCENT, QUOTE), (APPLE, QUOTE)])
    assert (caught.value.needed, caught.value.remaining, caught.value.total) == (1, 0, 10)
    assert "needs 1 more quota unit but only 0 remain (of 10)" in str(caught.value)
    assert list(book.pairs_of("b")) == []
    assert book.acquire("b", [(TENCENT, QUOTE)]) == []  # a held pair costs nothing


def test_pending_unsubscribes_hold_their_unit_until_sent() -> None:
    book = SubscriptionBook()
    book.report_quota(total=1)
    subscribe_all(book, "a", [(TENCENT, QUOTE)], now=0.0)
    book.release("a")
    with pytest.raises(SubscriptionQuotaError):
        book.acquire("b", [(APPLE, QUOTE)])
    (unsubscribe,) = book.take_due(60.0)
    book.unsubscribed(unsubscribe)
    assert sent_pairs(book.acquire("b", [(APPLE, QUOTE)])) == {(APPLE, QUOTE)}


def test_the_quota_adds_the_books_own_changes_to_the_last_report() -> None:
    book = SubscriptionBook()
    assert (book.used(), book.remaining()) == (None, None)
    book.report_quota(total=100)  # Notify apiQuota: the total only
    subscribe_all(book, "a", [(TENCENT, QUOTE)], now=0.0)
    assert (book.used(), book.remaining()) == (1, 99)
    book.report_quota(used=30)  # Notify usedQuota, counting our one pair
    subscribe_all(book, "a", [(APPLE, QUOTE)], now=0.0)
    assert (book.used(), book.remaining()) == (31, 69)


def test_a_reconnect_drops_pending_unsubscribes_and_resubscribes_each_pair_once() -> None:
    book = SubscriptionBook(max_batch=2)
    subscribe_all(book, "a", [(TENCENT, QUOTE), (APPLE, QUOTE), (ALIBABA, QUOTE)], now=0.0)
    subscribe_all(book, "b", [(TENCENT, QUOTE), (TENCENT, ORDER_BOOK)], now=0.0)
    subscribe_all(book, "c", [(ALIBABA, ORDER_BOOK)], now=0.0)
    book.release("c")
    stale = book.acquire("d", [(APPLE, ORDER_BOOK)])  # in flight when the connection goes
    book.connection_lost()
    book.subscribed(stale[0], 1.0)  # an answer from the old connection: ignored
    assert book.own == 5  # ALIBABA's ORDER_BOOK is gone with the connection
    plan = book.resubscribe()
    resent = [pair for batch in plan.batches for pair in batch.pairs]
    assert sorted(resent) == sorted(
        [
            (TENCENT, QUOTE),
            (TENCENT, ORDER_BOOK),
            (APPLE, QUOTE),
            (ALIBABA, QUOTE),
            (APPLE, ORDER_BOOK),
        ]
    )
    assert all(len(batch.pairs) <= 2 for batch in plan.batches)
    assert plan.over_quota == []
    assert book.resubscribe().batches == []  # once
    for batch in plan.batches:
        book.subscribed(batch, 2.0)
    assert all(pair.subscribed for pair in book.snapshot(2.0).pairs)


def test_resubscribing_stays_within_a_quota_others_took_meanwhile() -> None:
    book = SubscriptionBook()
    book.report_quota(used=0, remaining=3)
    subscribe_all(book, "a", [(TENCENT, QUOTE), (APPLE, QUOTE), (ALIBABA, QUOTE)], now=0.0)
    book.connection_lost()
    book.report_quota(used=2, remaining=1)  # another connection took two units
    plan = book.resubscribe()
    assert len(sent_pairs(plan.batches)) == 1
    assert len(plan.over_quota) == 2
    book.subscribed(plan.batches[0], 1.0)
    book.report_quota(used=1, remaining=2)  # they left: the one unit in use is ours
    assert sent_pairs(book.resubscribe().batches) == set(plan.over_quota)


def test_the_snapshot_shows_pairs_streams_pending_unsubscribes_and_the_quota() -> None:
    book = SubscriptionBook()
    book.report_quota(used=0, remaining=100)
    subscribe_all(book, "quotes", [(TENCENT, QUOTE)], now=10.0)
    subscribe_all(book, "books", [(TENCENT, QUOTE), (APPLE, ORDER_BOOK)], now=20.0)
    book.release("books")
    status = book.snapshot(30.0)
    (pair,) = status.pairs
    assert (pair.security, pair.sub_type, pair.streams, pair.subscribed) == (
        "HK.00700",
        QUOTE,
        ("quotes",),
        True,
    )
    (pending,) = status.pending_unsubscribes
    assert (pending.security, pending.sub_type, pending.due_in) == ("US.AAPL", ORDER_BOOK, 50.0)
    assert (status.quota.total, status.quota.used, status.quota.remaining) == (100, 2, 98)
    assert status.quota.own == 2


@pytest.mark.parametrize(("name", "value"), [("unsubscribe_delay", -1), ("max_batch", 0)])
def test_bad_settings_are_invalid_arguments(name: str, value: object) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        SubscriptionBook(**{name: value})  # type: ignore[arg-type]


pair_lists = st.lists(
    st.tuples(st.sampled_from([TENCENT, ALIBABA, APPLE, (21, "600519")]), st.integers(1, 6)),
    max_size=30,
)


@given(pairs=pair_lists, max_pairs=st.integers(1, 10))
def test_batches_cover_exactly_the_pairs_each_once(pairs: list[Pair], max_pairs: int) -> None:
    planned = batches(7, pairs, max_pairs)
    covered = [pair for batch in planned for pair in batch.pairs]
    assert sorted(covered) == sorted(set(pairs))
    for batch in planned:
        assert batch.epoch == 7
        assert len(batch.pairs) <= max(max_pairs, len(batch.sub_types))


def test_a_quota_error_round_trips_through_pickle_and_says_what_opend_said() -> None:
    import pickle

    error = SubscriptionQuotaError(3, 1, 100)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.needed, copy.remaining, copy.total, str(copy)) == (3, 1, 100, str(error))
    refused = SubscriptionQuotaError(None, None, detail="订阅额度不足")
    assert str(refused) == (
        "OpenD refused the subscription: subscription quota exhausted: 订阅额度不足"
    )


def test_a_not_subscribed_error_names_the_codes_and_round_trips_through_pickle() -> None:
    import pickle

    from asyncquote import NotSubscribedError
    from asyncquote._opend.quotes import SubType

    error = NotSubscribedError(("HK.00700", "US.AAPL"), SubType.QUOTE)
    assert str(error).startswith("no QUOTE subscription for HK.00700, US.AAPL: subscribe first")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.codes, copy.sub_type, str(copy)) == (error.codes, SubType.QUOTE, str(error))
