"""The pytest plugin (entry point ``pytest11``): the ``opend`` and ``opend_client`` fixtures.

``opend`` is a plain (synchronous) fixture: its gateway runs in a thread of
its own (see :mod:`._gateway`), so it serves any test, async or not, run by
any plugin.

``opend_client`` has to live on the test's own event loop, and two plugins
run async tests, each with its own way of running async fixtures. So it is
a synchronous fixture that asks, for each test, for the async fixture of
the plugin that runs that test (:mod:`._client_fixtures`): pytest-asyncio's
for a pytest-asyncio test (on the loop of the test's loop scope), anyio's
for an anyio test (asyncio, uvloop or trio).

Configure a test's gateway with the ``opend`` marker (on the test, its
class or module; the closest wins per option) or by parametrising the
``opend`` fixture indirectly; a parameter wins over markers::

    @pytest.mark.opend(watchlists={"Tech": ["US.AAPL", "US.NVDA"]}, quotas="fast")
    async def test_bot(opend, opend_client): ...

    @pytest.mark.parametrize("opend", [{"language": "zh"}], indirect=True)
    def test_chinese(opend): ...

``@pytest.mark.opend_client(**kwargs)`` passes extra arguments to
:func:`asyncquote.connect` (``timeout=``, ``on_quota="raise"``, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from .._client.client import QuoteClient
from ._client_fixtures import client_fixture_for, fixtures
from ._gateway import OpenD
from ._options import OpenDOptions

__all__ = ["opend", "opend_client", "pytest_configure"]

# The async fixtures opend_client delegates to, where pytest looks for them.
globals().update(fixtures())


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, so ``--strict-markers`` accepts them."""
    config.addinivalue_line(
        "markers",
        "opend(**options): configure the simulated OpenD of the opend fixture: watchlists=, "
        "quotas=, faults=, rsa_key=, language=, keepalive_interval=, gateway=, quote_rate=, "
        "market_seed=, subscription_quota=, clock_start= "
        "(see asyncquote.testing.OpenDOptions)",
    )
    config.addinivalue_line(
        "markers",
        "opend_client(**kwargs): extra asyncquote.connect() arguments for the opend_client fixture",
    )


def _options_for(request: pytest.FixtureRequest) -> OpenDOptions:
    options = OpenDOptions()
    # iter_markers yields the closest first; apply the farthest first.
    for marker in reversed(list(request.node.iter_markers("opend"))):
        if marker.args:
            pytest.fail(
                f"{request.node.nodeid}: @pytest.mark.opend takes keyword arguments only",
                pytrace=False,
            )
        options = _merged(options, "@pytest.mark.opend", marker.kwargs, request)
    param = getattr(request, "param", None)
    if isinstance(param, OpenDOptions):
        return param
    if param is not None:
        if not isinstance(param, Mapping):
            pytest.fail(
                f"{request.node.nodeid}: a parameter of the opend fixture must be a dict of "
                f"options or an OpenDOptions, not {param!r}",
                pytrace=False,
            )
        options = _merged(options, "opend parameter", param, request)
    return options


def _merged(
    options: OpenDOptions, where: str, kwargs: Mapping[str, Any], request: pytest.FixtureRequest
) -> OpenDOptions:
    try:
        return options.merged(where, kwargs)
    except (TypeError, ValueError) as exc:
        pytest.fail(f"{request.node.nodeid}: {exc}", pytrace=False)


@pytest.fixture
def opend(request: pytest.FixtureRequest) -> Iterator[OpenD]:
    """A simulated OpenD on an ephemeral port, stopped after the test.

    Configure it with ``@pytest.mark.opend(...)`` or an indirect parameter
    (see :class:`~asyncquote.testing.OpenDOptions`); script it and read its
    traffic through the :class:`~asyncquote.testing.OpenD` given.
    """
    with OpenD.start(_options_for(request)) as gateway:
        yield gateway


@pytest.fixture
def opend_client(request: pytest.FixtureRequest, opend: OpenD) -> QuoteClient:
    """A :class:`~asyncquote.QuoteClient` connected to ``opend``, closed after the test.

    For async tests, run by pytest-asyncio or by anyio's plugin. It has the
    gateway's quotas and RSA key; ``@pytest.mark.opend_client(...)`` adds
    :func:`asyncquote.connect` arguments.
    """
    client = request.getfixturevalue(client_fixture_for(request))
    assert isinstance(client, QuoteClient)
    return client
