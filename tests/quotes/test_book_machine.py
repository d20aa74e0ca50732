"""The subscription book against a fake OpenD, driven by Hypothesis.

The fake OpenD applies requests in the order they were sent (one
connection), enforces the account's quota and the one-minute rule, and
forgets everything when the connection is lost. The machine checks after
every step that the book never exceeds the quota, never unsubscribes within
the minute, counts references right, and agrees with OpenD about what is
subscribed whenever no request is on its way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from asyncquote import SubscriptionQuotaError
from asyncquote._quotes.book import Batch, Pair, SubscriptionBook

SECURITIES = [(1, "00700"), (1, "09988"), (11, "AAPL"), (21, "600519")]
SUB_TYPES = [1, 2]
PAIRS: list[Pair] = [(security, sub_type) for security in SECURITIES for sub_type in SUB_TYPES]
DELAY = 60.0


@dataclass
class Request:
    kind: str  # "sub" or "unsub"
    batch: Batch
    stream: int | None = None  # the stream whose registration sent it


@dataclass
class FakeOpenD:
    quota: int
    held: dict[Pair, float] = field(default_factory=dict)  # pair -> latest subscribe

    def subscribe(self, pairs: list[Pair], now: float) -> None:
        assert len(set(self.held) | set(pairs)) <= self.quota, "OpenD's quota exceeded"
        for pair in pairs:
            self.held[pair] = max(self.held.get(pair, now), now)

    def unsubscribe(self, pairs: list[Pair], now: float) -> None:
        for pair in pairs:
            if pair in self.held:
                assert now >= self.held[pair] + DELAY, "unsubscribed within the minute"
                del self.held[pair]


class BookMachine(RuleBasedStateMachine):
    @initialize(quota=st.integers(min_value=2, max_value=len(PAIRS)), max_batch=st.integers(1, 5))
    def start(self, quota: int, max_batch: int) -> None:
        self.now = 0.0
        self.book = SubscriptionBook(unsubscribe_delay=DELAY, max_batch=max_batch)
        self.book.report_quota(used=0, remaining=quota)
        self.opend = FakeOpenD(quota)
        self.streams: dict[int, set[Pair]] = {}
        self.next_stream = 0
        self.in_flight: list[Request] = []

    # -- what users do ------------------------------------------------------

    @rule(pairs=st.lists(st.sampled_from(PAIRS), min_size=1, max_size=5), data=st.data())
    def register(self, pairs: list[Pair], data: st.DataObject) -> None:
        reuse = self.streams and data.draw(st.booleans(), label="add to an open stream")
        stream = data.draw(st.sampled_from(sorted(self.streams))) if reuse else self.next_stream
        if stream == self.next_stream:
            self.next_stream += 1
        needed = len(set(pairs) - self.held_by_book())
        try:
            sent = self.book.acquire(stream, pairs)
        except SubscriptionQuotaError as error:
            refused: SubscriptionQuotaError | None = error
        else:
            refused = None
        if refused is not None:
            assert refused.needed == needed
            assert self.book.own + needed > self.opend.quota
            return
        assert self.book.own <= self.opend.quota
        self.streams.setdefault(stream, set()).update(pairs)
        self.in_flight += [Request("sub", batch, stream) for batch in sent]

    @precondition(lambda self: self.streams)
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        stream = data.draw(st.sampled_from(sorted(self.streams)))
        self.book.release(stream)
        del self.streams[stream]

    @rule(seconds=st.sampled_from([0.5, 10.0, 30.0, 59.0, 61.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def unsubscribe_what_is_due(self) -> None:
        due = self.book.next_due()
        sent = self.book.take_due(self.now)
        assert bool(sent) == (due is not None and due <= self.now)
        self.in_flight += [Request("unsub", batch) for batch in sent]

    # -- what OpenD answers ---------------------------------------------------

    @precondition(lambda self: self.in_flight)
    @rule(outcome=st.sampled_from(["ok", "refused", "unknown"]))
    def answer(self, outcome: str) -> None:
        request = self.in_flight.pop(0)
        batch = request.batch
        if request.kind == "sub":
            if outcome == "refused":
                self.book.refused(batch)
                if request.stream in self.streams:  # the client gives the stream up
                    self.book.release(request.stream)
                    del self.streams[request.stream]
                return
            self.opend.subscribe(batch.pairs, self.now)
            self.book.subscribed(batch, self.now)  # "unknown" counts as subscribed
            return
        if outcome == "ok":
            self.opend.unsubscribe(batch.pairs, self.now)
            self.in_flight += [Request("sub", again) for again in self.book.unsubscribed(batch)]
        else:  # refused: OpenD still holds the pairs
            again, abandoned = self.book.unsubscribe_failed(batch, self.now)
            self.in_flight += [Request("sub", b) for b in again]
            for pair in abandoned:  # given up on: OpenD keeps it until the connection ends
                self.opend.held.pop(pair, None)  # (the fake frees it to keep the books equal)

    @rule()
    def reconnect(self) -> None:
        self.in_flight.clear()
        self.opend.held.clear()
        self.book.connection_lost()
        plan = self.book.resubscribe()
        assert plan.over_quota == []  # nobody else uses the quota here
        resent = {pair for batch in plan.batches for pair in batch.pairs}
        assert resent == set().union(*self.streams.values())
        assert all(
            len(batch.pairs) <= max(self.book.max_batch, len(batch.sub_types))
            for batch in plan.batches
        )
        self.in_flight += [Request("sub", batch) for batch in plan.batches]

    # -- invariants -------------------------------------------------------------

    def held_by_book(self) -> set[Pair]:
        status = self.book.snapshot(self.now)
        return {self.pair_of(p.security, p.sub_type) for p in status.pairs} | {
            self.pair_of(p.security, p.sub_type) for p in status.pending_unsubscribes
        }

    @staticmethod
    def pair_of(code: str, sub_type: int) -> Pair:
        prefix, _, symbol = code.partition(".")
        market = {"HK": 1, "US": 11, "SH": 21}[prefix]
        return ((market, symbol), sub_type)

    @invariant()
    def quota_never_exceeded(self) -> None:
        assert len(self.opend.held) <= self.opend.quota
        assert self.book.own <= self.opend.quota
        assert self.book.remaining() == self.opend.quota - self.book.own

    @invariant()
    def references_are_counted(self) -> None:
        for pair in PAIRS:
            wanting = {stream for stream, pairs in self.streams.items() if pair in pairs}
            # The receive path's one lookup: None exactly when untracked.
            routes = self.book.routes(pair)
            assert (routes is None) == (not self.book.tracked(pair))
            assert set(routes or ()) == wanting
        for stream, pairs in self.streams.items():
            assert set(self.book.pairs_of(stream)) == pairs

    @invariant()
    def book_and_opend_agree_when_nothing_is_in_flight(self) -> None:
        if self.in_flight:
            return
        status = self.book.snapshot(self.now)
        live = {self.pair_of(p.security, p.sub_type) for p in status.pairs if p.subscribed}
        pending = {self.pair_of(p.security, p.sub_type) for p in status.pending_unsubscribes}
        assert set(self.opend.held) == live | pending
        wanted = set().union(*self.streams.values())
        assert wanted == {self.pair_of(p.security, p.sub_type) for p in status.pairs}
        assert all(p.due_in is not None for p in status.pending_unsubscribes)

    @invariant()
    def nothing_due_is_left_waiting_for_a_stream(self) -> None:
        due = self.book.next_due()
        if due is not None:
            assert due >= 0


TestBookMachine = BookMachine.TestCase
TestBookMachine.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)


def test_the_machine_can_fail() -> None:
    """The fake OpenD's rule bites: an early unsubscribe is caught."""
    opend = FakeOpenD(quota=2)
    opend.subscribe([PAIRS[0]], 0.0)
    with pytest.raises(AssertionError, match="within the minute"):
        opend.unsubscribe([PAIRS[0]], 59.0)
