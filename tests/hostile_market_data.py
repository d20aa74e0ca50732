"""Tickers, time-share, K-lines and broker queues for the hostile peer's quote desk.

:class:`MarketDataDesk` is a :class:`~tests.hostile_quotes.QuoteDesk` that
also answers Qot_GetKL (3006), Qot_GetRT (3008), Qot_GetTicker (3010) and
Qot_GetBroker (3014), and pushes 3007/3009/3011/3015 for those subscriptions
(the current state at once on ``isFirstPush``), all written with the peer's
own encoder and read with its own decoder, as OpenD does: only for pairs the
connection subscribed to, else the refusal text ``refusal``. Its data are
made from the security's price (``desk.prices``) so a test can predict them:
``tickers`` trades per security (``ticker_count``), ``bars`` K-line bars and
two brokers a side (HK only). ``asked`` records each request's decoded c2s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .hostile_peer import HostileConnection, RawFrame, pb_message, response_body
from .hostile_quotes import Handler, Key, Pair, QuoteDesk, _c2s, _securities, _security

__all__ = ["KL_SUB_TYPES", "MarketDataDesk"]

TICKER, RT_DATA, BROKER = 4, 5, 14

#: The protocol's K-line period (Qot_Common.KLType) → its subscription kind
#: (Qot_Common.SubType), written out here, not taken from the library.
KL_SUB_TYPES = {
    1: 11, 2: 6, 3: 12, 4: 13, 5: 16, 6: 7, 7: 8, 8: 9, 9: 10, 10: 17,
    11: 15, 12: 18, 13: 19, 14: 20, 15: 21,
}  # fmt: skip
_PERIODS = {sub_type: period for period, sub_type in KL_SUB_TYPES.items()}

_NOT_SUBSCRIBED = "请先订阅 (please subscribe first)"


def ticker(key: Key, index: int, price: float) -> bytes:
    """Trade ``index`` (0-based) of a security: a ``Qot_Common.Ticker``."""
    volume = 100 * (index + 1)
    return pb_message(
        (1, f"2026-01-05 10:{index // 60:02d}:{index % 60:02d}"), (2, 1000 + index),
        (3, 1 + index % 2), (4, price + index / 100), (5, volume),
        (6, (price + index / 100) * volume), (8, 1), (10, 1),
    )  # fmt: skip


def time_share(minute: int, price: float) -> bytes:
    """The time-share point of ``minute`` (since 09:30): a ``Qot_Common.TimeShare``."""
    at = 570 + minute
    return pb_message(
        (1, f"2026-01-05 {at // 60:02d}:{at % 60:02d}:00"), (2, at), (3, False),
        (4, price + minute), (5, price - 1.0), (6, price + minute / 2), (7, 100 * (minute + 1)),
        (8, (price + minute) * 100 * (minute + 1)),
    )  # fmt: skip


def kline(index: int, price: float) -> bytes:
    """Bar ``index`` (0-based, oldest first): a ``Qot_Common.KLine``."""
    return pb_message(
        (1, f"2026-01-{index % 28 + 1:02d} 00:00:00"), (2, False), (3, price + 2.0),
        (4, price + index), (5, price - 2.0), (6, price + index + 0.5), (7, price),
        (8, 1000 * (index + 1)), (9, price * 1000 * (index + 1)), (10, 0.5), (11, 12.0),
        (12, 1.25),
    )  # fmt: skip


def broker(broker_id: int, position: int) -> bytes:
    """A ``Qot_Common.Broker``."""
    return pb_message((1, broker_id), (2, f"Broker {broker_id}"), (3, position))


@dataclass
class MarketDataDesk(QuoteDesk):
    """See the module docstring."""

    ticker_count: int = 1200
    bars: int = 30
    refusal: str = _NOT_SUBSCRIBED
    asked: list[tuple[int, dict[int, list[int | bytes]]]] = field(default_factory=list)

    def handlers(self) -> dict[int, Handler]:
        return {
            **super().handlers(),
            3006: self._kl,
            3008: self._rt,
            3010: self._ticker,
            3014: self._broker,
        }

    def _refused(self, connection: HostileConnection, key: Key, sub_type: int) -> bool:
        return self._lacking(connection, [key], sub_type)

    def _asked(self, frame: RawFrame) -> dict[int, list[int | bytes]]:
        c2s = _c2s(frame)
        self.asked.append((frame.proto_id, c2s))
        return c2s

    # -- the S2C of each kind (the reply's and the push's are alike) --------------

    def tickers_s2c(self, key: Key, count: int) -> bytes:
        first = max(0, self.ticker_count - min(count, 1000))
        trades = [(2, ticker(key, i, self.price(key))) for i in range(first, self.ticker_count)]
        return pb_message((1, _security(key)), *trades, (3, "Some Co"))

    def rt_s2c(self, key: Key) -> bytes:
        points = [(2, time_share(minute, self.price(key))) for minute in range(5)]
        return pb_message((1, _security(key)), *points, (3, "Some Co"))

    def kl_s2c(self, key: Key, count: int) -> bytes:
        bars = [(2, kline(i, self.price(key))) for i in range(max(0, self.bars - count), self.bars)]
        return pb_message((1, _security(key)), *bars, (3, "Some Co"))

    def broker_s2c(self, key: Key) -> bytes:
        asks = [(2, broker(9000 + n, n)) for n in range(2)]
        bids = [(3, broker(8000 + n, n)) for n in range(2)]
        return pb_message((1, _security(key)), *asks, *bids, (4, "Some Co"))

    # -- requests --------------------------------------------------------------------

    def _ticker(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        c2s = self._asked(frame)
        (key,) = _securities(c2s)
        if self._refused(connection, key, TICKER):
            return response_body(ret_type=-1, ret_msg=self.refusal), []
        return response_body(self.tickers_s2c(key, int(c2s[2][0]))), []  # type: ignore[arg-type]

    def _rt(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        (key,) = _securities(self._asked(frame))
        if self._refused(connection, key, RT_DATA):
            return response_body(ret_type=-1, ret_msg=self.refusal), []
        return response_body(self.rt_s2c(key)), []

    def _kl(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        c2s = self._asked(frame)
        (key,) = _securities(c2s, 3)
        sub_type = KL_SUB_TYPES.get(int(c2s[2][0]))  # type: ignore[arg-type]
        if sub_type is None:
            return response_body(ret_type=-1, ret_msg="unknown KLType"), []
        if self._refused(connection, key, sub_type):
            return response_body(ret_type=-1, ret_msg=self.refusal), []
        return response_body(self.kl_s2c(key, int(c2s[4][0]))), []  # type: ignore[arg-type]

    def _broker(self, connection: HostileConnection, frame: RawFrame) -> tuple[bytes, list]:  # type: ignore[type-arg]
        (key,) = _securities(self._asked(frame))
        if self._refused(connection, key, BROKER):
            return response_body(ret_type=-1, ret_msg=self.refusal), []
        return response_body(self.broker_s2c(key)), []

    # -- pushes ----------------------------------------------------------------------

    def _push_of(self, pair: Pair) -> tuple[int, bytes]:
        key, sub_type = pair
        if sub_type == TICKER:
            return 3011, response_body(self.tickers_s2c(key, 1))
        if sub_type == RT_DATA:
            return 3009, response_body(self.rt_s2c(key))
        if sub_type == BROKER:
            return 3015, response_body(self.broker_s2c(key))
        period = _PERIODS.get(sub_type)
        if period is not None:  # Qot_UpdateKL's S2C names its rehabType (1) and klType (2)
            bars = [(4, kline(self.bars - 1, self.price(key)))]
            s2c = pb_message((1, 1), (2, period), (3, _security(key)), *bars, (5, "Some Co"))
            return 3007, response_body(s2c)
        return super()._push_of(pair)
