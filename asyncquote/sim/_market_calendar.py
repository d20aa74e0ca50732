"""The simulator's market clock on each market's wall: time zones, bars and sessions.

One job: place an epoch time on its market's own calendar, which every
K-line, time-share point and trading day of :mod:`._tape` is counted on,
and every time OpenD writes (:mod:`._quote_messages`) is shown in. Pure.

The simulator trades round the clock, so its calendar is the plain local one:

* A trading day is a local calendar day, midnight to midnight in the
  market's time zone (Hong Kong time for HK, New York time for US).
* A bar of ``n`` minutes (1, 3, 5, 10, 15, 30, 60, 120, 180, 240; each
  divides a day) starts ``k * n`` minutes after local midnight; a day bar
  is the trading day, a week bar starts on Monday, a month on its first
  day, a quarter in January, April, July or October, a year on 1 January.
* Bars are keyed on local wall time. Where clocks go back (US daylight
  saving), the repeated hour's trades join the bar open at the time, so no
  two bars carry the same local time.
* A US trade is in one part of the US trading day by its New York time
  (:func:`~asyncquote._opend.quotes.us_trading_part`: pre-market,
  regular, after-hours, overnight); outside the regular session, 09:30 to
  16:00, it is *extended*. Qot_Sub's ``extendedTime`` and ``session`` say
  which parts a subscription is pushed (:func:`trading_part`). Other
  markets' trades are all regular.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from .._opend.quotes import SubType, UsTradingPart, us_trading_part
from .._opend.vocabulary import Market

__all__ = [
    "PERIODS",
    "Period",
    "bar_key",
    "bar_span",
    "epoch_of",
    "is_extended",
    "local_time",
    "trading_part",
    "zone",
]

# Each market's time zone, and its UTC offset in hours where the zone
# database is missing (Windows without tzdata): then daylight saving is lost.
_ZONES: dict[int, tuple[str, int]] = {
    Market.HK: ("Asia/Hong_Kong", 8),
    Market.HK_FUTURE: ("Asia/Hong_Kong", 8),
    Market.US: ("America/New_York", -5),
    Market.SH: ("Asia/Shanghai", 8),
    Market.SZ: ("Asia/Shanghai", 8),
    Market.SG: ("Asia/Singapore", 8),
    Market.JP: ("Asia/Tokyo", 9),
    Market.AU: ("Australia/Sydney", 10),
    Market.MY: ("Asia/Kuala_Lumpur", 8),
    Market.CA: ("America/Toronto", -5),
}
_DEFAULT_ZONE = ("Asia/Hong_Kong", 8)
_DAY_MINUTES = 1440


@functools.cache
def zone(market: int) -> datetime.tzinfo:
    """``market``'s time zone (Hong Kong's for a market the table does not name)."""
    name, hours = _ZONES.get(market, _DEFAULT_ZONE)
    try:
        return zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError:
        return datetime.timezone(datetime.timedelta(hours=hours))


def local_time(timestamp: float, market: int) -> datetime.datetime:
    """``timestamp`` (epoch seconds) as ``market``'s local wall time, naive."""
    return datetime.datetime.fromtimestamp(timestamp, zone(market)).replace(tzinfo=None)


def epoch_of(local: datetime.datetime, market: int) -> float:
    """The epoch seconds of ``market``'s naive local time ``local`` (its first, if repeated)."""
    return local.replace(tzinfo=zone(market)).timestamp()


class Period(NamedTuple):
    """A K-line period: ``minutes`` long, or a calendar ``unit`` (``"day"`` ... ``"year"``)."""

    minutes: int
    unit: str


#: Every K-line period, by its subscription kind.
PERIODS: Mapping[SubType, Period] = MappingProxyType(
    {
        SubType.K_1M: Period(1, ""),
        SubType.K_3M: Period(3, ""),
        SubType.K_5M: Period(5, ""),
        SubType.K_10M: Period(10, ""),
        SubType.K_15M: Period(15, ""),
        SubType.K_30M: Period(30, ""),
        SubType.K_60M: Period(60, ""),
        SubType.K_120M: Period(120, ""),
        SubType.K_180M: Period(180, ""),
        SubType.K_240M: Period(240, ""),
        SubType.K_DAY: Period(0, "day"),
        SubType.K_WEEK: Period(0, "week"),
        SubType.K_MON: Period(0, "month"),
        SubType.K_QUARTER: Period(0, "quarter"),
        SubType.K_YEAR: Period(0, "year"),
    }
)


def bar_key(local: datetime.datetime, period: Period) -> int:
    """A number naming the bar of ``period`` holding local time ``local``; later bars, larger."""
    minutes = period.minutes
    day = local.toordinal()
    if minutes:
        minute = local.hour * 60 + local.minute
        return day * _DAY_MINUTES + minute - minute % minutes
    unit = period.unit
    if unit == "day":
        return day
    if unit == "week":
        return day - local.weekday()
    if unit == "month":
        return local.year * 12 + local.month - 1
    if unit == "quarter":
        return local.year * 4 + (local.month - 1) // 3
    return local.year


def bar_span(
    local: datetime.datetime, period: Period
) -> tuple[datetime.datetime, datetime.datetime]:
    """The local start and end (exclusive) of the bar of ``period`` that ``local`` falls in."""
    minutes = period.minutes
    midnight = datetime.datetime(local.year, local.month, local.day)
    if minutes:
        minute = local.hour * 60 + local.minute
        start = midnight + datetime.timedelta(minutes=minute - minute % minutes)
        return start, start + datetime.timedelta(minutes=minutes)
    unit = period.unit
    if unit == "day":
        return midnight, midnight + datetime.timedelta(days=1)
    if unit == "week":
        start = midnight - datetime.timedelta(days=local.weekday())
        return start, start + datetime.timedelta(days=7)
    months = {"month": 1, "quarter": 3}.get(unit, 12)
    first = (local.month - 1) // months * months  # months after January
    start = datetime.datetime(local.year, first + 1, 1)
    year, month = divmod(first + months, 12)
    return start, datetime.datetime(local.year + year, month + 1, 1)


def is_extended(local: datetime.datetime, market: int) -> bool:
    """Whether a trade at local time ``local`` is outside ``market``'s regular session (US only)."""
    if market != Market.US:
        return False
    return us_trading_part(local.hour * 60 + local.minute) is not UsTradingPart.REGULAR


def trading_part(timestamp: float, market: int) -> UsTradingPart:
    """The part of the US trading day a trade at ``timestamp`` is in (``REGULAR`` off the US)."""
    if market != Market.US:
        return UsTradingPart.REGULAR
    local = local_time(timestamp, market)
    return us_trading_part(local.hour * 60 + local.minute)
