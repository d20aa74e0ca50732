"""Bad command lines: each one exits non-zero with one error line saying what to do.

Table-driven: a case is the command line, the exit status (2: a usage error
argparse reports; 1: a failure ``main()`` reports) and a piece of the error
line that tells the user what to do instead. Commands that would talk to
OpenD point at a port where nothing listens, so an argument checked only
after connecting shows up as "cannot connect" instead of the bad argument.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncquote._cli.main import main
from asyncquote._cli.parser import _build_parser
from asyncquote.sim import Simulator

from ..sim.keys import rsa_pem


@dataclass(frozen=True)
class Case:
    #: The command line; ``{port}`` is a port where nothing listens.
    argv: str
    #: The exit status.
    status: int
    #: Text the error line must contain: what to do about it.
    says: str


CASES = [
    # Client ports: one rule, 1 to 65535, said the same way for 0 and 99999.
    Case("watchlist All --port 0", 2, "(1 to 65535)"),
    Case("watchlist All --port 99999", 2, "(1 to 65535)"),
    Case("groups --port -1", 2, "(1 to 65535)"),
    Case("groups --port abc", 2, "(1 to 65535)"),
    Case("--port 0 watchlist All", 2, "(1 to 65535)"),
    # The simulator binds: 0 picks a free port.
    Case("sim --port 99999", 2, "(0 to 65535; 0 picks a free one)"),
    Case("sim --port -1", 2, "(0 to 65535; 0 picks a free one)"),
    Case("--port 99999 sim", 2, "(0 to 65535; 0 picks a free one)"),
    # Seconds.
    Case("groups --timeout 0", 2, "above 0"),
    Case("groups --timeout nan", 2, "above 0"),
    Case("groups --connect-timeout -2", 2, "above 0"),
    Case("watch All --interval inf", 2, "finite"),
    # --gateway-change SECONDS=STATUS.
    Case("sim --gateway-change x=ready", 2, "SECONDS=STATUS, e.g. 30=logged-out"),
    Case("sim --gateway-change -5=ready", 2, "0 or more, e.g. 30=logged-out"),
    Case("sim --gateway-change 5=nope", 2, "one of"),
    # inf is "0 or more": the rule must say finite.
    Case("sim --gateway-change inf=ready", 2, "a finite number of seconds, 0 or more"),
    Case("sim --gateway-change nan=ready", 2, "a finite number of seconds, 0 or more"),
    Case("sim --gateway-change 5", 2, "SECONDS=STATUS, e.g. 30=logged-out"),
    # Bytes that are not UTF-8 (the shell passes them; Python makes lone
    # surrogates of them) cannot be the key clients hash: not a bug.
    Case("sim --websocket-port 0 --websocket-key \udcff --port 0", 2, "as plain text"),
    # A key with no WebSocket port to use it on (the simulator used to start without either).
    Case("sim --websocket-key K --port 0", 1, "needs --websocket-port PORT"),
    Case("sim --websocket-port 0 --rsa-key {key} --port 0", 1, "leave out one of them"),
    # Options that belong to another kind of command.
    Case("--timeout 3 sim", 2, "--handshake-timeout"),
    Case("--port 5 demo", 2, "demo runs its own simulator"),
    # Arguments are checked before connecting (nothing listens at {port}).
    Case("watchlist '' --port {port}", 1, "give a group name"),
    Case("watch Tech '' --port {port}", 1, "give a group name"),
    Case("add Tech NOTACODE --port {port}", 1, "expected e.g. 'HK.00700'"),
    Case("remove Tech HK.00700 US --port {port}", 1, "expected e.g. 'HK.00700'"),
    Case("watchlist Positions --port {port}", 1, "`asyncquote groups` lists the groups"),
    Case("add Tech 'HK. 00700' --port {port}", 1, "expected e.g. 'HK.00700'"),
    Case("add Tech HK.\udcff --port {port}", 1, "expected e.g. 'HK.00700'"),
    # A key file that is missing or no RSA private key: say what --rsa-key takes.
    Case("groups --rsa-key /nonexistent/key.pem --port {port}", 1, "--rsa-key FILE takes"),
    Case("groups --rsa-key {not_a_key} --port {port}", 1, "--rsa-key FILE takes"),
    Case("sim --rsa-key {not_a_key} --port 0", 1, "--rsa-key FILE takes"),
    # A state file the simulator cannot use: say what --state takes.
    Case("sim --state {not_a_key} --port 0", 1, "--state FILE takes"),
    Case("sim --state /nonexistent/dir/state.json --port 0", 1, "--state FILE takes"),
    # A host name the name lookup cannot encode (an empty label): not a bug.
    Case("groups --host a..b --port {port}", 1, "give a host name"),
]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused, at once."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


def error_line(err: str) -> str:
    """The last line on stderr, after checking there is no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    return lines[-1]


def only_error_line(command: list[str], **env: str) -> str:
    """Run ``command`` (with ``env`` added to the environment); check it failed
    with status 1 and one line, no bug; return the line."""
    completed = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert completed.returncode == 1
    line = error_line(completed.stderr)
    assert len(completed.stderr.splitlines()) == 1, completed.stderr
    assert "bug" not in line
    return line


@pytest.mark.parametrize("case", CASES, ids=[case.argv for case in CASES])
def test_a_bad_command_line_says_what_to_do(
    case: Case, closed_port: int, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("not a key\n")
    key = tmp_path / "key.pem"
    key.write_bytes(rsa_pem("cli-args"))
    argv = shlex.split(case.argv.format(port=closed_port, not_a_key=not_a_key, key=key))
    try:
        status = main(argv)
    except SystemExit as exited:  # argparse's usage errors
        status = exited.code  # type: ignore[assignment]
    line = error_line(capsys.readouterr().err)
    assert status == case.status, line
    assert "error:" in line
    assert case.says in line
    assert "cannot connect" not in line


def test_a_missing_trio_is_one_line_naming_what_to_install() -> None:
    # A fresh process where ``import trio`` fails, as without the package.
    script = (
        "import sys; sys.modules['trio'] = None; "
        "from asyncquote._cli.main import main; "
        "raise SystemExit(main(['--backend', 'trio', 'demo', 'Tech']))"
    )
    line = only_error_line([sys.executable, "-c", script])
    assert "pip install trio" in line
    assert "--backend asyncio" in line


# --- Good command lines the library would take --------------------------------


@pytest.mark.parametrize("option", ["--timeout", "--connect-timeout"])
@pytest.mark.parametrize("place", ["global", "command"])
def test_no_time_limit_is_accepted_as_the_library_accepts_math_inf(option: str, place: str) -> None:
    argv = [option, "inf", "groups"] if place == "global" else ["groups", option, "inf"]
    args = _build_parser().parse_args(argv)
    assert getattr(args, option.removeprefix("--").replace("-", "_")) == math.inf


@pytest.mark.parametrize(
    "argv",
    [
        "--host 10.1.2.3 --port 2222 --timeout 4 --connect-timeout 3 --rsa-key k.pem groups",
        "groups --host 10.1.2.3 --port 2222 --timeout 4 --connect-timeout 3 --rsa-key k.pem",
        "--host 10.1.2.3 --timeout 4 --rsa-key k.pem groups --port 2222 --connect-timeout 3",
    ],
)
def test_connection_options_go_before_or_after_the_command(argv: str) -> None:
    args = _build_parser().parse_args(argv.split())
    assert (args.host, args.port, args.timeout, args.connect_timeout, args.rsa_key) == (
        "10.1.2.3",
        2222,
        4.0,
        3.0,
        "k.pem",
    )


def test_the_commands_option_wins_over_the_global_one() -> None:
    args = _build_parser().parse_args(["--port", "2222", "watchlist", "HK", "--port", "3333"])
    assert args.port == 3333


def test_connection_options_default_wherever_they_go() -> None:
    args = _build_parser().parse_args(["watchlist", "HK"])
    assert (args.host, args.port, args.timeout, args.connect_timeout, args.rsa_key) == (
        "127.0.0.1",
        11111,
        12.0,
        10.0,
        None,
    )


def test_a_global_port_reaches_the_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(port=0)) as sim,
    ):
        assert main(["--port", str(sim.port), "watchlist", "HK", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(sim.watchlists.securities_in("HK"))


def test_the_global_options_are_in_the_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "[--host HOST] [--port PORT] [--timeout SECONDS]" in help_text
    assert "for sim, the port to bind, 0 for any free one" in help_text


# --- Where the output cannot go ------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("redirect", ["> /dev/full", ">&-"], ids=["disk full", "stdout closed"])
def test_output_that_cannot_be_written_is_one_line_saying_so(redirect: str) -> None:
    # A full disk, or a stdout the caller closed: the command's failure, not a bug.
    command = f"{shlex.quote(sys.executable)} -m asyncquote demo Tech {redirect}"
    line = only_error_line(["sh", "-c", command])
    assert "standard output" in line
    assert ("cannot write the output" in line) or ("is closed" in line)


def test_output_the_terminal_cannot_encode_says_how_to_run_instead() -> None:
    # A terminal (or PYTHONIOENCODING) without the securities' Chinese names.
    command = [sys.executable, "-m", "asyncquote", "demo", "Tech"]
    line = only_error_line(command, PYTHONIOENCODING="ascii")
    assert "PYTHONIOENCODING=utf-8" in line


# --- Arbitrary command lines -----------------------------------------------------

_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["inf", "nan", "-1", "0", "1e309", "1e-300", "\uff11\uff12", "", "\udcff", "a..b", "--"]
    ),
)
_OPTIONS = st.sampled_from(
    [
        *("--host", "--timeout", "--connect-timeout", "--rsa-key", "--type", "--count"),
        *("--interval", "--json", "--csv", "--everywhere", "-v"),
        *("--ktype", "--num", "--autype"),
    ]
)
_GATEWAY_COMMANDS = st.sampled_from(
    ["groups", "watchlist", "watch", "status", "events", "add", "remove", "kline"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=_GATEWAY_COMMANDS, rest=st.lists(st.one_of(_VALUES, _OPTIONS), max_size=6))
def test_an_arbitrary_command_line_never_ends_in_a_traceback_or_a_bug(
    command: str, rest: list[str]
) -> None:
    # Nothing listens at the port: whatever the words, the outcome is a usage
    # error, a failure line or (for a valid line) "cannot connect".
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        argv = [command, *rest, "--port", str(bound.getsockname()[1])]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                status = main(argv)
            except SystemExit as exited:  # argparse's usage errors
                status = exited.code  # type: ignore[assignment]
    assert "Traceback" not in err.getvalue(), argv
    assert "a bug in asyncquote" not in err.getvalue(), argv
    assert status in (1, 2), (argv, err.getvalue())
