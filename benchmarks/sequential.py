"""Row 5 of issue 25: sequential calls against the floor, both reading what they got.

Both clients ask for the same 5-security group, one call after another, on
one connection each to the benchmark simulator in its own process (quotas
off). Each keeps its last result and reads every field of every entry it
got inside the timed section, as an application does: asyncquote's models
through :func:`benchmarks.issue25.read_every_field`, the floor's protobuf
entries through :func:`read_every_pb_field`, which walks them the same way.
Without the floor's reading, the floor would be measured with a result
nobody reads (upb makes a field's Python value only when it is read), which
is the lazy result the issue forbids counting as fast.

On asyncio both clients share one event loop and take turns in short blocks
(a neighbour's burst on this shared machine hits both sides of a pair
alike); the figure is the median of the pairs' ratios. The floor is plain
asyncio, so on trio each block runs in a loop of its own, taking turns the
same way.
"""

from __future__ import annotations

import operator
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

import asyncquote

from .floor import FloorClient
from .watchlist import small_group

__all__ = ["Pair", "read_every_pb_field", "sequential_pairs", "summarise"]

_HOST = "127.0.0.1"
_GROUP = small_group(0)
_WARM_UP = 20


def read_every_pb_field(messages: Iterable[Message]) -> int:
    """Read every scalar field of every message, set submessages included; the leaves read.

    The protobuf twin of ``read_every_field``: an optional scalar that is
    not set is still read (the model reads its ``None``), an unset
    submessage is not entered (the model's field is ``None``).
    """
    count = 0
    stack: list[Message] = list(messages)
    while stack:
        message = stack.pop()
        plan = _PLANS.get(message.DESCRIPTOR)
        if plan is None:
            plan = _PLANS[message.DESCRIPTOR] = _plan(message.DESCRIPTOR)
        scalars, repeated, singular = plan
        count += len(scalars(message))
        for name in repeated:
            stack.extend(getattr(message, name))
        for name in singular:
            if message.HasField(name):
                stack.append(getattr(message, name))
            else:
                count += 1  # the model side reads a None here
    return count


_Plan = tuple[Callable[[Message], tuple[Any, ...]], tuple[str, ...], tuple[str, ...]]
_PLANS: dict[Descriptor, _Plan] = {}


def _plan(descriptor: Descriptor) -> _Plan:
    scalars = [f.name for f in descriptor.fields if f.type != FieldDescriptor.TYPE_MESSAGE]
    messages = [f for f in descriptor.fields if f.type == FieldDescriptor.TYPE_MESSAGE]
    repeated = tuple(f.name for f in messages if _is_repeated(f))
    singular = tuple(f.name for f in messages if not _is_repeated(f))
    getter = operator.attrgetter(*scalars) if len(scalars) > 1 else None
    if getter is None:
        one = operator.attrgetter(*scalars) if scalars else None
        return (lambda m: (one(m),) if one else ()), repeated, singular
    return getter, repeated, singular


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 7 has only the property, 5.29 only the label.
    flag = getattr(field, "is_repeated", None)
    return bool(flag) if flag is not None else field.label == FieldDescriptor.LABEL_REPEATED


@dataclass(frozen=True)
class Pair:
    """One block of each: calls/s and CPU seconds per call."""

    floor: float
    aq: float
    floor_cpu: float
    aq_cpu: float

    @property
    def ratio(self) -> float:
        return self.aq / self.floor


async def _floor_block(floor: FloorClient, calls: int, read: bool) -> tuple[float, float]:
    """``calls`` floor calls, each reply parsed, kept and read; (calls/s, CPU s/call)."""
    kept = None
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        kept = await floor.get_user_security(_GROUP)
        if read:
            read_every_pb_field(kept.s2c.staticInfoList)
    rate = calls / (time.perf_counter() - start)
    return rate, (time.process_time() - cpu) / calls


async def _aq_block(client: asyncquote.QuoteClient, calls: int, read: bool) -> tuple[float, float]:
    from .issue25 import read_every_field

    kept = None
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        kept = await client.get_user_security(_GROUP)
        if read:
            read_every_field(kept)
    rate = calls / (time.perf_counter() - start)
    return rate, (time.process_time() - cpu) / calls


async def _shared_loop(
    port: int, calls: int, pairs: int, read: bool, setup: Callable[[Any], None] | None
) -> list[Pair]:
    floor = await FloorClient.connect(_HOST, port)
    try:
        await _floor_block(floor, _WARM_UP, read)
        async with asyncquote.connect(_HOST, port, quotas={3213: None}) as client:
            if setup is not None:
                setup(client)
            await _aq_block(client, _WARM_UP, read)
            rows = []
            for number in range(pairs):
                if number % 2 == 0:
                    f, a = (
                        await _floor_block(floor, calls, read),
                        await _aq_block(client, calls, read),
                    )
                else:
                    a, f = (
                        await _aq_block(client, calls, read),
                        await _floor_block(floor, calls, read),
                    )
                rows.append(Pair(f[0], a[0], f[1], a[1]))
            return rows
    finally:
        await floor.close()


async def _floor_alone(port: int, calls: int, read: bool) -> tuple[float, float]:
    floor = await FloorClient.connect(_HOST, port)
    try:
        await _floor_block(floor, _WARM_UP, read)
        return await _floor_block(floor, calls, read)
    finally:
        await floor.close()


async def _aq_alone(port: int, calls: int, read: bool) -> tuple[float, float]:
    async with asyncquote.connect(_HOST, port, quotas={3213: None}) as client:
        await _aq_block(client, _WARM_UP, read)
        return await _aq_block(client, calls, read)


def sequential_pairs(
    port: int,
    *,
    calls: int,
    pairs: int,
    backend: str = "asyncio",
    read: bool = True,
    setup: Callable[[Any], None] | None = None,
) -> list[Pair]:
    """``pairs`` pairs of ``calls``-call blocks, floor and asyncquote taking turns.

    ``setup`` is given the connected client before it is warmed up (asyncio
    only: ``seq_calls`` turns its result memory off with it).
    """
    if backend == "asyncio":
        return anyio.run(_shared_loop, port, calls, pairs, read, setup)
    if setup is not None:
        raise ValueError("setup needs the shared asyncio loop")
    rows = []
    for number in range(pairs):
        f = a = None
        for who in ("floor", "aq") if number % 2 == 0 else ("aq", "floor"):
            if who == "floor":  # plain asyncio streams, whatever the backend is
                f = anyio.run(_floor_alone, port, calls, read)
            else:
                a = anyio.run(_aq_alone, port, calls, read, backend=backend)
        assert f is not None
        assert a is not None
        rows.append(Pair(f[0], a[0], f[1], a[1]))
    return rows


def summarise(rows: Sequence[Pair]) -> dict[str, list[float]]:
    """The raw figures of row 5: ratio, calls/s and CPU µs per call, one value per pair."""
    return {
        "ratio": [row.ratio for row in rows],
        "aq": [row.aq for row in rows],
        "floor": [row.floor for row in rows],
        "aq_cpu_us": [row.aq_cpu * 1e6 for row in rows],
        "floor_cpu_us": [row.floor_cpu * 1e6 for row in rows],
    }


def median_ratio(rows: Sequence[Pair]) -> float:
    """The median of the pairs' ratios."""
    return statistics.median(row.ratio for row in rows)
