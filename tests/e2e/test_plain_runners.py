"""The library as users start it: ``asyncio.run``, ``uvloop.run``, ``trio.run``.

Each runner gets a fresh interpreter running ``plain_runner_script.py``: no
anyio runner and no pytest plugin has set anything up there, and ``sniffio``
is importable (as it is wherever trio or httpx is installed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("plain_runner_script.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("runner", ["asyncio", "uvloop", "trio"])
def test_late_replies_free_their_quota_slots_on_the_same_connection(runner: str) -> None:
    """Three calls time out, their replies come late and free their slots
    (from the loop's read callback on asyncio and uvloop); a fourth call
    succeeds, no slot is left in use and the connection is never replaced."""
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), runner],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert completed.stdout.strip() == f"{runner} ok 1 reconnects=0", completed.stderr
    assert completed.returncode == 0
    assert "internal error" not in completed.stderr
