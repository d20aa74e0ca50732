"""Command line: ``asyncquote …`` or ``python -m asyncquote …``.

Subcommands:

* ``demo`` — start the bundled simulator in-process, fetch watchlists from it
  over real TCP, print them. Needs no OpenD and no account.
* ``sim`` — run the simulator as a stand-alone OpenD stand-in.
* ``groups`` — list the watchlist groups.
* ``watchlist GROUP`` — print a watchlist group (table, JSON or CSV).
* ``watch GROUP...`` — print changes to groups as they happen.
* ``add GROUP CODE...`` / ``remove GROUP CODE...`` — edit a group.
* ``status`` — OpenD's global state and health (exit 1 when not ready).
* ``events`` — OpenD's events as they come.
* ``quote CODE...`` — a snapshot of securities; ``subscribe CODE...`` —
  their live quotes; ``follow GROUP`` — a group's changes and live quotes.
* ``kline CODE`` — the latest K-line bars of a security.

All but ``demo`` and ``sim`` talk to a real (or simulated) OpenD, by default
at 127.0.0.1:11111.

This module is ``main()``: parse (:mod:`asyncquote._cli.parser`), run the
command (:mod:`asyncquote._cli.commands`), and turn how it ended into an
exit code: usage errors 2, any other failure 1 with one line on stderr,
Ctrl-C 130, a closed stdout pipe 141. Never a traceback.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import errno
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

import anyio

from .._base.errors import (
    AsyncQuoteError,
    ConnectError,
    RequestTimeoutError,
)
from . import start as _cli_start

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["main"]

#: Exit status after a closed pipe (``asyncquote watchlist All | head``): what
#: a shell reports for a command ended by SIGPIPE.
_BROKEN_PIPE_STATUS = 141

#: Error messages longer than this are cut (a refusal naming thousands of codes, say).
_MAX_MESSAGE = 300


def _ctrl_c_on_python_3_10(exc: BaseException) -> bool:
    """Whether ``exc`` is how a Ctrl-C ends ``anyio.run`` on Python 3.10.

    From 3.11 asyncio's runner turns the cancellation of the main task that
    its SIGINT handler makes into a KeyboardInterrupt; on 3.10 (anyio's
    backport of that runner, tasks without ``uncancel``) the CancelledError
    itself escapes. Nothing else cancels the main task of ``anyio.run``.
    """
    if sys.version_info >= (3, 11):
        return False
    import asyncio  # already loaded: the command ran on it

    return isinstance(exc, asyncio.CancelledError)


def _leaf(exc: BaseException) -> BaseException:
    """The one exception inside (nested) exception groups of one member, else ``exc``.

    A group of nothing but closed pipes (or Ctrl-Cs) counts as one: ``watch
    Tech | head`` may find the closed pipe in two tasks at once (the one that
    writes and the one that watches the pipe).
    """
    if not isinstance(exc, BaseExceptionGroup):
        return exc
    members: list[BaseException] = [_leaf(member) for member in exc.exceptions]
    kinds = {type(member) for member in members}
    if len(members) == 1 or (
        len(kinds) == 1 and issubclass(kinds.pop(), (BrokenPipeError, KeyboardInterrupt))
    ):
        return members[0]
    whole: BaseException = exc
    return whole


def _shorten(message: str) -> str:
    """``message`` on one line, cut to a readable length."""
    message = " ".join(message.split())
    if len(message) <= _MAX_MESSAGE:
        return message
    cut = message[:_MAX_MESSAGE].rsplit(" ", 1)[0]
    return f"{cut} … (cut; {len(message):,} characters in all)"


def _fail(message: str) -> int:
    print(f"asyncquote: error: {message}", file=sys.stderr, flush=True)
    return 1


def _hint(exc: AsyncQuoteError) -> str:
    """What to do about ``exc``, for the error line ("" when its message says it)."""
    if isinstance(exc, ConnectError):
        if "--rsa-key" in str(exc):
            return ""  # the handshake's refusal already says what to pass
        if isinstance(exc.__cause__, (OSError, TimeoutError)):
            # Nothing answered (or it was silent): the address may be wrong.
            return (
                "is OpenD (or `asyncquote sim`) running there? Check --host and --port; an "
                "encrypted OpenD needs --rsa-key"
            )
        # Something answered the TCP connect, but the handshake failed.
        return (
            "check --rsa-key: OpenD's own key when it is configured with one, none otherwise; "
            "and that --host and --port are OpenD's"
        )
    if isinstance(exc, RequestTimeoutError):
        return "OpenD is slow or stuck: try again, or raise --timeout"
    from .commands import _is_unknown_group  # loaded by main()

    if _is_unknown_group(exc):
        return "`asyncquote groups` lists the groups there are"
    return ""


def _describe_failure(exc: BaseException) -> str:
    """One line for ``exc``: its message, cut to a readable length, and what to do."""
    if isinstance(exc, AsyncQuoteError):
        hint = _hint(exc)
        return f"{_shorten(str(exc))}; {hint}" if hint else _shorten(str(exc))
    from .commands import _CommandFailed  # loaded by main()

    if isinstance(exc, (_CommandFailed, ImportError)):
        # The crypto extra's install hint is part of the ImportError (see _cipher.py).
        return _shorten(str(exc))
    if isinstance(exc, BaseExceptionGroup):
        reasons = "; ".join(_describe_failure(_leaf(inner)) for inner in exc.exceptions)
        return f"{len(exc.exceptions)} errors: {reasons}"
    return (
        f"unexpected {type(exc).__name__}: {_shorten(str(exc))} (a bug in asyncquote: "
        "please report it, with the command that caused it)"
    )


#: Errors of a write that had nowhere to go (a full disk, a broken device).
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _output_failure(exc: Exception) -> str | None:
    """What to say when ``exc`` is a write that had nowhere to go, else None.

    Commands write to standard output (and ``sim --state`` to its file, whose
    errors are its own): a full disk is the environment's failure, not a bug.
    """
    if not isinstance(exc, OSError) or exc.errno not in _WRITE_ERRNOS:
        return None
    _quiet_broken_pipe()  # the exit's own flush must not fail again
    return (
        f"cannot write the output: {exc.strerror or exc}; free space where standard "
        "output goes, or send it elsewhere"
    )


def _encoding_failure(exc: Exception) -> str | None:
    """What to say when standard output's encoding cannot write the output, else None.

    A terminal (or ``PYTHONIOENCODING``) in ASCII or Latin-1 cannot show the
    securities' Chinese names: the environment's limit, not a bug.
    """
    stream = getattr(sys.stdout, "encoding", None)
    if not isinstance(exc, UnicodeEncodeError) or not stream:
        return None
    name = codecs.lookup(stream).name
    if codecs.lookup(exc.encoding).name != name or name == "utf-8":
        return None
    _quiet_broken_pipe()  # the exit's own flush must not fail again
    return (
        f"standard output's encoding ({stream}) cannot write {exc.object[exc.start : exc.end]!r}; "
        "run with PYTHONIOENCODING=utf-8 (or a UTF-8 locale)"
    )


def _quiet_broken_pipe() -> int:
    # Python would complain again when flushing stdout at exit: point the
    # descriptor at /dev/null so that flush has nowhere to fail.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return _BROKEN_PIPE_STATUS


def _check_backend(backend: str) -> None:
    """Fail with what to install when ``backend`` is trio and trio is not installed.

    anyio would raise a LookupError, which main() would report as a bug.
    """
    if backend == "trio":
        try:
            importlib.import_module("trio")
        except ImportError:
            from .commands import _CommandFailed  # loaded by main()

            raise _CommandFailed(
                "--backend trio needs the trio package: pip install trio, or use --backend asyncio"
            ) from None


def _run(args: argparse.Namespace, *modules: ModuleType) -> None:
    commands, gateway, quotes, market_data = modules
    _check_backend(args.backend)
    commands._check_arguments(args)
    if args.command == "demo":
        anyio.run(commands._demo, args.groups, backend=args.backend)
    else:
        command = {
            "sim": commands._sim,
            "watchlist": commands._watchlist,
            "groups": commands._groups,
            "watch": commands._watch,
            "add": commands._edit,
            "remove": commands._edit,
            "status": gateway._status,
            "events": gateway._events,
            **quotes.quote_commands(),
            **market_data.market_data_commands(),
        }[args.command]
        anyio.run(command, args, backend=args.backend)
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Usage errors exit 2 (argparse), any other failure 1 with one line on
    stderr, Ctrl-C 130 and a closed stdout pipe 141, quietly. Never a traceback.
    """
    try:
        # The commands' modules, and the simulator's they use, load here rather
        # than when this module is imported, so that a Ctrl-C while they load
        # ends as quietly as one while a command runs.
        from . import commands, gateway, market_data, quotes
        from .parser import _build_parser
    except KeyboardInterrupt:
        return 130
    finally:
        _cli_start.restore()
    try:
        args = _build_parser().parse_args(argv)
        if sys.stdout is None:  # started with its standard output closed (>&-)
            return _fail("standard output is closed; give the command somewhere to write")
        logging.basicConfig(
            level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        if args.verbose:
            # The library's own story (connecting, reconnecting, quota waits),
            # not other packages' debug lines (asyncio's choice of selector).
            logging.getLogger("asyncquote").setLevel(logging.DEBUG)
        _run(args, commands, gateway, quotes, market_data)
    except BaseException as raised:
        exc = _leaf(raised)
        if isinstance(exc, KeyboardInterrupt) or _ctrl_c_on_python_3_10(exc):
            return 130
        if isinstance(exc, BrokenPipeError):
            return _quiet_broken_pipe()
        if isinstance(exc, SystemExit):
            raise exc from None
        if not isinstance(exc, Exception):
            raise
        return _fail(_output_failure(exc) or _encoding_failure(exc) or _describe_failure(exc))
    return 0
