"""The client: options, rate limiter, single-flight, the entry cache, the gateway
monitor, :class:`QuoteClient`, ``connect()`` and the watchlist watcher.

The live-quotes feature (subscriptions, pushes, snapshots) goes beside it,
in ``_quotes/``.
"""

from __future__ import annotations

from .._base import deprecated as _deprecated


def __getattr__(name: str) -> object:
    # Before issue 22 this was one module (now client.py): its names still
    # import from here for one release, with a DeprecationWarning.
    return _deprecated.folder_attribute(__name__, name)
