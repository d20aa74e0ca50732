"""Run a script that drives the official SDK in a process of its own.

The SDK cannot share a process with asyncquote (both register protobuf
descriptor files of the same names), so interop tests run small scripts with
this interpreter and read back what they wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

SDK_TIMEOUT = 90.0
"""Seconds a script may take: the SDK retries a failed handshake forever."""


def run_sdk_script(
    script: Path, args: Sequence[str], home: Path, *, timeout: float = SDK_TIMEOUT
) -> None:
    """Run ``script args...`` with ``home`` as ``$HOME`` and working directory.

    The SDK writes its logs under ``$HOME``, so ``home`` keeps them out of the
    user's. Fails the calling test if the script hangs or exits non-zero.
    """
    try:
        completed = subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "HOME": str(home)},
            cwd=home,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the official SDK hung against the simulator:\n{exc.stderr!r}")
    assert completed.returncode == 0, completed.stderr
