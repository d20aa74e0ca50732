"""Run one README snippet against the simulator; run as a script, never imported by tests.

    python tests/snippet_harness.py SNIPPET.py [--rsa-key FILE]

The snippet's code becomes the body of an async function that runs on trio
with a virtual clock (``MockClock``, jumping ahead whenever every task
waits), next to a :class:`~asyncquote.sim.Simulator` in the same loop, so a
snippet that waits out a 30-second quota window takes no real time. What the
snippet prints goes to stdout, unchanged. Substitutions, and nothing else:

* OpenD's default address (``127.0.0.1:11111``) means the simulator:
  ``asyncquote.connect`` is wrapped to send port 11111 to the simulator's.
* ``anyio.run(main)`` (a whole program) becomes ``await main()``.
* A fragment that uses ``client`` without making one runs inside
  ``async with asyncquote.connect() as client:``.
* ``/path/to/opend_rsa.pem`` is the key file given with ``--rsa-key``, which
  the simulator then encrypts with.
* ``anyio`` and ``asyncquote`` are imported, as the first snippet does.

A snippet still running after :data:`LIMIT` virtual seconds (a watch loop)
is stopped, and the harness exits with status :data:`STOPPED`.
"""

from __future__ import annotations

import re
import sys
import textwrap
from typing import Any

import anyio
import trio.testing

import asyncquote
from asyncquote.sim import Simulator

LIMIT = 120.0
STOPPED = 3
KEY_PLACEHOLDER = "/path/to/opend_rsa.pem"


def as_async_function(snippet: str, rsa_key: str | None) -> str:
    code = snippet.replace("anyio.run(main)", "await main()")
    if rsa_key is not None:
        code = code.replace(KEY_PLACEHOLDER, rsa_key)
    if re.search(r"\bclient\b", code) and not re.search(r"\bas client\b", code):
        code = "async with asyncquote.connect() as client:\n" + textwrap.indent(code, "    ")
    return "async def snippet():\n" + textwrap.indent(code, "    ") + "\n    pass\n"


async def run(snippet: str, rsa_key: str | None) -> bool:
    """Run the snippet; return whether it ended by itself."""
    namespace: dict[str, Any] = {"anyio": anyio, "asyncquote": asyncquote}
    exec(compile(as_async_function(snippet, rsa_key), "<README snippet>", "exec"), namespace)
    real_connect = asyncquote.connect
    async with Simulator(rsa_key=rsa_key) as sim:

        def connect(host: str = "127.0.0.1", port: int = 11111, **options: Any) -> Any:
            return real_connect(host, sim.port if port == 11111 else port, **options)

        asyncquote.connect = connect  # type: ignore[assignment]
        with anyio.move_on_after(LIMIT) as scope:
            await namespace["snippet"]()
        return not scope.cancelled_caught


def main(argv: list[str]) -> int:
    path, *rest = argv
    rsa_key = rest[1] if rest[:1] == ["--rsa-key"] else None
    with open(path, encoding="utf-8") as file:
        snippet = file.read()
    clock = trio.testing.MockClock(autojump_threshold=0)
    ended = anyio.run(run, snippet, rsa_key, backend="trio", backend_options={"clock": clock})
    return 0 if ended else STOPPED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
