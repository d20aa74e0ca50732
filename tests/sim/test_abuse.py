"""The simulator keeps serving when it is abused: descriptors run out, clients
connect and say nothing, state files are hostile or left half-written."""

from __future__ import annotations

import json
import os
import resource
import socket
import stat
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from asyncquote._cli.main import main
from asyncquote.sim import Simulator, StateFile, StateFileError, parse_fault_spec
from asyncquote.sim._persistence import write_atomically

from .rawclient import RawClient, ready_client


def test_running_out_of_descriptors_is_logged_and_serving_goes_on() -> None:
    """1,100 idle connections under a 256-descriptor limit, then a real client."""

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    process = subprocess.Popen(
        [sys.executable, "-m", "asyncquote", "sim", "--port", "0", "--handshake-timeout", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=low_limit,
    )
    idle: list[socket.socket] = []
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        port = int(process.stdout.readline().split("127.0.0.1:")[1].split()[0])
        for _ in range(300):  # more than the simulator can hold; the rest wait in the backlog
            idle.append(socket.create_connection(("127.0.0.1", port)))
        warning = process.stderr.readline()  # blocks until the simulator complains
        assert "cannot accept connections" in warning
        assert "Too many open files" in warning
        for sock in idle:
            sock.close()
        idle.clear()
        # Still serving: a real client gets its answer.
        completed = subprocess.run(
            [sys.executable, "-m", "asyncquote", "groups", "--type", "custom", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert "Tech\tcustom" in completed.stdout
        assert process.poll() is None
    finally:
        for sock in idle:
            sock.close()
        process.terminate()
        process.wait(timeout=30)
    assert "Traceback" not in process.stderr.read()


@pytest.fixture
def anyio_backend(virtual_time: tuple[str, dict[str, object]]) -> tuple[str, dict[str, object]]:
    return virtual_time


@pytest.mark.anyio
async def test_a_connection_that_never_handshakes_is_closed_after_the_timeout() -> None:
    async with (
        Simulator(handshake_timeout=5) as sim,
        RawClient.connect(sim.host, sim.port) as silent,
        ready_client(sim.host, sim.port) as ready,
    ):
        started = anyio.current_time()
        with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            await silent.stream.receive()
        assert anyio.current_time() - started == pytest.approx(5, abs=0.1)
        await anyio.sleep(60)
        assert sim.open_connections == 1  # the one that shook hands stays
        assert (await ready.init_connect()).retType == 0


@pytest.mark.anyio
async def test_the_handshake_timeout_can_be_turned_off() -> None:
    async with Simulator(handshake_timeout=None) as sim, RawClient.connect(sim.host, sim.port):
        await anyio.sleep(3600)
        assert sim.open_connections == 1


def test_a_bad_handshake_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="handshake_timeout"):
        Simulator(handshake_timeout=0)


def test_a_deeply_nested_state_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(StateFileError, match="nested too deeply"):
        Simulator(state_path=path)


def test_a_deeply_nested_security_in_a_state_file_is_a_clean_error(tmp_path: Path) -> None:
    # Too deep for json on some Pythons (3.10-3.12); on 3.13 json reads it and
    # the security is refused for its shape. Either way, one clean error.
    path = tmp_path / "watchlists.json"
    nested = '{"basic": ' * 5_000 + "1" + "}" * 5_000
    path.write_text('{"securities": [' + nested + '], "groups": []}', encoding="utf-8")
    with pytest.raises(StateFileError, match=r"nested too deeply|not simulator watchlists"):
        Simulator(state_path=path)


def test_stale_temporary_files_of_a_killed_save_are_removed_at_start(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.json"
    StateFile(path).load_or_seed()
    stale = [tmp_path / ".watchlists.json.k3j_x9a1.tmp", tmp_path / ".watchlists.json.zz.tmp"]
    for leftover in stale:
        leftover.write_text("{half a fi", encoding="utf-8")
    other = tmp_path / ".other.json.k3j_x9a1.tmp"
    other.write_text("not ours", encoding="utf-8")
    Simulator(state_path=path)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == [other.name]


def test_a_read_only_state_file_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.json"
    StateFile(path).load_or_seed()
    before = path.read_bytes()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    with pytest.raises(StateFileError, match="read-only"):
        Simulator(state_path=path)
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IRUSR | stat.S_IRGRP


def test_sim_with_a_read_only_state_file_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "watchlists.json"
    write_atomically(path, json.dumps({"securities": [], "groups": []}).encode())
    os.chmod(path, 0o444)
    assert main(["sim", "--port", "0", "--state", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "read-only" in err
    assert "chmod" in err


@pytest.mark.parametrize(
    ("spelled", "as_documented"),
    [("reply_delay=0.1", "reply-delay=0.1"), ("silence_after=3", "silence-after=3")],
)
def test_fault_names_are_accepted_with_an_underscore_or_a_hyphen(
    spelled: str, as_documented: str
) -> None:
    assert parse_fault_spec(spelled) == parse_fault_spec(as_documented)
