"""The public data: frozen pydantic models and their decoding from protobuf.

Used by the client and the simulator alike; no I/O.
"""

from __future__ import annotations

from .._base import deprecated as _deprecated


def __getattr__(name: str) -> object:
    # Before issue 22 this was one module (now watchlist.py): its names still
    # import from here for one release, with a DeprecationWarning.
    return _deprecated.folder_attribute(__name__, name)
