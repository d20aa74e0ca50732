"""The official SDK (``futu-api``) over an encrypted connection to our simulator.

The simulator plays an OpenD configured with ``rsa_private_key``; the SDK is
configured with ``enable_proto_encrypt(True)`` and the same key file, as its
documentation asks. It only supports 1024-bit keys in PKCS#1 PEM ("BEGIN RSA
PRIVATE KEY"), so that is what the tests generate. The SDK runs in a
subprocess (see ``sdk_process.py``) against a simulator served from a
background thread.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from pathlib import Path

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.sim import Simulator, format_code

from ..sim.cryptoclient import encrypted_client
from ..sim.keys import rsa_pem
from ..sim.rawclient import GET_USER_SECURITY, user_security
from .sdk_process import NEEDS_SDK, run_sdk_script, start_sdk_script

pytestmark = NEEDS_SDK

SDK_SCRIPT = Path(__file__).with_name("sdk_client.py")
RET_OK = 0  # the SDK's return code for success
KEY = rsa_pem("opend")
OTHER_KEY = rsa_pem("not opend's")
# Long enough for the SDK to start and make its first handshake attempt.
FIRST_ATTEMPT_TIMEOUT = 60.0


def sdk_args(sim: Simulator, pem: bytes, home: Path) -> list[str]:
    """sdk_client.py's arguments to read "All" from ``sim`` with the key ``pem``."""
    key_file = home / "conn_key.pem"
    key_file.write_bytes(pem)
    return ["--rsa-key", str(key_file), sim.host, str(sim.port), str(home / "result.json"), "All"]


async def served_encrypted(host: str, port: int) -> int:
    """The retType of a 3213 call made over a fresh encrypted connection with the right key."""
    with anyio.fail_after(10):
        async with encrypted_client(host, port, KEY) as client:
            response = await client.call(
                GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
            )
    return response.retType


def test_the_official_sdk_reads_a_watchlist_over_an_encrypted_connection(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(rsa_key=KEY)) as sim,
    ):
        run_sdk_script(SDK_SCRIPT, sdk_args(sim, KEY, tmp_path), tmp_path)
    result = json.loads(out.read_text(encoding="utf-8"))
    ret, state = result["global_state"]
    assert ret == RET_OK, state
    assert state["program_status_type"] == "READY"
    group = result["groups"]["All"]
    assert group["ret"] == RET_OK, group.get("error")
    codes = [row["code"] for row in group["rows"]]
    expected = [
        format_code((info.basic.security.market, info.basic.security.code))
        for info in sim.watchlists.securities_in("All")
    ]
    assert codes == expected
    assert len(codes) == 16
    assert sim.failed_handshakes == 0
    proto_ids = [record.proto_id for record in sim.requests]
    assert proto_ids[0] == 1001
    assert proto_ids.count(3213) == 1


def test_the_official_sdk_with_another_key_is_refused_and_the_simulator_serves_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="asyncquote.sim")
    out = tmp_path / "result.json"
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(rsa_key=KEY)) as sim,
    ):
        with (tmp_path / "sdk.log").open("w") as log:
            sdk = start_sdk_script(
                SDK_SCRIPT,
                sdk_args(sim, OTHER_KEY, tmp_path),
                tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                # The SDK retries a failed handshake forever (every 6 s), so
                # wait for its first attempt to be turned away, then stop it.
                deadline = time.monotonic() + FIRST_ATTEMPT_TIMEOUT
                while not sim.failed_handshakes and time.monotonic() < deadline:
                    assert sdk.poll() is None, (tmp_path / "sdk.log").read_text()
                    time.sleep(0.05)
            finally:
                sdk.kill()
                sdk.wait(timeout=10)
        assert sim.failed_handshakes >= 1
        assert portal.call(served_encrypted, sim.host, sim.port) == 0
    assert not out.exists()
    assert [r.proto_id for r in sim.requests] == [1001, GET_USER_SECURITY]
    refused = [r for r in caplog.records if "does not decrypt" in r.getMessage()]
    assert refused
