"""Tickers, time-share, K-lines and broker queues as the official SDK's tables.

:func:`asyncquote.to_rows` and :func:`asyncquote.to_dataframe` dispatch
here: a list of :class:`Ticker` gives the SDK's ``get_rt_ticker`` frame, of
:class:`TimeSharePoint` its ``get_rt_data`` frame, of :class:`KLine` its
``get_cur_kline`` frame. The cells follow the SDK: ``"N/A"`` for an absent
name, an absent average price or trade type and an enum value it does not
know; ``0.0`` (or ``0``) for the other absent numbers, which it reads as
present; the volume with fractions (``hp_volume``) when OpenD sends it.

The SDK's ``get_broker_queue`` returns two frames, bids and asks, whose
columns differ only by their prefix; :func:`sdk_broker_queue` gives those
two tables' rows, and the one table of a :class:`BrokerQueue`
(:data:`BROKER_QUEUE_COLUMNS`) has one row per broker, bids then asks, each
side in OpenD's order, with a ``side`` column as for order books.
"""

from __future__ import annotations

from .._opend.quotes import TickerDirect, TickerType
from .market_data import Broker, BrokerQueue, KLine, Ticker, TimeSharePoint
from .quote_dataframes import _code, _name, _or_na

__all__ = [
    "BROKER_QUEUE_COLUMNS",
    "KLINE_COLUMNS",
    "TICKER_COLUMNS",
    "TIME_SHARE_COLUMNS",
    "broker_queue_rows",
    "kline_row",
    "sdk_broker_queue",
    "ticker_row",
    "time_share_row",
]

_NA = "N/A"

TICKER_COLUMNS: tuple[str, ...] = (
    *("code", "name", "time", "price", "volume", "turnover", "ticker_direction"),
    *("sequence", "type"),
)
"""The official SDK's ``get_rt_ticker`` columns, in its order."""

TIME_SHARE_COLUMNS: tuple[str, ...] = (
    *("code", "name", "time", "is_blank", "opened_mins", "cur_price", "last_close"),
    *("avg_price", "volume", "turnover"),
)
"""The official SDK's ``get_rt_data`` columns, in its order."""

KLINE_COLUMNS: tuple[str, ...] = (
    *("code", "name", "time_key", "open", "close", "high", "low", "volume", "turnover"),
    *("pe_ratio", "turnover_rate", "last_close"),
)
"""The official SDK's ``get_cur_kline`` columns, in its order."""

_BROKER_CELLS = ("broker_id", "broker_name", "broker_pos", "order_id", "order_volume")

BROKER_QUEUE_COLUMNS: tuple[str, ...] = ("code", "name", "side", *_BROKER_CELLS)
"""A broker queue's table: a row per broker, the SDK's cells under one set of names."""

_DIRECTION = {m.value: m.sdk_name for m in TickerDirect}
_TYPE = {m.value: m.sdk_name for m in TickerType}


def _zero(value: float | None) -> float:
    return 0.0 if value is None else value


def _volume(volume: int | None, hp_volume: float | None) -> float | int:
    if hp_volume is not None:
        return hp_volume
    return 0 if volume is None else volume


def ticker_row(ticker: Ticker) -> tuple[object, ...]:
    """One trade's cells, in :data:`TICKER_COLUMNS` order."""
    return (
        _code(ticker.security),
        _or_na(ticker.name),
        ticker.time,
        ticker.price,
        _volume(ticker.volume, ticker.hp_volume),
        ticker.turnover,
        _DIRECTION.get(ticker.direction, _NA),
        ticker.sequence,
        _name(_TYPE, ticker.type),
    )


def time_share_row(point: TimeSharePoint) -> tuple[object, ...]:
    """One time-share point's cells, in :data:`TIME_SHARE_COLUMNS` order."""
    return (
        _code(point.security),
        _or_na(point.name),
        point.time,
        point.is_blank,
        point.minute,
        _zero(point.price),
        _zero(point.last_close_price),
        _or_na(point.avg_price),
        _volume(point.volume, point.hp_volume),
        _zero(point.turnover),
    )


def kline_row(bar: KLine) -> tuple[object, ...]:
    """One bar's cells, in :data:`KLINE_COLUMNS` order."""
    return (
        _code(bar.security),
        _or_na(bar.name),
        bar.time,
        _zero(bar.open_price),
        _zero(bar.close_price),
        _zero(bar.high_price),
        _zero(bar.low_price),
        _volume(bar.volume, bar.hp_volume),
        _zero(bar.turnover),
        _zero(bar.pe),
        _zero(bar.turnover_rate),
        _zero(bar.last_close_price),
    )


def _broker_cells(broker: Broker) -> tuple[object, ...]:
    return (
        broker.id,
        broker.name,
        broker.position,
        _or_na(broker.order_id),
        _or_na(broker.volume),
    )


def broker_queue_rows(queue: BrokerQueue) -> list[tuple[object, ...]]:
    """A broker queue's rows, in :data:`BROKER_QUEUE_COLUMNS` order: bids, then asks."""
    code = _code(queue.security)
    name = _or_na(queue.name)
    return [
        (code, name, side, *_broker_cells(broker))
        for side, brokers in (("Bid", queue.bids), ("Ask", queue.asks))
        for broker in brokers
    ]


def sdk_broker_queue(
    queue: BrokerQueue,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The rows of the two frames the official SDK's ``get_broker_queue``
    returns for ``queue``: bids, then asks, each a list of dicts in the
    SDK's column order (``code``, ``name``, ``bid_broker_id``...)."""
    code = _code(queue.security)
    name = _or_na(queue.name)
    sides = []
    for prefix, brokers in (("bid", queue.bids), ("ask", queue.asks)):
        names = ("code", "name", *(f"{prefix}_{c}" for c in _BROKER_CELLS[:3]))
        names += _BROKER_CELLS[3:]
        sides.append(
            [dict(zip(names, (code, name, *_broker_cells(b)), strict=True)) for b in brokers]
        )
    return sides[0], sides[1]
