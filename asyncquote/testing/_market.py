"""The simulated gateway's market, driven from a test: ``opend.market``.

One job: hand a test the simulator's :class:`~asyncquote.sim.SimulatedMarket`
from any thread. The gateway runs in a thread of its own (see
:mod:`._gateway`), so every call here is made in that thread, through the
gateway's blocking portal, and returns once it is done there: after
``opend.market.set_price(...)`` returns, the pushes are queued to every
subscriber, and a request sent next sees the new price.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .._opend.quotes import SubType
from ..sim._market import (
    BrokerQueue,
    MarketBook,
    MarketKLine,
    MarketQuote,
    MarketTicker,
    MarketTimeShare,
)
from ..sim._market_control import SimulatedMarket

__all__ = ["OpenDMarket"]

T = TypeVar("T")


class OpenDMarket:
    """The prices of a test's simulated OpenD: read them, and move them at will.

    By default the ``opend`` fixture's prices never move by themselves
    (``quote_rate=0``, see :class:`~asyncquote.testing.OpenDOptions`), so a
    test sees exactly the moves it makes::

        quote = opend.market.set_price("HK.00700", 400.2)   # pushed to subscribers
        assert quote.cur_price == 400.2

    Codes are code strings; prices must be on the security's tick ladder
    (HK 400.2 is, 400.1 is not). See :class:`~asyncquote.sim.SimulatedMarket`
    for what each method does and raises.
    """

    def __init__(self, call: Callable[..., Any], market: SimulatedMarket) -> None:
        self._call = call
        self._market = market

    @property
    def seed(self) -> int:
        """The seed every price and move comes from (``market_seed``)."""
        return int(self._call(lambda: self._market.seed))

    @property
    def rate(self) -> float:
        """Moves per second of every security (``quote_rate``); ``0``: only the test's."""
        return float(self._call(lambda: self._market.rate))

    @property
    def codes(self) -> Sequence[str]:
        """The securities listed, as code strings."""
        return list(self._call(lambda: self._market.codes))

    def quote(self, code: str) -> MarketQuote:
        """``code``'s quote now (see :meth:`SimulatedMarket.quote`)."""
        return self._run(self._market.quote, code)

    def order_book(self, code: str) -> MarketBook:
        """``code``'s order book now, ten levels a side (see :meth:`SimulatedMarket.order_book`)."""
        return self._run(self._market.order_book, code)

    def odd_lot_book(self, code: str) -> MarketBook:
        """``code``'s odd-lot order book now (see :meth:`SimulatedMarket.odd_lot_book`)."""
        return self._run(self._market.odd_lot_book, code)

    def set_price(self, code: str, price: float) -> MarketQuote:
        """Trade one lot of ``code`` at ``price`` and push it to the subscribers.

        Returns once the pushes are queued (see :meth:`SimulatedMarket.set_price`).

        Raises:
            PriceError: ``price`` is not a positive number on the tick ladder.
            NotListedError: the gateway does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._run(self._market.set_price, code, price)

    def trade(self, code: str, price: float, volume: int) -> MarketTicker:
        """Trade ``volume`` shares of ``code`` at ``price``, and push it to the subscribers.

        The trade flows into every kind of data: the ticker, the K-lines of
        every period, the time-share, the quote, the order book and a Hong
        Kong security's broker queue. Returns once the pushes are queued
        (see :meth:`SimulatedMarket.trade`).

        Raises:
            PriceError: ``price`` is not a positive number on the tick ladder.
            NotListedError: the gateway does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string, or
                ``volume`` not a positive whole number of lots.
        """
        return self._run(self._market.trade, code, price, volume)

    def tickers(self, code: str, num: int = 1_000) -> Sequence[MarketTicker]:
        """``code``'s last ``num`` trades, oldest first (see :meth:`SimulatedMarket.tickers`)."""
        return self._run(self._market.tickers, code, num)

    def klines(self, code: str, period: SubType, num: int = 1_000) -> Sequence[MarketKLine]:
        """``code``'s last ``num`` K-lines of ``period`` (see :meth:`SimulatedMarket.klines`)."""
        return self._run(self._market.klines, code, period, num)

    def time_share(self, code: str) -> Sequence[MarketTimeShare]:
        """``code``'s time-share of the day (see :meth:`SimulatedMarket.time_share`)."""
        return self._run(self._market.time_share, code)

    def broker_queue(self, code: str) -> BrokerQueue:
        """``code``'s broker queue now (see :meth:`SimulatedMarket.broker_queue`)."""
        return self._run(self._market.broker_queue, code)

    def _run(self, func: Callable[..., T], *args: object) -> T:
        result: T = self._call(func, *args)
        return result
