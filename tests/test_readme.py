"""Every Python snippet in README.md runs against the simulator and prints what the README says.

Each ```python block runs in a subprocess of its own (``snippet_harness.py``
says how, and which placeholders it fills in), on a virtual clock, so quota
waits cost no real time. If a ```text block follows it (with no other block
in between), the snippet's output must match it, where ``...`` stands for
any text; otherwise it must print nothing. Only a snippet with an
``async for`` loop may run until the harness stops it.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from asyncquote.sim import FAULT_NAMES, WatchlistStore
from asyncquote.sim._watchlists import GroupType

from .sim.keys import rsa_pem

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HARNESS = Path(__file__).with_name("snippet_harness.py")
STOPPED = 3  # the harness's status for a snippet it had to stop

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Snippet:
    line: int
    code: str
    expected: str | None

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def snippets() -> list[Snippet]:
    text = README.read_text(encoding="utf-8")
    blocks = [
        (text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)) for m in FENCE.finditer(text)
    ]
    found = []
    for index, (line, kind, body) in enumerate(blocks):
        if kind != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        expected = following[2] if following is not None and following[1] == "text" else None
        found.append(Snippet(line, body, expected))
    return found


def test_the_readme_has_snippets_and_each_is_tested() -> None:
    assert len(snippets()) >= 8


def output_matches(expected: str, got: str) -> bool:
    checker = doctest.OutputChecker()
    return checker.check_output(expected, got, doctest.ELLIPSIS)


@pytest.mark.interop  # some snippets use the official SDK's classes
@pytest.mark.parametrize("snippet", snippets(), ids=str)
def test_the_snippet_runs_and_prints_what_the_readme_says(snippet: Snippet, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")
    args = [sys.executable, str(HARNESS), str(script)]
    if "/path/to/opend_rsa.pem" in snippet.code:
        key = tmp_path / "opend_rsa.pem"
        key.write_bytes(rsa_pem("readme"))
        args += ["--rsa-key", str(key)]
    completed = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        check=False,
    )
    may_run_on = "async for" in snippet.code
    assert completed.returncode in ((0, STOPPED) if may_run_on else (0,)), completed.stderr
    if snippet.expected is None:
        assert completed.stdout == "", f"{snippet} prints, but the README does not say what"
    else:
        assert output_matches(snippet.expected, completed.stdout), (
            f"{snippet} printed:\n{completed.stdout}\nthe README says:\n{snippet.expected}"
        )


def test_the_output_check_is_strict_where_it_should_be() -> None:
    assert output_matches("a ... c\n", "a b c\n")
    assert not output_matches("a ... c\n", "a b d\n")
    assert not output_matches("one\n", "one\ntwo\n")


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_readme_names_the_sample_datas_custom_groups() -> None:
    custom = [g.name for g in WatchlistStore.sample().groups if g.group_type == GroupType.CUSTOM]
    described = re.search(r"custom groups? ((?:`[^`]+`(?:, | and )?)+)", section("The simulator"))
    assert described is not None, "the simulator section names no custom groups"
    assert re.findall(r"`([^`]+)`", described.group(1)) == custom


def test_the_readme_spells_faults_as_the_command_line_does() -> None:
    text = section("The simulator")
    faults_part = text[text.index("--fault NAME") :]
    named = re.findall(r"`([a-z0-9_-]+)`", faults_part)
    named = [
        name
        for name in named
        if name.replace("-", "_") in {n.replace("-", "_") for n in FAULT_NAMES}
    ]
    assert len(set(named)) == len(FAULT_NAMES)
    assert [name for name in named if name not in FAULT_NAMES] == []


def test_the_test_files_the_readme_names_exist() -> None:
    """The README's commands (e.g. the long soak) name test files that are there."""
    named = set(re.findall(r"\btests/[\w/]+\.py\b", README.read_text(encoding="utf-8")))
    assert "tests/e2e/test_soak.py" in named
    assert [path for path in sorted(named) if not (ROOT / path).is_file()] == []
