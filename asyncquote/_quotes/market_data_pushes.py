"""Ticker, time-share, K-line and broker-queue pushes to stream updates. Pure, no event loop.

Unlike quotes and order books (routed undecoded, see
:mod:`asyncquote._quotes.pushes`), these pushes carry a list whose items
take their security and period from the parent message, so they are
decoded here, on arrival, into the models a reader gets. Each update goes
to ``deliver(pair, key, item)`` with the conflation key its kind calls for
(:class:`~asyncquote._quotes.conflate.ConflatingBuffer`):

- a trade (3011): key ``None``: never conflated, every one queued in order;
- a time-share point (3009): key ``(pair, time)``: the newest value of each
  minute, so a finished minute is never replaced by the next one;
- a broker queue (3015): key ``pair``: the newest;
- a K-line (3007): wrapped in :class:`KLineUpdate`, key
  ``(pair, au_type, bar time)``. The router keeps the open bar of each
  (pair, adjustment): a bar with a later time closes it, and its last state
  goes out again as ``closed=True`` under its own key (replacing its
  waiting open update in place, or queued anew if that was read), so a
  close is never conflated away by the next bar. A bar earlier than the
  open one (OpenD re-sending a closed bar) is delivered closed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from .._models.market_data import BrokerQueue, KLine, Ticker, TimeSharePoint
from .._models.market_data_convert import market_data_push_from_body
from .._models.watchlist import Security, _Model
from .._opend.quotes import KLINE_SUB_TYPES, KLType, SubType, UsTradingPart, us_trading_part
from .._opend.vocabulary import Market, ProtoId
from .batches import Want
from .book import Pair

__all__ = [
    "MARKET_DATA_PUSH_IDS",
    "MARKET_DATA_SUB_TYPES",
    "KLineUpdate",
    "MarketDataRouter",
    "wanted",
]

#: The pushes this module routes.
MARKET_DATA_PUSH_IDS = frozenset(
    {ProtoId.UPDATE_TICKER, ProtoId.UPDATE_RT, ProtoId.UPDATE_KL, ProtoId.UPDATE_BROKER}
)

#: The subscription types whose pushes this module routes to streams.
MARKET_DATA_SUB_TYPES = frozenset(
    {SubType.TICKER, SubType.RT_DATA, SubType.BROKER, *KLINE_SUB_TYPES.values()}
)

Deliver = Callable[[Pair, Hashable | None, Any], None]

_KLINE_KINDS = {int(period): int(sub_type) for period, sub_type in KLINE_SUB_TYPES.items()}


class KLineUpdate(_Model):
    """What a K-line stream yields: a bar, and whether it has closed.

    OpenD's push does not say; the stream does, from the bars' times: the
    open bar of a (security, period, adjustment) is the latest one, and a
    bar with a later time closes it. Updates of the open bar
    (``closed=False``) may be conflated into the newest for a slow reader;
    a closed bar (``closed=True``, its last state) never is, by a later one.
    """

    kline: KLine
    """The bar."""
    closed: bool
    """``True``: the bar is final (a later one began, or OpenD sent an earlier bar);
    ``False``: an update of the open bar, more may follow."""


# Periods whose bars are named by a time of day (the others by a day).
_INTRADAY = frozenset(
    {
        KLType.K_1M,
        KLType.K_3M,
        KLType.K_5M,
        KLType.K_10M,
        KLType.K_15M,
        KLType.K_30M,
        KLType.K_60M,
        KLType.K_120M,
        KLType.K_180M,
        KLType.K_240M,
    }
)


def wanted(want: Want, item: object) -> bool:
    """Whether a stream that asked for ``want`` is handed ``item``.

    A K-line only of the stream's adjustment. A US trade, time-share point
    or intraday bar (by its start) only in the parts of the trading day the
    stream asked for (its ``extended_time`` and ``session``), read off the
    item's New York wall time; everything else always. (The pair may be
    subscribed wider for another stream: see :mod:`asyncquote._quotes.book`.)
    """
    if isinstance(item, KLineUpdate):
        bar = item.kline
        if int(bar.au_type) != want.au_type:
            return False
        if bar.k_type not in _INTRADAY:
            return True
        timed: KLine | Ticker | TimeSharePoint = bar
    elif isinstance(item, Ticker | TimeSharePoint):
        timed = item
    else:
        return True
    if want.parts == _EVERY_PART or timed.security.market != Market.US:
        return True
    time = timed.time
    try:
        minute = int(time[11:13]) * 60 + int(time[14:16])
    except ValueError:
        return True  # no time of day to judge by: not ours to drop
    return us_trading_part(minute) in want.parts


_EVERY_PART = frozenset(UsTradingPart)


def _pair(security: Security, sub_type: int) -> Pair:
    return ((int(security.market), security.code), sub_type)


class MarketDataRouter:
    """Routes the four kinds of pushes; holds the open K-line bar of each pair and adjustment."""

    def __init__(self) -> None:
        self._open: dict[tuple[Pair, int], KLine] = {}

    def route(
        self, proto_id: int, body: bytes, tracked: Callable[[Pair], bool], deliver: Deliver
    ) -> None:
        """Decode a push and hand each update of a ``tracked`` pair to ``deliver``.

        Raises:
            ProtocolError: the push is malformed.
            OpenDError: the push says ``retType != 0``.
        """
        updates = market_data_push_from_body(proto_id, body)
        if not updates:
            return
        if proto_id == ProtoId.UPDATE_KL:
            self._klines(updates, tracked, deliver)  # type: ignore[arg-type]
            return
        first = updates[0]
        if proto_id == ProtoId.UPDATE_TICKER:
            pair = _pair(first.security, SubType.TICKER)
            if tracked(pair):
                for trade in updates:
                    deliver(pair, None, trade)
        elif proto_id == ProtoId.UPDATE_RT:
            pair = _pair(first.security, SubType.RT_DATA)
            if tracked(pair):
                for point in updates:
                    deliver(pair, (pair, point.time), point)  # type: ignore[union-attr]
        else:
            assert isinstance(first, BrokerQueue)
            pair = _pair(first.security, SubType.BROKER)
            if tracked(pair):
                deliver(pair, pair, first)

    def _klines(self, bars: list[KLine], tracked: Callable[[Pair], bool], deliver: Deliver) -> None:
        sub_type = _KLINE_KINDS.get(int(bars[0].k_type))
        if sub_type is None:
            return  # a period this version does not know: nobody subscribed to it
        pair = _pair(bars[0].security, sub_type)
        if not tracked(pair):
            return
        at = (pair, int(bars[0].au_type))
        for bar in bars:
            current = self._open.get(at)
            if current is not None and bar.time < current.time:
                deliver(pair, (at, bar.time), KLineUpdate(kline=bar, closed=True))
                continue
            if current is not None and bar.time > current.time:
                deliver(pair, (at, current.time), KLineUpdate(kline=current, closed=True))
            self._open[at] = bar
            deliver(pair, (at, bar.time), KLineUpdate(kline=bar, closed=False))

    def forget(self, tracked: Callable[[Pair], bool] | None = None) -> None:
        """Forget the open bars (all, or those of pairs no longer ``tracked``):
        after a lost connection their last state is not known to be final."""
        if tracked is None:
            self._open.clear()
        else:
            for at in [at for at in self._open if not tracked(at[0])]:
                del self._open[at]
