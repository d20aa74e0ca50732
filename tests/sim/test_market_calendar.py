"""The market's calendar: bars and trading days on each market's own wall clock."""

from __future__ import annotations

import datetime

import pytest

from asyncquote._opend.quotes import SubType
from asyncquote.sim._market_calendar import (
    PERIODS,
    bar_key,
    bar_span,
    epoch_of,
    is_extended,
    local_time,
)

D = datetime.datetime


@pytest.mark.parametrize(
    ("period", "moment", "start", "end"),
    [
        (SubType.K_1M, D(2026, 3, 2, 9, 30, 59), D(2026, 3, 2, 9, 30), D(2026, 3, 2, 9, 31)),
        (SubType.K_5M, D(2026, 3, 2, 9, 34, 0), D(2026, 3, 2, 9, 30), D(2026, 3, 2, 9, 35)),
        (SubType.K_60M, D(2026, 3, 2, 9, 34), D(2026, 3, 2, 9, 0), D(2026, 3, 2, 10, 0)),
        (SubType.K_180M, D(2026, 3, 2, 23, 59), D(2026, 3, 2, 21, 0), D(2026, 3, 3, 0, 0)),
        (SubType.K_240M, D(2026, 3, 2, 4, 0), D(2026, 3, 2, 4, 0), D(2026, 3, 2, 8, 0)),
        (SubType.K_DAY, D(2026, 3, 2, 23, 59), D(2026, 3, 2), D(2026, 3, 3)),
        (SubType.K_WEEK, D(2026, 3, 8, 12, 0), D(2026, 3, 2), D(2026, 3, 9)),  # Sunday
        (SubType.K_MON, D(2026, 12, 31, 23, 0), D(2026, 12, 1), D(2027, 1, 1)),
        (SubType.K_QUARTER, D(2026, 6, 30), D(2026, 4, 1), D(2026, 7, 1)),
        (SubType.K_QUARTER, D(2026, 11, 5), D(2026, 10, 1), D(2027, 1, 1)),
        (SubType.K_YEAR, D(2026, 7, 1), D(2026, 1, 1), D(2027, 1, 1)),
    ],
)
def test_each_period_has_its_bar_on_the_local_calendar(
    period: SubType, moment: D, start: D, end: D
) -> None:
    assert bar_span(moment, PERIODS[period]) == (start, end)
    assert bar_key(start, PERIODS[period]) == bar_key(moment, PERIODS[period])
    assert bar_key(end, PERIODS[period]) > bar_key(moment, PERIODS[period])


def test_every_kline_kind_has_a_period() -> None:
    assert set(PERIODS) == {kind for kind in SubType if kind.name.startswith("K_")}


def test_times_are_on_each_markets_own_wall_clock() -> None:
    stamp = 1_772_415_000.0  # 2026-03-02 01:30 UTC
    assert local_time(stamp, 1) == D(2026, 3, 2, 9, 30)
    assert local_time(stamp, 11) == D(2026, 3, 1, 20, 30)
    assert epoch_of(D(2026, 3, 2, 9, 30), 1) == stamp


@pytest.mark.parametrize(
    ("market", "moment", "extended"),
    [
        (11, D(2026, 3, 2, 9, 29), True),
        (11, D(2026, 3, 2, 9, 30), False),
        (11, D(2026, 3, 2, 15, 59), False),
        (11, D(2026, 3, 2, 16, 0), True),
        (1, D(2026, 3, 2, 20, 0), False),
    ],
)
def test_only_us_trades_outside_the_regular_session_are_extended(
    market: int, moment: D, extended: bool
) -> None:
    assert is_extended(moment, market) is extended
