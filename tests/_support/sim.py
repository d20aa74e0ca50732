"""The running-simulator fixture the in-process command-line tests share."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import anyio.from_thread
import pytest

from asyncquote.sim import Simulator


@pytest.fixture
def running_sim() -> Iterator[Simulator]:
    """A simulator served from a background thread, so main() can run its own loop."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Simulator(port=0)) as sim,
    ):
        yield sim
