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

K-lines are pushed once per adjustment the connection registered
(``regPushRehabTypeList``; none named: forward, ``QFQ``, what the official
SDK gets), each push naming its ``rehabType``. The simulator has no
corporate actions, so the bars of every adjustment carry the same prices.

A US trade is pushed only to connections whose subscription covers its
part of the trading day (``extendedTime``: pre-market and after-hours;
``session``: ``RTH``, ``ETH``, ``ALL`` with overnight, ``OVERNIGHT``
alone; see :func:`~asyncquote._opend.quotes.session_parts`): a connection
gets no ticker of other parts, and no K-line or time-share push caused by
them alone. Bars and minutes still hold every trade (the market has one
tape), so a covered trade's push carries the other trades of the same bar.

A security's cursor (its last trade pushed) moves on even while the
gateway is logged out of the quote server, so logging back in does not
flood the clients with old trades.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .._opend.quotes import AuType, SubType, UsTradingPart
from .._opend.vocabulary import Market, ProtoId, SecurityKey
from ._market import Broker, Exchange, MarketTicker
from ._market_calendar import trading_part
from ._market_data_messages import KL_TYPES, broker_push, kline_push, rt_push, ticker_push
from ._state import ServerState
from ._subscriptions import Pair

__all__ = ["BROKER_MARKETS", "MarketDataPushes", "first_pushes"]

#: Markets whose securities have broker queues.
BROKER_MARKETS = frozenset({Market.HK, Market.HK_FUTURE})

# What a connection wants of a pair: the parts of the US day, the K-line adjustments.
_Wants = tuple[frozenset[UsTradingPart], tuple[int, ...]]

Push = Callable[[Sequence[int], ProtoId, bytes], int]


def first_pushes(
    market: Exchange,
    key: SecurityKey,
    sub_type: int,
    parts: frozenset[UsTradingPart],
    rehab_types: Sequence[int],
) -> list[tuple[ProtoId, bytes]]:
    """What registering ``(key, sub_type)`` pushes at once: the latest state of that kind.

    The last trade (if in one of the ``parts`` of the US day), the open bar
    of a K-line kind (in each of ``rehab_types``), the day's time-share,
    the broker queue; nothing for the other kinds.
    """
    name = market.quote(key).name
    if sub_type == SubType.TICKER:
        last = [t for t in market.tickers_after(key)[-1:] if trading_part(t.time, key[0]) in parts]
        return [(ProtoId.UPDATE_TICKER, ticker_push(key, name, last))] if last else []
    if sub_type in KL_TYPES:
        period = SubType(sub_type)
        bars = market.klines(key, period, 1)
        return [
            (ProtoId.UPDATE_KL, kline_push(key, name, period, AuType(au_type), bars))
            for au_type in rehab_types
        ]
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
        touched = {trading_part(trade.time, key[0]) for trade in trades}
        sent = self._tickers(key, name, trades)
        for period in KL_TYPES:
            recipients = self._recipients((key, period), touched)
            if recipients:
                bars = market.klines_since(key, period, since)
                for au_type, conns in recipients.items():
                    body = kline_push(key, name, period, AuType(au_type), bars)
                    sent += self._push(conns, ProtoId.UPDATE_KL, body)
        conns = [c for cs in self._recipients((key, SubType.RT_DATA), touched).values() for c in cs]
        if conns:
            body = rt_push(key, name, market.time_share(key, since))
            sent += self._push(list(dict.fromkeys(conns)), ProtoId.UPDATE_RT, body)
        if key[0] in BROKER_MARKETS:
            sent += self._broker_queue(market, key, name)
        return sent

    def _groups(self, pair: Pair) -> dict[_Wants, list[int]]:
        """The connections pushed ``pair``, by the parts of the US day and adjustments they
        want (each group gets the same pushes), in registration order."""
        groups: dict[_Wants, list[int]] = {}
        subscriptions = self._state.subscriptions
        for conn in subscriptions.pushed_to(pair):
            wants = (subscriptions.parts(conn, pair), subscriptions.rehab_types(conn, pair))
            groups.setdefault(wants, []).append(conn)
        return groups

    def _recipients(self, pair: Pair, touched: set[UsTradingPart]) -> dict[int, list[int]]:
        """The connections a bar or minute push of ``pair`` goes to, by K-line adjustment:
        those wanting a part of the day the new trades are in."""
        recipients: dict[int, list[int]] = {}
        for (parts, rehab), conns in self._groups(pair).items():
            if parts & touched:
                for au_type in rehab:
                    recipients.setdefault(au_type, []).extend(conns)
        return recipients

    def _tickers(self, key: SecurityKey, name: str, trades: Sequence[MarketTicker]) -> int:
        sent = 0
        for (parts, _), conns in self._groups((key, SubType.TICKER)).items():
            covered = [trade for trade in trades if trading_part(trade.time, key[0]) in parts]
            if covered:
                sent += self._push(conns, ProtoId.UPDATE_TICKER, ticker_push(key, name, covered))
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
