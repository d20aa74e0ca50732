"""Ticker, time-share, K-line and broker-queue pushes built by the official SDK reach our streams.

The SDK builds one push of each kind (3011, 3009, 3007, 3015) with its own
message classes and reads each back with its handler class's
``parse_rsp_pb``, in a process of its own
(``sdk_market_data_push_bodies.py``). A scripted server (the hostile peer's
market-data desk) then pushes those very bytes to our client's streams, and
every value our models carry must be the one the SDK read, cell by cell in
the SDK's columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import AuType, BrokerQueue, KLineUpdate, SubType, Ticker, TimeSharePoint
from asyncquote._models.market_data_frames import (
    KLINE_COLUMNS,
    TICKER_COLUMNS,
    TIME_SHARE_COLUMNS,
    kline_row,
    sdk_broker_queue,
    ticker_row,
    time_share_row,
)

from ..hostile_market_data import MarketDataDesk
from ..hostile_peer import HostileGateway, hostile_gateway
from ..quotes.test_client import FAST
from .sdk_process import NEEDS_SDK, run_sdk_script

pytestmark = NEEDS_SDK

SCRIPT = Path(__file__).with_name("sdk_market_data_push_bodies.py")
SDK_DAY = "2024-05-17"  # the SDK's pushes are of this day; the desk's own are not


@pytest.fixture(scope="module")
def sdk_pushes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    home = tmp_path_factory.mktemp("sdk_home")
    stdout, _ = run_sdk_script(SCRIPT, [], home)
    return {int(k): v for k, v in json.loads(stdout.splitlines()[-1]).items()}


@pytest.fixture(scope="module")
def received(sdk_pushes: dict[int, dict[str, Any]]) -> dict[type, list[Any]]:
    """What our streams make of the SDK's pushes, sent by a scripted server."""

    async def main() -> dict[type, list[Any]]:
        gateway = HostileGateway()
        MarketDataDesk(gateway)  # answers the client's requests on the gateway from now on
        kinds = [SubType.TICKER, SubType.RT_DATA, SubType.K_1M, SubType.BROKER]
        got: dict[type, list[Any]] = {}
        async with (
            hostile_gateway(gateway),
            asyncquote.connect("127.0.0.1", gateway.port, keepalive=False, reconnect=FAST) as c,
            c.subscribe(["HK.00700"], kinds, autype=AuType.HFQ, buffer=1000) as stream,
        ):
            with anyio.fail_after(20):
                (connection,) = gateway.connections
                for proto_id, push in sdk_pushes.items():
                    await connection.send(proto_id, 0, bytes.fromhex(push["body"]))
                async for update in stream:
                    if _from_the_sdk(update):
                        got.setdefault(type(update), []).append(update)
                    if _complete(got):
                        break
        return got

    return anyio.run(main)


def _complete(got: dict[type, list[Any]]) -> bool:
    """Every item of the SDK's pushes is in: 3 trades, 2 minutes, 2 bars (the first
    closed: an open update of it may have been conflated into its close), a queue."""
    bars = {u.kline.time: u for u in got.get(KLineUpdate, [])}
    return (
        len(got.get(Ticker, [])) == 3
        and len(got.get(TimeSharePoint, [])) == 2
        and len(bars) == 2
        and len(got.get(BrokerQueue, [])) == 1
    )


def _from_the_sdk(update: object) -> bool:
    if isinstance(update, KLineUpdate):
        return update.kline.time.startswith(SDK_DAY)
    if isinstance(update, Ticker | TimeSharePoint):
        return update.time.startswith(SDK_DAY)
    # The desk's own queue has broker 8000 too (as its first push): the name tells them apart.
    return isinstance(update, BrokerQueue) and update.name == "Tencent"


def _cells(columns: tuple[str, ...], row: tuple[object, ...]) -> dict[str, object]:
    return dict(zip(columns, row, strict=True))


def _sdk_cells(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {column: row[column] for column in columns}


def test_tickers_carry_what_the_sdk_reads(
    sdk_pushes: dict[int, dict[str, Any]], received: dict[type, list[Any]]
) -> None:
    trades: list[Ticker] = received[Ticker]
    sdk = sdk_pushes[3011]["sdk"]
    assert [_cells(TICKER_COLUMNS, ticker_row(t)) for t in trades] == list(
        _sdk_cells(TICKER_COLUMNS, sdk)
    )
    assert [(t.push_data_type.sdk_name, t.recv_time) for t in trades] == [  # type: ignore[union-attr]
        (row["push_data_type"], row["recv_timestamp"]) for row in sdk
    ]


def test_time_share_points_carry_what_the_sdk_reads(
    sdk_pushes: dict[int, dict[str, Any]], received: dict[type, list[Any]]
) -> None:
    points = [time_share_row(p) for p in received[TimeSharePoint]]
    assert [_cells(TIME_SHARE_COLUMNS, row) for row in points] == list(
        _sdk_cells(TIME_SHARE_COLUMNS, sdk_pushes[3009]["sdk"])
    )


def test_k_lines_carry_what_the_sdk_reads_with_their_adjustment(
    sdk_pushes: dict[int, dict[str, Any]], received: dict[type, list[Any]]
) -> None:
    # The first bar closed when the second came: its last state, then the open one.
    updates: list[KLineUpdate] = received[KLineUpdate]
    latest = {u.kline.time: u for u in updates}
    assert [u.closed for u in latest.values()] == [True, False]
    bars = [u.kline for u in latest.values()]
    sdk = sdk_pushes[3007]["sdk"]
    assert [_cells(KLINE_COLUMNS, kline_row(bar)) for bar in bars] == list(
        _sdk_cells(KLINE_COLUMNS, sdk)
    )
    assert [bar.k_type.sdk_name for bar in bars] == [row["k_type"] for row in sdk]  # type: ignore[union-attr]
    assert {bar.au_type for bar in bars} == {AuType.HFQ}  # the push's rehabType


def test_a_broker_queue_carries_what_the_sdk_reads(
    sdk_pushes: dict[int, dict[str, Any]], received: dict[type, list[Any]]
) -> None:
    (queue,) = received[BrokerQueue]
    code, bids, asks = sdk_pushes[3015]["sdk"]
    assert queue.code == code
    assert sdk_broker_queue(queue) == (bids, asks)
