"""Running a simulator until cancelled: :func:`serve`, what ``asyncquote sim`` runs.

Apart from :mod:`._server` only because the simulator's module is long
enough with the class alone. Also the home of the deprecated
``asyncquote.sim.server`` path (see :mod:`asyncquote._base.deprecated`), so it
offers that module's names.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping, Sequence

import anyio

from .._opend.vocabulary import Quota
from ._faults import Faults
from ._gateway import GatewayState, StatusChange
from ._server import DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_QUOTE_RATE, Simulator
from ._state import RequestRecord
from ._texts import Language
from ._watchlists import WatchlistStore

# What the 0.1 module asyncquote.sim.server offered, now answered from here.
__all__ = ["RequestRecord", "Simulator", "serve"]


async def serve(
    host: str = "127.0.0.1",
    port: int = 11111,
    *,
    watchlists: WatchlistStore | None = None,
    quotas: Mapping[int, Quota | None] | None = None,
    language: Language = "en",
    faults: Faults | None = None,
    state_path: str | os.PathLike[str] | None = None,
    rsa_key: str | os.PathLike[str] | bytes | None = None,
    handshake_timeout: float | None = DEFAULT_HANDSHAKE_TIMEOUT,
    websocket_port: int | None = None,
    websocket_key: str | None = None,
    gateway: GatewayState | None = None,
    status_changes: Sequence[StatusChange] = (),
    quote_rate: float = DEFAULT_QUOTE_RATE,
    market_seed: int = 0,
    subscription_quota: int | None = None,
    clock_start: float | datetime.datetime | None = None,
    ready: Callable[[Simulator], object] | None = None,
) -> None:
    """Run a :class:`Simulator` until cancelled.

    Only the latest 10,000 requests are recorded, as this may run for days.

    Args:
        host: address to listen on.
        port: port to listen on; ``0`` picks a free one.
        watchlists: groups and securities to serve; the bundled sample by default.
        quotas: changes to OpenD's quotas, as for :class:`Simulator`.
        language: ``"en"`` or ``"zh"``, as for :class:`Simulator`.
        faults: misbehaviour to inject, as for :class:`Simulator`.
        state_path: a JSON file to keep the watchlists in, as for :class:`Simulator`.
        rsa_key: encrypt connections with this RSA private key, as for :class:`Simulator`.
        handshake_timeout: seconds a connection has for its InitConnect, as
            for :class:`Simulator`.
        websocket_port: also serve the JavaScript SDK over WebSocket on this
            port, as for :class:`Simulator`.
        websocket_key: the key WebSocket clients must send, as for :class:`Simulator`.
        gateway: what the gateway says about itself, as for :class:`Simulator`.
        status_changes: scheduled status changes, as for :class:`Simulator`.
        quote_rate: price moves a second per security, as for :class:`Simulator`.
        market_seed: the market's seed, as for :class:`Simulator`.
        subscription_quota: the account's subscription quota, as for :class:`Simulator`.
        clock_start: the moment the simulator's clock starts at (epoch seconds
            or an aware datetime), as for :class:`Simulator`.
        ready: called with the running simulator once it accepts connections
            (to print the port, say).
    """
    simulator = Simulator(
        host,
        port,
        watchlists=watchlists,
        record_limit=10_000,
        quotas=quotas,
        language=language,
        faults=faults,
        state_path=state_path,
        rsa_key=rsa_key,
        handshake_timeout=handshake_timeout,
        websocket_port=websocket_port,
        websocket_key=websocket_key,
        gateway=gateway,
        status_changes=status_changes,
        quote_rate=quote_rate,
        market_seed=market_seed,
        subscription_quota=subscription_quota,
        clock_start=clock_start,
    )
    async with simulator as sim:
        if ready is not None:
            ready(sim)
        await anyio.sleep_forever()
