"""Watchlist features of the client end to end against the simulator."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import asyncquote
from asyncquote import GroupType, ModifyOp, Security, SystemGroup
from asyncquote.sim import Faults, Simulator, parse_code
from asyncquote.sim import ModifyOp as SimModifyOp

from ..conftest import OnTriosVirtualClock, Runner

pytestmark = pytest.mark.anyio

GUS = 3213


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def gus_requests(sim: Simulator) -> int:
    return sum(1 for r in sim.requests if r.proto_id == GUS)


async def test_50_concurrent_callers_of_one_group_cause_one_request_at_the_simulator() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        results: list[list[asyncquote.SecurityStaticInfo]] = []

        async def call(name: str) -> None:
            results.append(await client.get_user_security(name))

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(call, "All" if i % 2 else "全部")  # one group, two names
    assert gus_requests(sim) == 1
    assert len(results) == 50
    assert all(r == results[0] for r in results)
    assert len({id(r) for r in results}) == 50, "each caller gets its own list"


async def test_concurrent_callers_share_the_same_error_too() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        errors: list[BaseException] = []

        async def call() -> None:
            try:
                await client.get_user_security("no such group")
            except asyncquote.OpenDError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(call)
    assert gus_requests(sim) == 1
    assert len(errors) == 10
    assert all("Unknown watchlists" in str(e) for e in errors)


async def test_unqueryable_system_groups_are_refused_without_spending_quota() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        for name in ("Positions", "持仓", "Forex"):
            with pytest.raises(asyncquote.InvalidArgumentError, match="not available"):
                await client.get_user_security(name)
        assert client.quota(GUS).used == 0
    assert gus_requests(sim) == 0


async def test_system_group_constants_work_as_group_names() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        assert await client.get_user_security(SystemGroup.HK) == await client.get_user_security(
            "港股", max_age=60
        )


async def test_get_user_security_group_lists_groups_by_type() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        every = await client.get_user_security_group()
        custom = await client.get_user_security_group(GroupType.CUSTOM)
        system = await client.get_user_security_group(GroupType.SYSTEM)
    assert {g.name for g in every} == {g.name for g in custom} | {g.name for g in system}
    assert all(g.type is GroupType.CUSTOM for g in custom)
    assert all(g.type is GroupType.SYSTEM for g in system)
    assert "Tech" in {g.name for g in custom}
    assert any(g.system_group is SystemGroup.ALL for g in system)


@pytest.mark.parametrize("bad", [0, 4, "ALL", None, True])
async def test_a_bad_group_type_is_refused_before_sending(bad: object) -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        with pytest.raises(asyncquote.InvalidArgumentError, match="group_type"):
            await client.get_user_security_group(bad)  # type: ignore[arg-type]
    assert not [r for r in sim.requests if r.proto_id == 3222]


@pytest.mark.parametrize(
    ("op", "securities", "match"),
    [
        (ModifyOp.ADD, [], "must not be empty"),
        (ModifyOp.ADD, "HK.00700", "not a single str"),
        (ModifyOp.ADD, ["HK00700"], "HK00700"),
        (ModifyOp.ADD, ["XX.00700"], "XX"),
        (ModifyOp.ADD, ["HK."], "HK."),
        (ModifyOp.ADD, [700], "700"),
        (ModifyOp.ADD, None, "iterable"),
        (5, ["HK.00700"], "op must be"),
        (True, ["HK.00700"], "op must be"),
    ],
)
async def test_bad_modify_arguments_are_refused_before_sending(
    op: object, securities: object, match: str
) -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        with pytest.raises(asyncquote.InvalidArgumentError, match=match):
            await client.modify_user_security("Tech", op, securities)  # type: ignore[arg-type]
    assert not [r for r in sim.requests if r.proto_id == 3214]


async def test_modify_accepts_security_objects_and_codes() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        before = {str(i.security) for i in await client.get_user_security("Tech")}
        assert "US.TSLA" in before
        await client.modify_user_security("Tech", ModifyOp.MOVE_OUT, [Security.parse("US.TSLA")])
        after = {str(i.security) for i in await client.get_user_security("Tech")}
        assert after == before - {"US.TSLA"}
        await client.modify_user_security("Tech", ModifyOp.ADD, ["US.TSLA"])
        again = {str(i.security) for i in await client.get_user_security("Tech")}
        assert again == before


async def test_modify_drops_cached_results() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        cached = await client.get_user_security("Tech", max_age=600)
        await client.modify_user_security("Tech", ModifyOp.MOVE_OUT, [cached[0].security])
        fresh = await client.get_user_security("Tech", max_age=600)
        assert fresh == cached[1:]


@pytest.mark.parametrize(
    ("groups", "kwargs", "match"),
    [
        ([], {}, "at least one"),
        ("HK", {}, "not one str"),
        (["HK"], {"interval": 0}, "interval"),
        (["HK"], {"quota_share": 0}, "quota_share"),
        (["HK"], {"quota_share": 1.5}, "quota_share"),
        (["Positions"], {}, "not available"),
    ],
)
async def test_bad_watch_arguments_are_refused(
    groups: object, kwargs: dict[str, object], match: str
) -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        with pytest.raises(asyncquote.InvalidArgumentError, match=match):
            async with client.watch_user_security(groups, **kwargs):  # type: ignore[arg-type]
                pass


def count_entry_decoding(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every watchlist entry the client turns into models."""
    import asyncquote._client.entry_cache as entry_cache

    decoded: list[object] = []
    real = entry_cache.static_info_from_pb

    def counting(pb: Any) -> asyncquote.SecurityStaticInfo:
        decoded.append(pb)
        return real(pb)

    monkeypatch.setattr(entry_cache, "static_info_from_pb", counting)
    return decoded


async def test_an_unchanged_reply_reuses_the_models_instead_of_decoding_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded = count_entry_decoding(monkeypatch)
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        first = await client.get_user_security("Tech")
        second = await client.get_user_security("Tech")
        assert gus_requests(sim) == 2, "both calls asked OpenD"
        assert len(decoded) == len(first), "the second, identical reply was not decoded"
        assert second == first
        assert all(a is b for a, b in zip(first, second, strict=True))
        assert second is not first
        await client.modify_user_security("Tech", ModifyOp.MOVE_OUT, [first[0].security])
        third = await client.get_user_security("Tech")
        assert third == first[1:]
        assert all(a is b for a, b in zip(third, first[1:], strict=True))
        assert len(decoded) == len(first), "a changed reply decodes only entries it has not seen"


async def test_entries_shared_by_groups_are_decoded_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded = count_entry_decoding(monkeypatch)
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        tech = await client.get_user_security("Tech")
        everything = await client.get_user_security("All")
        assert set(tech) <= set(everything)
        assert len(decoded) == len(everything), "Tech's entries were not decoded again for All"
        by_security = {item.security: item for item in everything}
        assert all(by_security[item.security] is item for item in tech)


class TestOnTriosVirtualClock(OnTriosVirtualClock):
    """The tests that wait: max_age, poll periods, reconnects."""

    async def test_max_age_returns_a_fresh_enough_cached_result_without_a_request(self) -> None:
        async with (
            Simulator(port=0) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        ):
            first = await client.get_user_security("HK", max_age=10)
            await anyio.sleep(5)
            assert await client.get_user_security("港股", max_age=10) == first
            assert gus_requests(sim) == 1
            await anyio.sleep(6)
            await client.get_user_security("HK", max_age=10)  # 11 s old: refetched
            assert gus_requests(sim) == 2
            await client.get_user_security("HK")  # no max_age: always asks
            assert gus_requests(sim) == 3

    async def test_watch_reports_changes_made_through_the_client(self) -> None:
        async with (
            Simulator(port=0) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
            client.watch_user_security(["Tech", "US"], interval=10) as events,
        ):
            first = [await events.__anext__() for _ in range(2)]
            assert {e.group for e in first} == {"Tech", "US"}
            assert all(isinstance(e, asyncquote.WatchlistChange) and e.initial for e in first)
            tech = next(e for e in first if e.group == "Tech")
            assert isinstance(tech, asyncquote.WatchlistChange)
            victim = tech.current[0].security
            await client.modify_user_security("Tech", ModifyOp.MOVE_OUT, [victim])
            change = await events.__anext__()
            assert isinstance(change, asyncquote.WatchlistChange)
            assert change.group == "Tech"
            assert [i.security for i in change.removed] == [victim]
            assert change.added == ()
        assert len(sim.rejections) == 0

    async def test_watching_leaves_room_in_the_quota_for_other_calls(self) -> None:
        async with (
            Simulator(port=0) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
            client.watch_user_security(["All", "HK", "US", "Tech"], interval=1) as events,
        ):
            assert events.period == pytest.approx(24.0)  # 4 groups in half of 10 per 30 s
            await anyio.sleep(300)
            start = anyio.current_time()
            # An ad-hoc caller still gets through at once.
            await client.get_user_security("CN")
            assert anyio.current_time() - start < 1
        assert len(sim.rejections) == 0
        assert sim.max_arrivals_in_window(GUS, 30.0) <= 10

    async def test_leaving_the_watch_block_stops_polling(self) -> None:
        async with (
            Simulator(port=0) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        ):

            def watcher_tasks() -> list[str]:
                names = [t.name or "" for t in anyio.get_running_tasks()]
                return [n for n in names if "WatchlistWatcher" in n]

            async with client.watch_user_security(["Tech"], interval=10) as events:
                await events.__anext__()
                assert watcher_tasks()
            polls = gus_requests(sim)
            await anyio.sleep(100)
            assert gus_requests(sim) == polls
            assert watcher_tasks() == []

    async def test_watching_survives_a_dropped_connection_and_goes_on_after_the_reconnect(
        self,
    ) -> None:
        policy = asyncquote.ReconnectPolicy(initial_delay=1, jitter=0)
        async with (
            Simulator(port=0, faults=Faults(reply_delay=5.0)) as sim,
            asyncquote.connect(
                sim.host, sim.port, keepalive=False, reconnect=policy, timeout=30, retry_reads=False
            ) as client,
            client.watch_user_security(["Tech"], interval=10) as events,
        ):
            first = await events.__anext__()  # polled at 0 s, answered at 5 s
            assert isinstance(first, asyncquote.WatchlistChange)
            await anyio.sleep(12)  # the next poll, sent at 15 s, is in flight...
            await sim.drop_connections()  # ...when the gateway drops it
            error = await events.__anext__()
            assert isinstance(error, asyncquote.WatchError)
            assert isinstance(error.error, asyncquote.ConnectionLostError)
            victim = first.current[0].security
            sim.watchlists.modify("Tech", SimModifyOp.MOVE_OUT, [parse_code(str(victim))])
            change = await events.__anext__()
            assert isinstance(change, asyncquote.WatchlistChange)
            assert [i.security for i in change.removed] == [victim]
            assert client.reconnects == 1

    async def test_watching_ends_with_connection_lost_once_the_client_is_closed_for_good(
        self,
    ) -> None:
        async with (
            Simulator(port=0, faults=Faults(reply_delay=5.0)) as sim,
            asyncquote.connect(
                sim.host, sim.port, keepalive=False, reconnect=False, timeout=30
            ) as client,
            client.watch_user_security(["Tech"], interval=10) as events,
        ):
            await events.__anext__()
            await anyio.sleep(12)
            await sim.drop_connections()
            with pytest.raises(asyncquote.ConnectionLostError, match="stopped watching Tech"):
                await events.__anext__()
