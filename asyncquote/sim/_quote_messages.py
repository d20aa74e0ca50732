"""The market's states as OpenD's messages: BasicQot, order books, snapshots and pushes.

One job: turn :mod:`._market`'s quotes and books into the protobuf messages
of Qot_GetBasicQot (3004), Qot_UpdateBasicQot (3005), Qot_GetOrderBook
(3012), Qot_UpdateOrderBook (3013) and Qot_GetSecuritySnapshot (3203), and
a watchlist security's static info into the market's listing. Pure.

Times are written as OpenD writes them, in the security's market's own
time zone (``"2026-03-02 10:30:00"``, Hong Kong time for HK.00700), beside
the epoch timestamps. Every required field of these messages is set, so
the messages always serialise.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from .._opend.vocabulary import Market as QotMarket
from .._opend.vocabulary import RetType, SecurityKey
from .._pb import (
    Qot_Common_pb2,
    Qot_GetOrderBook_pb2,
    Qot_GetSecuritySnapshot_pb2,
    Qot_UpdateBasicQot_pb2,
    Qot_UpdateOrderBook_pb2,
)
from ._market import BookLevel, Listing, MarketBook, MarketQuote
from ._market_calendar import zone

__all__ = [
    "basic_qot",
    "basic_qot_push",
    "fill_order_book",
    "listing_of",
    "market_time",
    "order_book_push",
    "snapshot",
]

_SECONDS = "%Y-%m-%d %H:%M:%S"


def market_time(timestamp: float, market: int, *, milliseconds: bool = False) -> str:
    """``timestamp`` (epoch seconds) as OpenD writes it for ``market``: its local time."""
    moment = datetime.datetime.fromtimestamp(timestamp, zone(market))
    text = moment.strftime(_SECONDS)
    if milliseconds:
        text += f".{moment.microsecond // 1000:03d}"
    return text


def listing_of(info: Qot_Common_pb2.SecurityStaticInfo) -> Listing:
    """The market's listing of a watchlist security."""
    basic = info.basic
    key = (basic.security.market, basic.security.code)
    return Listing(key, basic.name, basic.secType, basic.lotSize, basic.listTime)


def _security(key: SecurityKey) -> Qot_Common_pb2.Security:
    market, code = key
    return Qot_Common_pb2.Security(market=market, code=code)


def _quote_fields(quote: MarketQuote) -> dict[str, Any]:
    """The fields BasicQot and a snapshot's basic data share (names and meanings alike)."""
    return {
        "security": _security(quote.key),
        "name": quote.name,
        "listTime": quote.list_time,
        "priceSpread": quote.price_spread,
        "updateTime": market_time(quote.update_time, quote.key[0]),
        "updateTimestamp": quote.update_time,
        "highPrice": quote.high_price,
        "openPrice": quote.open_price,
        "lowPrice": quote.low_price,
        "curPrice": quote.cur_price,
        "lastClosePrice": quote.last_close_price,
        "volume": quote.volume,
        "turnover": quote.turnover,
        # Needs the shares outstanding, which the simulator does not know.
        "turnoverRate": 0.0,
        "amplitude": quote.amplitude,
    }


def basic_qot(quote: MarketQuote) -> Qot_Common_pb2.BasicQot:
    """``quote`` as a BasicQot (what 3004 answers and 3005 pushes)."""
    return Qot_Common_pb2.BasicQot(isSuspended=False, **_quote_fields(quote))


def basic_qot_push(quote: MarketQuote) -> bytes:
    """The body of a Qot_UpdateBasicQot (3005) push of ``quote``."""
    response = Qot_UpdateBasicQot_pb2.Response(retType=RetType.OK)
    response.s2c.basicQotList.append(basic_qot(quote))
    return response.SerializeToString()


def _levels(levels: Sequence[BookLevel]) -> list[Qot_Common_pb2.OrderBook]:
    return [
        Qot_Common_pb2.OrderBook(
            price=level.price, volume=level.volume, orederCount=level.order_count
        )
        for level in levels
    ]


def fill_order_book(
    s2c: Qot_GetOrderBook_pb2.S2C | Qot_UpdateOrderBook_pb2.S2C,
    book: MarketBook,
    name: str,
    depth: int,
) -> None:
    """Fill a 3012 or 3013 ``s2c`` with ``book``'s best ``depth`` levels a side."""
    key = book.key
    s2c.security.CopyFrom(_security(key))
    s2c.name = name
    s2c.orderBookAskList.extend(_levels(book.asks[:depth]))
    s2c.orderBookBidList.extend(_levels(book.bids[:depth]))
    if book.order_book_type:
        # Said of odd-lot books only: a board-lot book is OpenD's plain one.
        s2c.orderBookType = book.order_book_type
    if key[0] in (QotMarket.HK, QotMarket.HK_FUTURE):
        # When Futu's servers got each side: Hong Kong's books carry it.
        received = market_time(book.update_time, key[0], milliseconds=True)
        s2c.svrRecvTimeBid = s2c.svrRecvTimeAsk = received
        s2c.svrRecvTimeBidTimestamp = s2c.svrRecvTimeAskTimestamp = book.update_time


def order_book_push(book: MarketBook, name: str) -> bytes:
    """The body of a Qot_UpdateOrderBook (3013) push of ``book``, every level."""
    response = Qot_UpdateOrderBook_pb2.Response(retType=RetType.OK)
    fill_order_book(response.s2c, book, name, len(book.asks))
    return response.SerializeToString()


def snapshot(
    quote: MarketQuote, book: MarketBook, listing: Listing
) -> Qot_GetSecuritySnapshot_pb2.Snapshot:
    """The 3203 snapshot of a security: its quote and the top of its book.

    Only the basic data: the simulator knows nothing of the figures the
    per-kind extra data (equity, warrant, option...) carries.
    """
    basic = Qot_GetSecuritySnapshot_pb2.SnapshotBasicData(
        type=listing.sec_type, isSuspend=False, lotSize=listing.lot_size, **_quote_fields(quote)
    )
    if quote.volume:
        basic.avgPrice = quote.turnover / quote.volume
    if book.asks:
        basic.askPrice = book.asks[0].price
        basic.askVol = book.asks[0].volume
    if book.bids:
        basic.bidPrice = book.bids[0].price
        basic.bidVol = book.bids[0].volume
    return Qot_GetSecuritySnapshot_pb2.Snapshot(basic=basic)
