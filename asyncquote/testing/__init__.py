"""Test your bot against a simulated OpenD: a pytest plugin and the helpers behind it.

Installing asyncquote with its ``testing`` extra (in a checkout:
``pip install -e ".[testing]"``; see docs/install.md) registers the plugin
(entry point ``pytest11``), which gives every test two fixtures:

* ``opend``: an :class:`OpenD`, a simulated gateway on an ephemeral port,
  stopped after the test. Configure it with ``@pytest.mark.opend(...)``
  (:class:`OpenDOptions`), assert on its traffic (``opend.requests``, a
  :class:`RequestLog`) and script it mid-test (``opend.set_watchlist``,
  ``opend.drop_connections``, ``await opend.restart()``).
* ``opend_client``: a :class:`~asyncquote.QuoteClient` connected to it, for
  async tests run by pytest-asyncio or anyio's plugin (asyncio, uvloop, trio).

::

    import pytest

    @pytest.mark.anyio
    @pytest.mark.opend(watchlists={"Tech": ["US.AAPL", "US.NVDA"]})
    async def test_reads_the_watchlist(opend, opend_client):
        items = await opend_client.get_user_security("Tech")
        assert [str(item.security) for item in items] == ["US.AAPL", "US.NVDA"]
        assert len(opend.requests.filter(3213, group="Tech")) == 1

Outside pytest, ``with OpenD.start(...) as opend:`` runs the same gateway.
This package does not import pytest; only its plugin module does.
"""

from __future__ import annotations

from .._base import public as _public
from ._gateway import OpenD
from ._market import OpenDMarket
from ._options import FAST_QUOTAS, OpenDOptions, QuotaPreset, scaled_quotas
from ._requests import RequestLog
from ._securities import static_info, watchlist_store

__all__ = [
    "FAST_QUOTAS",
    "OpenD",
    "OpenDMarket",
    "OpenDOptions",
    "QuotaPreset",
    "RequestLog",
    "scaled_quotas",
    "static_info",
    "watchlist_store",
]

# Every class and function above reports this package as its home (see
# _base/public.py): tracebacks and pickles name the public path.
_public.claim(__name__, __all__)
