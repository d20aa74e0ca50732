"""The examples run, against the bundled simulator."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

from asyncquote.sim import Simulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


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


@pytest.mark.anyio
async def test_the_asgi_service_shares_one_client_across_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = load("asgi_service")
    async with Simulator(port=0) as sim:
        monkeypatch.setenv("OPEND_PORT", str(sim.port))
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
        connections = {r.conn_id for r in sim.requests}
        assert len(connections) == 1, "every request used the one shared client"
        assert sum(1 for r in sim.requests if r.proto_id == 3213) == 2
