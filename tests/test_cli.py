"""The command line, run in-process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import anyio.from_thread
import pytest

import asyncquote.sim
from asyncquote.cli import main
from asyncquote.ratelimit import Quota
from asyncquote.sim import Simulator


@pytest.fixture
def running_sim() -> Iterator[Simulator]:
    """A simulator served from a background thread, so main() can run its own loop."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(port=0)) as sim,
    ):
        yield sim


def test_demo_prints_the_sample_watchlists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "simulator listening on 127.0.0.1:" in out
    assert "== All: 16 securities" in out
    assert "HK.00700" in out
    assert "US.AAPL" in out
    assert "main contract" in out


def test_demo_runs_on_trio(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--backend", "trio", "demo", "Tech"]) == 0
    assert "== Tech:" in capsys.readouterr().out


def test_demo_reports_an_unknown_group_without_failing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "nope"]) == 0
    assert "== nope: error:" in capsys.readouterr().out


def test_watchlist_json_prints_every_security(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["watchlist", "港股", "--json", "--port", str(running_sim.port)])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(running_sim.watchlists.securities_in("港股"))
    assert rows[0]["basic"]["security"] == {"market": 1, "code": "00700"}


def test_watchlist_table(running_sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watchlist", "Tech", "--port", str(running_sim.port)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["code", "name", "type", "lot", "listed", "details"]


def test_watchlist_unknown_group_exits_1_with_the_gateways_message(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watchlist", "nope", "--port", str(running_sim.port)]) == 1
    assert "Unknown watchlists" in capsys.readouterr().err


def test_watchlist_against_nothing_exits_1_naming_the_address(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def free_port() -> int:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        await listener.aclose()
        return port

    port = anyio.run(free_port)
    assert main(["watchlist", "All", "--port", str(port)]) == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_sim_refuses_a_malformed_quota_naming_it_and_the_syntax(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sim", "--quota", "3213=10/30", "--quota", "3222=ten/30"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --quota: invalid quota '3222=ten/30'" in err
    assert "call count 'ten' is not a whole number" in err
    assert "expected PROTO=CALLS/SECONDS or PROTO=off" in err


def test_sim_passes_quotas_and_language_to_the_simulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[Simulator] = []

    async def serve_briefly(
        host: str, port: int, *, ready: Callable[[Simulator], object], **options: Any
    ) -> None:
        async with Simulator(host, 0, **options) as sim:
            ready(sim)
            served.append(sim)

    monkeypatch.setattr(asyncquote.sim, "serve", serve_briefly)
    argv = ["sim", "--quota", "3213=5/2", "--quota", "3222=off", "--language", "zh"]
    assert main(argv) == 0
    (sim,) = served
    assert dict(sim.quotas) == {3213: Quota(5, 2.0), 3214: Quota(10, 30.0)}
    assert sim.language == "zh"
    assert "quotas: 3213: 5/2s, 3214: 10/30s" in capsys.readouterr().out
