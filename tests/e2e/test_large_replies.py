"""A large watchlist reply is decoded in slices: other tasks, and other calls, run between them."""

from __future__ import annotations

import gc
import queue
import random
import threading
from collections.abc import Callable

import anyio
import pytest

import asyncquote
from asyncquote import SecurityStaticInfo
from asyncquote._client import entry_cache
from asyncquote._models.convert import static_infos_from_pb
from asyncquote._pb import Qot_Common_pb2
from asyncquote.sim import GroupType, Simulator, WatchlistGroup, WatchlistStore

from ..conftest import Runner

pytestmark = pytest.mark.anyio

LARGE = 2000


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


def stock(n: int) -> Qot_Common_pb2.SecurityStaticInfo:
    info = Qot_Common_pb2.SecurityStaticInfo()
    basic = info.basic
    basic.security.market = 1
    basic.security.code = f"{n:05d}"
    basic.id = n + 1
    basic.lotSize = 100
    basic.secType = 3
    basic.name = f"Stock {n}"
    basic.listTime = "2004-06-16"
    return info


def store() -> WatchlistStore:
    stocks = [stock(n) for n in range(LARGE)]
    keys = [(1, f"{n:05d}") for n in range(LARGE)]
    groups = [
        WatchlistGroup("Large", GroupType.CUSTOM, keys),
        WatchlistGroup("Small", GroupType.CUSTOM, keys[:3]),
    ]
    return WatchlistStore(stocks, groups)


def record_slices(
    monkeypatch: pytest.MonkeyPatch, events: list[str], first_large_slice: Callable[[], None]
) -> None:
    """One chunk of entries per slice, and each slice of the large reply logged."""
    monkeypatch.setattr(entry_cache, "SLICE_SECONDS", 0.0)
    real_step = entry_cache.ReplyDecoding.step

    def step(self: entry_cache.ReplyDecoding, seconds: float | None = None) -> bool:
        done = real_step(self, seconds)
        if len(self.models) > 3 or not done:  # the large reply
            if "large slice" not in events:
                first_large_slice()
            events.append("large slice")
        return done

    monkeypatch.setattr(entry_cache.ReplyDecoding, "step", step)


async def test_a_small_call_returns_while_a_large_reply_is_still_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []
    sliced = anyio.Event()
    record_slices(monkeypatch, events, sliced.set)
    results: dict[str, list[SecurityStaticInfo]] = {}
    async with (
        Simulator(port=0, watchlists=store()) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):

        async def large() -> None:
            results["large"] = await client.get_user_security("Large")
            events.append("large done")

        async def small() -> None:
            await sliced.wait()  # the large reply has arrived and is being decoded
            results["small"] = await client.get_user_security("Small")
            events.append("small done")

        async with anyio.create_task_group() as tg:
            tg.start_soon(large)
            tg.start_soon(small)
        expected = static_infos_from_pb(sim.watchlists.securities_in("Large"))
    assert events.index("small done") < events.index("large done")
    after_small = events[events.index("small done") :]
    assert "large slice" in after_small, "the large reply was not still being decoded"
    assert events.count("large slice") > 10
    assert results["large"] == expected
    assert results["small"] == expected[:3]


async def test_a_call_cancelled_between_slices_keeps_no_partial_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []
    sliced = anyio.Event()
    record_slices(monkeypatch, events, sliced.set)
    async with (
        Simulator(port=0, watchlists=store()) as sim,
        asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
    ):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.get_user_security, "Large")
            await sliced.wait()
            tg.cancel_scope.cancel()
        assert events.count("large slice") < LARGE // 32, "the decoding was not cut short"
        # Nothing partial was kept for max_age: this call asks OpenD again.
        again = await client.get_user_security("Large", max_age=60)
        assert len(again) == LARGE
        assert again == static_infos_from_pb(sim.watchlists.securities_in("Large"))


class GcSwitcher:
    """An application thread that switches the cyclic GC when asked, and remembers what it set."""

    def __init__(self) -> None:
        self.last_set = gc.isenabled()
        self._requests: queue.Queue[bool | None] = queue.Queue()
        self._done: queue.Queue[None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while (enable := self._requests.get()) is not None:
            if enable:
                gc.enable()
            else:
                gc.disable()
            self.last_set = enable
            self._done.put(None)

    def switch(self, enable: bool) -> None:
        """Have the thread switch the GC, and wait until it has."""
        self._requests.put(enable)
        self._done.get(timeout=10)

    def __enter__(self) -> GcSwitcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._requests.put(None)
        self._thread.join(timeout=10)
        gc.enable()


async def test_decoding_keeps_the_gc_switch_another_thread_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 20, item 7: the switch is the application's. Another thread flips
    # it while replies decode (at chosen entries, so that it happens inside a
    # slice every time, not by luck); afterwards it is as that thread last set it.
    convert = entry_cache.static_info_from_pb
    chooser = random.Random(20)
    with GcSwitcher() as switcher:

        def converting(pb: Qot_Common_pb2.SecurityStaticInfo) -> SecurityStaticInfo:
            if chooser.random() < 0.01:
                switcher.switch(chooser.random() < 0.5)
            return convert(pb)

        monkeypatch.setattr(entry_cache, "static_info_from_pb", converting)
        async with (
            Simulator(port=0, watchlists=store()) as sim,
            asyncquote.connect(sim.host, sim.port, keepalive=False) as client,
        ):
            for call in range(5):
                # Forgotten results and entries: every call decodes all 2,000 anew.
                client._results.clear()
                client._entries.clear()
                await client.get_user_security("Large")
                assert gc.isenabled() == switcher.last_set, (
                    f"call {call}: the application thread last set the GC "
                    f"{'on' if switcher.last_set else 'off'}, it is "
                    f"{'on' if gc.isenabled() else 'off'}"
                )
