"""Pushes of the market's trades and their aggregates: tickers, K-lines, time-share, brokers.

One job: after the market moves, push to the connections registered for
each (security, kind) pair what changed since the last push of that
security (:class:`MarketDataPushes`), and build the first push a
registration asks for (:func:`first_pushes`):

* Qot_UpdateTicker (3011, ``TICKER``): every trade since the last push,
  oldest first; none is skipped (the market keeps the last 1,000).
* Qot_UpdateKL (3007, each K-line kind): the bars those trades touched:
  the bar open at the last push, once more, closed if a newer bar has
  started (so a bar's close is always pushed), and the open bar.
* Qot_UpdateRT (3009, ``RT_DATA``): the time-share minutes those trades
  touched (the minute open at the last push, and the new one).
* Qot_UpdateBroker (3015, ``BROKER``, Hong Kong only): the queue, when it
  differs from the last one pushed.

Simplifications, said once here: K-lines are pushed forward-adjusted
(``rehabType`` ``QFQ``, what the official SDK asks by default) whatever
``regPushRehabTypeList`` says, since the simulator has no corporate actions
and every adjustment is the same. US pre- and after-market trades
(``MarketTicker.extended``) are pushed only to pairs subscribed with
``extendedTime``: a connection without it gets no ticker of them, and no
K-line or time-share push caused by them alone; bars and minutes still
hold every trade (the market has one tape), so a regular trade's push
carries the extended trades of the same bar.

A security's cursor (its last trade pushed) moves on even while the
gateway is logged out of the quote server, so logging back in does not
flood the clients with old trades.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .._opend.quotes import AuType, SubType
from .._opend.vocabulary import Market, ProtoId, SecurityKey
from ._market import Broker, Exchange, MarketTicker
from ._market_data_messages import KL_TYPES, broker_push, kline_push, rt_push, ticker_push
from ._state import ServerState
from ._subscriptions import Pair

__all__ = ["BROKER_MARKETS", "MarketDataPushes", "first_pushes"]

#: Markets whose securities have broker queues.
BROKER_MARKETS = frozenset({Market.HK, Market.HK_FUTURE})

# K-lines are pushed with this adjustment (see the module's docstring).
_PUSHED_AU_TYPE = AuType.QFQ

Push = Callable[[Sequence[int], ProtoId, bytes], int]


def first_pushes(
    market: Exchange, key: SecurityKey, sub_type: int, extended: bool
) -> list[tuple[ProtoId, bytes]]:
    """What registering ``(key, sub_type)`` pushes at once: the latest state of that kind.

    The last trade (if ``extended`` or it is a regular-session one), the open
    bar of a K-line kind, the day's time-share, the broker queue; nothing
    for the other kinds.
    """
    name = market.quote(key).name
    if sub_type == SubType.TICKER:
        last = [trade for trade in market.tickers_after(key)[-1:] if extended or not trade.extended]
        return [(ProtoId.UPDATE_TICKER, ticker_push(key, name, last))] if last else []
    if sub_type in KL_TYPES:
        period = SubType(sub_type)
        bars = market.klines(key, period, 1)
        return [(ProtoId.UPDATE_KL, kline_push(key, name, period, _PUSHED_AU_TYPE, bars))]
    if sub_type == SubType.RT_DATA:
        return [(ProtoId.UPDATE_RT, rt_push(key, name, market.time_share(key)))]
    if sub_type == SubType.BROKER and key[0] in BROKER_MARKETS:
        return [(ProtoId.UPDATE_BROKER, broker_push(market.broker_queue(key), name))]
    return []


class MarketDataPushes:
    """Each security's last trade pushed, and the pushes of what came after it.

    Args:
        state: the simulator's state: its market, and who wants what pushed.
        push: queues a body for connections; returns how many pushes it queued.
    """

    def __init__(self, state: ServerState, push: Push) -> None:
        self._state = state
        self._push = push
        # Per security, (sequence, time) of the last trade pushed.
        self._cursors: dict[SecurityKey, tuple[int, float]] = {}
        # Per Hong Kong security, the broker queue last pushed (bids, asks).
        self._brokers: dict[SecurityKey, tuple[tuple[Broker, ...], tuple[Broker, ...]]] = {}

    def publish(self, key: SecurityKey, name: str, *, send: bool) -> int:
        """Push ``key``'s trades since the last call and what they changed; return the pushes.

        With ``send`` false (the gateway is logged out) only the cursor moves.
        """
        market = self._state.market
        cursor = self._cursors.get(key)
        # Sequence 0 is the opening print, which no push carries.
        trades = market.tickers_after(key, 0 if cursor is None else cursor[0])
        if not trades:
            return 0
        last = trades[-1]
        self._cursors[key] = (last.sequence, last.time)
        if not send:
            return 0
        since = trades[0].time if cursor is None else cursor[1]
        regular = [trade for trade in trades if not trade.extended]
        sent = self._tickers(key, name, trades, regular)
        for period in KL_TYPES:
            conns = self._recipients((key, period), bool(regular))
            if conns:
                bars = market.klines_since(key, period, since)
                body = kline_push(key, name, period, _PUSHED_AU_TYPE, bars)
                sent += self._push(conns, ProtoId.UPDATE_KL, body)
        conns = self._recipients((key, SubType.RT_DATA), bool(regular))
        if conns:
            body = rt_push(key, name, market.time_share(key, since))
            sent += self._push(conns, ProtoId.UPDATE_RT, body)
        if key[0] in BROKER_MARKETS:
            sent += self._broker_queue(market, key, name)
        return sent

    def _split(self, pair: Pair) -> tuple[list[int], list[int]]:
        """The connections pushed ``pair``: those with ``extendedTime``, and the others."""
        extended: list[int] = []
        plain: list[int] = []
        subscriptions = self._state.subscriptions
        for conn in subscriptions.pushed_to(pair):
            (extended if subscriptions.extended(conn, pair) else plain).append(conn)
        return extended, plain

    def _recipients(self, pair: Pair, regular: bool) -> list[int]:
        extended, plain = self._split(pair)
        return extended + plain if regular else extended

    def _tickers(
        self,
        key: SecurityKey,
        name: str,
        trades: Sequence[MarketTicker],
        regular: Sequence[MarketTicker],
    ) -> int:
        extended, plain = self._split((key, SubType.TICKER))
        sent = 0
        if extended:
            sent += self._push(extended, ProtoId.UPDATE_TICKER, ticker_push(key, name, trades))
        if plain and regular:
            sent += self._push(plain, ProtoId.UPDATE_TICKER, ticker_push(key, name, regular))
        return sent

    def _broker_queue(self, market: Exchange, key: SecurityKey, name: str) -> int:
        conns = list(self._state.subscriptions.pushed_to((key, SubType.BROKER)))
        if not conns:
            return 0
        queue = market.broker_queue(key)
        sides = (queue.bids, queue.asks)
        if self._brokers.get(key) == sides:
            return 0
        self._brokers[key] = sides
        return self._push(conns, ProtoId.UPDATE_BROKER, broker_push(queue, name))
