"""The options of Qot_Sub requests: streams' wants joined per pair, batches per option set."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from asyncquote._opend.quotes import AuType, Session, UsTradingPart, session_parts, wire_session
from asyncquote._quotes.batches import (
    DEFAULT_WANT,
    SubOptions,
    Want,
    batches,
    covers,
    merged,
    pair_options,
)
from asyncquote._quotes.book import SubscriptionBook

AAPL = (11, "AAPL")
TENCENT = (1, "00700")
QUOTE, TICKER, K_1M = 1, 4, 11
EXTENDED = Want.of(extended_time=True, session=Session.NONE, au_type=AuType.QFQ)
HFQ = Want.of(extended_time=False, session=Session.NONE, au_type=AuType.HFQ)
OVERNIGHT = Want.of(extended_time=False, session=Session.OVERNIGHT, au_type=AuType.QFQ)


def test_a_plain_stream_asks_nothing_beyond_opends_defaults() -> None:
    (batch,) = batches(
        0, [(AAPL, K_1M)], options={(AAPL, K_1M): pair_options([DEFAULT_WANT], K_1M)}
    )
    assert batch.options == SubOptions()  # no extendedTime, session or rehab list: the SDK's


def test_the_union_of_wants_covers_every_part_and_adjustment() -> None:
    parts, rehab = pair_options([DEFAULT_WANT, EXTENDED, HFQ, OVERNIGHT], K_1M)
    assert parts == frozenset(UsTradingPart)
    assert rehab == (AuType.QFQ, AuType.HFQ)
    # Adjustments mean nothing but to K-lines.
    assert pair_options([HFQ], TICKER)[1] == ()
    assert covers((parts, rehab), pair_options([EXTENDED], K_1M))
    assert not covers(pair_options([EXTENDED], K_1M), (parts, rehab))


def test_pairs_with_different_sessions_go_in_different_requests() -> None:
    options = {
        (AAPL, TICKER): pair_options([EXTENDED], TICKER),
        (AAPL, K_1M): pair_options([HFQ], K_1M),
        (TENCENT, QUOTE): pair_options([DEFAULT_WANT], QUOTE),
    }
    by_options: dict[SubOptions, set[object]] = {}
    for batch in batches(0, options, options=options):
        by_options.setdefault(batch.options, set()).update(batch.pairs)
    assert by_options == {
        SubOptions(extended_time=True): {(AAPL, TICKER)},
        SubOptions(rehab_types=(AuType.HFQ,)): {(AAPL, K_1M), (TENCENT, QUOTE)},
    }
    (overnight,) = batches(
        0, [(AAPL, TICKER)], options={(AAPL, TICKER): pair_options([OVERNIGHT], TICKER)}
    )
    assert overnight.options == SubOptions(session=Session.OVERNIGHT)
    both = pair_options([OVERNIGHT, DEFAULT_WANT], TICKER)
    (every,) = batches(0, [(AAPL, TICKER)], options={(AAPL, TICKER): both})
    assert every.options == SubOptions(extended_time=True, session=Session.ALL)


def test_requests_planned_one_by_one_are_merged_each_pair_with_its_own_options() -> None:
    # A followed group's members, each planned on its own, then sent together.
    book = SubscriptionBook(max_batch=4)
    planned = [
        *book.acquire("AAPL", [(AAPL, TICKER), (AAPL, K_1M)], EXTENDED),
        *book.acquire("TSLA", [((11, "TSLA"), TICKER), ((11, "TSLA"), K_1M)], EXTENDED),
        *book.acquire("00700", [(TENCENT, TICKER), (TENCENT, K_1M)], HFQ),
    ]
    requests = merged(book.epoch, planned, book.max_batch)
    assert [(b.securities, b.sub_types, b.options) for b in requests] == [
        ((AAPL, (11, "TSLA")), (TICKER, K_1M), SubOptions(extended_time=True)),
        ((TENCENT,), (TICKER, K_1M), SubOptions(rehab_types=(AuType.HFQ,))),
    ]
    assert merged(0, [], 4) == []


def test_a_wider_second_stream_subscribes_the_pair_again_and_a_narrower_one_does_not() -> None:
    book = SubscriptionBook()
    (first,) = book.acquire("plain", [(AAPL, TICKER)])
    book.subscribed(first, 0.0)
    (wider,) = book.acquire("pre-market", [(AAPL, TICKER)], EXTENDED)
    assert wider.options == SubOptions(extended_time=True)
    assert book.own == 1  # the same quota unit
    book.subscribed(wider, 1.0)
    assert book.acquire("another plain", [(AAPL, TICKER)]) == []
    assert dict(book.wants((AAPL, TICKER))) == {
        "plain": DEFAULT_WANT,
        "pre-market": EXTENDED,
        "another plain": DEFAULT_WANT,
    }
    # Leaving narrows nothing on this connection; a reconnect subscribes the union left.
    book.release("pre-market")
    assert book.take_due(100.0) == []
    book.connection_lost()
    (again,) = book.resubscribe().batches
    assert again.options == SubOptions()


def test_a_reconnect_subscribes_again_with_the_streams_options() -> None:
    book = SubscriptionBook()
    for batch in book.acquire("hfq", [(AAPL, K_1M)], HFQ) + book.acquire(
        "ext", [(AAPL, K_1M)], EXTENDED
    ):
        book.subscribed(batch, 0.0)
    book.connection_lost()
    (again,) = book.resubscribe().batches
    assert again.options == SubOptions(extended_time=True, rehab_types=(AuType.QFQ, AuType.HFQ))


def test_a_refused_upgrade_is_asked_again_by_the_next_stream() -> None:
    book = SubscriptionBook()
    (first,) = book.acquire("plain", [(AAPL, TICKER)])
    book.subscribed(first, 0.0)
    (wider,) = book.acquire("pre-market", [(AAPL, TICKER)], EXTENDED)
    book.refused(wider)
    book.release("pre-market")
    (retry,) = book.acquire("pre-market again", [(AAPL, TICKER)], EXTENDED)
    assert retry.options.extended_time


@given(parts=st.frozensets(st.sampled_from(list(UsTradingPart))))
def test_the_request_for_any_parts_of_the_day_covers_them(
    parts: frozenset[UsTradingPart],
) -> None:
    extended, session = wire_session(parts)
    assert parts <= session_parts(session, extended)
    # and is the narrowest: no Session covering them is smaller
    sizes = [len(session_parts(s, False)) for s in Session if parts <= session_parts(s, False)]
    assert len(session_parts(session, extended)) == min(sizes)
