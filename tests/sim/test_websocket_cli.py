"""``asyncquote sim --websocket-port PORT --websocket-key KEY``, run in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import asyncquote.sim
from asyncquote._cli import main
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
