"""Helpers for task groups that live inside our async context managers."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["single_errors"]


@asynccontextmanager
async def single_errors() -> AsyncIterator[None]:
    """Let an exception from the caller's block escape our task group unwrapped.

    anyio task groups wrap even a lone exception in an ExceptionGroup. Our
    background tasks never raise, so a group holding one exception holds the
    caller's: re-raise that one, so ``except KeyError`` around
    ``async with connect(...)`` keeps working.
    """
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from group.exceptions[0].__cause__
        raise
