"""Quote pushes built with the official SDK's own message classes decode in asyncquote.

The SDK builds a 3005 push (two quotes, one an option with pre-market data)
and a 3013 push (an order book with order details) in a process of its own
(it cannot share one with asyncquote) and hands over their bytes;
:func:`quote_push_from_body` must read every value it set.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

from asyncquote import BasicQuote, DarkStatus, OptionAreaType, OrderBook, SecurityStatus
from asyncquote._models.quote_convert import quote_push_from_body

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(importlib.util.find_spec("futu") is None, reason="futu-api not installed"),
]

SCRIPT = textwrap.dedent(
    """
    from futu.common.pb import Qot_UpdateBasicQot_pb2, Qot_UpdateOrderBook_pb2

    push = Qot_UpdateBasicQot_pb2.Response(retType=0)
    for code, price in (("00700", 320.2), ("TCH260330C400000", 12.5)):
        q = push.s2c.basicQotList.add()
        q.security.market, q.security.code = 1, code
        q.name, q.isSuspended, q.listTime, q.priceSpread = "n-" + code, False, "2004-06-16", 0.2
        q.updateTime, q.updateTimestamp = "2024-05-17 15:59:58", 1715932798.0
        q.highPrice, q.openPrice, q.lowPrice, q.curPrice = 321.0, 318.4, 317.8, price
        q.lastClosePrice, q.volume, q.turnover = 319.0, 15392000, 4.9e9
        q.turnoverRate, q.amplitude, q.darkStatus, q.secStatus = 0.16, 1.0, 2, 9
    option = push.s2c.basicQotList[1].optionExData
    option.strikePrice, option.contractSize, option.contractSizeFloat = 400.0, 100, 100.0
    option.openInterest, option.impliedVolatility, option.premium = 12, 30.5, 2.0
    option.delta, option.gamma, option.vega, option.theta, option.rho = 0.5, 0.01, 0.2, -0.1, 0.05
    option.optionAreaType = 1
    push.s2c.basicQotList[1].preMarket.price = 13.0

    book = Qot_UpdateOrderBook_pb2.Response(retType=0)
    book.s2c.security.market, book.s2c.security.code = 1, "00700"
    book.s2c.name, book.s2c.svrRecvTimeBid = "Tencent", "2024-05-17 15:59:58.100"
    for side, price in ((book.s2c.orderBookBidList, 320.0), (book.s2c.orderBookAskList, 320.2)):
        level = side.add()
        level.price, level.volume, level.orederCount = price, 1000, 3
        detail = level.detailList.add()
        detail.orderID, detail.volume = 77, 600
    print(push.SerializeToString().hex())
    print(book.SerializeToString().hex())
    """
)


@pytest.fixture(scope="module")
def sdk_pushes() -> list[bytes]:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=90, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [bytes.fromhex(line) for line in completed.stdout.split()[-2:]]


def test_a_basic_quote_push_from_the_sdk(sdk_pushes: list[bytes]) -> None:
    stock, option = quote_push_from_body(3005, sdk_pushes[0])
    assert isinstance(stock, BasicQuote)
    assert isinstance(option, BasicQuote)
    assert (stock.code, stock.name, stock.cur_price) == ("HK.00700", "n-00700", 320.2)
    assert (stock.volume, stock.update_timestamp) == (15_392_000, 1_715_932_798.0)
    assert (stock.dark_status, stock.sec_status) == (DarkStatus.END, SecurityStatus.SUSPENDED)
    assert stock.option_ex_data is None
    assert option.option_ex_data is not None
    assert option.option_ex_data.rho == 0.05
    assert option.option_ex_data.option_area_type is OptionAreaType.AMERICAN
    assert option.pre_market is not None
    assert option.pre_market.price == 13.0


def test_an_order_book_push_from_the_sdk(sdk_pushes: list[bytes]) -> None:
    (book,) = quote_push_from_body(3013, sdk_pushes[1])
    assert isinstance(book, OrderBook)
    assert (book.code, book.name) == ("HK.00700", "Tencent")
    assert book.svr_recv_time_bid == "2024-05-17 15:59:58.100"
    assert book.svr_recv_time_ask is None
    assert [(lv.price, lv.volume, lv.order_count) for lv in book.bids + book.asks] == [
        (320.0, 1000, 3),
        (320.2, 1000, 3),
    ]
    assert book.asks[0].details[0].order_id == 77
