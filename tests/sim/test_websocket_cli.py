"""``asyncquote sim --websocket-port PORT --websocket-key KEY``, run in-process."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import Any

import pytest

import asyncquote.sim
from asyncquote._cli.main import main
from asyncquote.sim import Simulator


@pytest.fixture
def options(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Makes ``sim`` announce a simulator on free ports and stop; collects the options."""
    seen: list[dict[str, Any]] = []

    async def announce_and_stop(
        host: str, port: int, *, ready: Callable[[Simulator], object], **given: Any
    ) -> None:
        seen.append(given)
        free = {**given, "websocket_port": None if given["websocket_port"] is None else 0}
        async with Simulator(host, 0, **free) as sim:
            ready(sim)

    monkeypatch.setattr(asyncquote.sim, "serve", announce_and_stop)
    return seen


def test_sim_serves_websocket_with_the_key_and_announces_the_url(
    options: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "--websocket-port", "33333", "--websocket-key", "KEY"]) == 0
    ((given),) = options
    assert (given["websocket_port"], given["websocket_key"]) == (33333, "KEY")
    out = capsys.readouterr().out
    assert "websocket: ws://127.0.0.1:" in out
    assert "(key: required)" in out


def test_sim_without_websocket_port_serves_tcp_only(
    options: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim"]) == 0
    assert options[0]["websocket_port"] is None
    assert "websocket:" not in capsys.readouterr().out


def test_sim_refuses_websocket_with_an_rsa_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--websocket-port", "0", "--rsa-key", "unused.pem"]) != 0
    assert "--websocket-port cannot be combined with --rsa-key" in capsys.readouterr().err


def test_a_websocket_port_in_use_is_one_line_naming_that_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sim", "--port", "0", "--websocket-port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "--websocket-port" in err
    assert "bug" not in err


@pytest.mark.anyio
async def test_a_websocket_port_in_use_fails_the_simulator_with_an_os_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        simulator = Simulator(websocket_port=port)
        with pytest.raises(OSError, match="in use") as caught:  # not an ExceptionGroup
            async with simulator:
                pass
    assert caught.value.errno == errno.EADDRINUSE
    async with simulator:  # nothing was left half-started: it can start again
        assert simulator.websocket_port is not None
