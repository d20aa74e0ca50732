"""The command line, run in-process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import anyio.from_thread
import pytest
import trio.testing

import asyncquote.sim
from asyncquote.cli import _build_parser, _watch, main
from asyncquote.frames import COLUMNS
from asyncquote.ratelimit import Quota
from asyncquote.sim import ModifyOp as SimModifyOp
from asyncquote.sim import Simulator, format_code, parse_code


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


def test_groups_lists_custom_and_system_groups(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["groups", "--port", str(running_sim.port)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "Tech\tcustom" in lines
    assert any(line.endswith("\tsystem") for line in lines)
    assert main(["groups", "--type", "custom", "--json", "--port", str(running_sim.port)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"name": "Tech", "type": 1} in rows
    assert all(row["type"] == 1 for row in rows)


def test_watchlist_csv_has_the_official_sdks_columns(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watchlist", "Tech", "--csv", "--port", str(running_sim.port)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + len(running_sim.watchlists.securities_in("Tech"))
    assert lines[1].startswith("US.AAPL,")


def test_add_and_remove_edit_a_group(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    port = str(running_sim.port)

    def tech() -> list[str]:
        return [format_code(key) for key in running_sim.watchlists.find_group("Tech").members]  # type: ignore[union-attr]

    assert main(["add", "Tech", "US.NVDA", "US.MSFT", "--port", port]) == 0
    assert "2 securities added to Tech" in capsys.readouterr().out
    assert tech()[-2:] == ["US.NVDA", "US.MSFT"]
    assert main(["remove", "Tech", "US.NVDA", "--port", port]) == 0
    assert "US.NVDA" not in tech()
    assert main(["remove", "Tech", "US.MSFT", "--everywhere", "--port", port]) == 0
    assert "deleted from the watchlist" in capsys.readouterr().out
    assert all(
        "US.MSFT" not in [format_code(k) for k in g.members] for g in running_sim.watchlists.groups
    )


def test_a_malformed_code_is_refused_before_sending(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(running_sim.requests)
    assert main(["add", "Tech", "HK00700", "--port", str(running_sim.port)]) == 1
    assert "HK00700" in capsys.readouterr().err
    # Only the handshake reached the simulator.
    assert [r.proto_id for r in list(running_sim.requests)[before:]] == [1001]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


@pytest.mark.anyio
async def test_watch_prints_the_groups_and_then_changes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with Simulator(port=0) as sim:
        args = _build_parser().parse_args(
            ["watch", "Tech", "--interval", "1", "--port", str(sim.port)]
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(_watch, args)
            await anyio.sleep(10)
            sim.watchlists.modify("Tech", SimModifyOp.MOVE_OUT, [parse_code("US.TSLA")])
            await anyio.sleep(20)
            tg.cancel_scope.cancel()
    captured = capsys.readouterr()
    assert captured.out.startswith("[Tech] 5 securities\n")
    assert "[Tech] - US.TSLA" in captured.out
    assert "polling each group every" in captured.err  # 0.1 s was stretched
