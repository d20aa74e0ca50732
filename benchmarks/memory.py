"""Memory held by many calls in flight, measured in a fresh process; run as a script.

The simulator's delayed port holds every reply back, so all the calls are
really waiting at once; the process reports how far its memory rose above
what it used just before the calls started::

    python -m benchmarks.memory {asyncquote,floor} PORT CALLS {rss,tracemalloc}

Two figures come back: ``in_flight_mb``, the peak until every request is out
and none answered, and ``burst_mb``, the peak over the whole burst, replies
and their decoding included. ``rss`` is what the operating system sees (the
resident set, sampled from a thread); ``tracemalloc`` is the Python heap
alone, and also reports ``tasks_mb``: the same number of bare asyncio tasks,
which is what the callers themselves cost, whatever they call. The two modes
run in separate processes because tracing inflates the resident set. One
JSON object goes to stdout.

The callers are plain asyncio tasks, the lightest way to have that many
calls waiting; an anyio task group costs several more KiB per task.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable

import anyio

import asyncquote

from .floor import FloorClient
from .watchlist import small_group

_MB = 1024 * 1024
_PAGE = resource.getpagesize()

# Waits until every call is in flight, then returns how many were.
Burst = Callable[[Callable[[], None]], Awaitable[int]]


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


class _RssSampler:
    """Tracks the peak resident set from a thread, as ``ru_maxrss`` cannot be reset."""

    def __init__(self) -> None:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


async def _tasks_alone(calls: int) -> int:
    """Heap taken by ``calls`` asyncio tasks that only wait (tracemalloc must be on)."""
    release = asyncio.Event()
    before, _ = tracemalloc.get_traced_memory()
    tasks = [asyncio.ensure_future(release.wait()) for _ in range(calls)]
    await asyncio.sleep(0)
    during, _ = tracemalloc.get_traced_memory()
    release.set()
    await asyncio.gather(*tasks)
    return during - before


async def _measure(mode: str, calls: int, burst: Burst) -> dict[str, float]:
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start()
        tasks_only = await _tasks_alone(calls)
        gc.collect()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        marks: list[int] = []
        in_flight = await burst(lambda: marks.append(tracemalloc.get_traced_memory()[1]))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {
            "in_flight_mb": (marks[0] - base) / _MB,
            "burst_mb": (peak - base) / _MB,
            "tasks_mb": tasks_only / _MB,
            "in_flight": in_flight,
        }
    base = _rss()
    with _RssSampler() as sampler:
        rss_marks: list[int] = []
        in_flight = await burst(lambda: rss_marks.append(max(sampler.peak, _rss())))
    return {
        "baseline_mb": base / _MB,
        "in_flight_mb": (rss_marks[0] - base) / _MB,
        "burst_mb": (sampler.peak - base) / _MB,
        "in_flight": in_flight,
    }


async def _until_sent(calls: int, in_flight: Callable[[], int]) -> int:
    """Wait until ``calls`` requests are out (or the first replies are back); return the most."""
    most = 0
    while True:
        now = in_flight()
        if now < most or now >= calls:
            return max(most, now)
        most = now
        await asyncio.sleep(0.005)


def _asyncquote(port: int, calls: int, mode: str) -> dict[str, float]:
    async def main() -> dict[str, float]:
        async with asyncquote.connect("127.0.0.1", port, quotas={3213: None}) as client:
            # Whatever is allocated once per process (imports, caches) comes first.
            await client.get_user_security(small_group(0))

            async def burst(mark: Callable[[], None]) -> int:
                # Each task, and the result it holds, goes as soon as it is
                # done, as a caller that has used its result would drop it.
                running: set[asyncio.Task[object]] = set()
                errors: list[BaseException] = []
                all_done = asyncio.Event()

                def finished(task: asyncio.Task[object]) -> None:
                    running.discard(task)
                    error = task.exception()
                    if error is not None:
                        errors.append(error)
                    if not running:
                        all_done.set()

                for index in range(calls):
                    task = asyncio.ensure_future(client.get_user_security(small_group(index)))
                    running.add(task)
                    task.add_done_callback(finished)
                in_flight = await _until_sent(calls, lambda: client.connection.pending_count)
                mark()
                await all_done.wait()
                if errors:
                    raise errors[0]
                return in_flight

            return await _measure(mode, calls, burst)

    return anyio.run(main, backend="asyncio")


def _floor(port: int, calls: int, mode: str) -> dict[str, float]:
    async def main() -> dict[str, float]:
        client = await FloorClient.connect("127.0.0.1", port)
        try:
            await client.windowed([small_group(0)], 1, 1)

            async def burst(mark: Callable[[], None]) -> int:
                # The floor writes every request before it reads any reply.
                groups = [small_group(i) for i in range(calls)]
                await client.windowed(groups, calls, calls, sent=mark)
                return calls

            return await _measure(mode, calls, burst)
        finally:
            await client.close()

    return asyncio.run(main())


def main(argv: list[str]) -> int:
    client, port, calls, mode = argv
    run = _asyncquote if client == "asyncquote" else _floor
    start = time.perf_counter()
    result = run(int(port), int(calls), mode)
    result["seconds"] = time.perf_counter() - start
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
