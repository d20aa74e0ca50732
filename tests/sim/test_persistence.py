"""The simulator's state file: seeding, atomic saves of every change, restarts, refusing junk."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

import asyncquote.sim
from asyncquote._cli.main import main
from asyncquote._pb import Qot_GetUserSecurity_pb2, Qot_ModifyUserSecurity_pb2
from asyncquote.sim import NO_QUOTAS, Simulator, StateFile, StateFileError, WatchlistStore
from asyncquote.sim._persistence import write_atomically

from .rawclient import (
    GET_USER_SECURITY,
    MODIFY_USER_SECURITY,
    RawClient,
    modify_user_security,
    ready_client,
    user_security,
)

ADD, DELETE = 1, 2
NVDA = (11, "NVDA")


@asynccontextmanager
async def running(path: Path) -> AsyncIterator[RawClient]:
    """A simulator on ``path`` and an initialised connection to it, bounded in time."""
    with anyio.fail_after(5):
        async with (
            Simulator(quotas=NO_QUOTAS, state_path=path) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            yield client


async def modify(
    client: RawClient, group_name: str, op: int, *keys: tuple[int, str]
) -> Qot_ModifyUserSecurity_pb2.Response:
    request = modify_user_security(group_name, op, list(keys))
    return await client.call(MODIFY_USER_SECURITY, request, Qot_ModifyUserSecurity_pb2.Response)


async def tech_codes(client: RawClient) -> list[str]:
    response = await client.call(
        GET_USER_SECURITY, user_security("Tech"), Qot_GetUserSecurity_pb2.Response
    )
    return [info.basic.security.code for info in response.s2c.staticInfoList]


def groups_in(path: Path) -> dict[str, list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {group["name"]: group["securities"] for group in data["groups"]}


# --- seeding and restarting -------------------------------------------------


def test_a_missing_state_file_is_seeded_from_the_sample_in_the_samples_shape(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watchlists.json"
    sim = Simulator(state_path=path)
    assert sim.state_path == path
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"securities", "groups"}
    assert data["groups"][0] == {
        "name": "全部",
        "type": "system",
        "securities": data["groups"][0]["securities"],
    }
    assert WatchlistStore.from_dict(data).to_dict() == WatchlistStore.sample().to_dict()


def test_the_bundled_sample_is_itself_a_valid_state_file(tmp_path: Path) -> None:
    sample = Path(asyncquote.sim.__file__).parent / "data" / "sample_watchlists.json"
    path = tmp_path / "copy.json"
    path.write_bytes(sample.read_bytes())
    assert Simulator(state_path=path).watchlists.to_dict() == WatchlistStore.sample().to_dict()


@pytest.mark.anyio
async def test_changes_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.json"
    async with running(path) as client:
        assert (await modify(client, "Tech", ADD, NVDA)).retType == 0
        assert (await modify(client, "Tech", DELETE, (11, "AAPL"))).retType == 0
    async with running(path) as client:
        assert await tech_codes(client) == ["TSLA", "00700", "09988", "FUTU", "NVDA"]


@pytest.mark.anyio
async def test_a_change_is_on_disk_before_its_reply_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.json"
    async with running(path) as client:
        assert (await modify(client, "Macro", ADD, NVDA)).retType == 0
        assert groups_in(path)["Macro"][-1] == "US.NVDA"
        assert groups_in(path)["美股"][-1] == "US.NVDA"


@pytest.mark.anyio
async def test_an_edit_that_changes_nothing_does_not_rewrite_the_file(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.json"
    async with running(path) as client:
        # Every save renames a new file into place, so the inode tells.
        inode = path.stat().st_ino
        assert (await modify(client, "Tech", ADD, (11, "AAPL"))).retType == 0
        assert (await modify(client, "Tech", ADD, (1, "99999"))).retType == -1
        assert path.stat().st_ino == inode
        assert (await modify(client, "Tech", ADD, NVDA)).retType == 0
        assert path.stat().st_ino != inode


# --- atomic writes ------------------------------------------------------------


class _FailsHalfway:
    """A file whose write stores half the data and then fails, as a full disk would."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def write(self, data: bytes) -> int:
        self._real.write(data[: len(data) // 2])
        self._real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _FailsHalfway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._real.close()


def fail_write_halfway(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _FailsHalfway(real_fdopen(*a, **k)))


def fail_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", refuse)


def fail_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)


@pytest.mark.anyio
@pytest.mark.parametrize("sabotage", [fail_write_halfway, fail_fsync, fail_rename])
async def test_a_save_that_fails_midway_keeps_the_old_file_and_refuses_the_change(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sabotage: Callable[[pytest.MonkeyPatch], None],
) -> None:
    path = tmp_path / "watchlists.json"
    async with running(path) as client:
        before = path.read_bytes()
        tech = await tech_codes(client)
        with monkeypatch.context() as patch:
            sabotage(patch)
            response = await modify(client, "Tech", ADD, NVDA)
        assert response.retType == -1
        assert response.retMsg.startswith(
            "Watchlists not modified: the simulator could not save them ("
        )
        assert path.read_bytes() == before
        assert os.listdir(tmp_path) == ["watchlists.json"]
        # Refused means refused: memory agrees with the file.
        assert await tech_codes(client) == tech
        # Once the disk recovers, the same edit goes through.
        assert (await modify(client, "Tech", ADD, NVDA)).retType == 0
        assert groups_in(path)["Tech"][-1] == "US.NVDA"


def test_an_atomic_write_replaces_the_target_a_symlink_points_to_and_keeps_its_mode(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    try:
        link.symlink_to(real)
    except OSError:
        pytest.skip("symbolic links are not available here")
    write_atomically(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert real.stat().st_mode & 0o777 == 0o640


# --- refusing junk at start-up ----------------------------------------------------


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        (b"", "not valid JSON"),
        (b'{"securities": [', "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8 text"),
        (b"[]", "not simulator watchlists (watchlist data must be a JSON object"),
        (b'{"securities": []}', "not simulator watchlists ('groups' must be a list"),
        (
            b'{"securities": [], "groups": [{"name": "X", "type": "custom",'
            b' "securities": ["HK.00700"]}]}',
            "unknown securities: ['HK.00700']",
        ),
    ],
)
def test_a_corrupt_state_file_is_a_clear_error_at_startup_and_is_left_alone(
    tmp_path: Path, contents: bytes, reason: str
) -> None:
    path = tmp_path / "watchlists.json"
    path.write_bytes(contents)
    with pytest.raises(StateFileError) as caught:
        Simulator(state_path=path)
    message = str(caught.value)
    assert message.startswith(f"simulator state file {str(path)!r}: ")
    assert reason in message
    assert caught.value.path == path
    assert path.read_bytes() == contents


def test_an_unreadable_state_file_is_a_clear_error(tmp_path: Path) -> None:
    # A directory stands in for an unreadable file, portably and even as root.
    with pytest.raises(StateFileError, match=r"cannot read it \("):
        StateFile(tmp_path).load_or_seed()


def test_a_state_file_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "watchlists.json"
    with pytest.raises(StateFileError, match=r"cannot create it \(No such file or directory\)"):
        Simulator(state_path=path)


def test_watchlists_and_a_state_file_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        Simulator(watchlists=WatchlistStore.sample(), state_path=tmp_path / "w.json")
    assert not (tmp_path / "w.json").exists()


def test_a_simulator_without_a_state_file_keeps_its_watchlists_in_memory() -> None:
    assert Simulator().state_path is None


# --- the command line ----------------------------------------------------------------


def test_sim_state_option_seeds_and_serves_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "watchlists.json"
    served: list[Simulator] = []
    real_serve = asyncquote.sim.serve

    async def serve_until_ready(
        *args: Any, ready: Callable[[Simulator], object], **kw: Any
    ) -> None:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:

                def stop(sim: Simulator) -> None:
                    ready(sim)
                    served.append(sim)
                    tg.cancel_scope.cancel()

                tg.start_soon(lambda: real_serve(*args, ready=stop, **kw))

    monkeypatch.setattr(asyncquote.sim, "serve", serve_until_ready)
    assert main(["sim", "--port", "0", "--state", str(path)]) == 0
    (sim,) = served
    assert sim.state_path == path
    assert groups_in(path)["Tech"] == ["US.AAPL", "US.TSLA", "HK.00700", "HK.09988", "US.FUTU"]
    assert f"watchlists: {path}" in capsys.readouterr().out


def test_sim_with_a_corrupt_state_file_exits_1_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "watchlists.json"
    path.write_text("{oops", encoding="utf-8")
    assert main(["sim", "--port", "0", "--state", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"asyncquote: error: simulator state file {str(path)!r}: not valid JSON")
    assert "Traceback" not in err
