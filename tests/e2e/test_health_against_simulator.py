"""Our client's health API against our simulator's gateway scripting.

``tests/e2e/test_events.py`` checks the client against a gateway that
shares none of its code; this checks that the two halves we ship agree:
what ``Simulator.log_out()`` / ``push()`` send is what ``events()``,
``client.gateway`` and ``wait_ready()`` understand.
"""

from __future__ import annotations

import anyio
import pytest

import asyncquote
from asyncquote import (
    GatewayEvent,
    GatewayEventType,
    LoginStatusChanged,
    ProgramStatus,
    ProgramStatusChanged,
    ProgramStatusType,
)
from asyncquote.sim import GatewayState, Simulator

from ..conftest import Runner

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def next_events(events: asyncquote.Subscription[asyncquote.Event], n: int) -> list[object]:
    got: list[object] = []
    with anyio.fail_after(5):
        async for event in events:
            got.append(event)
            if len(got) == n:
                break
    return got


async def test_a_log_out_and_in_reach_events_gateway_and_calls() -> None:
    async with (
        Simulator() as sim,
        asyncquote.connect(sim.host, sim.port) as client,
        client.events() as events,
    ):
        await client.wait_ready(timeout=5)
        assert sim.log_out() == 1
        kicked, status, login = await next_events(events, 3)
        assert isinstance(kicked, GatewayEvent)
        assert kicked.type is GatewayEventType.KICKED_OUT
        assert isinstance(status, ProgramStatusChanged)
        assert status.program_status.type is ProgramStatusType.FORCE_LOGOUT
        assert login == LoginStatusChanged(quote_logged_in=False, trade_logged_in=False)
        assert not client.gateway.ready
        with pytest.raises(asyncquote.OpenDError) as caught:
            await client.get_user_security("HK")
        assert caught.value.gateway_status is not None
        assert "OpenD reports" in str(caught.value)
        with pytest.raises(asyncquote.GatewayNotReadyError):
            await client.wait_ready(timeout=0)
        sim.log_in()
        assert (await client.wait_ready(timeout=5)).ready
        assert await client.get_user_security("HK") != []


async def test_a_program_status_this_version_does_not_know_arrives_as_its_int() -> None:
    async with (
        Simulator() as sim,
        asyncquote.connect(sim.host, sim.port) as client,
        client.events() as events,
    ):
        await client.wait_ready(timeout=5)
        sim.push(ProgramStatusChanged(program_status=ProgramStatus(type=99)))
        (event,) = await next_events(events, 1)
        assert event == ProgramStatusChanged(program_status=ProgramStatus(type=99))
        assert client.gateway.program_status == ProgramStatus(type=99)


async def test_a_gateway_started_needing_a_code_is_reported_by_wait_ready() -> None:
    gateway = GatewayState.in_status("need-phone-code")
    async with Simulator(gateway=gateway) as sim, asyncquote.connect(sim.host, sim.port) as client:
        with pytest.raises(asyncquote.GatewayNotReadyError, match="phone verification code"):
            await client.wait_ready(timeout=0.2)
        state = await client.get_global_state()
        assert not state.quote_logged_in
        assert state.program_status is not None
        assert state.program_status.type is ProgramStatusType.NEED_PHONE_VERIFY_CODE
