"""Shared test configuration.

Async tests use anyio's pytest plugin (``@pytest.mark.anyio``) and run on
asyncio by default. A module that must also run on trio overrides the
``anyio_backend`` fixture::

    @pytest.fixture(params=["asyncio", "trio"])
    def anyio_backend(request): return request.param

Every test is bounded by pytest-timeout (see pyproject.toml), so a hang fails
instead of blocking CI.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
