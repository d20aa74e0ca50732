"""The official SDK's tickers, K-lines, time-share, broker queues, odd-lot books on our simulator.

The simulator's market stands still (``quote_rate=0``) after a few scripted
trades, so what the SDK's handlers are pushed (the first push of each
subscription) and what its ``get_*`` calls return can be compared, value
by value, with what the simulator's market holds.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from asyncquote._opend.quotes import SubType
from asyncquote.sim import Simulator

from .sdk_process import run_sdk_script

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(importlib.util.find_spec("futu") is None, reason="futu-api not installed"),
]

SDK_MARKET_DATA = Path(__file__).with_name("sdk_market_data.py")
RET_OK = 0
CODE = "HK.00700"
TRADES = [(400.2, 300), (401.0, 1000), (400.4, 200)]


class Run:
    def __init__(self, market: Any, result: dict[str, Any]) -> None:
        self.market = market
        self.result = result

    def ok(self, call: str) -> Any:
        ret, data = self.result[call]
        assert ret == RET_OK, data
        return data


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    home = tmp_path_factory.mktemp("sdk_home")
    out = home / "result.json"
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(quote_rate=0)) as sim,
    ):
        for price, volume in TRADES:
            portal.call(sim.market.trade, CODE, price, volume)
        run_sdk_script(SDK_MARKET_DATA, [sim.host, str(sim.port), str(out), CODE], home)
        yield Run(sim.market, json.loads(out.read_text(encoding="utf-8")))


def test_every_handler_is_pushed_to(run: Run) -> None:
    assert run.ok("subscribe") is None
    assert run.result["push_errors"] == []
    pushes = run.result["pushes"]
    assert all(pushes[kind] for kind in ("ticker", "kline", "rt", "broker")), pushes
    ((ticker,),) = pushes["ticker"][0]
    last = run.market.tickers(CODE, 1)[0]
    assert (ticker["code"], ticker["price"], ticker["volume"]) == (CODE, last.price, last.volume)
    ((bar,),) = pushes["kline"][0]
    held = run.market.klines(CODE, SubType.K_1M, 1)[0]
    assert (bar["close"], bar["volume"], bar["k_type"]) == (held.close_price, held.volume, "K_1M")
    (points,) = pushes["rt"][0]
    assert [p["volume"] for p in points] == [p.volume for p in run.market.time_share(CODE)]
    queue = run.market.broker_queue(CODE)
    code, bids, asks = pushes["broker"][0]
    assert code == CODE
    assert [b["bid_broker_id"] for b in bids] == [b.broker_id for b in queue.bids]
    assert [a["ask_broker_id"] for a in asks] == [b.broker_id for b in queue.asks]


def test_get_rt_ticker_returns_the_markets_trades(run: Run) -> None:
    rows = run.ok("get_rt_ticker")
    held = run.market.tickers(CODE, 100)
    assert [(r["sequence"], r["price"], r["volume"]) for r in rows] == [
        (t.sequence, t.price, t.volume) for t in held
    ]
    assert [r["ticker_direction"] for r in rows] == [t.direction.name for t in held]
    assert [r["type"] for r in rows] == [t.type.name for t in held]


def test_get_cur_kline_returns_the_markets_bars(run: Run) -> None:
    rows = run.ok("get_cur_kline")
    held = run.market.klines(CODE, SubType.K_1M, 100)
    assert [(r["open"], r["high"], r["low"], r["close"], r["volume"]) for r in rows] == [
        (k.open_price, k.high_price, k.low_price, k.close_price, k.volume) for k in held
    ]
    assert sum(r["volume"] for r in rows) == sum(v for _, v in TRADES)


def test_get_rt_data_returns_the_markets_time_share(run: Run) -> None:
    rows = run.ok("get_rt_data")
    held = run.market.time_share(CODE)
    assert [(r["cur_price"], r["volume"]) for r in rows] == [(p.price, p.volume) for p in held]
    assert rows[-1]["avg_price"] == pytest.approx(held[-1].average_price)


def test_get_broker_queue_returns_the_markets_queue(run: Run) -> None:
    code_and_frames = run.ok("get_broker_queue")
    bids, asks = code_and_frames
    queue = run.market.broker_queue(CODE)
    assert [b["bid_broker_id"] for b in bids] == [b.broker_id for b in queue.bids]
    assert [b["bid_broker_pos"] for b in bids] == [b.position for b in queue.bids]
    assert [a["ask_broker_name"] for a in asks] == [b.name for b in queue.asks]


def _levels(levels: Any) -> list[tuple[float, int, int]]:
    return [(level.price, level.volume, level.order_count) for level in levels]


def test_the_order_book_handler_is_pushed_the_odd_lot_book(run: Run) -> None:
    ((book,),) = run.result["pushes"]["odd_book"][:1]
    odd = run.market.odd_lot_book(CODE)
    assert min(len(odd.bids), len(odd.asks)) > 0  # the seed leaves odd lots on both sides
    assert (book["code"], book["order_book_type"]) == (CODE, "ODD")
    assert [tuple(level[:3]) for level in book["Bid"]] == _levels(odd.bids)
    assert [tuple(level[:3]) for level in book["Ask"]] == _levels(odd.asks)


def test_get_order_book_of_odd_lots_returns_the_markets_odd_lot_book(run: Run) -> None:
    book = run.ok("get_order_book_odd")
    odd = run.market.odd_lot_book(CODE)
    assert (book["code"], book["order_book_type"]) == (CODE, "ODD")
    assert [tuple(level[:3]) for level in book["Bid"]] == _levels(odd.bids[:5])
    assert [tuple(level[:3]) for level in book["Ask"]] == _levels(odd.asks[:5])
    assert all(level[1] < 100 for level in (*book["Bid"], *book["Ask"]))
