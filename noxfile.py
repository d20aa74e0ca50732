"""CI sessions, run by ``make test`` after the main suite (``nox`` lists them).

``make test`` runs the whole suite once, on the main interpreter (the
``.venv``'s), every runner and the interop tests included. These sessions
then add what only a fresh install can show, on the other interpreters too:

* ``package``: build the sdist and the wheel, ``twine check`` them, install
  the wheel (not editable) into a fresh virtualenv and run ``asyncquote demo``
  from it.
* ``install-lines``: run docs/install.md's ``pip install`` commands as the
  page writes them, from the checkout and from the built wheel, in a fresh
  virtualenv; the testing extra's plugin must then import.
* ``tests-3.10`` ... ``tests-3.13``: on each supported Python, install the
  built wheel with its ``test`` extra into a fresh virtualenv, unpack the
  sdist and run a representative part of its test suite (:data:`ELSEWHERE`:
  all but the interop tests, which drive the official SDKs, with the runner
  matrix cut to :data:`ELSEWHERE_RUNNERS`), so every version is tested and
  the sdist is shown to be self-contained. A version that is not installed
  is skipped, saying so, and so is the version nox runs on (:data:`MAIN`),
  which ``make test`` has just tested in full.
* ``tests-without-sniffio``: the wheel without trio, and so without sniffio,
  which only trio brings here (the anyio pip picks, 4.16, does not depend on
  it; older 4.x releases did): the suite's part that needs neither
  (:data:`WITHOUT_SNIFFIO`), on the runners that remain. The library must
  work whether sniffio is importable or not.

Interpreters are looked up on ``PATH`` (``python3.12``) and under pyenv
(``~/.pyenv/versions/3.12.*``); nox never downloads one. Set
``ASYNCQUOTE_NOX_TESTS`` to a pytest argument string to run another subset
(``ASYNCQUOTE_NOX_TESTS=tests`` runs the whole suite) in the test sessions.
"""

from __future__ import annotations

import email.parser
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.default_venv_backend = "venv"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = False
nox.options.reuse_venv = "no"

ROOT = Path(__file__).resolve().parent
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
DIST = ROOT / ".nox" / "dist"
# Files the sdist must carry for its tests and the README's commands.
SDIST_MUST_HOLD = (
    "LICENSE",
    "Makefile",
    "README.md",
    "examples/poll_groups.py",
    "asyncquote/sim/examples/get_user_security.mjs",
    "noxfile.py",
    "tests/e2e/test_soak.py",
)

# Package data the docs point users to (docs/simulator.md), besides the code.
WHEEL_MUST_HOLD = "asyncquote/sim/examples/get_user_security.mjs"


def find_python(version: str) -> str | None:
    """The path of a working Python ``version`` (e.g. "3.12"), or None.

    pyenv's installations come first: a pyenv shim on ``PATH`` may exist and
    still fail for a version that is not currently selected.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(
        map(str, (pyenv_root / "versions").glob(f"{version}.*/bin/python{version}"))
    )
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    check = f"import sys; sys.exit(sys.version_info[:2] != {tuple(map(int, version.split('.')))})"
    for candidate in candidates:
        try:
            works = subprocess.run([candidate, "-c", check], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if works.returncode == 0:
            return candidate
    return None


def built(kind: str) -> Path:
    """The one sdist (``.tar.gz``) or wheel (``.whl``) the package session built."""
    found = sorted(DIST.glob(f"asyncquote-*{kind}"))
    if len(found) != 1:
        raise RuntimeError(f"expected one asyncquote-*{kind} in {DIST}: run the package session")
    return found[0]


@nox.session
def package(session: nox.Session) -> None:
    """Build, check, install the wheel in a new virtualenv and run the demo from it."""
    shutil.rmtree(DIST, ignore_errors=True)
    session.install("build>=1.2", "twine>=5")
    session.run("python", "-m", "build", "--outdir", str(DIST), str(ROOT))
    session.run("twine", "check", "--strict", *map(str, sorted(DIST.iterdir())))
    with tarfile.open(built(".tar.gz")) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        missing = [name for name in SDIST_MUST_HOLD if f"{top}/{name}" not in sdist.getnames()]
    if missing:
        session.error(f"the sdist lacks {', '.join(missing)}")
    # As docs/install.md writes it: "dist/asyncquote-<version>-py3-none-any.whl[testing]".
    with zipfile.ZipFile(built(".whl")) as wheel:
        if WHEEL_MUST_HOLD not in wheel.namelist():
            session.error(f"the wheel lacks {WHEEL_MUST_HOLD}")
    session.install(f"{built('.whl')}[testing]")
    with tempfile.TemporaryDirectory() as elsewhere:  # not the checkout, so the wheel is used
        session.chdir(elsewhere)
        where = session.run(
            "python", "-c", "import asyncquote; print(asyncquote.__file__)", silent=True
        )
        if "site-packages" not in str(where):
            session.error(f"asyncquote was not imported from the installed wheel: {where}")
        output = session.run("asyncquote", "demo", silent=True)
        if "== All: 16 securities" not in str(output):
            session.error(f"asyncquote demo from the wheel printed:\n{output}")
        session.log("asyncquote demo ran from the installed wheel")


def install_lines() -> list[list[str]]:
    """The ``pip install`` commands of docs/install.md's console blocks, as arguments.

    ``<version>`` stands for the built wheel's version; ``pip install build``
    is left out (the package session has built the wheel already).
    """
    version = built(".whl").name.split("-")[1]
    lines = []
    for line in (ROOT / "docs" / "install.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("$ pip install ") and line != "$ pip install build":
            command = line[2:].split("  #")[0].replace("<version>", version)
            lines.append(shlex.split(command))
    return lines


@nox.session(name="install-lines", requires=["package"])
def install_lines_session(session: nox.Session) -> None:
    """Run docs/install.md's install commands as written, in a fresh virtualenv.

    From the checkout (``pip install -e .``, ``pip install -e ".[testing]"``)
    and from the built wheel; then the testing extra's plugin must import.
    """
    commands = install_lines()
    if len(commands) < 3:
        session.error(f"docs/install.md's install commands were not found: {commands}")
    for command in commands:
        # The checkout's lines run in the checkout; the wheel's where its dist/ is.
        from_wheel = any(argument.startswith("dist/") for argument in command)
        session.chdir(DIST.parent if from_wheel else ROOT)
        session.run("python", "-m", *command)
    with tempfile.TemporaryDirectory() as elsewhere:  # not the checkout
        session.chdir(elsewhere)
        session.run("python", "-c", "import asyncquote.testing, pytest, cryptography")


#: The interpreter running nox (the ``.venv``'s): ``make test`` has just run the
#: whole suite on it, so its ``tests-3.x`` session is skipped.
MAIN = f"{sys.version_info.major}.{sys.version_info.minor}"
#: What ``tests-3.x`` run: the whole suite but the interop tests (the official
#: SDKs' own code, not ours, is what would differ between interpreters).
ELSEWHERE = ("-n", "2", "-m", "not interop")
#: The runner each ``tests-3.x`` runs the runner matrix under (tests/conftest.py's
#: RUNNERS): one plain runner per interpreter, a different one on each, so that
#: every event loop's own runner meets every other supported Python; the main
#: run has them all. (Three runners on each took ~100 s more per interpreter.)
ELSEWHERE_RUNNERS = {"3.10": "asyncio.run", "3.12": "uvloop.run", "3.13": "trio.run"}
#: What ``tests-without-sniffio`` runs: the runner matrix's modules that do not
#: import trio, and the unit tests of the modules that run outside a task.
WITHOUT_SNIFFIO = (
    "-n",
    "2",
    "tests/repo/test_runners.py",
    "tests/io/test_connection.py",
    "tests/io/test_wire.py",
    "tests/io/test_broadcast.py",
    "tests/io/test_loop.py",
    "tests/e2e/test_asyncio_usage.py",
    "tests/e2e/test_client.py",
    "tests/e2e/test_client_watchlist.py",
    "tests/e2e/test_events.py",
    "tests/e2e/test_faults.py",
    "tests/e2e/test_health_against_simulator.py",
    "tests/e2e/test_large_replies.py",
    "tests/e2e/test_read_your_writes.py",
    "tests/e2e/test_readiness.py",
)
#: The ``test`` extra's packages left out of ``tests-without-sniffio``: trio
#: brings sniffio; the official SDK serves only the interop tests, not run there.
#: (The session checks that nothing else brought sniffio.)
BRINGS_SNIFFIO = frozenset({"trio", "futu-api"})


def run_sdist_tests(session: nox.Session, default: Sequence[str]) -> None:
    """Unpack the sdist and run pytest in it: ``default``, or ASYNCQUOTE_NOX_TESTS."""
    with tempfile.TemporaryDirectory() as scratch:
        with tarfile.open(built(".tar.gz")) as sdist:
            sdist.extractall(scratch, filter="data")  # no paths outside scratch
        (source,) = Path(scratch).iterdir()
        session.chdir(source)
        chosen = os.environ.get("ASYNCQUOTE_NOX_TESTS")
        selection = shlex.split(chosen) if chosen is not None else list(default)
        session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection)


def _tests_session(version: str, python: str | None) -> None:
    tested_already = version == MAIN and "ASYNCQUOTE_NOX_TESTS" not in os.environ
    # No virtualenv (python=False) for a session that only says why it is skipped.
    use = python if python is not None and not tested_already else False

    @nox.session(name=f"tests-{version}", python=use, requires=["package"])
    def tests(session: nox.Session) -> None:
        if python is None:
            session.skip(
                f"Python {version} is not installed (looked for python{version} on PATH "
                f"and under ~/.pyenv/versions): not tested on it"
            )
        if tested_already:
            session.skip(
                f"Python {version} runs nox: make test ran the whole suite on it already "
                "(set ASYNCQUOTE_NOX_TESTS=tests to run the sdist's suite here too)"
            )
        session.install(f"{built('.whl')}[test]")
        session.env["ASYNCQUOTE_RUNNERS"] = ELSEWHERE_RUNNERS.get(version, "asyncio.run")
        run_sdist_tests(session, ELSEWHERE)


def test_extra_without_sniffio() -> list[str]:
    """The wheel's ``test`` requirements for this platform, less what brings sniffio."""
    with zipfile.ZipFile(built(".whl")) as wheel:
        (metadata,) = (name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
        headers = email.parser.Parser().parsestr(wheel.read(metadata).decode())
    wanted = []
    for line in headers.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or not marker.evaluate({"extra": "test"}):
            continue  # the runtime's own, or another extra's
        if marker.evaluate({"extra": ""}) or requirement.name in BRINGS_SNIFFIO:
            continue
        wanted.append(f"{requirement.name}{requirement.specifier}")
    return wanted


@nox.session(name="tests-without-sniffio", requires=["package"])
def tests_without_sniffio(session: nox.Session) -> None:
    """Part of the suite where sniffio cannot be imported (no trio, no futu-api)."""
    session.install(str(built(".whl")), *test_extra_without_sniffio())
    found = session.run(
        "python",
        "-c",
        "import importlib.util as u; print(u.find_spec('sniffio') is not None)",
        silent=True,
    )
    if str(found).strip() != "False":
        session.error("sniffio is installed: something other than trio brought it")
    session.env["ASYNCQUOTE_WITHOUT_SNIFFIO"] = "1"
    run_sdist_tests(session, WITHOUT_SNIFFIO)


for _version in SUPPORTED:
    _tests_session(_version, find_python(_version))

# `nox` with no arguments: everything, the package first.
nox.options.sessions = [
    "package",
    "install-lines",
    *(f"tests-{version}" for version in SUPPORTED),
    "tests-without-sniffio",
]
