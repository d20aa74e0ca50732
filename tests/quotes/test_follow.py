"""Following a watchlist group against the simulator, on every runner; the quota's
retries and the one-minute rule on trio's virtual clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest

import asyncquote
from asyncquote import (
    AuType,
    BasicQuote,
    FollowStream,
    InvalidArgumentError,
    KLineUpdate,
    ModifyOp,
    NotFollowed,
    ReconnectPolicy,
    StreamDropped,
    StreamGap,
    SubType,
    Ticker,
    UnknownGroupError,
    WatchlistChange,
)
from asyncquote._pb import Qot_Sub_pb2
from asyncquote.sim import Simulator

from ..conftest import OnTriosVirtualClock, Runner
from .test_client import eventually

pytestmark = pytest.mark.anyio

FAST = ReconnectPolicy(initial_delay=0.01, max_delay=0.05, jitter=0)
# No quota on polling the group (the client's and the simulator's), so that a
# short interval is kept as given.
FREE_POLLS = {3213: None}
FREE_SIM_POLLS = {3213: None, 3214: None}
TECH = ["US.AAPL", "US.TSLA", "HK.00700", "HK.09988", "US.FUTU"]


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def codes(items: Any) -> list[str]:
    """Code strings of securities, or of the watchlist entries holding them."""
    return [str(item.basic.security if hasattr(item, "basic") else item) for item in items]


async def next_of(stream: FollowStream, kind: type, *, where: Any = None) -> Any:
    """The next item of ``kind`` (and passing ``where``), skipping the others."""
    async for item in stream:
        if isinstance(item, kind) and (where is None or where(item)):
            return item
    raise AssertionError("the stream ended")


def traded(ticker: Ticker) -> bool:
    """A trade with volume: not the opening auction's that the simulator starts with."""
    return ticker.volume > 0


def sub_requests(sim: Simulator, *, subscribe: bool) -> list[list[str]]:
    """The securities of each Qot_Sub the simulator read."""
    found = []
    for record in sim.requests:
        if record.proto_id == 3001:
            c2s = Qot_Sub_pb2.Request.FromString(record.body).c2s
            if c2s.isSubOrUnSub is subscribe:
                found.append([s.code for s in c2s.securityList])
    return found


async def test_the_stream_follows_the_group_as_another_client_edits_it(runner: Runner) -> None:
    async with (
        Simulator(port=0, quote_rate=20, quotas=FREE_SIM_POLLS) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, quotas=FREE_POLLS) as client,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as app,
        client.follow_user_security("Tech", [SubType.QUOTE], interval=0.05) as stream,
    ):
        with anyio.fail_after(20):
            first = await stream.__anext__()
            assert isinstance(first, WatchlistChange)
            assert first.initial
            assert codes(first.added) == TECH
            assert codes(stream.members) == TECH
            assert sub_requests(sim, subscribe=True) == [[c.split(".")[1] for c in TECH]]
            seen = set()
            while len(seen) < len(TECH):
                quote = await next_of(stream, BasicQuote)
                seen.add(str(quote.security))
            assert seen == set(TECH)

            await app.modify_user_security("Tech", ModifyOp.MOVE_OUT, ["US.AAPL"])
            await app.modify_user_security("Tech", ModifyOp.ADD, ["US.SPY"])
            changes: list[WatchlistChange] = []
            while "US.SPY" not in codes(stream.members):
                changes.append(await next_of(stream, WatchlistChange))
            assert ["US.AAPL"] in [codes(c.removed) for c in changes]
            assert ["US.SPY"] in [codes(c.added) for c in changes]
            assert "US.AAPL" not in codes(stream.members)
            spy = await next_of(stream, BasicQuote, where=lambda q: str(q.security) == "US.SPY")
            assert spy.cur_price > 0
            # Released, not unsubscribed yet: OpenD's one-minute rule.
            status = client.subscriptions
            assert [p.security for p in status.pending_unsubscribes] == ["US.AAPL"]
            assert {p.security for p in status.pairs} == set(TECH) - {"US.AAPL"} | {"US.SPY"}
            assert all(p.streams == ("follow Tech",) for p in status.pairs)
            assert sub_requests(sim, subscribe=False) == []
    assert len(sim.rejections) == 0


async def test_leaving_the_block_releases_every_member_and_stops_polling(
    runner: Runner,
) -> None:
    async with (
        Simulator(port=0, quotas=FREE_SIM_POLLS) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, quotas=FREE_POLLS) as client,
    ):
        with anyio.fail_after(20):
            async with client.follow_user_security("Macro", [SubType.QUOTE], interval=0.05) as s:
                await next_of(s, BasicQuote)
            after = client.subscriptions
            assert after.pairs == ()
            assert len(after.pending_unsubscribes) == 3
            polls = sum(1 for r in sim.requests if r.proto_id == 3213)
            await anyio.sleep(0.3)
            assert sum(1 for r in sim.requests if r.proto_id == 3213) == polls
            rest = [item async for item in s]  # what was buffered, then the end
            assert all(isinstance(item, BasicQuote) for item in rest)


async def test_a_reconnect_marks_a_gap_and_the_members_are_subscribed_again(
    runner: Runner,
) -> None:
    async with (
        Simulator(port=0, quote_rate=20, quotas=FREE_SIM_POLLS) as sim,
        asyncquote.connect(
            sim.host, sim.port, keepalive=False, reconnect=FAST, quotas=FREE_POLLS
        ) as client,
        client.follow_user_security("Macro", [SubType.QUOTE], interval=0.05) as stream,
    ):
        with anyio.fail_after(20):
            await next_of(stream, BasicQuote)
            await sim.drop_connections()
            await next_of(stream, StreamGap)
            await next_of(stream, BasicQuote)
            assert len(sub_requests(sim, subscribe=True)) == 2
            assert codes(stream.members) == ["HK.800000", "HK.HSImain", "US.SPY"]


async def test_an_unknown_group_is_a_typed_error_naming_the_groups(runner: Runner) -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        with pytest.raises(UnknownGroupError) as caught:
            async with client.follow_user_security("Tehc", [SubType.QUOTE]):
                raise AssertionError("not reached")
        assert caught.value.group == "Tehc"
        assert "Tech" in caught.value.groups
        assert isinstance(caught.value, asyncquote.OpenDError)
        assert sub_requests(sim, subscribe=True) == []
        assert client.subscriptions.pairs == ()
        assert await client.get_user_security("Tech")  # the client goes on


@pytest.mark.parametrize(
    ("group", "sub_types", "kwargs"),
    [
        ("Tech", [SubType.TICKER, SubType.NONE], {}),
        ("Tech", SubType.QUOTE, {}),
        ("Tech", [], {}),
        ("", [SubType.QUOTE], {}),
        (7, [SubType.QUOTE], {}),
        ("Tech", [SubType.QUOTE], {"interval": 0}),
        ("Tech", [SubType.QUOTE], {"quota_share": 2}),
        ("Tech", [SubType.QUOTE], {"buffer": 0}),
        ("Tech", [SubType.QUOTE], {"name": ""}),
        ("Tech", [SubType.QUOTE], {"timeout": -1}),
        ("Tech", [SubType.TICKER], {"extended_time": 1}),
        ("Tech", [SubType.TICKER], {"session": "EVENING"}),
        ("Tech", [SubType.TICKER], {"session": None}),
        ("Tech", [SubType.K_1M], {"autype": "QFQ"}),
        ("Tech", [SubType.K_1M], {"autype": 7}),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    runner: Runner, group: Any, sub_types: Any, kwargs: dict[str, Any]
) -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        before = len(sim.requests)
        with pytest.raises(InvalidArgumentError):
            async with client.follow_user_security(group, sub_types, **kwargs):
                raise AssertionError("not reached")
        assert len(sim.requests) == before


async def test_a_group_is_followed_for_trades_and_k_lines_in_order(runner: Runner) -> None:
    async with (
        Simulator(port=0, quote_rate=0, quotas=FREE_SIM_POLLS) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, quotas=FREE_POLLS) as client,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as app,
        client.follow_user_security(
            "Tech", [SubType.TICKER, SubType.K_1M], interval=0.05
        ) as stream,
    ):
        with anyio.fail_after(20):
            assert isinstance(await stream.__anext__(), WatchlistChange)
            scripted = [
                sim.market.trade("HK.00700", price, volume)
                for price, volume in ((400.2, 100), (400.4, 200), (400.0, 300))
            ]
            # Each trade in order, after each member's latest (the opening auction's,
            # no volume); the open bar conflated into its newest state, where it waited.
            trades: list[Ticker] = []
            bars: list[KLineUpdate] = []
            async for item in stream:
                if isinstance(item, Ticker) and traded(item):
                    trades.append(item)
                elif isinstance(item, KLineUpdate) and str(item.kline.security) == "HK.00700":
                    bars.append(item)
                if len(trades) == len(scripted) and bars and bars[-1].kline.volume == 600:
                    break
            assert [(t.sequence, t.price, t.volume) for t in trades] == [
                (t.sequence, t.price, t.volume) for t in scripted
            ]
            assert not any(bar.closed for bar in bars)
            assert bars[-1].kline.close_price == 400.0
            # A removed member's trades stop: the next trade read is another member's.
            await app.modify_user_security("Tech", ModifyOp.MOVE_OUT, ["HK.00700"])
            change = await next_of(stream, WatchlistChange)
            assert codes(change.removed) == ["HK.00700"]
            sim.market.trade("HK.00700", 400.2, 100)
            alibaba = sim.market.trade("HK.09988", 4.5, 100)
            after = await next_of(stream, Ticker, where=traded)
            assert (str(after.security), after.sequence) == ("HK.09988", alibaba.sequence)
            assert stream.dropped == 0


async def test_a_stopped_reader_of_a_followed_groups_trades_is_told_of_the_drops(
    runner: Runner,
) -> None:
    # The US members' opening trades are pushed only in regular hours: pin it outside them.
    hong_kong_morning = datetime(2026, 1, 6, 10, 0, tzinfo=ZoneInfo("Asia/Hong_Kong"))
    async with (
        Simulator(port=0, quote_rate=0, clock_start=hong_kong_morning) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False, reconnect=FAST) as client,
        client.follow_user_security("Tech", [SubType.TICKER], buffer=8) as stream,
    ):
        with anyio.fail_after(20):
            assert isinstance(await stream.__anext__(), WatchlistChange)
            scripted = [sim.market.trade("HK.00700", 400.2, 100) for _ in range(30)]
            await client.get_rt_ticker("HK.00700", 1)  # a reply: the pushes before it are in
            # The two HK members' opening trades (first pushed) and 30 more: 8 kept.
            assert (stream.pending, stream.dropped, stream.superseded) == (8, 24, 0)
            assert await stream.__anext__() == StreamDropped(count=24)
            kept = [await stream.__anext__() for _ in range(8)]
            assert [t.sequence for t in kept] == [t.sequence for t in scripted[-8:]]
            # A reconnect: a gap, then the trades go on, subscribed again.
            await sim.drop_connections()
            assert await next_of(stream, StreamGap) == StreamGap(reconnects=1)
            await next_of(stream, Ticker)  # a first push: subscribed again
            trade = sim.market.trade("HK.00700", 400.4, 200)
            again = await next_of(stream, Ticker, where=lambda t: t.volume == 200)
            assert again.sequence == trade.sequence
            assert stream.dropped == 24


NEW_YORK = ZoneInfo("America/New_York")


def pre_market_simulator() -> Simulator:
    """A still simulator whose market clock starts at 08:00 New York time (pre-market)
    on a day to come (its market only moves forward)."""
    day = datetime.now(NEW_YORK).date() + timedelta(days=2)
    start = datetime.combine(day, time(8, 0), NEW_YORK)
    return Simulator(port=0, quote_rate=0, quotas=FREE_SIM_POLLS, clock_start=start)


def sub_options(sim: Simulator) -> list[tuple[int, list[str], bool, int, list[int]]]:
    """Each subscribing Qot_Sub the simulator read: its connection, codes, extendedTime,
    session and K-line adjustments."""
    found = []
    for record in sim.requests:
        if record.proto_id == 3001:
            c2s = Qot_Sub_pb2.Request.FromString(record.body).c2s
            if c2s.isSubOrUnSub:
                found.append(
                    (
                        record.conn_id,
                        [s.code for s in c2s.securityList],
                        c2s.extendedTime,
                        c2s.session,
                        list(c2s.regPushRehabTypeList),
                    )
                )
    return found


async def next_trade(stream: FollowStream) -> Ticker:
    """The next trade with volume (not an opening print)."""
    trade: Ticker = await next_of(stream, Ticker, where=traded)
    return trade


async def test_a_followed_us_members_pre_market_trades_come_only_with_extended_time(
    runner: Runner,
) -> None:
    async with (
        pre_market_simulator() as sim,
        asyncquote.connect(
            sim.host, sim.port, keepalive=False, reconnect=FAST, quotas=FREE_POLLS
        ) as client,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as app,
        client.follow_user_security("Tech", [SubType.TICKER], interval=0.05) as plain,
        client.follow_user_security(
            "Tech", [SubType.TICKER], extended_time=True, interval=0.05
        ) as wide,
    ):
        with anyio.fail_after(20):
            for stream in (plain, wide):
                assert isinstance(await stream.__anext__(), WatchlistChange)
            # The wider stream subscribed the members again, with the extended hours.
            sent = [(codes, extended) for _, codes, extended, _, _ in sub_options(sim)]
            members = ["AAPL", "TSLA", "00700", "09988", "FUTU"]
            assert sent == [(members, False), (members, True)]
            apple = sim.market.trade("US.AAPL", 250.0, 10)
            tencent = sim.market.trade("HK.00700", 400.2, 100)
            assert (await next_trade(wide)).sequence == apple.sequence
            assert (await next_trade(wide)).sequence == tencent.sequence
            # The plain stream's next trade is Tencent's: not Apple's pre-market one.
            first = await next_trade(plain)
            assert (str(first.security), first.sequence) == ("HK.00700", tencent.sequence)

            # A member added later is subscribed with the options too.
            await app.modify_user_security("Tech", ModifyOp.ADD, ["US.SPY"])
            for stream in (plain, wide):
                await next_of(stream, WatchlistChange, where=lambda c: c.added)
            # (The change is read before its subscribe is sent: wait for the wide one.)
            await eventually(lambda: [o for o in sub_options(sim) if o[1] == ["SPY"] and o[2]])
            spy = sim.market.trade("US.SPY", 500.0, 10)
            tencent = sim.market.trade("HK.00700", 400.4, 100)
            assert (await next_trade(wide)).sequence == spy.sequence
            assert (await next_trade(plain)).sequence == tencent.sequence

            # After a reconnect, every member is subscribed again with them.
            await sim.drop_connections()
            for stream in (plain, wide):
                await next_of(stream, StreamGap)
            await eventually(lambda: len({o[0] for o in sub_options(sim)}) == 2)
            again = [o for o in sub_options(sim) if o[0] != sub_options(sim)[0][0]]
            assert {code for o in again for code in o[1]} == {
                "AAPL", "TSLA", "00700", "09988", "FUTU", "SPY"
            }  # fmt: skip
            assert all(o[2] for o in again)
            apple = sim.market.trade("US.AAPL", 250.2, 10)
            # (After the first pushes: each member's latest trade again.)
            await next_of(wide, Ticker, where=lambda t: t.price == apple.price)


async def test_a_followed_groups_k_lines_come_with_the_adjustment_asked(runner: Runner) -> None:
    async with (
        Simulator(port=0, quote_rate=0, quotas=FREE_SIM_POLLS) as sim,
        asyncquote.connect(
            sim.host, sim.port, keepalive=False, reconnect=FAST, quotas=FREE_POLLS
        ) as client,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as app,
        client.follow_user_security("Tech", [SubType.K_1M], autype="hfq", interval=0.05) as stream,
    ):
        with anyio.fail_after(20):
            assert isinstance(await stream.__anext__(), WatchlistChange)
            assert [o[4] for o in sub_options(sim)] == [[AuType.HFQ]]
            trade = sim.market.trade("HK.00700", 400.2, 100)
            bar = await next_of(stream, KLineUpdate, where=lambda u: u.kline.volume > 0)
            assert (str(bar.kline.security), bar.kline.close_price) == ("HK.00700", trade.price)
            assert bar.kline.au_type == AuType.HFQ

            await app.modify_user_security("Tech", ModifyOp.ADD, ["HK.03690"])
            await next_of(stream, WatchlistChange, where=lambda c: c.added)
            # (The change is read before its subscribe is sent.)
            await eventually(lambda: sub_options(sim)[-1][1] == ["03690"])
            assert sub_options(sim)[-1][2:] == (False, 0, [AuType.HFQ])
            sim.market.trade("HK.03690", 120.0, 100)
            bar = await next_of(stream, KLineUpdate, where=lambda u: u.kline.volume > 0)
            assert (str(bar.kline.security), bar.kline.au_type) == ("HK.03690", AuType.HFQ)

            await sim.drop_connections()
            await next_of(stream, StreamGap)
            sim.market.trade("HK.03690", 120.1, 200)
            bar = await next_of(stream, KLineUpdate, where=lambda u: u.kline.volume >= 300)
            assert bar.kline.au_type == AuType.HFQ
            first_connection = sub_options(sim)[0][0]
            again = [o for o in sub_options(sim) if o[0] != first_connection]
            assert again
            assert all(o[4] == [AuType.HFQ] for o in again)


async def test_following_beside_a_stream_of_another_adjustment_leaves_it_its_k_lines(
    runner: Runner,
) -> None:
    async with (
        Simulator(port=0, quote_rate=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        client.subscribe(["HK.00700"], [SubType.K_1M], autype="hfq") as backward,
        client.follow_user_security("Tech", [SubType.K_1M]) as forward,
    ):
        with anyio.fail_after(20):
            # The shared pair was subscribed again with both adjustments.
            assert sub_options(sim)[-1][4] == [AuType.QFQ, AuType.HFQ]
            trade = sim.market.trade("HK.00700", 400.2, 100)
            for stream, au_type in [(backward, AuType.HFQ), (forward, AuType.QFQ)]:
                bar = await next_of(
                    stream,  # type: ignore[arg-type]
                    KLineUpdate,
                    where=lambda u: u.kline.close_price == trade.price,
                )
                assert bar.kline.au_type == au_type


class TestOnTriosVirtualClock(OnTriosVirtualClock):
    """The quota and OpenD's minute, as the simulator keeps them, on trio's virtual clock."""

    async def test_a_group_beyond_the_quota_is_followed_as_far_as_it_fits(self) -> None:
        async with (
            Simulator(port=0, subscription_quota=3) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
            client.follow_user_security("Tech", [SubType.QUOTE], interval=10) as stream,
        ):
            first = await stream.__anext__()
            assert isinstance(first, WatchlistChange)
            left = await next_of(stream, NotFollowed)
            assert left.quota_exceeded
            assert codes(left.securities) == TECH[3:]
            assert codes(stream.members) == TECH[:3]
            assert codes(stream.not_followed) == TECH[3:]
            # Room comes only when a member's unsubscribe is sent, a minute
            # after its subscribe: then a member left out gets in, unasked.
            await client.modify_user_security("Tech", ModifyOp.MOVE_OUT, ["US.AAPL"])
            start = anyio.current_time()
            skipped = []
            with anyio.fail_after(600):  # virtual seconds
                async for item in stream:
                    if isinstance(item, BasicQuote) and str(item.security) in TECH[3:]:
                        joined = item
                        break
                    skipped.append(item)
            # Tried again every poll period meanwhile, reported once only.
            assert not [item for item in skipped if isinstance(item, NotFollowed)]
            assert anyio.current_time() - start >= 59
            assert codes(stream.members) == [*TECH[1:3], str(joined.security)]
            assert len(stream.not_followed) == 1
            assert len(sim.rejections) == 0

    async def test_a_followed_members_k_line_close_comes_as_a_closed_bar(self) -> None:
        async with (
            Simulator(port=0, quote_rate=0) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
            client.follow_user_security("Tech", [SubType.K_1M], interval=10) as stream,
        ):
            with anyio.fail_after(600):  # virtual seconds
                assert isinstance(await stream.__anext__(), WatchlistChange)
                # The bar of the minute after the simulator's opening trade...
                (opening,) = sim.market.tickers("HK.00700", 1)
                await anyio.sleep(61 - opening.time % 60)
                sim.market.trade("HK.00700", 400.2, 100)
                last = sim.market.trade("HK.00700", 400.4, 200)
                # ...closed by the first trade of the next minute.
                await anyio.sleep(61 - last.time % 60)
                sim.market.trade("HK.00700", 400.0, 300)
                # The opening minute's bar closed when ours began; then ours closes.
                ended = await next_of(stream, KLineUpdate, where=lambda u: u.closed)
                assert (ended.kline.volume, ended.kline.timestamp) == (0, opening.time // 60 * 60)
                closed = await next_of(stream, KLineUpdate, where=lambda u: u.closed)
                assert str(closed.kline.security) == "HK.00700"
                assert (closed.kline.open_price, closed.kline.close_price) == (400.2, 400.4)
                assert closed.kline.volume == 300
                opened = await next_of(stream, KLineUpdate)
                assert (opened.closed, opened.kline.open_price, opened.kline.volume) == (
                    False, 400.0, 300,
                )  # fmt: skip
