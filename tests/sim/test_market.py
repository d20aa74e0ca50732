"""The simulator's market: deterministic prices on the tick ladder, books around them."""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote._base.errors import InvalidArgumentError
from asyncquote.sim._market import (
    BOOK_DEPTH,
    MAX_CATCH_UP,
    Exchange,
    Listing,
    MarketBook,
    MarketQuote,
    NotListedError,
    PriceError,
)
from asyncquote.sim._ticks import TickLadder, ladder_for, to_thousandths

TENCENT = (1, "00700")
APPLE = (11, "AAPL")
HSI = (1, "800000")
LISTINGS = [
    Listing(TENCENT, "Tencent", 3, 100, "2004-06-16"),
    Listing(APPLE, "Apple", 3, 1, "1980-12-12"),
    Listing(HSI, "HSI", 6, 0, "1969-11-24"),
    Listing((21, "600519"), "Moutai", 3, 100, "2001-08-27"),
]
START = 1_700_000_000.0


def market(seed: int = 7, rate: float = 10.0) -> Exchange:
    return Exchange(LISTINGS, seed=seed, rate=rate, start=START)


def state(m: Exchange) -> list[tuple[MarketQuote, MarketBook]]:
    return [(m.quote(key), m.order_book(key)) for key in m.keys]


def on_ladder(key: tuple[int, str], price: float) -> bool:
    thousandths = to_thousandths(price)
    return thousandths is not None and ladder_for(key[0]).is_valid(thousandths)


def check_quote(quote: MarketQuote) -> None:
    for price in (quote.cur_price, quote.open_price, quote.high_price, quote.low_price):
        assert on_ladder(quote.key, price)
    assert quote.low_price <= quote.cur_price <= quote.high_price
    assert quote.low_price <= quote.open_price <= quote.high_price
    assert quote.price_spread > 0


def iter_down(ladder: TickLadder, price: int) -> Iterator[int]:
    lower = ladder.down(price)
    while lower is not None:
        yield lower
        lower = ladder.down(lower)


def check_book(m: Exchange, key: tuple[int, str]) -> None:
    quote, book = m.quote(key), m.order_book(key)
    ladder = ladder_for(key[0])
    price = to_thousandths(quote.cur_price)
    assert price is not None
    assert len(book.asks) == BOOK_DEPTH
    # Ten bids, or as many valid prices as there are below the price.
    below = sum(1 for _ in zip(range(BOOK_DEPTH), iter_down(ladder, price), strict=False))
    assert len(book.bids) == below
    # One tick apart, outward from the price: bids below, asks above.
    for side, step in ((book.bids, ladder.down), (book.asks, ladder.up)):
        level_price: int | None = price
        for level in side:
            level_price = step(level_price) if level_price is not None else None
            assert level_price is not None
            assert to_thousandths(level.price) == level_price
            lot = max(next(item.lot_size for item in LISTINGS if item.key == key), 1)
            assert level.volume % lot == 0
            assert 1 <= level.order_count <= level.volume // lot


def test_the_same_seed_makes_the_same_market_and_another_seed_another() -> None:
    first, second, other = market(), market(), market(seed=8)
    for m in (first, second, other):
        m.step(START + 30)
    assert state(first) == state(second)
    assert [q for q, _ in state(first)] != [q for q, _ in state(other)]


def test_a_step_moves_every_security_once_the_next_tick_is_due() -> None:
    m = market(rate=2.0)
    assert m.next_step_at == START + 0.5
    assert m.step(START + 0.4) == []
    quotes = m.step(START + 0.5)
    assert [quote.key for quote in quotes] == list(m.keys)
    assert all(quote.update_time == START + 0.5 and quote.moves == 1 for quote in quotes)
    assert m.step(START + 0.9) == []
    # Late steps catch up: the quote carries the last tick's time.
    quotes = m.step(START + 3.2)
    assert all(quote.update_time == START + 3.0 and quote.moves == 6 for quote in quotes)
    assert m.next_step_at == START + 3.5


def test_volume_and_turnover_accumulate_in_whole_lots() -> None:
    m = market()
    before = m.quote(TENCENT)
    assert before.volume == 0
    assert before.turnover == 0
    m.step(START + 60)
    after = m.quote(TENCENT)
    assert after.volume > 0
    assert after.volume % 100 == 0
    assert after.turnover > 0
    # The turnover is a sum of volumes times prices within the day's range.
    assert after.low_price * after.volume <= after.turnover <= after.high_price * after.volume


def test_a_long_pause_plays_only_the_last_ticks() -> None:
    m = market(rate=10.0)
    quotes = m.step(START + 86_400)
    assert all(quote.moves == MAX_CATCH_UP for quote in quotes)
    assert quotes[0].update_time == START + 86_400
    assert [q.moves for q in m.step(START + 86_400.1)] == [MAX_CATCH_UP + 1] * len(LISTINGS)


def test_rate_zero_moves_only_on_control() -> None:
    m = market(rate=0)
    assert m.next_step_at == math.inf
    assert m.step(START + 1e6) == []
    assert m.set_price(APPLE, 123.45, START + 5).cur_price == 123.45


def test_set_price_trades_a_lot_at_once_and_widens_the_range() -> None:
    m = market()
    opening = m.quote(TENCENT)
    quote = m.set_price(TENCENT, 400.2, START + 1.5)
    assert quote.cur_price == 400.2
    assert quote.high_price == 400.2
    assert quote.low_price == opening.low_price
    assert quote.open_price == opening.open_price
    assert quote.volume == 100
    assert quote.turnover == pytest.approx(40_020.0)
    assert quote.update_time == START + 1.5
    assert quote.price_spread == 0.2
    assert m.quote(TENCENT) == quote
    # The walk goes on from the new price.
    m.step(START + 2)
    assert abs(m.quote(TENCENT).cur_price - 400.2) <= 0.2 * 20 + 1e-9


@pytest.mark.parametrize(
    ("price", "nearest"),
    [(400.1, (400.0, 400.2)), (10.01, (10.0, 10.02)), (0.0005, (None, 0.01)), (400.0004, None)],
)
def test_a_price_off_the_ladder_is_refused_naming_its_neighbours(
    price: float, nearest: tuple[float | None, float] | None
) -> None:
    m = market()
    before = m.quote(TENCENT)
    with pytest.raises(PriceError, match=r"HK\.00700") as caught:
        m.set_price(TENCENT, price, START)
    if nearest is not None:
        assert caught.value.nearest == nearest
    assert caught.value.price == price
    assert m.quote(TENCENT) == before


@pytest.mark.parametrize("price", [0, -1.0, math.nan, math.inf, 1e9, True, "400", None])
def test_a_price_that_is_not_a_positive_number_is_a_typed_error(price: object) -> None:
    with pytest.raises(PriceError) as caught:
        market().set_price(APPLE, price, START)  # type: ignore[arg-type]
    assert isinstance(caught.value, InvalidArgumentError)
    assert caught.value.nearest is None


def test_an_unlisted_security_is_a_typed_error() -> None:
    m = market()
    with pytest.raises(NotListedError, match=r"HK\.99999") as caught:
        m.set_price((1, "99999"), 1.0, START)
    assert caught.value.key == (1, "99999")
    with pytest.raises(NotListedError):
        m.quote((11, "NOPE"))
    assert (1, "99999") not in m
    assert TENCENT in m


def test_the_errors_keep_their_details_through_pickle() -> None:
    with pytest.raises(PriceError) as price:
        market().set_price(TENCENT, 400.1, START)
    with pytest.raises(NotListedError) as unlisted:
        market().quote((1, "99999"))
    price_copy = pickle.loads(pickle.dumps(price.value))
    unlisted_copy = pickle.loads(pickle.dumps(unlisted.value))
    assert (price_copy.price, price_copy.nearest) == (400.1, (400.0, 400.2))
    assert str(price_copy) == str(price.value)
    assert unlisted_copy.key == (1, "99999")


@pytest.mark.parametrize("rate", [-1, math.inf, math.nan, "10", True])
def test_a_bad_rate_is_a_typed_error(rate: object) -> None:
    with pytest.raises(InvalidArgumentError, match="rate"):
        Exchange(LISTINGS, rate=rate)  # type: ignore[arg-type]


def test_a_security_listed_later_opens_in_its_seeded_state() -> None:
    m, other = market(), market()
    listing = Listing((1, "09988"), "Alibaba", 3, 100, "2019-11-26")
    m.step(START + 5)
    assert m.add(listing, START + 5.05)
    assert not m.add(listing, START + 6)
    other.add(listing, START)
    opening = m.quote(listing.key)
    assert opening.moves == 0
    assert opening.update_time == START + 5.05
    assert opening.cur_price == other.quote(listing.key).cur_price
    assert [q.key for q in m.step(START + 5.1)][-1] == listing.key
    assert m.quote(listing.key).moves == 1


def test_a_security_listed_twice_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="listed twice"):
        Exchange([*LISTINGS, LISTINGS[0]])


def test_the_book_has_ten_levels_each_side_one_tick_apart() -> None:
    m = market()
    m.step(START + 10)
    for key in m.keys:
        check_book(m, key)
    # Shared until the next move, then made afresh.
    book = m.order_book(TENCENT)
    assert m.order_book(TENCENT) is book
    m.set_price(TENCENT, 400.2, START + 11)
    assert m.order_book(TENCENT) is not book
    assert m.order_book(TENCENT).bids[0].price == 400.0
    assert m.order_book(TENCENT).asks[0].price == 400.4


def test_the_book_has_fewer_bids_near_the_ladders_minimum() -> None:
    m = market(rate=0)
    m.set_price(TENCENT, 0.012, START)
    assert [level.price for level in m.order_book(TENCENT).bids] == [0.011, 0.01]
    check_book(m, TENCENT)


# --- invariants over any sequence of steps and moves ---------------------------

prices = st.floats(min_value=0.01, max_value=9_000.0).map(lambda p: round(p, 2))
actions = st.lists(
    st.one_of(
        st.tuples(st.just("step"), st.floats(min_value=0, max_value=30)),
        st.tuples(st.just("set"), st.tuples(st.sampled_from([TENCENT, APPLE]), prices)),
    ),
    max_size=20,
)


@given(actions, st.integers(min_value=0, max_value=2**32))
def test_prices_stay_on_the_ladder_and_totals_never_fall(
    script: list[tuple[str, object]], seed: int
) -> None:
    m = market(seed=seed)
    now = START
    last = {key: m.quote(key) for key in m.keys}
    for action, argument in script:
        if action == "step":
            assert isinstance(argument, float)
            now += argument
            m.step(now)
        else:
            assert isinstance(argument, tuple)
            key, price = argument
            ladder = ladder_for(key[0])
            thousandths = ladder.snap(round(price * 1000))
            m.set_price(key, thousandths / 1000, now)
        for key in m.keys:
            quote = m.quote(key)
            check_quote(quote)
            check_book(m, key)
            assert quote.volume >= last[key].volume
            assert quote.turnover >= last[key].turnover
            assert quote.moves >= last[key].moves
            last[key] = quote


@given(st.lists(st.floats(min_value=0, max_value=5), max_size=10), st.integers(0, 1000))
def test_how_steps_are_grouped_does_not_change_where_they_lead(
    pauses: list[float], seed: int
) -> None:
    stepped, jumped = market(seed=seed), market(seed=seed)
    now = START
    for pause in pauses:
        now += pause
        stepped.step(now)
    jumped.step(now)
    assert state(stepped) == state(jumped)
