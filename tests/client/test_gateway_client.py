"""The client's view of OpenD's health (``GatewayClient``), over a fake session.

``get_global_state`` and ``wait_ready`` with scripted GetGlobalState replies:
what is sent, what the status then says, when nothing is sent at all. The
monitor's own bookkeeping is ``tests/client/test_monitor.py``'s; the same
paths against a hostile gateway and the simulator are in ``tests/e2e/``.
"""

from __future__ import annotations

from typing import cast

import pytest

from asyncquote._base.errors import GatewayNotReadyError, InvalidArgumentError, ProtocolError
from asyncquote._base.states import ConnectionState
from asyncquote._client.gateway_client import GatewayClient
from asyncquote._client.monitor import GatewayMonitor
from asyncquote._io.session import Session
from asyncquote._opend.vocabulary import ProtoId
from asyncquote._pb import GetGlobalState_pb2

from ..hostile_peer import global_state_body
from .test_core import FakeConnection, FakeSession, client_options

pytestmark = pytest.mark.anyio

GLOBAL_STATE = ProtoId.GET_GLOBAL_STATE
LOGGED_OUT = global_state_body(quote_logged_in=False, program_status=None)


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


def gateway_client(*connections: FakeConnection) -> tuple[GatewayClient, FakeSession]:
    """A client whose connection is up and whose refresh after connecting is over."""
    session = FakeSession(*connections)
    monitor = GatewayMonitor()
    monitor.on_state_changed(ConnectionState.CONNECTED, ConnectionState.CONNECTING)
    monitor.refresh_over(monitor.epoch)
    return GatewayClient(cast(Session, session), client_options(), monitor), session


async def test_get_global_state_asks_1002_for_user_0_and_updates_the_status() -> None:
    connection = FakeConnection(global_state_body())
    client, _ = gateway_client(connection)
    assert not client.gateway.known
    state = await client.get_global_state()
    assert state.quote_logged_in is True
    assert [proto for proto, _ in connection.sent] == [GLOBAL_STATE]
    assert client.gateway.ready


async def test_a_global_state_reply_without_s2c_is_a_protocol_error() -> None:
    bare = GetGlobalState_pb2.Response(retType=0).SerializeToString()
    client, _ = gateway_client(FakeConnection(bare))
    with pytest.raises(ProtocolError, match="without its s2c"):
        await client.get_global_state()
    assert not client.gateway.known


async def test_wait_ready_on_a_ready_gateway_returns_at_once_and_sends_nothing_more() -> None:
    connection = FakeConnection(global_state_body())
    client, session = gateway_client(connection)
    await client.get_global_state()
    session.connections.append(connection)  # would be used by a second ask
    status = await client.wait_ready(timeout=0)
    assert status.ready
    assert len(connection.sent) == 1


async def test_wait_ready_with_nothing_known_asks_once_then_says_what_opend_reports() -> None:
    connection = FakeConnection(LOGGED_OUT)
    client, _ = gateway_client(connection)
    with pytest.raises(GatewayNotReadyError, match="not ready after waiting 0 s") as caught:
        await client.wait_ready(timeout=0)
    assert caught.value.status.known
    assert not caught.value.status.ready
    assert len(connection.sent) == 1


async def test_wait_ready_while_not_connected_says_so_and_sends_nothing() -> None:
    connection = FakeConnection(global_state_body())
    client, session = gateway_client(connection)
    session.state = ConnectionState.RECONNECTING
    with pytest.raises(GatewayNotReadyError, match=r"not connected to OpenD \(reconnecting\)"):
        await client.wait_ready(timeout=0)
    assert connection.sent == []


@pytest.mark.parametrize("buffer", [0, -1, 1.5, True])
async def test_events_with_a_bad_buffer_is_an_invalid_argument(buffer: object) -> None:
    client, _ = gateway_client()
    with pytest.raises(InvalidArgumentError, match="buffer"):
        client.events(buffer=buffer)  # type: ignore[arg-type]
