"""The gateway monitor's bookkeeping, driven directly (no connection, no loop)."""

from __future__ import annotations

from asyncquote import ConnectionState
from asyncquote._client.monitor import GatewayMonitor
from asyncquote._models.notify import global_state_from_pb
from asyncquote._pb import GetGlobalState_pb2

from ..hostile_peer import global_state_body

READY_STATE = global_state_from_pb(GetGlobalState_pb2.Response.FromString(global_state_body()).s2c)


def connected_monitor() -> GatewayMonitor:
    monitor = GatewayMonitor()
    monitor.on_state_changed(ConnectionState.CONNECTED, ConnectionState.CONNECTING)
    return monitor


def test_an_answer_asked_on_the_current_connection_is_taken() -> None:
    monitor = connected_monitor()
    monitor.on_global_state(READY_STATE, monitor.epoch)
    assert monitor.status.ready


def test_an_answer_asked_before_a_reconnect_is_not_taken_for_the_new_connection() -> None:
    # The answer came from the old connection's OpenD (which may since have
    # restarted logged out): the new connection's status must stay unknown
    # until its own refresh answers.
    monitor = connected_monitor()
    asked_in = monitor.epoch
    monitor.on_state_changed(ConnectionState.RECONNECTING, ConnectionState.CONNECTED)
    monitor.on_state_changed(ConnectionState.CONNECTED, ConnectionState.RECONNECTING)
    monitor.on_global_state(READY_STATE, asked_in)
    assert not monitor.status.known
    assert not monitor.status.ready


def test_an_answer_arriving_while_reconnecting_is_not_taken() -> None:
    monitor = connected_monitor()
    asked_in = monitor.epoch
    monitor.on_state_changed(ConnectionState.RECONNECTING, ConnectionState.CONNECTED)
    monitor.on_global_state(READY_STATE, asked_in)
    monitor.on_state_changed(ConnectionState.CONNECTED, ConnectionState.RECONNECTING)
    assert not monitor.status.known


def test_the_refresh_of_a_connection_is_pending_until_it_is_over() -> None:
    monitor = connected_monitor()
    assert monitor.refresh_pending
    monitor.refresh_over(monitor.epoch)
    assert not monitor.refresh_pending
    monitor.on_state_changed(ConnectionState.RECONNECTING, ConnectionState.CONNECTED)
    monitor.on_state_changed(ConnectionState.CONNECTED, ConnectionState.RECONNECTING)
    assert monitor.refresh_pending  # a new connection, a new refresh
