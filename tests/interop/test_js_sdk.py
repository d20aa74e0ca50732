"""The official JavaScript SDK (npm ``futu-api``) against ``asyncquote sim --websocket-port``.

The package is installed once into ``.pytest_cache`` (``pytest --cache-clear``
installs it afresh; without the cache plugin, each run installs it into its
temporary directory). The tests are skipped, saying why, when node or npm is
missing, when node has no WebSocket (Node 20 needs ``--experimental-websocket``,
which is passed; 22 has it built in), or when the registry cannot be reached.

``asyncquote/sim/examples/get_user_security.mjs`` (shipped in the wheel,
shown on docs/simulator.md) is the documentation's JavaScript example for
GetUserSecurity, querying the group ``"港股"``, printing its result as JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import asyncquote.sim
from asyncquote.sim import Simulator, WatchlistStore

pytestmark = pytest.mark.interop

KEY = "asyncquote-test-key"
SCRIPTS = Path(__file__).with_name("js")
SCRIPT = Path(asyncquote.sim.__file__).with_name("examples") / "get_user_security.mjs"


def _node_command(node: str) -> list[str] | None:
    """How to run node with a global ``WebSocket``, or ``None`` if it has none."""
    probe = "process.exit(typeof WebSocket === 'function' ? 0 : 1)"
    for flags in ([], ["--experimental-websocket"]):
        command = [node, *flags]
        completed = subprocess.run(
            [*command, "-e", probe], capture_output=True, timeout=60, check=False
        )
        if completed.returncode == 0:
            return command
    return None


@pytest.fixture(scope="session")
def js_sdk(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[str], Path]:
    """The node command and a directory where ``import "futu-api"`` resolves."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the JavaScript SDK")
    command = _node_command(node)
    if command is None:
        pytest.skip("this node has no WebSocket, even with --experimental-websocket")
    cache = getattr(pytestconfig, "cache", None)
    # Without the cache plugin (-p no:cacheprovider), install for this run only.
    directory = (
        tmp_path_factory.mktemp("futu-api-js") if cache is None else cache.mkdir("futu-api-js")
    )
    if not (directory / "node_modules" / "futu-api" / "package.json").exists():
        try:
            completed = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(directory), "futu-api"],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("npm install futu-api took over 5 minutes (registry unreachable?)")
        if completed.returncode != 0:
            pytest.skip(
                f"npm install futu-api failed (registry unreachable?): {completed.stderr[-500:]}"
            )
    # ES modules resolve packages from the script's directory, not NODE_PATH.
    for script in [SCRIPT, *SCRIPTS.glob("*.mjs")]:
        shutil.copy(script, directory / script.name)
    return command, directory


@pytest.fixture
def ws_port() -> Iterator[int]:
    """``asyncquote sim`` with a WebSocket port and key, in a process of its own."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "asyncquote", "sim", "--port", "0"),
            *("--websocket-port", "0", "--websocket-key", KEY),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # ... "websocket: ws://127.0.0.1:PORT (key: required)"
            if line.startswith("websocket: "):
                yield int(line.split("ws://127.0.0.1:")[1].split()[0])
                break
        else:
            pytest.fail(f"the simulator did not announce its WebSocket port: {process.stderr}")
    finally:
        process.terminate()
        process.wait(timeout=30)


def run_example(js_sdk: tuple[list[str], Path], port: int, key: str) -> dict[str, Any]:
    command, directory = js_sdk
    completed = subprocess.run(
        [*command, SCRIPT.name, "127.0.0.1", str(port), key, "港股"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=directory,
        check=False,
    )
    # The SDK logs to stdout too; the script's result is its last line.
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def test_the_documented_example_prints_the_hk_watchlist(
    js_sdk: tuple[list[str], Path], ws_port: int
) -> None:
    result = run_example(js_sdk, ws_port, KEY)
    assert result["ok"], result
    expected = [
        {
            "market": info.basic.security.market,
            "code": info.basic.security.code,
            "name": info.basic.name,
        }
        for info in WatchlistStore.sample().securities_in("港股")
    ]
    assert result["securities"] == expected
    assert {"code": "00700", "market": 1, "name": "腾讯控股"} in expected


def test_a_wrong_key_makes_the_sdk_time_out_its_login(
    js_sdk: tuple[list[str], Path], ws_port: int
) -> None:
    # The SDK waits 20 s for the InitWebSocket reply, which never comes.
    result = run_example(js_sdk, ws_port, "not-the-key")
    assert result == {"ok": False, "error": "login failed: timeout"}


@pytest.mark.anyio
async def test_the_sdk_logs_in_again_after_the_gateway_drops_it(
    js_sdk: tuple[list[str], Path],
) -> None:
    command, directory = js_sdk
    async with Simulator(websocket_port=0, websocket_key=KEY) as sim:
        node = [*command, "reconnect.mjs", "127.0.0.1", str(sim.websocket_port), KEY]
        async with await anyio.open_process(node, cwd=directory) as process:
            assert process.stdout is not None
            lines: list[str] = []
            async for chunk in process.stdout:
                lines += chunk.decode().splitlines()
                if "login true 1" in lines:
                    break
            assert await sim.drop_connections() == 1
            async for chunk in process.stdout:
                lines += chunk.decode().splitlines()
            assert await process.wait() == 0
    # The second login is a new connection to the simulator, with a new connID.
    assert [line for line in lines if line.startswith("login ")] == [
        "login true 1",
        "login true 2",
    ]
