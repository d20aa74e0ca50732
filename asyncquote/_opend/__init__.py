"""The sans-I/O protocol core: OpenD's vocabulary, framing, codec, ciphers,
handshake, loss and the client protocol object.

Bytes and the time in, frames, replies and one typed loss out: no event
loop and no socket, even transitively (import-linter's sans-io-core).
"""

from __future__ import annotations

from .._base import deprecated as _deprecated


def __getattr__(name: str) -> object:
    # Before issue 22 this was one module (now vocabulary.py): its names still
    # import from here for one release, with a DeprecationWarning.
    return _deprecated.folder_attribute(__name__, name)
