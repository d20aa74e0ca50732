"""asyncquote and the official SDK in one process.

Our generated protobuf modules live in a private descriptor pool, so they do
not clash with the SDK's identically named ones. That also makes the SDK's
generated classes usable with ``QuoteClient.request`` for protocols we have
not wrapped. Runs in a subprocess, to keep the SDK out of the test process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .sdk_process import NEEDS_SDK

pytestmark = NEEDS_SDK

SCRIPT = textwrap.dedent(
    """
    import anyio
    import futu  # the official SDK, with its own Qot_Common.proto & co.
    from futu.common.pb import Qot_GetUserSecurity_pb2 as sdk_pb

    import asyncquote
    from asyncquote.sim import Simulator

    async def main():
        async with Simulator(port=0) as sim, asyncquote.connect(sim.host, sim.port) as client:
            request = sdk_pb.Request()
            request.c2s.groupName = "Tech"
            response = await client.request(3213, request, sdk_pb.Response)
            ours = await client.get_user_security("Tech")
        theirs = [
            (info.basic.security.market, info.basic.security.code)
            for info in response.s2c.staticInfoList
        ]
        mine = [(int(i.security.market), i.security.code) for i in ours]
        assert theirs == mine and mine, (theirs, mine)
        print("OK", len(mine))

    anyio.run(main)
    """
)


def test_the_official_sdk_imports_alongside_and_its_classes_work_with_request() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith("OK ")
