"""Run the Python snippets of the README and of docs/ against the simulator.

One harness for every Markdown page whose snippets are tested
(``tests/repo/test_readme.py``, ``tests/repo/test_docs.py``). In a page, each
```` ```python ```` block is a snippet; a ```` ```text ```` block right after
it (no other block in between) is what it must print, where ``...`` stands
for any text; without one it must print nothing. Blocks of any other kind
(``console``, ``toml``, ...) are not run, nor is a ```` ```python
title="file.py" ```` block, which shows a whole file that the page's own
test runs. Only a snippet with an ``async for`` loop (a watcher) may run
until the harness stops it.

The tests call :func:`check`, which runs a snippet in a subprocess of its
own: this file, run as a script, never sharing the test process's state::

    python tests/snippet_harness.py SNIPPET.py [--rsa-key FILE] [--reply-delay SECONDS]

There, the snippet's code becomes the body of an async function that runs
on trio with a virtual clock (``MockClock``, jumping ahead whenever every
task waits), next to a :class:`~asyncquote.sim.Simulator` in the same loop,
so a snippet that waits out a 30-second quota window takes no real time.
What the snippet prints goes to stdout, unchanged. Substitutions, and
nothing else:

* OpenD's default address (``127.0.0.1:11111``) means the simulator:
  ``asyncquote.connect`` is wrapped to send port 11111 to the simulator's.
* ``anyio.run(main)`` (a whole program) becomes ``await main()``.
* A fragment that uses ``client`` without making one runs inside
  ``async with asyncquote.connect() as client:``.
* ``/path/to/opend_rsa.pem`` is the key file given with ``--rsa-key``, which
  the simulator then encrypts with.
* ``anyio`` and ``asyncquote`` are imported, as the first snippet does.

With ``--reply-delay`` every reply takes that many (virtual) seconds, as on
a real network: a snippet whose output depends on every reply taking no time
at all would print something else in real time, and this shows it.

A snippet still running after :data:`LIMIT` virtual seconds (a watch loop)
is stopped, and the script exits with status :data:`STOPPED`.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import trio.testing

import asyncquote
from asyncquote.sim import Faults, Simulator

LIMIT = 120.0
STOPPED = 3
KEY_PLACEHOLDER = "/path/to/opend_rsa.pem"

ROOT = Path(__file__).resolve().parent.parent
# The info string may carry attributes after the language: ```python
# title="test_bot.py"``` shows a whole file, which the page's own test runs
# as a file (tests/repo/test_testing_page.py); it is not a snippet.
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


# -- the tests' side: find the snippets of a page, run one, check its output


@dataclass(frozen=True)
class Snippet:
    """One ```` ```python ```` block of a page, and what it must print (``None``: nothing)."""

    page: str  # relative to the checkout, e.g. "docs/quotas.md"
    line: int
    code: str
    expected: str | None

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def snippets(page: Path) -> list[Snippet]:
    """The Python snippets of a Markdown page, in order."""
    text = page.read_text(encoding="utf-8")
    path = page.resolve()
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    blocks = [
        (
            text.count("\n", 0, m.start()) + 1,
            f"{m.group(1)} {m.group(2).strip()}".rstrip(),
            m.group(3),
        )
        for m in FENCE.finditer(text)
    ]
    found = []
    for index, (line, kind, body) in enumerate(blocks):
        if kind != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        expected = following[2] if following is not None and following[1] == "text" else None
        found.append(Snippet(name, line, body, expected))
    return found


def output_matches(expected: str, got: str) -> bool:
    """Whether ``got`` is ``expected``, where ``...`` in ``expected`` stands for any text."""
    checker = doctest.OutputChecker()
    return checker.check_output(expected, got, doctest.ELLIPSIS)


def check(snippet: Snippet, scratch: Path, rsa_pem: bytes, *, reply_delay: float = 0.0) -> None:
    """Run ``snippet`` against the simulator; fail unless it prints what its page says.

    ``scratch`` is an empty directory to run in; ``rsa_pem`` the key that
    stands for ``/path/to/opend_rsa.pem`` (if the snippet names it);
    ``reply_delay`` the seconds each reply takes.
    """
    script = scratch / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")
    args = [sys.executable, __file__, str(script)]
    if KEY_PLACEHOLDER in snippet.code:
        key = scratch / "opend_rsa.pem"
        key.write_bytes(rsa_pem)
        args += ["--rsa-key", str(key)]
    if reply_delay:
        args += ["--reply-delay", str(reply_delay)]
    completed = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=scratch,
        env={**os.environ, "HOME": str(scratch), "PYTHONPATH": str(ROOT)},
        check=False,
    )
    may_run_on = "async for" in snippet.code
    assert completed.returncode in ((0, STOPPED) if may_run_on else (0,)), (
        f"{snippet} failed:\n{completed.stderr}"
    )
    if snippet.expected is None:
        assert completed.stdout == "", f"{snippet} prints, but its page does not say what"
    else:
        assert output_matches(snippet.expected, completed.stdout), (
            f"{snippet} printed:\n{completed.stdout}\nits page says:\n{snippet.expected}"
        )


# -- the subprocess's side: run one snippet next to a simulator


def as_async_function(snippet: str, rsa_key: str | None) -> str:
    code = snippet.replace("anyio.run(main)", "await main()")
    if rsa_key is not None:
        code = code.replace(KEY_PLACEHOLDER, rsa_key)
    if re.search(r"\bclient\b", code) and not re.search(r"\bas client\b", code):
        code = "async with asyncquote.connect() as client:\n" + textwrap.indent(code, "    ")
    return "async def snippet():\n" + textwrap.indent(code, "    ") + "\n    pass\n"


async def run(snippet: str, rsa_key: str | None, reply_delay: float | None) -> bool:
    """Run the snippet; return whether it ended by itself."""
    namespace: dict[str, Any] = {"anyio": anyio, "asyncquote": asyncquote}
    exec(compile(as_async_function(snippet, rsa_key), "<snippet>", "exec"), namespace)
    real_connect = asyncquote.connect
    async with Simulator(rsa_key=rsa_key, faults=Faults(reply_delay=reply_delay)) as sim:

        def connect(host: str = "127.0.0.1", port: int = 11111, **options: Any) -> Any:
            return real_connect(host, sim.port if port == 11111 else port, **options)

        asyncquote.connect = connect  # type: ignore[assignment]
        with anyio.move_on_after(LIMIT) as scope:
            await namespace["snippet"]()
        return not scope.cancelled_caught


def main(argv: list[str]) -> int:
    path, *rest = argv
    options = dict(zip(rest[::2], rest[1::2], strict=True))
    rsa_key = options.get("--rsa-key")
    delay = options.get("--reply-delay")
    reply_delay = None if delay is None else float(delay)
    with open(path, encoding="utf-8") as file:
        snippet = file.read()
    clock = trio.testing.MockClock(autojump_threshold=0)
    ended = anyio.run(
        run, snippet, rsa_key, reply_delay, backend="trio", backend_options={"clock": clock}
    )
    return 0 if ended else STOPPED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
