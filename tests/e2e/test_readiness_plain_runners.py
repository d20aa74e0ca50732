"""One GetGlobalState per connect + ``wait_ready()``, under the runners users start programs with.

``asyncio.run``, ``uvloop.run`` and ``trio.run`` each run a fresh client
against a simulator in a thread of its own (so its replies come as fast as
a real gateway's, not interleaved with the client's tasks): the race that
made the client ask twice showed there, under uvloop, in about half the runs.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import asyncquote
from asyncquote._opend.vocabulary import ProtoId
from asyncquote._pb import KeepAlive_pb2
from asyncquote.testing import OpenD

#: Fresh clients per runner: with a one-in-two race, 20 leave it no hiding place.
CLIENTS = 20


def run_with(runner: str, main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    if runner == "uvloop":
        import uvloop

        return uvloop.run(main())
    if runner == "trio":
        import trio

        return trio.run(main)
    return asyncio.run(main())


@pytest.mark.parametrize(
    "runner",
    [
        "asyncio",
        pytest.param(
            "uvloop",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed"
            ),
        ),
        "trio",
    ],
)
def test_connect_and_wait_ready_ask_global_state_once(runner: str) -> None:
    with OpenD.start() as opend:

        async def connect_and_wait_ready() -> int:
            async with asyncquote.connect(opend.host, opend.port) as client:
                await client.wait_ready()
                # A late second ask was sent before these answers came back.
                keepalive = KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=0))
                for _ in range(2):
                    await client.request(ProtoId.KEEP_ALIVE, keepalive, KeepAlive_pb2.Response)
                return client.info.conn_id

        conn_ids = [run_with(runner, connect_and_wait_ready) for _ in range(CLIENTS)]
        asks = [
            len(opend.requests.filter(ProtoId.GET_GLOBAL_STATE, conn_id=conn_id))
            for conn_id in conn_ids
        ]
    assert asks == [1] * CLIENTS
