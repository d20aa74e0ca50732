"""Taking the simulator down on demand: dropped connections, a closed port, a restart.

These are what a client's reconnection logic meets when OpenD crashes or restarts.
"""

from __future__ import annotations

import anyio
import pytest

from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator

from .rawclient import GET_USER_SECURITY, ready_client, user_security


async def refused(host: str, port: int) -> bool:
    try:
        stream = await anyio.connect_tcp(host, port)
    except OSError:
        return True
    await stream.aclose()
    return False


async def served(host: str, port: int) -> bool:
    async with ready_client(host, port) as client:
        reply = await client.call(
            GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
        )
    return reply.retType == 0


async def free_port() -> int:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port: int = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    return port


@pytest.mark.anyio
async def test_drop_connections_closes_every_connection_and_keeps_serving_new_ones() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator() as sim,
            ready_client(sim.host, sim.port) as first,
            ready_client(sim.host, sim.port) as second,
        ):
            assert await sim.drop_connections() == 2
            assert sim.open_connections == 0
            assert await sim.drop_connections() == 0
            assert await first.closed_by_peer()
            assert await second.closed_by_peer()
            assert await served(sim.host, sim.port)


@pytest.mark.anyio
async def test_a_request_in_flight_when_connections_drop_is_never_answered() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(reply_delay=3600)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.send(GET_USER_SECURITY, user_security("HK"))
            await anyio.sleep(0.1)  # let it arrive
            assert len(sim.requests) == 2
            await sim.drop_connections()
            assert await client.closed_by_peer()


@pytest.mark.anyio
async def test_stop_listening_refuses_new_connections_but_serves_open_ones() -> None:
    with anyio.fail_after(5):
        async with Simulator() as sim, ready_client(sim.host, sim.port) as client:
            port = sim.port
            await sim.stop_listening()
            assert not sim.listening
            assert await refused(sim.host, port)
            reply = await client.call(
                GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
            )
            assert reply.retType == 0
            await sim.stop_listening()  # again: nothing to do
            await sim.start_listening()
            assert sim.listening
            assert sim.port == port
            assert await served(sim.host, port)
            await sim.start_listening()  # again: nothing to do


@pytest.mark.anyio
async def test_restart_drops_everyone_refuses_during_downtime_and_returns_on_the_same_port() -> (
    None
):
    with anyio.fail_after(5):
        async with Simulator() as sim, ready_client(sim.host, sim.port) as client:
            port = sim.port
            async with anyio.create_task_group() as tg:
                tg.start_soon(sim.restart, 0.5)
                await anyio.sleep(0.1)
                assert await client.closed_by_peer()
                assert await refused(sim.host, port)
            assert sim.listening
            assert await served(sim.host, port)
            # The account survives the restart: its quota counts go on.
            assert len([r for r in sim.requests if r.proto_id == GET_USER_SECURITY]) == 1


@pytest.mark.anyio
async def test_a_new_simulator_can_take_over_the_port_of_one_that_just_stopped() -> None:
    port = await free_port()
    with anyio.fail_after(5):
        for _ in range(2):
            async with Simulator(port=port) as sim, ready_client(sim.host, port):
                # Exit while the connection is still open: the simulator closes
                # first, leaving its side in TIME_WAIT.
                assert sim.open_connections == 1


@pytest.mark.anyio
async def test_listening_controls_need_a_running_simulator() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError, match="not running"):
        await sim.stop_listening()
    with pytest.raises(RuntimeError, match="not running"):
        await sim.start_listening()
    assert await sim.drop_connections() == 0
    async with sim:
        pass
    with pytest.raises(RuntimeError, match="not running"):
        await sim.restart()
