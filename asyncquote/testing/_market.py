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

from ..sim._market import MarketBook, MarketQuote
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

    def set_price(self, code: str, price: float) -> MarketQuote:
        """Trade one lot of ``code`` at ``price`` and push it to the subscribers.

        Returns once the pushes are queued (see :meth:`SimulatedMarket.set_price`).

        Raises:
            PriceError: ``price`` is not a positive number on the tick ladder.
            NotListedError: the gateway does not know ``code``.
            InvalidArgumentError: ``code`` is not a code string.
        """
        return self._run(self._market.set_price, code, price)

    def _run(self, func: Callable[..., T], *args: object) -> T:
        result: T = self._call(func, *args)
        return result
