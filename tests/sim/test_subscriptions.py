"""Subscriptions: per connection, one quota unit per distinct pair, the one-minute rule."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from asyncquote._base.errors import InvalidArgumentError
from asyncquote._opend.quotes import MIN_SUBSCRIPTION_SECONDS
from asyncquote.sim._subscriptions import (
    DEFAULT_SUBSCRIPTION_QUOTA,
    NotSubscribedError,
    Pair,
    QuotaExceededError,
    Subscriptions,
    UnsubscribeTooSoonError,
)

QUOTE, BOOK = 1, 2
TENCENT = (1, "00700")
APPLE = (11, "AAPL")
T_QUOTE: Pair = (TENCENT, QUOTE)
T_BOOK: Pair = (TENCENT, BOOK)
A_QUOTE: Pair = (APPLE, QUOTE)


def test_the_default_quota_is_a_thousand_and_it_can_be_set() -> None:
    assert Subscriptions().quota == DEFAULT_SUBSCRIPTION_QUOTA == 1000
    assert Subscriptions(100).remaining(0.0) == 100


@pytest.mark.parametrize("quota", [-1, 1.5, "100", True, None])
def test_a_bad_quota_is_a_typed_error(quota: object) -> None:
    with pytest.raises(InvalidArgumentError):
        Subscriptions(quota)  # type: ignore[arg-type]


def test_each_distinct_pair_costs_one_unit_across_connections() -> None:
    subs = Subscriptions(10)
    assert subs.subscribe(1, [T_QUOTE, T_BOOK, T_QUOTE], 0.0) == [T_QUOTE, T_BOOK]
    assert subs.used(0.0) == 2
    # The same pair again, on the same or another connection: free.
    assert subs.subscribe(1, [T_QUOTE], 1.0) == []
    assert subs.subscribe(2, [T_QUOTE, A_QUOTE], 1.0) == [T_QUOTE, A_QUOTE]
    assert subs.used(1.0) == 3
    assert subs.remaining(1.0) == 7
    assert subs.usage() == {1: 2, 2: 2}
    assert subs.pairs_of(1) == [T_QUOTE, T_BOOK]
    assert subs.connections() == [1, 2]


def test_a_subscription_beyond_the_quota_is_refused_whole() -> None:
    subs = Subscriptions(2)
    subs.subscribe(1, [T_QUOTE], 0.0)
    with pytest.raises(QuotaExceededError) as caught:
        subs.subscribe(2, [T_QUOTE, T_BOOK, A_QUOTE], 0.0)
    # Only the pairs nobody holds would have cost anything.
    assert caught.value.pairs == (T_BOOK, A_QUOTE)
    assert caught.value.remaining == 1
    assert caught.value.quota == 2
    assert subs.pairs_of(2) == []
    assert subs.used(0.0) == 1
    # Exactly the remaining units is fine.
    assert subs.subscribe(2, [T_QUOTE, T_BOOK], 0.0) == [T_QUOTE, T_BOOK]


def test_unsubscribing_within_a_minute_is_refused_whole() -> None:
    subs = Subscriptions()
    subs.subscribe(1, [T_QUOTE], 0.0)
    subs.subscribe(1, [T_BOOK], 30.0)
    with pytest.raises(UnsubscribeTooSoonError) as caught:
        subs.unsubscribe(1, [T_QUOTE, T_BOOK], 60.0)
    assert caught.value.pairs == (T_BOOK,)
    assert caught.value.ready_at == 30.0 + MIN_SUBSCRIPTION_SECONDS
    assert subs.pairs_of(1) == [T_QUOTE, T_BOOK]
    # Exactly one minute is enough.
    assert subs.unsubscribe(1, [T_QUOTE], MIN_SUBSCRIPTION_SECONDS) == [T_QUOTE]
    assert subs.unsubscribe(1, [T_BOOK], 90.0) == [T_BOOK]
    assert subs.used(90.0) == 0


def test_subscribing_again_does_not_restart_the_minute() -> None:
    subs = Subscriptions()
    subs.subscribe(1, [T_QUOTE], 0.0)
    subs.subscribe(1, [T_QUOTE], 50.0)
    assert subs.unsubscribe(1, [T_QUOTE], 60.0) == [T_QUOTE]


def test_unsubscribing_what_is_not_held_is_no_error() -> None:
    subs = Subscriptions()
    assert subs.unsubscribe(1, [T_QUOTE], 0.0) == []
    subs.subscribe(2, [T_QUOTE], 0.0)
    assert subs.unsubscribe(1, [T_QUOTE], 100.0) == []
    assert subs.holds(2, T_QUOTE)


def test_a_unit_comes_back_only_when_the_last_holder_lets_go() -> None:
    subs = Subscriptions(1)
    subs.subscribe(1, [T_QUOTE], 0.0)
    subs.subscribe(2, [T_QUOTE], 0.0)
    subs.unsubscribe(1, [T_QUOTE], 60.0)
    assert subs.used(60.0) == 1
    with pytest.raises(QuotaExceededError):
        subs.subscribe(1, [A_QUOTE], 60.0)
    subs.unsubscribe(2, [T_QUOTE], 60.0)
    assert subs.used(60.0) == 0
    subs.subscribe(1, [A_QUOTE], 60.0)


def test_unsubscribe_all_keeps_the_rule_and_unregisters_every_push() -> None:
    subs = Subscriptions()
    subs.subscribe(1, [T_QUOTE, A_QUOTE], 0.0)
    subs.register(1, [T_QUOTE, A_QUOTE], True)
    with pytest.raises(UnsubscribeTooSoonError):
        subs.unsubscribe_all(1, 59.0)
    assert subs.registered(1) == {T_QUOTE, A_QUOTE}
    assert subs.unsubscribe_all(1, 61.0) == [T_QUOTE, A_QUOTE]
    assert subs.registered(1) == frozenset()
    assert list(subs.pushed_to(T_QUOTE)) == []
    assert subs.used(61.0) == 0


def test_pushes_go_to_the_connections_registered_for_the_pair() -> None:
    subs = Subscriptions()
    subs.subscribe(1, [T_QUOTE, T_BOOK], 0.0)
    subs.subscribe(2, [T_QUOTE], 0.0)
    subs.subscribe(3, [T_QUOTE], 0.0)
    subs.register(2, [T_QUOTE], True)
    subs.register(1, [T_QUOTE, T_BOOK], True)
    assert list(subs.pushed_to(T_QUOTE)) == [2, 1]
    assert list(subs.pushed_to(T_BOOK)) == [1]
    assert list(subs.pushed_to(A_QUOTE)) == []
    subs.register(1, [T_QUOTE, A_QUOTE], False)
    assert list(subs.pushed_to(T_QUOTE)) == [2]
    # Unsubscribing a pair unregisters it.
    subs.unsubscribe(1, [T_BOOK], 60.0)
    assert list(subs.pushed_to(T_BOOK)) == []
    assert subs.registered(1) == frozenset()


def test_registering_a_pair_not_subscribed_is_refused_whole() -> None:
    subs = Subscriptions()
    subs.subscribe(1, [T_QUOTE], 0.0)
    subs.subscribe(2, [T_BOOK], 0.0)
    with pytest.raises(NotSubscribedError) as caught:
        subs.register(1, [T_QUOTE, T_BOOK], True)
    assert caught.value.pairs == (T_BOOK,)
    assert subs.registered(1) == frozenset()
    assert list(subs.pushed_to(T_QUOTE)) == []


def test_a_closed_connection_takes_its_subscriptions_and_pushes_with_it() -> None:
    subs = Subscriptions()
    subs.subscribe(1, [T_QUOTE], 0.0)
    subs.register(1, [T_QUOTE], True)
    subs.drop_connection(1, 100.0)
    assert subs.pairs_of(1) == []
    assert subs.registered(1) == frozenset()
    assert list(subs.pushed_to(T_QUOTE)) == []
    assert subs.used(100.0) == 0
    assert subs.connections() == []


def test_a_pair_dropped_within_its_minute_lingers_until_the_minute_is_up() -> None:
    subs = Subscriptions(2)
    subs.subscribe(1, [T_QUOTE, A_QUOTE], 10.0)
    subs.drop_connection(1, 20.0)
    assert subs.used(20.0) == 2
    assert subs.pairs_of(1) == []
    with pytest.raises(QuotaExceededError):
        subs.subscribe(2, [T_BOOK], 30.0)
    # A lingering pair subscribed again costs nothing.
    assert subs.subscribe(2, [T_QUOTE], 30.0) == [T_QUOTE]
    assert subs.used(30.0) == 2
    assert subs.used(69.9) == 2
    assert subs.used(70.0) == 1
    subs.subscribe(2, [T_BOOK], 70.0)


def test_a_young_pair_lingers_even_while_another_connection_holds_it() -> None:
    subs = Subscriptions()
    subs.subscribe(2, [T_QUOTE], -100.0)
    subs.subscribe(1, [T_QUOTE], 0.0)
    subs.drop_connection(1, 10.0)
    subs.drop_connection(2, 10.0)
    assert subs.used(10.0) == 1
    assert subs.used(60.0) == 0


def test_a_pair_lingers_until_the_last_minute_of_its_holders_is_up() -> None:
    subs = Subscriptions()
    subs.subscribe(1, [T_QUOTE], 0.0)
    subs.subscribe(2, [T_QUOTE], 30.0)
    subs.drop_connection(2, 40.0)
    subs.drop_connection(1, 50.0)
    assert subs.used(89.0) == 1
    assert subs.used(90.0) == 0


# --- invariants over any sequence of requests ------------------------------------

PAIRS = [((market, code), sub_type) for market, code in (TENCENT, APPLE) for sub_type in (1, 2, 4)]
CONNECTIONS = [1, 2, 3]
pair_lists = st.lists(st.sampled_from(PAIRS), max_size=4)


class SubscriptionMachine(RuleBasedStateMachine):
    """A model of OpenD's rules beside the real thing, on a fake clock."""

    def __init__(self) -> None:
        super().__init__()
        self.quota = 4
        self.subs = Subscriptions(self.quota)
        self.now = 0.0
        self.open = set(CONNECTIONS)
        # The model: per connection, pair -> first subscribed; lingering pair -> until.
        self.held: dict[int, dict[Pair, float]] = {conn: {} for conn in CONNECTIONS}
        self.lingering: dict[Pair, float] = {}
        self.pushed: dict[int, set[Pair]] = {conn: set() for conn in CONNECTIONS}
        self.next_conn = max(CONNECTIONS) + 1

    def model_used(self) -> int:
        held = {pair for pairs in self.held.values() for pair in pairs}
        lingering = {pair for pair, until in self.lingering.items() if until > self.now}
        return len(held | lingering)

    @rule(seconds=st.sampled_from([0.0, 1.0, 30.0, 59.9, 60.0, 61.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @rule(data=st.data(), pairs=pair_lists)
    def subscribe(self, data: st.DataObject, pairs: list[Pair]) -> None:
        conn = data.draw(st.sampled_from(sorted(self.open)))
        before = self.subs.used(self.now)
        try:
            fresh = self.subs.subscribe(conn, pairs, self.now)
        except QuotaExceededError as exc:
            refused: QuotaExceededError | None = exc
        else:
            refused = None
        if refused is not None:
            assert before + len(refused.pairs) > self.quota
            assert self.subs.used(self.now) == before
            return
        assert fresh == [p for p in dict.fromkeys(pairs) if p not in self.held[conn]]
        for pair in fresh:
            self.held[conn][pair] = self.now

    def some_pairs(self, data: st.DataObject, conn: int) -> list[Pair]:
        """Mostly pairs ``conn`` holds, so that requests often succeed; sometimes any."""
        held = sorted(self.held[conn])
        if held and data.draw(st.integers(0, 3)):
            return data.draw(st.lists(st.sampled_from(held), max_size=4))
        return data.draw(pair_lists)

    @rule(data=st.data())
    def unsubscribe(self, data: st.DataObject) -> None:
        conn = data.draw(st.sampled_from(sorted(self.open)))
        pairs = self.some_pairs(data, conn)
        held = self.held[conn]
        young = [p for p in dict.fromkeys(pairs) if p in held and self.now - held[p] < 60.0]
        try:
            gone = self.subs.unsubscribe(conn, pairs, self.now)
        except UnsubscribeTooSoonError as exc:
            gone, refused = [], list(exc.pairs)
        else:
            refused = []
        assert refused == young
        for pair in gone:
            del held[pair]
            self.pushed[conn].discard(pair)

    @rule(data=st.data(), push=st.sampled_from([True, True, False]))
    def register(self, data: st.DataObject, push: bool) -> None:
        conn = data.draw(st.sampled_from(sorted(self.open)))
        pairs = self.some_pairs(data, conn)
        missing = set(pairs) - set(self.held[conn]) if push else set()
        try:
            self.subs.register(conn, pairs, push)
        except NotSubscribedError as exc:
            refused = set(exc.pairs)
        else:
            refused = set()
        assert refused == missing
        if refused:
            return
        if push:
            self.pushed[conn].update(pairs)
        else:
            self.pushed[conn].difference_update(pairs)

    @rule(data=st.data())
    def reconnect(self, data: st.DataObject) -> None:
        """One connection closes and another opens (with a new id)."""
        conn = data.draw(st.sampled_from(sorted(self.open)))
        self.subs.drop_connection(conn, self.now)
        for pair, since in self.held.pop(conn).items():
            if since + 60.0 > self.now:
                self.lingering[pair] = max(self.lingering.get(pair, 0.0), since + 60.0)
        del self.pushed[conn]
        self.open.discard(conn)
        new, self.next_conn = self.next_conn, self.next_conn + 1
        self.open.add(new)
        self.held[new] = {}
        self.pushed[new] = set()

    @invariant()
    def used_is_the_distinct_pairs_held_or_lingering(self) -> None:
        used = self.subs.used(self.now)
        assert used == self.model_used()
        assert 0 <= used <= self.quota
        assert self.subs.remaining(self.now) == self.quota - used

    @invariant()
    def each_connection_uses_its_own_pairs(self) -> None:
        for conn in self.open:
            assert self.subs.pairs_of(conn) == list(self.held[conn])
        assert self.subs.usage() == {conn: len(p) for conn, p in self.held.items() if p}

    @invariant()
    def pushes_go_to_the_registered_holders(self) -> None:
        for pair in PAIRS:
            expected = {conn for conn in self.open if pair in self.pushed[conn]}
            assert set(self.subs.pushed_to(pair)) == expected
            assert all(pair in self.held[conn] for conn in expected)


SubscriptionMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=30)
test_subscription_rules = SubscriptionMachine.TestCase
