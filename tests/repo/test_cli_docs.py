"""Every output line docs/cli.md shows for ``subscribe``, ``follow`` and ``kline`` is
what the CLI's own formatting prints for the items it stands for.

The examples were pasted from runs against the simulator (some lines
written by hand: a closed bar, a drop marker); the values are taken as
given, the formatting is checked, so a change of a line's format (or a line
edited by hand into one the CLI cannot print) fails here.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from asyncquote import (
    BasicQuote,
    Broker,
    BrokerQueue,
    KLine,
    KLineUpdate,
    OrderBook,
    OrderBookLevel,
    Security,
    StreamDropped,
    Ticker,
    TickerDirect,
    TimeSharePoint,
    WatchlistChange,
)
from asyncquote._cli.market_data import render_klines
from asyncquote._cli.quotes import _text
from asyncquote._opend.quotes import AuType, KLType

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def shown(command: str) -> list[str]:
    """The output lines of the doc's console block that starts with ``$ command``
    (its ``...`` lines, which stand for more, left out)."""
    blocks = DOC.read_text(encoding="utf-8").split("```console\n")[1:]
    for block in blocks:
        first, *lines = block.split("\n```", 1)[0].splitlines()
        if first == f"$ {command}":
            return [line for line in lines if line != "..."]
    raise AssertionError(f"docs/cli.md shows no `$ {command}`")


def printed(*items: tuple[str, Any]) -> list[str]:
    """The lines the CLI prints for ``(time printed, item)`` pairs."""
    return [str(_text(item, time)) for time, item in items]


def quote(code: str, price: float, last_close: float, volume: int) -> BasicQuote:
    return BasicQuote.model_construct(
        security=Security.parse(code),
        cur_price=price,
        last_close_price=last_close,
        volume=volume,
    )


def book(code: str, bid: tuple[float, int], ask: tuple[float, int]) -> OrderBook:
    def level(price: float, volume: int) -> OrderBookLevel:
        return OrderBookLevel.model_construct(price=price, volume=volume)

    return OrderBook.model_construct(
        security=Security.parse(code), bids=(level(*bid),), asks=(level(*ask),)
    )


def bar(
    code: str,
    time: str,
    ohlc: tuple[float, float, float, float],
    volume: int,
    au_type: AuType = AuType.QFQ,
) -> KLine:
    return KLine.model_construct(
        security=Security.parse(code),
        k_type=KLType.K_1M,
        au_type=au_type,
        time=time,
        open_price=ohlc[0],
        high_price=ohlc[1],
        low_price=ohlc[2],
        close_price=ohlc[3],
        volume=volume,
    )


def brokers(count: int, first: int) -> tuple[Broker, ...]:
    return tuple(
        Broker.model_construct(id=first + n, name=f"Simulated Broker {first + n}", position=n)
        for n in range(count)
    )


def change(group: str, *, current: str = "", added: str = "", removed: str = "") -> Any:
    def entries(codes: str) -> tuple[Any, ...]:
        return tuple(SimpleNamespace(security=Security.parse(c)) for c in codes.split())

    return WatchlistChange(
        group=group,
        added=entries(added),
        removed=entries(removed),
        current=entries(current),
        initial=bool(current),
    )


def test_subscribe_to_quotes_and_order_books() -> None:
    assert shown("asyncquote subscribe HK.00700 --type QUOTE,ORDER_BOOK") == printed(
        ("23:30:33", quote("HK.00700", 12.88, 12.8, 11_800)),
        ("23:30:33", book("HK.00700", (12.86, 5_100), (12.9, 9_000))),
        ("23:30:34", quote("HK.00700", 12.88, 12.8, 13_300)),
        ("23:30:34", book("HK.00700", (12.86, 6_600), (12.9, 10_000))),
    )


def trade(code: str, time: str, price: float, volume: int, direction: TickerDirect) -> Ticker:
    return Ticker.model_construct(
        security=Security.parse(code), time=time, price=price, volume=volume, direction=direction
    )


def test_subscribe_to_trades_k_lines_time_share_and_brokers() -> None:
    tencent = Security.parse("HK.00700")
    first = trade("HK.00700", "2026-12-07 09:36:03.270", 12.82, 300, TickerDirect.NEUTRAL)
    point = TimeSharePoint.model_construct(
        security=tencent, time="2026-12-07 09:36:00", price=12.82, avg_price=12.8167, volume=600
    )
    minute = bar("HK.00700", "2026-12-07 09:36:00", (12.76, 12.82, 12.76, 12.82), 600)
    queue = BrokerQueue.model_construct(
        security=tencent, bids=brokers(39, 1793), asks=brokers(35, 8944)
    )
    # The next minute's first trade, then what it made: the bar it closed (its
    # state unchanged), the bar it opened, the day's average with it.
    closing = trade("HK.00700", "2026-12-07 09:37:00.412", 12.84, 200, TickerDirect.BUY)
    price = closing.price
    opened = bar("HK.00700", "2026-12-07 09:37:00", (price, price, price, price), closing.volume)
    average = (point.avg_price * point.volume + price * closing.volume) / (point.volume + 200)
    next_point = point.model_copy(
        update={"time": opened.time, "price": price, "avg_price": round(average, 4), "volume": 200}
    )
    later = trade("HK.00700", "2026-12-07 09:52:41.093", 12.9, 100, TickerDirect.SELL)
    assert shown("asyncquote subscribe HK.00700 --type TICKER,K_1M,RT_DATA,BROKER") == printed(
        ("", first),  # a trade line starts with the trade's own time
        ("01:36:03", point),
        ("01:36:03", KLineUpdate.model_construct(kline=minute, closed=False)),
        ("01:36:03", queue),
        # Pushed in this order: the trade, the K-lines, the time-share.
        ("", closing),
        ("01:37:00", KLineUpdate.model_construct(kline=minute, closed=True)),
        ("01:37:00", KLineUpdate.model_construct(kline=opened, closed=False)),
        ("01:37:00", next_point),
        # (...) A flood later: the dropped trades were the oldest waiting.
        ("01:52:41", StreamDropped(count=1_204)),
        ("", later),
    )


def test_subscribe_with_the_extended_hours_and_an_adjustment() -> None:
    # 08:00 in New York is 13:00 UTC in December: pre-market.
    early = trade("US.AAPL", "2026-12-08 08:00:00.005", 250.0, 10, TickerDirect.BUY)
    minute = bar("US.AAPL", "2026-12-08 08:00:00", (250.0,) * 4, 10, AuType.HFQ)  # type: ignore[arg-type]
    command = "asyncquote subscribe US.AAPL --type TICKER,K_1M --extended-time --autype hfq"
    assert shown(command) == printed(
        ("", early), ("13:00:00", KLineUpdate.model_construct(kline=minute, closed=False))
    )


def test_follow_a_group() -> None:
    assert shown("asyncquote follow Macro --interval 10") == printed(
        ("23:30:39", change("Macro", current="HK.800000 HK.HSImain US.SPY")),
        ("23:30:39", quote("HK.800000", 25185, 25200, 163)),
        ("23:30:39", quote("HK.HSImain", 18740, 18720, 7_350)),
        ("23:30:39", quote("US.SPY", 267.4, 267.43, 158)),
        ("23:30:49", change("Macro", added="HK.00700", removed="US.SPY")),
        ("23:30:49", quote("HK.00700", 12.86, 12.8, 30_900)),
    )


def test_kline() -> None:
    bars = [
        bar("HK.00700", "2026-12-07 07:53:00", (12.76, 12.94, 12.76, 12.94), 48_500),
        bar("HK.00700", "2026-12-07 07:54:00", (12.94, 13.02, 12.92, 12.96), 27_600),
    ]
    turnovers = [623_922, 358_206]
    bars = [b.model_copy(update={"turnover": t}) for b, t in zip(bars, turnovers, strict=True)]
    table = render_klines(bars).splitlines()
    assert shown("asyncquote kline HK.00700 --ktype K_1M --num 5") == table


@pytest.mark.parametrize("command", ["subscribe", "follow"])
def test_every_console_block_of_the_streaming_commands_is_checked(command: str) -> None:
    checked = {
        "subscribe": {
            "asyncquote subscribe HK.00700 --type QUOTE,ORDER_BOOK",
            "asyncquote subscribe HK.00700 --type TICKER,K_1M,RT_DATA,BROKER",
            "asyncquote subscribe US.AAPL --type TICKER,K_1M --extended-time --autype hfq",
        },
        "follow": {"asyncquote follow Macro --interval 10"},
    }[command]
    text = DOC.read_text(encoding="utf-8")
    firsts = {block.splitlines()[0].removeprefix("$ ") for block in text.split("```console\n")[1:]}
    assert {first for first in firsts if first.startswith(f"asyncquote {command} ")} == checked
