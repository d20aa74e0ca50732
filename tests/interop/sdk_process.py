"""Run a script that drives the official SDK in a process of its own.

The SDK cannot share a process with asyncquote (both register protobuf
descriptor files of the same names), so interop tests run small scripts with
this interpreter and read back what they wrote.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

SDK_TIMEOUT = 90.0
"""Seconds a script may take: the SDK retries a failed handshake forever."""


NEEDS_SDK = [
    pytest.mark.interop,
    pytest.mark.skipif(importlib.util.find_spec("futu") is None, reason="futu-api not installed"),
]
"""The ``pytestmark`` of a module that runs the SDK."""


def start_sdk_script(
    script: Path, args: Sequence[str], home: Path, **options: Any
) -> subprocess.Popen[Any]:
    """Start ``script args...`` with ``home`` as ``$HOME`` and working directory.

    The SDK writes its logs under ``$HOME``, so ``home`` keeps them out of the
    user's. ``options`` go to :class:`subprocess.Popen` (output, text mode).
    """
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env={**os.environ, "HOME": str(home)},
        cwd=home,
        **options,
    )


def run_sdk_script(
    script: Path, args: Sequence[str], home: Path, *, timeout: float = SDK_TIMEOUT
) -> tuple[str, str]:
    """Run ``script args...`` as :func:`start_sdk_script` does; its stdout and stderr.

    Fails the calling test if the script hangs or exits non-zero.
    """
    with start_sdk_script(
        script, args, home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
            pytest.fail(f"the official SDK hung against the simulator:\n{stderr!r}")
    assert process.returncode == 0, stderr
    return stdout, stderr
