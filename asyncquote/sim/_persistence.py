"""Keep the simulator's watchlists in a JSON file, so edits survive a restart.

The file has the shape of the bundled ``data/sample_watchlists.json`` (see
:meth:`~._watchlists.WatchlistStore.from_dict`): the security database and
every group with its members, so a copy of the sample is a valid state file
and a state file can be edited by hand.

Writes are atomic: the new contents go to a temporary file in the same
directory, which is flushed and fsynced and then renamed over the old file,
and the directory is fsynced where the platform allows. A crash at any point
leaves either the old file or the new one, never a mixture.

Saving is synchronous, on the event loop, on purpose. A state file is a few
kilobytes, written only after a 3214 request that changed something, which
OpenD's quota holds to 10 per 30 seconds; one write plus fsync costs a few
milliseconds. In exchange, a success reply is sent only once the change is on
disk, and saves are ordered like the requests without any locking. (With the
3214 quota lifted, a client hammering 3214 is slowed to the disk's fsync rate,
which is what a benchmark of that protocol should then measure anyway.)
Loading happens once, when the :class:`~._server.Simulator` is created.

Two simulators must not share a state file: each would overwrite the
other's changes. So a simulator starting on a state file removes the
temporary files a save killed midway (SIGKILL, a power cut) left next to it,
and refuses a state file that is read-only rather than replace it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .._base.errors import AsyncQuoteError
from ._watchlists import WatchlistStore

__all__ = ["StateFile", "StateFileError", "write_atomically"]

_log = logging.getLogger("asyncquote.sim")
_TOO_DEEP = "nested too deeply to be simulator watchlists"
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
# Temporary files of a save are ".<name>.<random>.tmp", next to the file.
_TEMP_PREFIX = "."


class StateFileError(AsyncQuoteError):
    """The state file cannot be read or written, or does not hold watchlists.

    Attributes:
        path: the state file.
        reason: what is wrong, e.g. ``"not valid JSON (Expecting value: line 1 column 1)"``.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"simulator state file {str(path)!r}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[StateFileError], tuple[Path, str]]:
        # Pickle (a process pool, a multiprocessing queue) calls __init__ again.
        return (type(self), (self.path, self.reason))


class StateFile:
    """A JSON file holding the simulator's watchlists.

    Args:
        path: where the file is (or is to be created).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> WatchlistStore:
        """Read the watchlists from the file.

        Raises:
            StateFileError: the file cannot be read (``FileNotFoundError`` is
                its ``__cause__`` when it does not exist), is not UTF-8 JSON,
                or does not describe watchlists.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StateFileError(self.path, f"cannot read it ({_describe(exc)})") from exc
        except UnicodeDecodeError as exc:
            raise StateFileError(self.path, f"not UTF-8 text ({exc.reason})") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateFileError(self.path, f"not valid JSON ({exc})") from exc
        except RecursionError:
            raise StateFileError(self.path, _TOO_DEEP) from None
        try:
            return WatchlistStore.from_dict(data)
        except ValueError as exc:
            raise StateFileError(self.path, f"not simulator watchlists ({exc})") from exc

    def load_or_seed(
        self, seed: Callable[[], WatchlistStore] = WatchlistStore.sample
    ) -> WatchlistStore:
        """The watchlists in the file; if there is no file, ``seed()``, saved to a new file.

        First removes the temporary files of saves that were killed midway.

        Raises:
            StateFileError: the file exists but cannot be loaded or is
                read-only, or there is none and it cannot be created (a
                missing directory, say).
        """
        self.remove_stale_temporary_files()
        try:
            store = self.load()
        except StateFileError as exc:
            if not isinstance(exc.__cause__, FileNotFoundError):
                raise
        else:
            self._refuse_read_only()
            return store
        store = seed()
        try:
            self.save(store)
        except OSError as exc:
            raise StateFileError(self.path, f"cannot create it ({_describe(exc)})") from exc
        return store

    def remove_stale_temporary_files(self) -> int:
        """Delete the temporary files :func:`write_atomically` left behind when killed.

        Only call this while no simulator is saving to this file. Returns how
        many were removed.
        """
        target = Path(os.path.realpath(self.path))
        removed = 0
        pattern = f"{_glob_escape(_TEMP_PREFIX + target.name)}.*.tmp"
        for leftover in target.parent.glob(pattern):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
        if removed:
            _log.warning(
                "removed %d temporary file(s) of an interrupted save of %s", removed, target
            )
        return removed

    def _refuse_read_only(self) -> None:
        # The file is replaced by a rename, which a read-only file does not
        # stop (only the directory's permissions matter): refuse, rather than
        # silently replace a file someone protected.
        try:
            mode = os.stat(self.path).st_mode
        except OSError:
            return
        if not mode & _WRITE_BITS or not os.access(self.path, os.W_OK):
            raise StateFileError(
                self.path,
                "it is read-only, and every edit would replace it; make it writable "
                f"(chmod u+w {str(self.path)!r}) or give another state file",
            )

    def save(self, store: WatchlistStore) -> None:
        """Replace the file's contents with ``store``, atomically (see :func:`write_atomically`).

        Raises:
            OSError: the file could not be written; it is unchanged.
        """
        text = json.dumps(store.to_dict(), ensure_ascii=False, indent=1) + "\n"
        write_atomically(self.path, text.encode("utf-8"))


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Make ``data`` the contents of ``path`` such that a crash leaves the old or the new file.

    The data goes to a temporary file next to ``path`` that is flushed,
    fsynced and renamed over it; then the directory is fsynced, where the
    platform allows, so the rename itself survives a power cut. When ``path``
    is a symbolic link, the file it points to is replaced. A replaced file
    keeps its permission bits; a new one is readable by its owner only.

    Raises:
        OSError: nothing was replaced, and no temporary file is left behind.
    """
    target = Path(os.path.realpath(path))
    fd, temp_name = tempfile.mkstemp(
        prefix=f"{_TEMP_PREFIX}{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp_name, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(target.parent)


def _glob_escape(text: str) -> str:
    """``text`` as a glob pattern that matches it literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _fsync_directory(directory: Path) -> None:
    # Windows cannot open a directory, and some filesystems refuse to fsync
    # one; the file itself is already complete on disk by then, so this only
    # narrows the window in which a power cut could undo the rename.
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)
