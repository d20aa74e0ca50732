"""``asyncquote kline`` against the hostile peer's desk (the simulator serves no
K-lines yet), served from a thread: a table, JSON, OpenD's refusal. Its usage
errors are tests/cli/test_quotes.py's, with the other quote commands'."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from anyio.from_thread import start_blocking_portal

from asyncquote._cli.main import main

from ..hostile_market_data import MarketDataDesk
from ..hostile_peer import HostileGateway, hostile_gateway
from .test_commands import one_line_error

TENCENT = (1, "00700")


@pytest.fixture
def desk() -> Iterator[MarketDataDesk]:
    gateway = HostileGateway()
    desk = MarketDataDesk(gateway)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(hostile_gateway(gateway)),
    ):
        yield desk


def run(desk: MarketDataDesk, capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main([*argv, "--port", str(desk.gateway.port)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.out.splitlines()


def test_kline_subscribes_to_the_period_and_prints_the_bars_oldest_first(
    desk: MarketDataDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    desk.prices[TENCENT] = 400.0
    header, *rows = run(desk, capsys, "kline", "HK.00700", "--ktype", "K_1M", "--num", "3")
    assert header.split() == ["time", "open", "close", "high", "low", "volume", "turnover"]
    assert [row.split() for row in rows] == [
        ["2026-01-28", "00:00:00", "427", "427.5", "402", "398", "28,000", "11,200,000"],
        ["2026-01-01", "00:00:00", "428", "428.5", "402", "398", "29,000", "11,600,000"],
        ["2026-01-02", "00:00:00", "429", "429.5", "402", "398", "30,000", "12,000,000"],
    ]
    (subscribed,) = desk.sub_requests(subscribe=True)
    assert subscribed.pairs == {(TENCENT, 11)}  # SubType.K_1M
    ((proto_id, c2s),) = desk.asked
    assert (proto_id, c2s[1], c2s[2], c2s[4]) == (3006, [1], [1], [3])  # qfq, K_1M, 3 bars


def test_kline_json_and_the_defaults(
    desk: MarketDataDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    (text,) = run(desk, capsys, "kline", "HK.00700", "--autype", "hfq", "--json")
    bars = json.loads(text)
    assert len(bars) == 30  # all the desk has of the 100 asked for
    assert bars[-1]["k_type"] == "K_DAY"
    assert bars[-1]["au_type"] == "HFQ"
    assert bars[-1]["open_price"] == 129.0
    assert bars[-1]["security"] == {"market": "HK", "code": "00700"}
    ((_, c2s),) = desk.asked
    assert (c2s[1], c2s[2], c2s[4]) == ([2], [2], [100])


def test_opends_refusal_is_one_line(
    desk: MarketDataDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    desk.refuse_sub = "no quote right for this market"
    assert main(["kline", "HK.00700", "--port", str(desk.gateway.port)]) == 1
    assert "no quote right" in one_line_error(capsys.readouterr().err)
