"""Public names have public homes: ``asyncquote.OpenDError``, not ``asyncquote._base.errors``.

The code lives in private modules, grouped by layer, and those move (issue
22 moved all of them). What users see of a class or function -- tracebacks,
``repr``, pickles, the API reference -- names its ``__module__``. So each
public package, once its names are imported, claims them: every class and
function it exports reports the package as its module, as trio and anyio do.
Pickles then name ``asyncquote.OpenDError`` and survive any later move.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable

__all__ = ["claim"]


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


def claim(package: str, names: Iterable[str]) -> None:
    """Make each class and function ``package`` exports report ``package`` as its module.

    A name another public package claimed first (``asyncquote.sim``
    re-exports ``asyncquote.Quota``) keeps that home: only private homes are
    replaced. Data (constants, type aliases) has no ``__module__`` to claim.
    """
    namespace = sys.modules[package]
    for name in names:
        value = getattr(namespace, name)
        if isinstance(value, (type, types.FunctionType)) and _is_private(value.__module__):
            value.__module__ = package
