"""A Ctrl-C while the ``asyncquote`` command is still importing ends quietly.

Python runs ``asyncquote/__init__.py`` (pydantic, protobuf: most of the
command's start-up time) before any code of the command line, so the command
cannot catch a KeyboardInterrupt raised there. This module, imported first by
the package, installs a SIGINT handler that exits with 130 and no traceback
-- but only when the process *is* the command (the ``asyncquote`` script or
``python -m asyncquote``) and nobody has installed a handler of their own. A
program that imports the library is left alone. :func:`main` in ``_cli``
puts Python's default handler back once everything is loaded.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
from types import FrameType

#: The names the console script has on the platforms pip installs it on.
_SCRIPT_NAMES = frozenset({"asyncquote", "asyncquote.exe", "asyncquote-script.py"})


def started_as_command() -> bool:
    """Whether this process was started as ``asyncquote`` or ``python -m asyncquote``."""
    if sys.argv and os.path.basename(sys.argv[0]) in _SCRIPT_NAMES:
        return True
    # During ``python -m asyncquote`` the package is imported while sys.argv[0]
    # is still "-m"; the interpreter's own command line says which module.
    original: list[str] = list(getattr(sys, "orig_argv", ()))
    for flag, value in itertools.pairwise(original):
        if flag == "-m":
            return value == "asyncquote"
    return any(arg == "-masyncquote" for arg in original)


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    # SystemExit, unlike KeyboardInterrupt, ends the process without a traceback.
    raise SystemExit(130)


def install() -> None:
    """Make a Ctrl-C exit 130 quietly until :func:`restore`, for the command only."""
    if (
        started_as_command()
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        signal.signal(signal.SIGINT, _exit_quietly)


def restore() -> None:
    """Give Ctrl-C back to Python (a KeyboardInterrupt) if :func:`install` took it."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is _exit_quietly
    ):
        signal.signal(signal.SIGINT, signal.default_int_handler)


# On import, so the package can take it before anything slow (see __init__).
install()
