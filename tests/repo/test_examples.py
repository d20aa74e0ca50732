"""The examples run, against the bundled simulator (the opend fixture of asyncquote.testing)."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tarfile
import zipfile
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

from asyncquote.testing import OpenD

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_bot_reacts_to_additions_and_removals(capsys: pytest.CaptureFixture[str]) -> None:
    load("watchlist_bot").main(["--demo"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[Tech] watching 5 securities"
    assert any(line.startswith("[Tech] + US.NVDA") for line in out)
    assert any(line.startswith("[Tech] - US.TSLA") for line in out)


def test_polling_several_groups_prints_every_round(capsys: pytest.CaptureFixture[str]) -> None:
    load("poll_groups").main(["--demo", "--rounds", "2", "HK", "Tech"])
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["round 1", "round 2"]
    assert "HK=6" in out[0]
    assert "Tech=5" in out[0]


@pytest.mark.opend(watchlists={"HK": ["HK.00700", "HK.09988"], "Tech": ["US.AAPL"]})
def test_polling_a_gateway_fetches_every_group_once_a_round_on_one_connection(
    opend: OpenD, capsys: pytest.CaptureFixture[str]
) -> None:
    # The example runs its own event loop (anyio.run), as a user's program
    # would; the gateway of the opend fixture serves it from its own thread.
    load("poll_groups").main(["--port", str(opend.port), "--rounds", "2", "HK", "Tech", "Nope"])
    out = capsys.readouterr().out.splitlines()
    assert out.count("Nope: Unknown watchlists") == 2
    assert [line.split("  ")[0] for line in out if line.startswith("round")] == [
        "round 1: HK=2, Tech=1",
        "round 2: HK=2, Tech=1",
    ]
    fetches = opend.requests.filter(3213)
    assert sorted(fetches.groups) == sorted(["HK", "Tech", "Nope"] * 2)
    assert len(fetches.conn_ids) == 1


@pytest.mark.anyio
async def test_the_asgi_service_shares_one_client_across_requests(
    monkeypatch: pytest.MonkeyPatch, opend: OpenD
) -> None:
    service = load("asgi_service")
    monkeypatch.setenv("OPEND_PORT", str(opend.port))
    lifespan_scope: dict[str, Any] = {"type": "lifespan"}
    to_app = anyio.create_memory_object_stream[dict[str, Any]](10)
    from_app = anyio.create_memory_object_stream[dict[str, Any]](10)

    async def request(path: str) -> tuple[int, Any]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path}
        scope["state"] = dict(lifespan_scope["state"])
        await service.app(scope, receive, send)
        return sent[0]["status"], json.loads(sent[1]["body"])

    async with anyio.create_task_group() as tg:
        tg.start_soon(service.app, lifespan_scope, to_app[1].receive, from_app[0].send)
        await to_app[0].send({"type": "lifespan.startup"})
        assert (await from_app[1].receive())["type"] == "lifespan.startup.complete"

        status, rows = await request("/watchlist/HK")
        assert status == 200
        assert rows[0]["basic"]["security"] == {"market": 1, "code": "00700"}
        assert (await request("/watchlist/%E6%B8%AF%E8%82%A1"))[1] == rows  # 港股, cached
        assert (await request("/watchlist/nope"))[0] == 404
        assert (await request("/watchlist/Positions"))[0] == 400
        assert (await request("/other"))[0] == 404

        await to_app[0].send({"type": "lifespan.shutdown"})
        assert (await from_app[1].receive())["type"] == "lifespan.shutdown.complete"
    requests = opend.requests
    assert len(requests.conn_ids) == 1, "every request used the one shared client"
    # HK once (港股 came from the cache), then the unknown group; Positions never left.
    assert requests.filter(3213).groups == ["HK", "nope"]


# -- the JavaScript SDK's example, shipped in the package (docs/simulator.md)

JS_EXAMPLE = "asyncquote/sim/examples/get_user_security.mjs"
ROOT = EXAMPLES.parent


def test_the_javascript_example_is_package_data() -> None:
    shipped = resources.files("asyncquote.sim") / "examples" / "get_user_security.mjs"
    assert shipped.is_file()
    assert "GetUserSecurity" in shipped.read_text(encoding="utf-8")
    # In the sdist too (it takes asyncquote/ whole) and in nox's check of it.
    assert f'"{JS_EXAMPLE}"' in (ROOT / "noxfile.py").read_text(encoding="utf-8")


def test_the_simulator_page_shows_the_shipped_example_and_how_to_run_it() -> None:
    page = (ROOT / "docs" / "simulator.md").read_text(encoding="utf-8")
    assert f'--8<-- "{JS_EXAMPLE}"' in page  # the page shows the file itself
    assert "$ asyncquote sim --websocket-port 33333 --websocket-key KEY\n" in page
    run = "$ node --experimental-websocket get_user_security.mjs 127.0.0.1 33333 KEY 港股\n"
    assert run in page  # Node 20's flag; tests/interop/test_js_sdk.py runs it so


def test_the_page_s_copy_command_copies_the_example(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "simulator.md").read_text(encoding="utf-8")
    (command,) = re.findall(r"^\$ (python -c .*get_user_security.*)$", page, re.MULTILINE)
    subprocess.run(
        [sys.executable, *shlex.split(command)[1:]], cwd=tmp_path, check=True, timeout=60
    )
    assert (tmp_path / "get_user_security.mjs").read_bytes() == (ROOT / JS_EXAMPLE).read_bytes()


def test_the_built_wheel_and_sdist_carry_the_example(tmp_path: Path) -> None:
    # The nox package session checks the real build; this runs where hatchling is installed.
    wheels = pytest.importorskip("hatchling.builders.wheel", reason="hatchling is not installed")
    sdists = pytest.importorskip("hatchling.builders.sdist", reason="hatchling is not installed")
    builder = wheels.WheelBuilder(str(ROOT))
    (wheel,) = builder.build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        assert JS_EXAMPLE in archive.namelist()
    (sdist,) = sdists.SdistBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with tarfile.open(sdist) as archive:
        assert any(name.endswith(f"/{JS_EXAMPLE}") for name in archive.getnames())
