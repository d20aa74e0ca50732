"""The official SDK's live quotes against our simulator: subscribe, handlers, quotes, snapshots.

The SDK runs ``sdk_quotes.py`` in a subprocess (see ``sdk_process.py``)
against a simulator served from a background thread, whose market moves by
itself so that the SDK's handlers are pushed to. Once over a plain
connection and once over an encrypted one (the SDK decrypts the pushes).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from asyncquote.sim import Simulator

from ..sim.keys import rsa_pem
from .sdk_process import run_sdk_script

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(importlib.util.find_spec("futu") is None, reason="futu-api not installed"),
]

SDK_QUOTES = Path(__file__).with_name("sdk_quotes.py")
RET_OK, RET_ERROR = 0, -1  # the SDK's return codes
CODES = ["HK.00700", "US.AAPL"]
KEY = rsa_pem("opend")


class Run:
    """What the SDK reported, and the simulator it ran against."""

    def __init__(self, simulator: Simulator, result: dict[str, Any]) -> None:
        self.simulator = simulator
        self.result = result

    def ok(self, call: str) -> Any:
        ret, data = self.result[call]
        assert ret == RET_OK, data
        return data


@pytest.fixture(scope="module", params=["plain", "encrypted"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    encrypted = request.param == "encrypted"
    home = tmp_path_factory.mktemp("sdk_home")
    out = home / "result.json"
    args = [str(out), *CODES]
    if encrypted:
        key_file = home / "conn_key.pem"
        key_file.write_bytes(KEY)
        args = ["--rsa-key", str(key_file)]
    simulator = Simulator(quote_rate=20, rsa_key=KEY if encrypted else None)
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(simulator) as sim:
        if encrypted:
            args += [sim.host, str(sim.port), str(out), *CODES]
        else:
            args = [sim.host, str(sim.port), *args]
        run_sdk_script(SDK_QUOTES, args, home)
        yield Run(sim, json.loads(out.read_text(encoding="utf-8")))


def test_subscribe_succeeds_and_both_handlers_are_pushed_to(run: Run) -> None:
    assert run.ok("subscribe") is None
    assert run.result["push_errors"] == []
    quotes, books = run.result["quote_pushes"], run.result["book_pushes"]
    for code in CODES:
        mine = [row for row in quotes if row["code"] == code]
        assert len(mine) >= 3
        # The market moves: volumes only grow, and the first push came at once.
        assert [row["volume"] for row in mine] == sorted(row["volume"] for row in mine)
        assert {row["name"] for row in mine} == {run.simulator.market.quote(code).name}
        book = next(book for book in books if book["code"] == code)
        assert len(book["Bid"]) == len(book["Ask"]) == 10
        assert book["Bid"][0][0] < book["Ask"][0][0]


def test_get_stock_quote_answers_for_the_subscribed_codes(run: Run) -> None:
    rows = run.ok("get_stock_quote")
    assert [row["code"] for row in rows] == CODES
    for row in rows:
        assert row["last_price"] > 0
        assert row["low_price"] <= row["last_price"] <= row["high_price"]
        assert row["price_spread"] > 0


def test_get_order_book_answers_five_levels(run: Run) -> None:
    book = run.ok("get_order_book")
    assert book["code"] == CODES[0]
    assert len(book["Bid"]) == len(book["Ask"]) == 5
    bids = [level[0] for level in book["Bid"]]
    assert bids == sorted(bids, reverse=True)


def test_get_market_snapshot_answers_for_every_code(run: Run) -> None:
    rows = run.ok("get_market_snapshot")
    assert [row["code"] for row in rows] == CODES
    assert [row["lot_size"] for row in rows] == [100, 1]
    for row in rows:
        assert row["bid_price"] < row["ask_price"]


def test_query_subscription_reports_the_quota_used(run: Run) -> None:
    mine = run.ok("query_subscription")
    assert mine["total_used"] == 4
    assert mine["remain"] == 1000 - 4
    assert mine["own_used"] == 4
    assert sorted(mine["sub_list"]) == ["ORDER_BOOK", "QUOTE"]
    assert sorted(mine["sub_list"]["QUOTE"]) == sorted(CODES)
    everyone = run.ok("query_subscription_all")
    assert everyone["total_used"] == 4


def test_unsubscribing_within_the_minute_is_refused_with_the_simulators_reason(run: Run) -> None:
    ret, message = run.result["unsubscribe"]
    assert ret == RET_ERROR
    assert "can be cancelled only 60 seconds after it was made" in message
