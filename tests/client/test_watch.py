"""The watchlist watcher, with a scripted fetch function, under trio's virtual clock."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest
import trio.testing

from asyncquote import (
    ConnectionLostError,
    OpenDError,
    Quota,
    Security,
    SecurityStaticBasic,
    SecurityStaticInfo,
    SecurityType,
    WatchError,
    WatchlistChange,
)
from asyncquote._client.watch import WatchlistWatcher, diff, poll_period

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


def item(code: str, name: str = "") -> SecurityStaticInfo:
    return SecurityStaticInfo(
        basic=SecurityStaticBasic(
            security=Security.parse(code),
            id=1,
            lot_size=100,
            sec_type=SecurityType.STOCK,
            name=name or code,
            list_time="2020-01-01",
        )
    )


A, B, C = item("HK.00700"), item("US.AAPL"), item("US.TSLA")


def test_the_first_diff_carries_the_whole_group() -> None:
    change = diff("G", None, [A, B])
    assert change == WatchlistChange("G", (A, B), (), (A, B), initial=True)


def test_no_change_gives_no_event_and_a_change_gives_added_and_removed() -> None:
    assert diff("G", [A, B], [A, B]) is None
    change = diff("G", [A, B], [B, C])
    assert change is not None
    assert (change.added, change.removed, change.current) == ((C,), (A,), (B, C))
    assert not change.initial


def test_a_renamed_security_is_a_change_without_additions_or_removals() -> None:
    change = diff("G", [A], [item("HK.00700", "renamed")])
    assert change is not None
    assert (change.added, change.removed) == ((), ())


def test_the_poll_period_keeps_the_watcher_within_its_share_of_the_quota() -> None:
    quota = Quota(10, 30.0)
    assert poll_period(3, 1.0, quota, 0.5) == pytest.approx(18.0)  # 3 polls per 18 s = 5/30 s
    assert poll_period(1, 60.0, quota, 0.5) == 60.0  # asked for slower: fine
    assert poll_period(3, 1.0, None, 0.5) == 1.0  # no quota, no stretching


class ScriptedFetch:
    """Returns, per group, the next list (or raises the next error) of a script."""

    def __init__(self, script: dict[str, list[object]]) -> None:
        self.script = script
        self.calls: list[tuple[str, float]] = []

    async def __call__(self, group: str) -> list[SecurityStaticInfo]:
        self.calls.append((group, anyio.current_time()))
        steps = self.script[group]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, list)
        return step


async def collect(
    watcher: WatchlistWatcher, count: int, until: Callable[[], bool] | None = None
) -> list[object]:
    events: list[object] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        async for event in watcher:
            events.append(event)
            if len(events) == count:
                break
        tg.cancel_scope.cancel()
    return events


async def test_events_come_on_first_sight_and_on_change_only() -> None:
    fetch = ScriptedFetch({"G": [[A], [A], [A, B], [A, B], [B]]})
    watcher = WatchlistWatcher(["G"], 10.0, fetch)
    start = anyio.current_time()
    events = await collect(watcher, 3)
    assert [(e.added, e.removed) for e in events if isinstance(e, WatchlistChange)] == [
        ((A,), ()),
        ((B,), ()),
        ((), (A,)),
    ]
    assert [round(t - start) for _, t in fetch.calls] == [0, 10, 20, 30, 40]


async def test_polls_of_several_groups_are_spread_evenly() -> None:
    fetch = ScriptedFetch({"G1": [[A]], "G2": [[B]], "G3": [[C]]})
    watcher = WatchlistWatcher(["G1", "G2", "G3"], 18.0, fetch)
    start = anyio.current_time()
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        await anyio.sleep(40)
        tg.cancel_scope.cancel()
    times = [round(t - start) for _, t in fetch.calls]
    assert times[:3] == [0, 0, 0]  # the first round goes at once
    assert times[3:] == [6, 12, 18, 24, 30, 36]
    assert [g for g, _ in fetch.calls[3:6]] == ["G1", "G2", "G3"]


async def test_a_failed_poll_is_reported_and_polling_goes_on() -> None:
    boom = OpenDError(-1, 1, "temporary", 3213)
    fetch = ScriptedFetch({"G": [[A], boom, [A, B]]})
    events = await collect(WatchlistWatcher(["G"], 5.0, fetch), 3)
    assert isinstance(events[0], WatchlistChange)
    assert isinstance(events[1], WatchError)
    assert events[1].error is boom
    assert isinstance(events[2], WatchlistChange)
    assert events[2].added == (B,)


async def test_a_lost_connection_ends_the_iteration_with_connection_lost() -> None:
    fetch = ScriptedFetch({"G": [[A], ConnectionLostError("gone")]})
    watcher = WatchlistWatcher(["G"], 5.0, fetch)
    events: list[object] = []

    async def consume() -> None:
        async for event in watcher:
            events.append(event)

    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        with pytest.raises(ConnectionLostError, match="stopped watching G"):
            await consume()
    assert len(events) == 1
