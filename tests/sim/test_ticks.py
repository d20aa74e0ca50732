"""Tick ladders: HKEX's spread table, one cent elsewhere, exact in thousandths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote._opend.vocabulary import Market
from asyncquote.sim._ticks import (
    CENT_LADDER,
    HK_LADDER,
    format_price,
    from_thousandths,
    ladder_for,
    to_thousandths,
)

# (price, tick down from it, tick up from it), in thousandths, from the HKEX
# spread table: a boundary belongs to the band below it.
HK_STEPS = [
    (10, 1, 1),  # 0.01, the minimum
    (250, 1, 5),  # 0.25
    (255, 5, 5),
    (500, 5, 10),  # 0.50
    (10_000, 10, 20),  # 10.00
    (10_020, 20, 20),
    (20_000, 20, 50),
    (100_000, 50, 100),
    (200_000, 100, 200),
    (400_200, 200, 200),
    (500_000, 200, 500),
    (1_000_000, 500, 1_000),
    (2_000_000, 1_000, 2_000),
    (5_000_000, 2_000, 5_000),
    (9_995_000, 5_000, 5_000),
    (25_000_000, 5_000, 5_000),  # beyond the table: 5.00 goes on
]


@pytest.mark.parametrize(("price", "down", "up"), HK_STEPS)
def test_hk_ticks_follow_the_spread_table(price: int, down: int, up: int) -> None:
    assert HK_LADDER.is_valid(price)
    assert HK_LADDER.tick_at(price) == down
    assert HK_LADDER.tick_above(price) == up
    assert HK_LADDER.up(price) == price + up
    if price > HK_LADDER.minimum:
        assert HK_LADDER.down(price) == price - down


@pytest.mark.parametrize("price", [9, 251, 10_010, 400_100, 5_001_000, 1])
def test_prices_off_the_hk_ladder_are_invalid(price: int) -> None:
    assert not HK_LADDER.is_valid(price)


def test_nothing_is_below_the_minimum() -> None:
    assert HK_LADDER.down(HK_LADDER.minimum) is None
    assert HK_LADDER.neighbours(5) == (None, 10)
    assert HK_LADDER.snap(1) == 10


def test_the_cent_ladder_serves_us_and_china_and_the_rest() -> None:
    for market in (Market.US, Market.SH, Market.SZ, Market.SG):
        assert ladder_for(market) is CENT_LADDER
    assert ladder_for(Market.HK) is HK_LADDER
    assert ladder_for(Market.HK_FUTURE) is HK_LADDER
    assert CENT_LADDER.up(199_990) == 200_000
    assert not CENT_LADDER.is_valid(199_995)


def test_floats_become_exact_thousandths() -> None:
    assert to_thousandths(0.1 + 0.2) == 300
    assert to_thousandths(400.2) == 400_200
    assert to_thousandths(400.0004) is None
    assert from_thousandths(400_200) == 400.2
    assert format_price(400_200) == "400.2"
    assert format_price(20_000_000) == "20000"
    assert format_price(1) == "0.001"


ladders = st.sampled_from([HK_LADDER, CENT_LADDER])
prices = st.integers(min_value=1, max_value=20_000_000)


@given(ladders, prices)
def test_snapping_lands_on_the_ladder_at_the_nearest_price(ladder: object, price: int) -> None:
    assert ladder is HK_LADDER or ladder is CENT_LADDER
    snapped = ladder.snap(price)
    assert ladder.is_valid(snapped)
    below, above = ladder.neighbours(price)
    assert below is None or below <= price < above
    assert snapped in (below, above)
    if ladder.is_valid(price):
        assert snapped == price


@given(ladders, prices)
def test_up_and_down_are_inverse_and_leave_no_gap(ladder: object, price: int) -> None:
    assert ladder is HK_LADDER or ladder is CENT_LADDER
    valid = ladder.snap(price)
    above = ladder.up(valid)
    assert ladder.is_valid(above)
    assert ladder.down(above) == valid
    # Nothing valid lies strictly between two neighbours.
    assert all(not ladder.is_valid(p) for p in range(valid + 1, min(above, valid + 50)))
