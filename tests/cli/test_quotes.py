"""``asyncquote quote``, ``subscribe`` and ``follow`` against a simulator with a quote rate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import anyio
import anyio.from_thread
import pytest
from anyio.from_thread import BlockingPortal

from asyncquote import KLine, KLineUpdate, Security, StreamDropped, SubType
from asyncquote._cli.main import main
from asyncquote._cli.quotes import _line, _text
from asyncquote._opend.quotes import AuType, KLType, Session
from asyncquote._pb import Qot_Sub_pb2
from asyncquote.sim import MarketTicker, Simulator

from .test_commands import one_line_error


@pytest.fixture
def market() -> Iterator[Simulator]:
    """A simulator whose market moves (20 quotes a second), served from a thread."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(port=0, quote_rate=20)) as sim,
    ):
        yield sim


HONG_KONG = ZoneInfo("Asia/Hong_Kong")

# 10:00 in Hong Kong, 21:00 in New York the day before: the US members'
# trades are outside regular hours (overnight), whatever hour the tests run.
HONG_KONG_MORNING = datetime(2026, 1, 6, 10, 0, tzinfo=HONG_KONG)


@pytest.fixture
def still_market() -> Iterator[tuple[Simulator, BlockingPortal]]:
    """A simulator whose prices move only when set, and the portal to set them through;
    its clock starts at :data:`HONG_KONG_MORNING`."""
    simulator = Simulator(port=0, quote_rate=0, clock_start=HONG_KONG_MORNING)
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(simulator) as sim,
    ):
        yield sim, portal


def format_clock(epoch: float) -> str:
    """An epoch time as a ticker line shows it: the exchange's clock, to the millisecond."""
    return datetime.fromtimestamp(epoch, HONG_KONG).strftime("%H:%M:%S.%f")[:-3]


def run(sim: Simulator, capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main([*argv, "--port", str(sim.port)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.out.splitlines()


def test_quote_prints_a_snapshot_table(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, portal = still_market
    portal.call(market.market.set_price, "HK.00700", 400.2)
    header, tencent, apple = run(market, capsys, "quote", "HK.00700", "US.AAPL")
    assert header.split() == [
        "code", "name", "price", "change", "open", "high", "low", "volume", "turnover"
    ]  # fmt: skip
    assert tencent.startswith("HK.00700  腾讯控股")
    assert apple.startswith("US.AAPL ")
    assert tencent.split()[2] == "400.2"


def test_quote_json(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, portal = still_market
    portal.call(market.market.set_price, "HK.00700", 400.2)
    (document,) = json.loads("\n".join(run(market, capsys, "quote", "HK.00700", "--json")))
    assert document["basic"]["security"] == {"market": "HK", "code": "00700"}
    assert document["basic"]["cur_price"] == 400.2


def test_subscribe_prints_a_line_per_update_up_to_count(
    market: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run(
        market, capsys, "subscribe", "HK.00700", "US.AAPL", "--type", "QUOTE,ORDER_BOOK",
        "--count", "6",
    )  # fmt: skip
    assert len(lines) == 6
    assert {line.split()[1] for line in lines} == {"HK.00700", "US.AAPL"}
    assert any(" bid " in line and " ask " in line for line in lines)
    assert any(" vol " in line for line in lines)


def test_subscribe_takes_the_odd_lot_book_and_says_so(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, portal = still_market
    lines = run(
        market, capsys, "subscribe", "HK.00700", "--type", "ORDER_BOOK,ORDER_BOOK_ODD",
        "--count", "2",
    )  # fmt: skip
    odd = portal.call(market.market.odd_lot_book, "HK.00700")
    best = f"bid {odd.bids[0].price:g} x {odd.bids[0].volume:,}"
    assert sorted(" odd lots " in line for line in lines) == [False, True]
    assert any(line.split("  ", 1)[1].startswith(f"HK.00700 odd lots  {best}") for line in lines)


def test_subscribe_json_prints_an_object_per_update(
    market: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run(market, capsys, "subscribe", "HK.00700", "--json", "--count", "3")
    documents = [json.loads(line) for line in lines]
    assert [d["type"] for d in documents] == ["BasicQuote"] * 3
    assert all(d["security"] == {"market": "HK", "code": "00700"} for d in documents)


def test_follow_prints_the_group_then_its_quotes(
    market: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    first, *quotes = run(market, capsys, "follow", "Tech", "--count", "6")
    assert first.endswith("[Tech] 5 securities: US.AAPL US.TSLA HK.00700 HK.09988 US.FUTU")
    assert len(quotes) == 5
    assert {line.split()[1] for line in quotes} <= {
        "US.AAPL", "US.TSLA", "HK.00700", "HK.09988", "US.FUTU"
    }  # fmt: skip


def test_follow_json(market: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    lines = run(market, capsys, "follow", "Macro", "--json", "--count", "2")
    change, quote = (json.loads(line) for line in lines)
    assert change["type"] == "WatchlistChange"
    assert change["initial"] is True
    assert change["current"] == ["HK.800000", "HK.HSImain", "US.SPY"]
    assert quote["type"] == "BasicQuote"


def scripted(market: Simulator, portal: BlockingPortal, volumes: list[int]) -> list[MarketTicker]:
    """Trades of HK.00700 at its price now, one per volume (in lots of 100)."""
    price = portal.call(market.market.quote, "HK.00700").cur_price
    return [portal.call(market.market.trade, "HK.00700", price, volume) for volume in volumes]


def test_subscribe_prints_a_line_for_each_new_kind(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, portal = still_market
    *_, last = scripted(market, portal, [100, 200, 300])
    kinds = "ticker,K_1M,RT_DATA,BROKER"  # the SDK's names, in any case
    lines = run(market, capsys, "subscribe", "HK.00700", "--type", kinds, "--count", "4")
    by_kind = {line.split("  ")[2].split()[0]: line for line in lines}
    assert set(by_kind) == {"trade", "K_1M", "time-share", "brokers"}
    clock = last.time  # the trade's own time, as the exchange tells it
    assert by_kind["trade"].startswith(f"{format_clock(clock)}  HK.00700  trade ")
    assert by_kind["trade"].endswith(f" x 300  {last.direction.name}")
    bar = portal.call(market.market.klines, "HK.00700", SubType.K_1M)[-1]
    assert f"C {last.price:g}  vol {bar.volume:,}  open" in by_kind["K_1M"]
    assert f"H {bar.high_price:g}  L {bar.low_price:g}" in by_kind["K_1M"]
    assert f"  {last.price:g}  avg " in by_kind["time-share"]
    queue = portal.call(market.market.broker_queue, "HK.00700")
    assert f"brokers bid {len(queue.bids)} (first {queue.bids[0].broker_id} " in by_kind["brokers"]
    assert f"ask {len(queue.asks)} (first {queue.asks[0].broker_id} " in by_kind["brokers"]


def test_subscribe_json_of_each_new_kind(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, portal = still_market
    *_, last = scripted(market, portal, [100, 200])
    kinds = "TICKER,K_DAY,RT_DATA,BROKER"
    argv = ("subscribe", "HK.00700", "--type", kinds, "--count", "4", "--json")
    documents = {d["type"]: d for d in map(json.loads, run(market, capsys, *argv))}
    assert set(documents) == {"Ticker", "KLineUpdate", "TimeSharePoint", "BrokerQueue"}
    trade = documents["Ticker"]
    assert (trade["sequence"], trade["price"], trade["volume"]) == (last.sequence, last.price, 200)
    # The trade's own type and time, renamed so as not to hide the line's.
    assert trade["ticker_type"] == "AUTO_MATCH"
    assert trade["ticker_timestamp"] == pytest.approx(last.time)
    assert trade["timestamp"].endswith("+00:00")
    bar = documents["KLineUpdate"]
    assert (bar["closed"], bar["kline"]["k_type"], bar["kline"]["close_price"]) == (
        False, "K_DAY", last.price,
    )  # fmt: skip
    point = documents["TimeSharePoint"]
    assert (point["price"], point["security"]) == (last.price, {"market": "HK", "code": "00700"})
    assert "point_timestamp" in point
    queue = portal.call(market.market.broker_queue, "HK.00700")
    assert [b["id"] for b in documents["BrokerQueue"]["bids"]] == [b.broker_id for b in queue.bids]


def test_trades_while_subscribed_are_printed_in_order(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, portal = still_market
    (before,) = scripted(market, portal, [100])
    argv = ["subscribe", "HK.00700", "--type", "TICKER", "--count", "3", "--json"]
    done: list[int] = []
    command = threading.Thread(
        target=lambda: done.append(main([*argv, "--port", str(market.port)]))
    )
    command.start()
    try:
        deadline = time.monotonic() + 60  # bounds a hang (the bug), not a timing goal
        while not portal.call(lambda: [r for r in market.requests if r.proto_id == 3001]):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        after = scripted(market, portal, [200, 300])
    finally:
        command.join(60)
    assert done == [0]
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["sequence"] for line in lines] == [
        trade.sequence for trade in [before, *after]
    ]


def test_follow_prints_the_groups_trades(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, _ = still_market
    first, *trades = run(market, capsys, "follow", "Tech", "--type", "TICKER", "--count", "3")
    assert first.endswith("[Tech] 5 securities: US.AAPL US.TSLA HK.00700 HK.09988 US.FUTU")
    # The Hong Kong members' opening trades (the US ones are outside regular hours).
    assert sorted(line.split()[1] for line in trades) == ["HK.00700", "HK.09988"]
    assert all(" trade " in line for line in trades)


def test_a_closed_bar_and_a_drop_marker_have_lines_of_their_own() -> None:
    bar = KLine(
        security=Security.parse("HK.00700"),
        k_type=KLType.K_1M,
        au_type=AuType.QFQ,
        time="2026-03-02 10:01:00",
        is_blank=False,
        open_price=400.2,
        high_price=401.0,
        low_price=400.0,
        close_price=400.4,
        volume=1200,
    )
    closed = KLineUpdate(kline=bar, closed=True)
    assert _text(closed, "10:02:03") == (
        "10:02:03  HK.00700  K_1M 2026-03-02 10:01:00  O 400.2  H 401  L 400  C 400.4  "
        "vol 1,200  closed"
    )
    blank = KLineUpdate(
        kline=bar.model_copy(update={"is_blank": True, "open_price": None}), closed=False
    )
    assert "  O -  H 401" in str(_text(blank, "10:02:03"))
    dropped = StreamDropped(count=1234)
    assert _text(dropped, "10:02:03") == (
        "10:02:03  (1,234 updates dropped here: the reader fell behind)"
    )
    document = json.loads(str(_line(dropped, True)))
    assert (document["type"], document["count"]) == ("StreamDropped", 1234)
    assert json.loads(str(_line(closed, True)))["closed"] is True


def sub_options(market: Simulator) -> list[tuple[bool, int, list[int]]]:
    """extendedTime, session and regPushRehabTypeList of each Qot_Sub the simulator read."""
    requests = [
        Qot_Sub_pb2.Request.FromString(r.body).c2s for r in market.requests if r.proto_id == 3001
    ]
    return [
        (c2s.extendedTime, c2s.session, list(c2s.regPushRehabTypeList))
        for c2s in requests
        if c2s.isSubOrUnSub
    ]


def test_subscribe_passes_the_us_session_and_the_adjustment(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, _ = still_market
    argv = ["subscribe", "US.AAPL", "--type", "ticker,K_1M", "--count", "2", "--json"]
    options = ["--extended-time", "--session", "all", "--autype", "hfq"]
    documents = [json.loads(line) for line in run(market, capsys, *argv, *options)]
    # Every part of the day: Apple's latest trade comes whatever the time now.
    assert {d["type"] for d in documents} == {"Ticker", "KLineUpdate"}
    (bar,) = [d for d in documents if d["type"] == "KLineUpdate"]
    assert bar["kline"]["au_type"] == "HFQ"
    assert sub_options(market) == [(True, Session.ALL, [AuType.HFQ])]


def test_follow_passes_the_options_to_every_member(
    still_market: tuple[Simulator, BlockingPortal], capsys: pytest.CaptureFixture[str]
) -> None:
    market, _ = still_market
    argv = ["follow", "Macro", "--type", "K_DAY", "--count", "2", "--json"]
    change, bar = map(json.loads, run(market, capsys, *argv, "--extended-time", "--autype", "None"))
    assert change["type"] == "WatchlistChange"
    assert bar["kline"]["au_type"] == "NONE"
    assert sub_options(market) == [(True, Session.NONE, [AuType.NONE])]


def test_following_an_unknown_group_is_one_line_naming_the_groups(
    market: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["follow", "Tehc", "--port", str(market.port)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "no watchlist group 'Tehc'" in line
    assert "'Tech'" in line


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["quote"], "required: CODE"),
        (["quote", "00700"], "argument CODE"),
        (
            ["subscribe", "HK.00700", "--type", "TICKERS"],
            "use one or more of QUOTE, ORDER_BOOK, TICKER, RT_DATA, K_DAY",
        ),
        (["subscribe", "HK.00700", "--type", "NONE"], "argument --type"),
        (["follow", "Tech", "--type", "K_2M"], "use one or more of QUOTE"),
        (["subscribe", "HK.00700", "--type", ""], "argument --type"),
        (["subscribe", "HK.00700", "--count", "0"], "argument --count"),
        (["follow"], "required: GROUP"),
        (["follow", ""], "argument GROUP"),
        (["follow", "Tech", "--interval", "-1"], "argument --interval"),
        (["follow", "Tech", "--count", "x"], "argument --count"),
        (["kline"], "required: CODE"),
        (["kline", "00700"], "argument CODE"),
        (["kline", "HK.00700", "--ktype", "K_2M"], "argument --ktype"),
        (["kline", "HK.00700", "--ktype", "TICKER"], "argument --ktype"),
        (["kline", "HK.00700", "--num", "0"], "num must be from 1 to 1000"),
        (["kline", "HK.00700", "--num", "1001"], "argument --num"),
        (["kline", "HK.00700", "--num", "x"], "argument --num"),
        (["kline", "HK.00700", "--autype", "QFQ"], "argument --autype"),
        (["subscribe", "US.AAPL", "--autype", "QFQ"], "argument --autype"),
        (["follow", "Tech", "--autype", "forward"], "argument --autype"),
        (
            ["subscribe", "US.AAPL", "--session", "EVENING"],
            "use one of NONE, RTH, ETH, ALL, OVERNIGHT",
        ),
        (["follow", "Tech", "--session", ""], "argument --session"),
        (["subscribe", "US.AAPL", "--extended-time=yes"], "argument --extended-time"),
    ],
)
def test_wrong_arguments_are_usage_errors(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert complaint in err
    assert "Traceback" not in err
    *usage, last = err.splitlines()
    assert "error:" in last  # the complaint is one line, after argparse's usage
    assert not [line for line in usage if "error" in line]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a console event on Windows")
@pytest.mark.parametrize("command", ["subscribe HK.00700", "follow Tech"])
def test_ctrl_c_ends_a_stream_quietly(market: Simulator, command: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncquote", *command.split(), "--port", str(market.port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline()  # streaming
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=60)  # bounds a hang (the bug), not a timing goal
    finally:
        process.kill()
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert status == 130
    assert stderr == ""
