"""The official documentation's get_user_security example, run verbatim against ``asyncquote sim``.

The documentation's example queries the custom group ``"A"`` and prints a frame
whose rows are ``HK.HSImain`` and ``HK.00700``; the simulator's sample data has
that group so the example works as written. Only the port is changed, to the
one the simulator was given by the system.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .sdk_process import NEEDS_SDK, run_sdk_script

pytestmark = NEEDS_SDK

DOCUMENTED_EXAMPLE = """\
from futu import *
quote_ctx = OpenQuoteContext(host='127.0.0.1', port=11111)

ret, data = quote_ctx.get_user_security("A")
if ret == RET_OK:
    print(data)
    print(data['code'][0])
    print(data['code'].values.tolist())
else:
    print('error:', data)
quote_ctx.close()
"""


@pytest.fixture
def sim_port() -> Iterator[int]:
    """``asyncquote sim`` in a process of its own, on a free port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncquote", "sim", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # "OpenD simulator listening on HOST:PORT (...)"
        assert "listening on 127.0.0.1:" in first, process.stderr
        yield int(first.split("127.0.0.1:")[1].split()[0])
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_documented_example_prints_the_two_rows(sim_port: int, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(DOCUMENTED_EXAMPLE.replace("port=11111", f"port={sim_port}"))
    stdout, _ = run_sdk_script(script, [], tmp_path)
    lines = stdout.splitlines()
    assert "error:" not in stdout
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["code", "name"])
    rows = [line.split()[:3] for line in lines[header + 1 : header + 3]]
    assert rows == [["0", "HK.HSImain", "恒指期货主连"], ["1", "HK.00700", "腾讯控股"]]
    assert "HK.HSImain" in lines
    assert "['HK.HSImain', 'HK.00700']" in lines
