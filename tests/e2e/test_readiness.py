"""``wait_ready()`` as users call it, against the simulator, on every event loop.

Readiness follows what OpenD reports (an OpenD that leaves ``programStatus``
out is ready once logged in to quotes), ``timeout=0`` checks an answer
rather than failing for lack of one, and a connect followed by
``wait_ready()`` asks GetGlobalState exactly once.
"""

from __future__ import annotations

import math

import anyio
import pytest

import asyncquote
from asyncquote import ProgramStatusType
from asyncquote._opend.vocabulary import ProtoId
from asyncquote._pb import KeepAlive_pb2
from asyncquote.sim import GatewayState, Simulator

from ..conftest import Runner

pytestmark = pytest.mark.anyio

#: Fresh clients per test below: the double ask was a race (10 of 20 on uvloop).
CLIENTS = 20


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def round_trip(client: asyncquote.QuoteClient) -> None:
    """A KeepAlive answered: a second GetGlobalState sent before it has arrived by now."""
    request = KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=0))
    await client.request(ProtoId.KEEP_ALIVE, request, KeepAlive_pb2.Response)


def global_state_asks(sim: Simulator, conn_id: int) -> int:
    return sum(
        1
        for record in sim.requests
        if record.proto_id == ProtoId.GET_GLOBAL_STATE and record.conn_id == conn_id
    )


async def test_an_opend_without_program_status_is_ready_once_logged_in_to_quotes() -> None:
    gateway = GatewayState(reports_program_status=False)
    async with Simulator(gateway=gateway) as sim, asyncquote.connect(sim.host, sim.port) as client:
        state = await client.get_global_state()
        assert state.program_status is None  # the simulator left it out
        assert state.quote_logged_in
        with anyio.fail_after(10):  # bounds a hang; wait_ready itself may wait for ever
            status = await client.wait_ready(timeout=math.inf)
        assert status.ready
        assert status.program_status is None
        assert client.gateway.ready


async def test_without_program_status_logged_out_of_quotes_is_not_ready() -> None:
    gateway = GatewayState(reports_program_status=False, quote_logged_in=False)
    async with Simulator(gateway=gateway) as sim, asyncquote.connect(sim.host, sim.port) as client:
        with pytest.raises(asyncquote.GatewayNotReadyError, match="not logged in to the quote"):
            await client.wait_ready(timeout=0)


async def test_wait_ready_with_timeout_0_on_a_fresh_client_asks_and_answers() -> None:
    async with Simulator() as sim:
        for _ in range(2):
            async with asyncquote.connect(sim.host, sim.port) as client:
                status = await client.wait_ready(timeout=0)
                assert status.ready
                assert status.program_status is not None
                assert status.program_status.type is ProgramStatusType.READY


async def test_wait_ready_with_timeout_0_reports_what_a_fresh_client_learns() -> None:
    gateway = GatewayState.in_status("need-phone-code")
    async with Simulator(gateway=gateway) as sim, asyncquote.connect(sim.host, sim.port) as client:
        with pytest.raises(asyncquote.GatewayNotReadyError, match="phone verification code"):
            await client.wait_ready(timeout=0)


async def test_connect_and_wait_ready_ask_global_state_once() -> None:
    async with Simulator() as sim:
        asks = []
        for _ in range(CLIENTS):
            async with asyncquote.connect(sim.host, sim.port) as client:
                await client.wait_ready(timeout=5)
                conn_id = client.info.conn_id
                # Whatever the client still does by itself after wait_ready
                # returned would come now; round trips let it arrive.
                await round_trip(client)
                await round_trip(client)
            asks.append(global_state_asks(sim, conn_id))
        assert asks == [1] * CLIENTS


async def test_a_wait_ready_given_up_at_once_leaves_one_ask_per_connect() -> None:
    async with Simulator() as sim, asyncquote.connect(sim.host, sim.port) as client:
        with anyio.move_on_after(0):  # the caller gives up before any answer
            await client.wait_ready()
        await client.wait_ready(timeout=5)
        await round_trip(client)  # a late second ask shows
        assert global_state_asks(sim, client.info.conn_id) == 1


async def test_wait_ready_with_timeout_0_asks_once_per_connect() -> None:
    async with Simulator() as sim, asyncquote.connect(sim.host, sim.port) as client:
        await client.wait_ready(timeout=0)
        await client.wait_ready(timeout=0)
        await round_trip(client)
        assert global_state_asks(sim, client.info.conn_id) == 1
