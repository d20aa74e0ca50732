"""Driving the simulator's market: its clock, its task, control from tests, and quote pushes.

One job: :class:`MarketControl`, an object the :class:`~._server.Simulator`
owns, moves the market (:mod:`._market`), at its rate in a task of its own
and on demand through :attr:`MarketControl.market`, and pushes each move to the connections
registered for it: Qot_UpdateBasicQot (3005) for QUOTE and
Qot_UpdateOrderBook (3013) for ORDER_BOOK and, when the odd-lot book
changed (it moves only with the price), for ORDER_BOOK_ODD, and the trades' pushes
(3007, 3009, 3011, 3015). Pushes go through each
connection's own backlog (:mod:`._pushes`), encrypted like its replies, so
a client that stops reading stalls only itself.

Invariants:

* The market's clock is the simulator's event-loop clock
  (:func:`anyio.current_time`) mapped onto its wall clock, or onto the
  ``clock_start`` it was given, when it starts: virtual clocks (trio's
  ``MockClock``) move the market as they move sleeps, and the times pushed
  are epoch seconds. Given a ``clock_start``, the server's wall clock is
  the market's (the ``time`` of GetGlobalState and KeepAlive agrees with
  the trades).
* A push is built once per security and kind, and only if a connection
  wants it; nothing is pushed while the gateway is logged out of the quote
  server (prices still move). Tickers, K-lines, time-share and broker
  queues are :mod:`._market_data_pushes`' (each security's trades since
  its last push), pushed before the quote and the book.
* :meth:`SimulatedMarket.set_price` queues its pushes before it returns;
  nothing here waits for a client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import anyio
import anyio.abc

from .._base.errors import InvalidArgumentError
from .._models.events import UsedQuotaChanged
from .._opend.quotes import SubType
from .._opend.vocabulary import CodeError, ProtoId, SecurityKey, format_code, parse_code
from ._connections import Connections
from ._gateway import NotifyEvent
from ._market import (
    BookLevel,
    BrokerQueue,
    Exchange,
    MarketBook,
    MarketKLine,
    MarketQuote,
    MarketTicker,
    MarketTimeShare,
    NotListedError,
)
from ._market_data_pushes import MarketDataPushes
from ._quote_messages import basic_qot_push, listing_of, order_book_push
from ._state import ServerState

__all__ = ["MarketControl", "SimulatedMarket"]

_QUOTE = (SubType.QUOTE.value, ProtoId.UPDATE_BASIC_QOT)
_ORDER_BOOK = (SubType.ORDER_BOOK.value, ProtoId.UPDATE_ORDER_BOOK)
_ODD_LOT_BOOK = (SubType.ORDER_BOOK_ODD.value, ProtoId.UPDATE_ORDER_BOOK)


class SimulatedMarket:
    """The simulator's market as a test drives it: quotes, order books, and prices to set.

    It is :attr:`Simulator.market <asyncquote.sim.Simulator.market>`. Call
    it from the simulator's event loop (from another thread, through a
    blocking portal, as the pytest plugin's ``opend.market`` does). Codes
    are code strings, ``"HK.00700"``; every security in the simulator's
    database is listed.
    """

    def __init__(self, state: ServerState, publish: Callable[[Iterable[MarketQuote]], int]) -> None:
        self._state = state
        self._publish = publish

    @property
    def seed(self) -> int:
        """The seed every price and move comes from."""
        return self._state.market.seed

    @property
    def rate(self) -> float:
        """Moves per second of every security; ``0``: only :meth:`set_price` moves them."""
        return self._state.market.rate

    @property
    def codes(self) -> Sequence[str]:
        """The securities listed, as code strings."""
        return [format_code(key) for key in self._state.market.keys]

    def describe(self) -> str:
        """One line about the market: ``"24 securities, each moving 2 times a second (seed 0)"``."""
        rate = self.rate
        moving = f"each moving {rate:g} times a second" if rate else "moving when told"
        return f"{len(self._state.market.keys)} securities, {moving} (seed {self.seed})"

    def quote(self, code: str) -> MarketQuote:
        """``code``'s quote now: what Qot_GetBasicQot answers and 3005 pushes.

        Raises:
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._state.market.quote(self._key(code))

    def order_book(self, code: str) -> MarketBook:
        """``code``'s order book now: ten levels a side.

        Raises:
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._state.market.order_book(self._key(code))

    def odd_lot_book(self, code: str) -> MarketBook:
        """``code``'s odd-lot order book now: fewer shares than a lot a level, at
        some of the order book's prices; empty for a lot of one share.

        Raises:
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._state.market.odd_lot_book(self._key(code))

    def tickers(self, code: str, num: int = 1_000) -> Sequence[MarketTicker]:
        """``code``'s last ``num`` trades (the market keeps 1,000), oldest first.

        Raises:
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        trades = self._state.market.tickers_after(self._key(code))
        return trades[-num:] if num > 0 else []

    def klines(self, code: str, period: SubType, num: int = 1_000) -> Sequence[MarketKLine]:
        """``code``'s last ``num`` K-lines of ``period`` (``SubType.K_1M``...), oldest first.

        Raises:
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._state.market.klines(self._key(code), period, num)

    def time_share(self, code: str) -> Sequence[MarketTimeShare]:
        """``code``'s time-share points of its trading day, one per minute traded.

        Raises:
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._state.market.time_share(self._key(code))

    def broker_queue(self, code: str) -> BrokerQueue:
        """``code``'s broker queue now (OpenD serves it for Hong Kong securities only).

        Raises:
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._state.market.broker_queue(self._key(code))

    def set_price(self, code: str, price: float) -> MarketQuote:
        """Trade one lot of ``code`` at ``price`` now, and push it to the subscribers.

        The quote goes (3005) to the connections registered for ``code``'s
        QUOTE, the new order book (3013) to those registered for its
        ORDER_BOOK, queued before this returns. The price must be on the
        market's tick ladder (HK 400.2 is, 400.1 is not: see
        :mod:`asyncquote.sim._ticks`); it is not rounded.

        Returns:
            The quote after the trade.

        Raises:
            PriceError: ``price`` is not a positive number on the ladder;
                its ``nearest`` names the valid prices either side.
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string (both
                errors above are ``InvalidArgumentError`` too).
        """
        state = self._state
        quote = state.market.set_price(self._key(code), price, state.market_clock())
        self._publish([quote])
        return quote

    def trade(self, code: str, price: float, volume: int) -> MarketTicker:
        """Trade ``volume`` shares of ``code`` at ``price`` now, and push it to the subscribers.

        The trade flows into everything the market serves, and each kind
        is pushed to the connections registered for it before this
        returns: the ticker (3011), the K-lines of every period (3007),
        the time-share (3009), the quote (3005), the order book (3013) and
        a Hong Kong security's broker queue (3015).

        Returns:
            The trade, as its ticker.

        Raises:
            PriceError: ``price`` is not a positive number on the ladder.
            NotListedError: the simulator does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string, or
                ``volume`` is not a positive whole number of lots.
        """
        state = self._state
        key = self._key(code)
        trade = state.market.trade(key, price, volume, state.market_clock())
        self._publish([state.market.quote(key)])
        return trade

    def _key(self, code: str) -> SecurityKey:
        if not isinstance(code, str):
            raise InvalidArgumentError(f"code must be a code string, not {code!r}")
        try:
            market, symbol = parse_code(code)
        except CodeError as exc:
            raise InvalidArgumentError(str(exc)) from None
        key = (int(market), symbol)
        state = self._state
        if key not in state.market:
            try:
                info = state.watchlists.security(key)
            except KeyError:
                raise NotListedError(key) from None
            state.market.add(listing_of(info), state.market_clock())
        return key


class MarketControl:
    """The market's clock and task, and the pushes of its moves and of the quota in use.

    Args:
        state: the simulator's state; its market, market clock and
            subscription hook are set here.
        table: the open connections, which the quote pushes go to.
        notify: pushes a Notify to every connection that asked (the
            gateway control's ``push``), for ``UsedQuotaChanged``.
        rate: price moves a second per security; ``0``: only when told.
        seed: every starting price and move comes from it.
        clock_start: the market's time when it starts, epoch seconds;
            ``None``: the wall clock's.
    """

    def __init__(
        self,
        state: ServerState,
        table: Connections,
        notify: Callable[[NotifyEvent], int],
        *,
        rate: float,
        seed: int,
        clock_start: float | None = None,
    ) -> None:
        self._state = state
        self._table = table
        self._notify = notify
        state.on_subscriptions_change = self._subscriptions_changed
        # Set while running: the report task waits on it.
        self._quota_report: anyio.Event | None = None
        self._clock_start = clock_start
        listings = [listing_of(info) for info in state.watchlists.securities]
        start = state.wall_clock() if clock_start is None else clock_start
        state.market = Exchange(listings, seed=seed, rate=rate, start=start)
        state.market_clock = self._market_time
        if clock_start is not None:
            # One clock for the whole simulator: never reads state.wall_clock again.
            state.wall_clock = self._market_time
        # (wall clock, event-loop clock) at start; None while not running.
        self._market_origin: tuple[float, float] | None = None
        self._market_data = MarketDataPushes(state, table.push)
        # The levels of each security's odd-lot book last pushed.
        self._odd_pushed: dict[SecurityKey, tuple[tuple[BookLevel, ...], ...]] = {}
        self.market = SimulatedMarket(state, self._publish)
        """The market as a test drives it."""

    def _market_time(self) -> float:
        origin = self._market_origin
        if origin is None:
            # Not started: the time it will start at (or the wall clock's now).
            return self._state.wall_clock() if self._clock_start is None else self._clock_start
        wall, loop = origin
        return wall + (anyio.current_time() - loop)

    def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Start the market's clock (and its task, unless its rate is 0) and the quota reports."""
        start = self._state.wall_clock() if self._clock_start is None else self._clock_start
        self._market_origin = (start, anyio.current_time())
        self._quota_report = anyio.Event()
        task_group.start_soon(self._report_used_quota)
        if self._state.market.rate > 0:
            task_group.start_soon(self._run_market)

    def connection_closed(self, conn_id: int) -> None:
        """Drop the subscriptions of the connection ``conn_id``, now closed."""
        subscriptions = self._state.subscriptions
        held = bool(subscriptions.pairs_of(conn_id))
        subscriptions.drop_connection(conn_id, anyio.current_time())
        if held:
            self._subscriptions_changed()

    def _subscriptions_changed(self) -> None:
        # Reported by a task of its own: after the reply to the request that
        # made the change, and never from inside a handler.
        if self._quota_report is not None:
            self._quota_report.set()

    async def _report_used_quota(self) -> None:
        """Push ``UsedQuotaChanged`` (Notify) whenever the subscription quota used changes."""
        while True:
            assert self._quota_report is not None
            await self._quota_report.wait()
            self._quota_report = anyio.Event()
            used = self._state.subscriptions.used(anyio.current_time())
            if used != self._state.gateway.used_subscription_quota:
                self._notify(UsedQuotaChanged(used_subscription_quota=used))

    async def _run_market(self) -> None:
        market = self._state.market
        pause = 1 / market.rate
        while True:
            delay = market.next_step_at - self._market_time()
            await anyio.sleep(max(delay, 0.0))
            quotes = market.step(self._market_time())
            if quotes:
                self._publish(quotes)
            elif delay <= 0:
                # Never spin, whatever the clocks do.
                await anyio.sleep(pause)

    def _publish(self, quotes: Iterable[MarketQuote]) -> int:
        """Push each quote (and its book) to the connections registered; return how many pushes."""
        state = self._state
        send = state.gateway.quote_logged_in
        pushed_to = state.subscriptions.pushed_to
        market = state.market
        push = self._table.push
        publish_data = self._market_data.publish
        sent = 0
        for quote in quotes:
            key = quote.key
            # Tickers first: a client sees the trade before the quote it made.
            sent += publish_data(key, quote.name, send=send)
            if not send:
                continue
            sub_type, proto_id = _QUOTE
            conns = list(pushed_to((key, sub_type)))
            if conns:
                sent += push(conns, proto_id, basic_qot_push(quote))
            sub_type, proto_id = _ORDER_BOOK
            conns = list(pushed_to((key, sub_type)))
            if conns:
                sent += push(conns, proto_id, order_book_push(market.order_book(key), quote.name))
            sub_type, proto_id = _ODD_LOT_BOOK
            conns = list(pushed_to((key, sub_type)))
            if conns:
                odd = market.odd_lot_book(key)
                # Pushed when its levels changed; new subscribers had it first thing.
                if self._odd_pushed.get(key) != (odd.bids, odd.asks):
                    self._odd_pushed[key] = (odd.bids, odd.asks)
                    sent += push(conns, proto_id, order_book_push(odd, quote.name))
        return sent
