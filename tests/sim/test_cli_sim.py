"""``asyncquote sim --fault ... --seed ... --rsa-key ...``, run in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import asyncquote.sim
from asyncquote._cli.main import main
from asyncquote.sim import Faults, GatewayState, Simulator, StatusChange

from .keys import rsa_pem


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Simulator]:
    """Makes ``sim`` start a simulator, announce it and stop at once; collects them."""
    simulators: list[Simulator] = []

    async def serve_briefly(
        host: str, port: int, *, ready: Callable[[Simulator], object], **options: Any
    ) -> None:
        async with Simulator(host, 0, **options) as sim:
            ready(sim)
            simulators.append(sim)

    monkeypatch.setattr(asyncquote.sim, "serve", serve_briefly)
    return simulators


def test_sim_passes_faults_and_the_seed_to_the_simulator_and_announces_them(
    served: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "sim",
        "--fault",
        "reorder=4",
        "--fault",
        "shuffle",
        "--fault",
        "corrupt-sha1=0.25",
        "--fault",
        "silence_after=10",
        "--seed",
        "7",
    ]
    assert main(argv) == 0
    (sim,) = served
    assert sim.faults == Faults(
        reorder=4, shuffle=True, corrupt_sha1=0.25, silence_after=10, seed=7
    )
    out = capsys.readouterr().out
    assert "faults: reorder=4 shuffle corrupt-sha1=0.25 silence-after=10 seed=7" in out
    assert "encryption: off" in out


def test_sim_without_faults_serves_on_the_fast_path(
    served: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim"]) == 0
    assert not served[0].faults.active
    assert "faults: none" in capsys.readouterr().out


def test_sim_encrypts_with_the_rsa_key_file(
    served: list[Simulator], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key_file = tmp_path / "opend.pem"
    key_file.write_bytes(rsa_pem("cli"))
    assert main(["sim", "--rsa-key", str(key_file)]) == 0
    assert served[0].encrypted
    out = capsys.readouterr().out
    assert "encryption: RSA handshake, then AES bodies" in out
    assert "PRIVATE KEY" not in out


def test_sim_reports_an_unreadable_rsa_key_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key_file = tmp_path / "not-a-key.pem"
    key_file.write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
    )
    assert main(["sim", "--port", "0", "--rsa-key", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert f"RSA key file {str(key_file)!r} is not an RSA private key" in err
    assert "bm90IGEga2V5" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault", "nope"], "argument --fault: unknown fault 'nope'; expected one of:"),
        (["--fault", "reorder=x"], "fault 'reorder=x': 'x' is not a whole number"),
        (["--fault", "drop-after"], "fault 'drop-after' needs a value"),
        (["--fault", "garbage", "--fault", "garbage=2"], "garbage is given twice"),
        (
            ["--fault", "reply-delay=0.1", "--fault", "reorder=2"],
            "reorder and reply_delay cannot be combined",
        ),
        (["--seed", "x"], "argument --seed: invalid int value: 'x'"),
        (["--gateway-status", "asleep"], "argument --gateway-status: invalid choice: 'asleep'"),
        (["--gateway-change", "30"], "give SECONDS=STATUS"),
        (["--gateway-change", "30=asleep"], "unknown gateway status 'asleep'"),
        (["--gateway-change=-1=ready"], "0 or more"),
        (["--quote-rate", "-1"], "is not a finite number of times a second >= 0"),
        (["--quote-rate", "inf"], "is not a finite number of times a second >= 0"),
        (["--subscription-quota", "many"], "'many' is not a whole number"),
        (["--subscription-quota", "-5"], "-5 must be 0 or more"),
        (["--clock-start", "2026-01-05T08:00"], "'2026-01-05T08:00' is not an ISO 8601"),
        (["--clock-start", "tomorrow"], "'tomorrow' is not an ISO 8601 date and time with"),
        (["--clock-start", ""], "'' is not an ISO 8601"),
        (["--clock-start", "1969-12-31T23:00Z"], "clock_start must be from 1970 to 9999"),
    ],
)
def test_sim_refuses_options_that_make_no_sense_with_a_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sim", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_shuffle_may_come_before_its_reorder_but_not_without_it(
    served: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "--fault", "shuffle", "--fault", "reorder=3"]) == 0
    assert served[0].faults == Faults(reorder=3, shuffle=True)
    assert main(["sim", "--fault", "shuffle"]) == 1
    assert "--fault: shuffle needs reorder" in capsys.readouterr().err


def test_sim_starts_in_the_gateway_status_asked_for_with_its_changes_scheduled(
    served: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "sim",
        "--gateway-status",
        "need-phone-code",
        "--gateway-change",
        "30=ready",
        "--gateway-change",
        "90=logged-out",
    ]
    assert main(argv) == 0
    (sim,) = served
    assert sim.gateway == GatewayState.in_status("need-phone-code")
    assert not sim.gateway.quote_logged_in
    assert sim._status_changes == (StatusChange(30, "ready"), StatusChange(90, "logged-out"))
    out = capsys.readouterr().out
    assert "gateway: need-phone-code, then ready at 30 s, then logged-out at 90 s" in out


def test_sim_runs_the_market_at_the_rate_and_seed_asked_for_and_announces_it(
    served: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sim", "--quote-rate", "2.5", "--seed", "7", "--subscription-quota", "300"]
    assert main(argv) == 0
    (sim,) = served
    assert (sim.market.rate, sim.market.seed, sim.subscription_quota) == (2.5, 7, 300)
    codes = len(sim.market.codes)
    out = capsys.readouterr().out
    expected = f"market: {codes} securities, each moving 2.5 times a second (seed 7); "
    assert expected + "subscription quota: 300\n" in out


def test_sim_moves_prices_once_a_second_with_seed_0_by_default(
    served: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "--quote-rate", "0"]) == 0
    assert "moving when told (seed 0); subscription quota: 1000" in capsys.readouterr().out
    assert main(["sim"]) == 0
    assert (served[1].market.rate, served[1].market.seed) == (1.0, 0)


def test_sim_starts_ready_by_default(
    served: list[Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim"]) == 0
    assert served[0].gateway == GatewayState()
    assert "gateway: ready\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "address"),
    [
        (["--port", "2345", "sim"], ("127.0.0.1", 2345)),
        (["--host", "0.0.0.0", "--port", "0", "sim"], ("0.0.0.0", 0)),
        (["--port", "2345", "sim", "--port", "3456"], ("127.0.0.1", 3456)),
        (["sim"], ("127.0.0.1", 11111)),
    ],
)
def test_sim_binds_where_the_global_host_and_port_say(
    argv: list[str], address: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, int]] = []

    async def record(host: str, port: int, **options: Any) -> None:
        asked.append((host, port))

    monkeypatch.setattr(asyncquote.sim, "serve", record)
    assert main(argv) == 0
    assert asked == [address]


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2026-01-05T08:00-05:00", 1_767_618_000.0),
        ("2026-01-05T13:00:00Z", 1_767_618_000.0),
        ("2026-01-05T21:00+08:00", 1_767_618_000.0),
    ],
)
def test_sim_starts_the_market_clock_where_asked(
    text: str, epoch: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []

    async def record(host: str, port: int, **options: Any) -> None:
        asked.append(options["clock_start"])

    monkeypatch.setattr(asyncquote.sim, "serve", record)
    assert main(["sim", "--clock-start", text]) == 0
    assert main(["sim"]) == 0
    (moment, default) = asked
    assert (moment.timestamp(), default) == (epoch, None)  # type: ignore[attr-defined]
