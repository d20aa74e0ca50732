"""The simulator's bad arguments raise what the client's do: InvalidArgumentError, naming them.

``Simulator(...)``, :class:`GatewayState`, :class:`Faults` and
:class:`StatusChange` check their arguments with the client's one module,
:mod:`asyncquote._base.args`. An :class:`InvalidArgumentError` is both a
``ValueError`` and a ``TypeError``, so code catching either still works.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from typing import Any

import pytest

from asyncquote import InvalidArgumentError, ProgramStatus, ProgramStatusType
from asyncquote.sim import Faults, GatewayState, Simulator, StatusChange

BAD: list[tuple[Callable[..., object], dict[str, Any], str]] = [
    # Simulator(...)
    (Simulator, {"gateway": "ready"}, "gateway"),
    (Simulator, {"status_changes": [(30, "ready")]}, "status_changes"),
    (Simulator, {"push_backlog": 0}, "push_backlog"),
    (Simulator, {"push_backlog": True}, "push_backlog"),
    (Simulator, {"language": "fr"}, "language"),
    (Simulator, {"handshake_timeout": 0}, "handshake_timeout"),
    (Simulator, {"handshake_timeout": math.nan}, "handshake_timeout"),
    (Simulator, {"handshake_timeout": "30"}, "handshake_timeout"),
    (Simulator, {"websocket_port": 0, "rsa_key": b"unused"}, "rsa_key"),
    (Simulator, {"watchlists": object(), "state_path": "x.json"}, "state_path"),
    (Simulator, {"faults": {"reorder": 2}}, "faults"),
    (Simulator, {"port": -1}, "port"),
    (Simulator, {"port": 65536}, "port"),
    (Simulator, {"port": "11111"}, "port"),
    (Simulator, {"websocket_port": 70000}, "websocket_port"),
    (Simulator, {"keepalive_interval": 0}, "keepalive_interval"),
    (Simulator, {"keepalive_interval": 1.5}, "keepalive_interval"),
    (Simulator, {"record_limit": -1}, "record_limit"),
    (Simulator, {"host": 127}, "host"),
    (Simulator, {"websocket_port": 0, "websocket_key": b"key"}, "websocket_key"),
    # A lone surrogate is no UTF-8: the key is hashed, the host looked up, as UTF-8.
    (Simulator, {"websocket_port": 0, "websocket_key": "\udcff"}, "websocket_key"),
    (Simulator, {"websocket_key": "\udcff"}, "websocket_key"),
    (Simulator, {"host": "\udcff"}, "host"),
    (Simulator, {"quote_rate": -1}, "quote_rate"),
    (Simulator, {"quote_rate": math.inf}, "quote_rate"),
    (Simulator, {"quote_rate": "1"}, "quote_rate"),
    (Simulator, {"market_seed": 1.5}, "market_seed"),
    (Simulator, {"market_seed": True}, "market_seed"),
    (Simulator, {"subscription_quota": -1}, "subscription_quota"),
    (Simulator, {"subscription_quota": "100"}, "subscription_quota"),
    # A naive datetime would be read in the machine's own zone: another hour on CI.
    (Simulator, {"clock_start": datetime.datetime(2026, 1, 5, 8, 0)}, "clock_start"),
    (Simulator, {"clock_start": "2026-01-05T08:00Z"}, "clock_start"),
    (Simulator, {"clock_start": True}, "clock_start"),
    (Simulator, {"clock_start": -1}, "clock_start"),
    (Simulator, {"clock_start": math.nan}, "clock_start"),
    (Simulator, {"clock_start": math.inf}, "clock_start"),
    (Simulator, {"clock_start": 1e12}, "clock_start"),
    # GatewayState
    (GatewayState, {"market_hk": True}, "market_hk"),
    (GatewayState, {"market_hk": 2**31}, "market_hk"),
    (GatewayState, {"quote_logged_in": 1}, "quote_logged_in"),
    (GatewayState, {"program_status": 3}, "program_status"),
    (GatewayState, {"quote_rights": None}, "quote_rights"),
    (GatewayState, {"subscription_quota": -1}, "subscription_quota"),
    (GatewayState, {"quote_server_address": 1}, "quote_server_address"),
    # Sent as protobuf strings, which must be UTF-8.
    (GatewayState, {"quote_server_address": "\udcff"}, "quote_server_address"),
    (GatewayState, {"trade_server_address": "a\ud800b"}, "trade_server_address"),
    (
        GatewayState,
        {"program_status": ProgramStatus(type=ProgramStatusType.READY, description="\udcff")},
        "program_status",
    ),
    (GatewayState.in_status, {"status": "asleep"}, "asleep"),
    # StatusChange
    (StatusChange, {"after": -1, "status": "ready"}, "after"),
    (StatusChange, {"after": math.inf, "status": "ready"}, "after"),
    (StatusChange, {"after": "1", "status": "ready"}, "after"),
    (StatusChange, {"after": 1, "status": "asleep"}, "asleep"),
    # Faults
    (Faults, {"reorder": 1}, "reorder"),
    (Faults, {"reorder": 2.5}, "reorder"),
    (Faults, {"shuffle": 1}, "shuffle"),
    (Faults, {"shuffle": True}, "shuffle"),
    (Faults, {"corrupt_sha1": 0}, "corrupt_sha1"),
    (Faults, {"garbage": 2.0}, "garbage"),
    (Faults, {"drop_after": -1}, "drop_after"),
    (Faults, {"reply_delay": -0.1}, "reply_delay"),
    (Faults, {"reply_delay": (0.2, 0.1)}, "reply_delay"),
    (Faults, {"reply_delay": (0.1,)}, "reply_delay"),
    (Faults, {"handshake_delay": math.inf}, "handshake_delay"),
    (Faults, {"refuse_handshake": "yes"}, "refuse_handshake"),
    (Faults, {"seed": 1.5}, "seed"),
    (Faults, {"reorder": 2, "reply_delay": 0.1}, "reorder"),
]


@pytest.mark.parametrize(
    ("make", "arguments", "named"),
    BAD,
    ids=[f"{getattr(make, '__qualname__', make)}-{'-'.join(args)}" for make, args, _ in BAD],
)
def test_a_bad_argument_raises_invalid_argument_error_naming_it(
    make: Callable[..., object], arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=named):
        make(**arguments)


def test_a_bad_faults_assignment_raises_invalid_argument_error() -> None:
    simulator = Simulator()
    with pytest.raises(InvalidArgumentError, match="faults"):
        simulator.faults = {"reorder": 2}  # type: ignore[assignment]


def test_the_errors_are_still_value_and_type_errors() -> None:
    # Code written for the plain exceptions keeps working.
    with pytest.raises(ValueError, match="push_backlog"):
        Simulator(push_backlog=0)
    with pytest.raises(TypeError, match="gateway"):
        Simulator(gateway="ready")  # type: ignore[arg-type]


def test_the_checks_take_every_argument_of_the_simulator_by_its_name() -> None:
    # Simulator.__init__ hands its arguments to the checks all at once, by
    # name (issue 22: one keyword list per signature); a new argument must
    # reach the checks, in the same order and kind.
    import inspect

    from asyncquote.sim._server_args import check_simulator_arguments

    def shape(function: Callable[..., object]) -> list[tuple[str, object]]:
        parameters = inspect.signature(function).parameters.values()
        return [(p.name, p.kind) for p in parameters if p.name != "self"]

    assert shape(check_simulator_arguments) == shape(Simulator.__init__)
