"""The command line, run in-process."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest
import trio.testing

import asyncquote
import asyncquote._cli.commands
import asyncquote.sim
from asyncquote._cli.commands import _groups, _watch, _watchlist
from asyncquote._cli.main import main
from asyncquote._cli.parser import _build_parser
from asyncquote._client.ratelimit import Quota
from asyncquote._models.dataframes import COLUMNS
from asyncquote.sim import ModifyOp as SimModifyOp
from asyncquote.sim import Simulator, format_code, parse_code

from ..sim.keys import rsa_pem

# The module main.py: as an attribute, asyncquote._cli.main is the function.
cli_main = importlib.import_module("asyncquote._cli.main")


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


def test_watchlist_json_prints_every_security(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["watchlist", "港股", "--json", "--port", str(running_sim.port)])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(running_sim.watchlists.securities_in("港股"))
    assert rows[0]["basic"]["security"] == {"market": "HK", "code": "00700"}


def test_watchlist_table(running_sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watchlist", "Tech", "--port", str(running_sim.port)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["code", "name", "type", "lot", "listed", "details"]


def test_watchlist_unknown_group_exits_1_with_the_gateways_message(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watchlist", "nope", "--port", str(running_sim.port)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "Unknown watchlists" in line
    assert "`asyncquote groups` lists the groups" in line


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
    line = one_line_error(capsys.readouterr().err)
    assert f"127.0.0.1:{port}" in line
    assert "is OpenD (or `asyncquote sim`) running there?" in line


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
    assert dict(sim.quotas) == {3203: Quota(60, 30.0), 3213: Quota(5, 2.0), 3214: Quota(10, 30.0)}
    assert sim.language == "zh"
    assert "quotas: 3203: 60/30s, 3213: 5/2s, 3214: 10/30s" in capsys.readouterr().out


def test_groups_lists_custom_and_system_groups(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["groups", "--port", str(running_sim.port)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "Tech\tcustom" in lines
    assert any(line.endswith("\tsystem") for line in lines)
    assert main(["groups", "--type", "custom", "--json", "--port", str(running_sim.port)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"name": "Tech", "type": "CUSTOM", "type_id": 1, "english": None} in rows
    assert all(row["type"] == "CUSTOM" for row in rows)


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
    assert "asked OpenD to add 2 securities to Tech" in capsys.readouterr().out
    assert tech()[-2:] == ["US.NVDA", "US.MSFT"]
    assert main(["remove", "Tech", "US.NVDA", "--port", port]) == 0
    assert "US.NVDA" not in tech()
    assert main(["remove", "Tech", "US.MSFT", "--everywhere", "--port", port]) == 0
    assert "delete 1 security from the whole watchlist" in capsys.readouterr().out
    assert all(
        "US.MSFT" not in [format_code(k) for k in g.members] for g in running_sim.watchlists.groups
    )


def test_a_malformed_code_is_refused_before_sending(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(running_sim.requests)
    assert main(["add", "Tech", "HK00700", "--port", str(running_sim.port)]) == 1
    assert "HK00700" in capsys.readouterr().err
    # Checked before connecting: not even the handshake reached the simulator.
    assert list(running_sim.requests)[before:] == []


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


# --- Failures: one line on stderr, a non-zero status, never a traceback -------


def one_line_error(err: str) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("asyncquote: error: "), err
    return lines[0]


def test_sim_on_a_port_already_taken_says_so_and_how_to_fix_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sim", "--port", str(port)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert f"127.0.0.1:{port}" in line
    assert "already in use" in line
    assert "--port" in line


def test_sim_on_an_address_not_of_this_machine_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sim", "--host", "8.8.8.8", "--port", "0"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "cannot listen on 8.8.8.8:0" in line
    assert "--host" in line


def test_an_rsa_key_without_the_crypto_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(rsa_pem("cli"))
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails as if missing
    assert main(["sim", "--port", "0", "--rsa-key", str(key_file)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert 'pip install -e ".[crypto]"' in line


def test_an_unexpected_exception_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("something odd")

    monkeypatch.setattr(asyncquote._cli.commands, "_demo", broken)
    assert main(["demo"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "something odd" in line
    assert "RuntimeError" in line


def test_demo_with_a_group_that_does_not_exist_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "Nope", "Tech"]) == 1
    captured = capsys.readouterr()
    assert "== Nope: error:" in captured.out
    assert "== Tech: 5 securities" in captured.out
    line = one_line_error(captured.err)
    assert "1 of 2 groups could not be fetched" in line
    # No simulator is left running to ask `asyncquote groups`: the line names the groups.
    assert "asyncquote groups" not in line
    assert "name groups the demo's simulator has: 全部 (All), 沪深 (CN), 港股 (HK)," in line
    assert "Tech" in line.split("has:")[1]


@pytest.mark.parametrize("command", ["sim", "watchlist All", "groups", "add Tech US.AAPL"])
@pytest.mark.parametrize("port", ["99999", "-1", "abc"])
def test_a_bad_port_is_a_usage_error(
    command: str, port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command.split(), "--port", port])
    assert info.value.code == 2
    assert "argument --port:" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-2", "nan", "-inf", "x"])
@pytest.mark.parametrize("option", ["--timeout", "--connect-timeout"])
def test_a_bad_timeout_is_a_usage_error(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["groups", option, value])
    assert info.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err


def run_cli(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncquote", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_closed_pipe_ends_the_command_quietly(running_sim: Simulator) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head` does once it has its lines
    try:
        completed = run_cli("watchlist", "All", "--port", str(running_sim.port), stdout=write_end)
    finally:
        os.close(write_end)
    assert completed.stderr == ""
    assert completed.returncode == 141  # what a shell reports for SIGPIPE


@pytest.mark.parametrize("command", ["watch Tech", "events"])
def test_a_closed_pipe_ends_a_command_that_has_nothing_more_to_print(
    running_sim: Simulator, command: str
) -> None:
    """``asyncquote watch Tech | head -3``: head leaves, and no change comes to write."""
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncquote", *command.split(), "--port", str(running_sim.port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if command.startswith("watch"):
        # The state at start, all of it, so that nothing is left to write.
        assert process.stdout.readline() == "[Tech] 5 securities\n"
        for _ in range(5):
            assert process.stdout.readline().startswith("  ")  # one security
    process.stdout.close()  # as head does once it has its lines
    try:
        # Bounds a hang (the bug), not a timing goal.
        status = process.wait(timeout=60)
    finally:
        process.kill()
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.stderr.close()
    assert "Traceback" not in stderr
    assert status == 141, stderr


if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        # The writer and the pipe watcher both find the pipe closed (seen with `events`).
        (ExceptionGroup("tasks", [BrokenPipeError(), BrokenPipeError()]), 141),
        (
            ExceptionGroup(
                "tasks", [ExceptionGroup("inner", [BrokenPipeError()]), BrokenPipeError()]
            ),
            141,
        ),
        (BaseExceptionGroup("tasks", [KeyboardInterrupt(), KeyboardInterrupt()]), 130),
    ],
)
def test_the_same_quiet_ending_in_several_tasks_is_still_quiet(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: BaseException,
    status: int,
) -> None:
    def run(*_: object) -> None:
        raise raised

    monkeypatch.setattr(cli_main, "_run", run)
    monkeypatch.setattr(cli_main, "_quiet_broken_pipe", lambda: 141)  # keep pytest's stdout
    assert cli_main.main(["groups"]) == status
    assert capsys.readouterr().err == ""


def test_different_failures_in_several_tasks_are_each_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*_: object) -> None:
        raise ExceptionGroup("tasks", [BrokenPipeError(), ValueError("odd")])

    monkeypatch.setattr(cli_main, "_run", run)
    assert cli_main.main(["groups"]) == 1
    assert "2 errors" in capsys.readouterr().err


def test_two_broken_pipes_at_once_end_the_command_as_one_does() -> None:
    """``asyncquote events | head``: the poll and a write may both find the pipe gone."""
    # A fresh process, as main() points stdout at /dev/null on a broken pipe.
    script = (
        "import importlib, sys; cli = importlib.import_module('asyncquote._cli.main')\n"
        "def run(*args):\n"
        "    raise BaseExceptionGroup('', [BrokenPipeError(32, 'a'), BrokenPipeError(32, 'b')])\n"
        "cli._run = run\n"
        "raise SystemExit(cli.main(['groups']))\n"
    )
    if sys.version_info < (3, 11):
        script = "from exceptiongroup import BaseExceptionGroup\n" + script
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.stderr == ""
    assert completed.returncode == 141


def test_verbose_tells_the_librarys_connection_story(running_sim: Simulator) -> None:
    completed = run_cli("-v", "watchlist", "Tech", "--port", str(running_sim.port))
    assert completed.returncode == 0, completed.stderr
    address = f"127.0.0.1:{running_sim.port}"
    story = [line.split(": ", 1)[-1] for line in completed.stderr.splitlines()]
    assert f"connecting to OpenD at {address} (not encrypted)" in story
    connected = [line for line in story if line.startswith(f"connected to OpenD at {address}:")]
    assert connected, completed.stderr
    assert "connID" in connected[0]
    assert f"closed the connection to OpenD at {address}" in story
    # The library's debug lines, not asyncio's.
    assert "asyncquote." in completed.stderr
    assert "Using selector" not in completed.stderr


# Raises KeyboardInterrupt, as a Ctrl-C would, when the CLI imports the simulator
# (its modules load only for the command line), then runs what the
# `asyncquote` script runs, or `python -m asyncquote`.
CTRL_C_WHILE_IMPORTING = """
import importlib.abc, runpy, sys

class CtrlC(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "asyncquote.sim":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
if sys.argv[1] == "script":
    from asyncquote._cli.main import main
    sys.exit(main(["groups"]))
sys.argv[1:] = ["groups"]
runpy.run_module("asyncquote", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("how", ["script", "module"])
def test_ctrl_c_while_importing_ends_quietly_with_130(how: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", CTRL_C_WHILE_IMPORTING, how],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.stderr == ""
    assert completed.returncode == 130


def test_the_real_process_never_prints_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        completed = run_cli("sim", "--port", str(taken.getsockname()[1]))
    assert completed.returncode == 1
    one_line_error(completed.stderr)


# --- Options of the commands that talk to OpenD -------------------------------


GATEWAY_COMMANDS = ["groups", "watchlist All", "watch All", "add Tech US.AAPL", "remove Tech X.Y"]


@pytest.mark.parametrize("command", GATEWAY_COMMANDS)
def test_every_gateway_command_takes_an_rsa_key_and_a_connect_timeout(command: str) -> None:
    args = _build_parser().parse_args(
        [*command.split(), "--rsa-key", "k.pem", "--connect-timeout", "3", "--timeout", "4"]
    )
    assert (args.rsa_key, args.connect_timeout, args.timeout) == ("k.pem", 3.0, 4.0)


@pytest.mark.parametrize("command", ["demo", "sim", *GATEWAY_COMMANDS])
def test_help_shows_the_defaults(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command.split(), "--help"])
    assert info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    if command.startswith("sim"):
        assert "port to bind (0: any free one) (default: 11111)" in help_text
    elif command != "demo":
        assert "(default: 127.0.0.1)" in help_text
        assert "(default: 11111)" in help_text
        assert "(default: 10.0)" in help_text  # --connect-timeout
        assert "(default: 12.0)" in help_text  # --timeout
        assert "not the connect and handshake" in help_text
    else:
        assert "(default: All 港股 Tech)" in help_text


@contextlib.contextmanager
def encrypted_simulator(key_file: Path) -> Iterator[Simulator]:
    """A simulator encrypting with a new key written to ``key_file``, in a thread."""
    key_file.write_bytes(rsa_pem("cli"))
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(port=0, rsa_key=key_file)) as sim,
    ):
        yield sim


def test_the_cli_reaches_an_encrypted_opend_with_rsa_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "opend.pem"
    with encrypted_simulator(key_file) as sim:
        argv = ["watchlist", "Tech", "--csv", "--port", str(sim.port)]
        assert main([*argv, "--rsa-key", str(key_file)]) == 0
        assert capsys.readouterr().out.startswith(",".join(COLUMNS))
        assert sim.failed_handshakes == 0


def test_an_opend_that_answers_is_not_asked_whether_it_is_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The encrypted simulator refuses a plain InitConnect: its refusal says to
    # pass --rsa-key, and OpenD is plainly running at that port.
    with encrypted_simulator(tmp_path / "opend.pem") as sim:
        assert main(["groups", "--port", str(sim.port)]) == 1
    line = capsys.readouterr().err.strip()
    assert "Traceback" not in line
    assert "--rsa-key FILE" in line
    assert "running there" not in line


@pytest.mark.anyio
async def test_connect_timeout_bounds_the_handshake_with_a_silent_gateway(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On trio's virtual clock: a listener that accepts and never answers."""
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, _hold_open)
            args = _build_parser().parse_args(
                ["groups", "--connect-timeout", "2", "--port", str(port)]
            )
            started = anyio.current_time()
            with pytest.raises(asyncquote.ConnectError, match="handshake"):
                await _groups(args)
            assert anyio.current_time() - started == pytest.approx(2, abs=0.5)
            tg.cancel_scope.cancel()


async def _hold_open(stream: anyio.abc.SocketStream) -> None:
    async with stream:
        await anyio.sleep_forever()


# --- What the commands print -------------------------------------------------


@pytest.mark.anyio
async def test_watch_reports_a_failed_poll_once(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The group is there at start, and every poll after the first fails.
    polls = 0
    fetch = asyncquote.QuoteClient.get_user_security

    async def fail_after_the_first(
        self: asyncquote.QuoteClient, group: str, **options: Any
    ) -> list[asyncquote.SecurityStaticInfo]:
        nonlocal polls
        polls += 1
        if polls > 1:
            raise asyncquote.RequestTimeoutError(f"no reply for {group}")
        return await fetch(self, group, **options)

    monkeypatch.setattr(asyncquote.QuoteClient, "get_user_security", fail_after_the_first)
    async with Simulator(port=0) as sim:
        args = _build_parser().parse_args(
            ["watch", "Tech", "--interval", "30", "--port", str(sim.port)]
        )
        with caplog.at_level(logging.WARNING):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_watch, args)
                await anyio.sleep(100)
                tg.cancel_scope.cancel()
    failures = capsys.readouterr().err.count("poll failed")
    assert failures >= 2
    assert [r.getMessage() for r in caplog.records if "no reply for" in r.getMessage()] == []
    # The filter is gone once the command is over.
    assert logging.getLogger("asyncquote.watch").filters == []


@pytest.mark.anyio
async def test_watch_of_an_unknown_group_fails_at_start_as_watchlist_does() -> None:
    """On trio's virtual clock: before the fix, watch polled the group for ever."""
    errors: list[str] = []
    async with Simulator(port=0) as sim:
        for command, argv in (
            (_watchlist, ["watchlist", "Nope"]),
            (_watch, ["watch", "Tech", "Nope", "--interval", "1"]),
        ):
            args = _build_parser().parse_args([*argv, "--port", str(sim.port)])
            with anyio.fail_after(600), pytest.raises(asyncquote.OpenDError) as info:
                await command(args)
            errors.append(str(info.value))
    assert errors[0] == errors[1]
    assert "Unknown watchlists" in errors[1]


def test_watch_of_an_unknown_group_exits_1_with_the_hint_watchlist_gives(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = []
    for command in ("watchlist", "watch"):
        assert main([command, "Nope", "--port", str(running_sim.port)]) == 1
        lines.append(one_line_error(capsys.readouterr().err))
    assert lines[0] == lines[1]
    assert "`asyncquote groups` lists the groups there are" in lines[1]


def test_groups_names_system_groups_both_ways(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["groups", "--type", "system", "--port", str(running_sim.port)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "全部\tsystem\tAll" in lines
    assert "港股期权\tsystem\tHK options" in lines
    assert main(["groups", "--json", "--port", str(running_sim.port)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"name": "全部", "type": "SYSTEM", "type_id": 2, "english": "All"} in rows
    assert {"name": "Tech", "type": "CUSTOM", "type_id": 1, "english": None} in rows


def test_watchlist_json_gives_enum_names(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watchlist", "All", "--json", "--port", str(running_sim.port)]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_code = {
        f"{r['basic']['security']['market']}.{r['basic']['security']['code']}": r for r in rows
    }
    aapl = by_code["US.AAPL"]["basic"]
    assert aapl["security"] == {"market": "US", "code": "AAPL"}
    assert aapl["sec_type"] == "STOCK"
    warrant = by_code["HK.16790"]
    assert warrant["basic"]["sec_type"] == "WARRANT"
    assert warrant["warrant_ex_data"]["type"] in {"CALL", "PUT", "BULL", "BEAR", "INLINE"}
    assert warrant["warrant_ex_data"]["owner"]["market"] == "HK"


def test_add_and_remove_report_what_was_sent(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    port = str(running_sim.port)
    assert main(["add", "Tech", "US.NVDA", "HK.00700", "--port", port]) == 0
    assert capsys.readouterr().out == "asked OpenD to add 2 securities to Tech\n"
    assert main(["remove", "Tech", "US.NVDA", "--port", port]) == 0
    assert capsys.readouterr().out == "asked OpenD to move 1 security out of Tech\n"
    assert main(["remove", "Tech", "US.NVDA", "--everywhere", "--port", port]) == 0
    assert capsys.readouterr().out == (
        "asked OpenD to delete 1 security from the whole watchlist\n"
    )


@pytest.mark.parametrize("code", ["US.NOPE{}", "NOPE{}"])
def test_an_error_about_thousands_of_codes_stays_short(
    code: str, running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = [code.format(i) for i in range(5000)]
    assert main(["add", "Tech", *codes, "--port", str(running_sim.port)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert len(line) < 400
    assert code.format(0) in line
    assert code.format(4999) not in line


def test_a_huge_error_message_from_a_real_opend_is_cut_to_one_readable_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def refuse(*args: object) -> None:
        codes = ", ".join(f"US.NOPE{i}" for i in range(5000))
        raise asyncquote.OpenDError(-1, 6, f"Unknown stock: {codes}", 3214)  # as OpenD may

    monkeypatch.setattr(asyncquote._cli.commands, "_demo", refuse)
    assert main(["demo"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert len(line) < 400
    assert "Unknown stock: US.NOPE0, US.NOPE1," in line
    assert "characters in all)" in line


# Put on PYTHONPATH as sitecustomize: a Ctrl-C (a real SIGINT to the process)
# arrives while ``import asyncquote`` itself is loading pydantic models, before
# any code of the command line can run.
SIGINT_DURING_PACKAGE_IMPORT = """
import importlib.abc, os, signal, sys

class CtrlC(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "asyncquote._models.watchlist":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
"""


def with_default_ctrl_c() -> None:
    """In the child, before Python starts: SIGINT as a terminal leaves it.

    A shell without job control (CI, ``cmd &``) starts its children with
    SIGINT ignored, and Python then keeps it ignored: no KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def command_line(how: str) -> list[str]:
    """The ``asyncquote`` console script next to this Python, or ``python -m asyncquote``."""
    if how == "module":
        return [sys.executable, "-m", "asyncquote"]
    script = Path(sys.executable).with_name("asyncquote")
    if not script.exists():
        pytest.skip("the asyncquote script is not installed next to this Python")
    return [str(script)]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT by os.kill is POSIX")
@pytest.mark.parametrize("how", ["script", "module"])
def test_ctrl_c_while_the_package_imports_ends_quietly_with_130(how: str, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(SIGINT_DURING_PACKAGE_IMPORT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    completed = subprocess.run(
        [*command_line(how), "groups"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
        preexec_fn=with_default_ctrl_c,
    )
    assert completed.stderr == ""
    assert completed.returncode == 130


def test_a_program_importing_the_library_keeps_its_ctrl_c() -> None:
    # Only the command takes SIGINT while it starts; a bot importing the
    # library still gets KeyboardInterrupt.
    check = (
        "import signal, asyncquote; "
        "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler"
    )
    completed = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=with_default_ctrl_c,
    )
    assert completed.returncode == 0, completed.stderr
