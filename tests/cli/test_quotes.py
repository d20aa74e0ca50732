"""``asyncquote quote``, ``subscribe`` and ``follow`` against a simulator with a quote rate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator

import anyio
import anyio.from_thread
import pytest
from anyio.from_thread import BlockingPortal

from asyncquote._cli.main import main
from asyncquote.sim import Simulator

from .test_commands import one_line_error


@pytest.fixture
def market() -> Iterator[Simulator]:
    """A simulator whose market moves (20 quotes a second), served from a thread."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(port=0, quote_rate=20)) as sim,
    ):
        yield sim


@pytest.fixture
def still_market() -> Iterator[tuple[Simulator, BlockingPortal]]:
    """A simulator whose prices move only when set, and the portal to set them through."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(port=0, quote_rate=0)) as sim,
    ):
        yield sim, portal


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
        (["subscribe", "HK.00700", "--type", "TICKER"], "argument --type"),
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
