"""The simulator's lifecycle: bind the port, accept connections, close them all.

One job: own the listening socket and the task group, and hand each
connection accepted (:mod:`._accept`) to the table of open connections
(:mod:`._connections`), which serves it with a :class:`~._peer.Peer`, the
one per-connection loop (frames, dispatch, encryption and faults). Written
against anyio only, so it runs under asyncio and trio alike.

Invariants: the port is bound from entering the ``async with`` to leaving
it, even while not listening; leaving it closes the listener and every
connection; the watchlists and quota ledger outlive restarts.

What the gateway says about itself (GetGlobalState, Notify pushes, being
logged out) is :class:`~._gateway_control.GatewayControl`'s part; the
market and its quote pushes are :class:`~._market_control.MarketControl`'s;
what a test reads off it is :class:`~._server_views.ServerViews`'.

A test can also misbehave on demand: :meth:`Simulator.drop_connections`
closes every connection, :meth:`Simulator.stop_listening` and
:meth:`Simulator.start_listening` take the port down and up again, and
:meth:`Simulator.restart` does all three, as an OpenD restart would.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from types import TracebackType

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

from .._base.errors import InvalidArgumentError
from .._opend.rsa import RsaCipher, load_rsa_private_key
from .._opend.vocabulary import Quota
from ._accept import Link
from ._connections import Connections
from ._dispatch import Dispatcher
from ._faults import Faults
from ._gateway import GatewayState, StatusChange
from ._gateway_control import GatewayControl
from ._handlers import default_routes
from ._listening import Listening
from ._market_control import MarketControl
from ._persistence import StateFile
from ._pushes import DEFAULT_PUSH_BACKLOG
from ._quotas import QuotaLedger, merge_quotas
from ._server_args import check_faults, check_simulator_arguments
from ._server_views import ServerViews
from ._state import RequestRecord, ServerState
from ._subscriptions import Subscriptions
from ._texts import Language
from ._watchlists import WatchlistStore
from ._websocket import WebSocketGateway
from ._websocket_transport import require_websockets

__all__ = ["RequestRecord", "Simulator", "serve"]

_log = logging.getLogger("asyncquote.sim")

#: Seconds a new connection may take to send its InitConnect before it is closed.
DEFAULT_HANDSHAKE_TIMEOUT = 30.0

#: Times a second each security's price moves, unless told otherwise.
DEFAULT_QUOTE_RATE = 1.0


class Simulator(ServerViews, Listening, GatewayControl, MarketControl):
    """An OpenD stand-in serving the real protocol on a TCP port.

    Use it as an async context manager; the port is bound on entry and every
    connection is closed on exit::

        async with Simulator() as sim:
            async with asyncquote.connect(sim.host, sim.port) as client:
                ...

    Args:
        host: address to listen on.
        port: port to listen on; ``0`` picks a free one (see :attr:`port`).
        watchlists: groups and securities to serve; a fresh copy of the
            bundled sample data when omitted. A store passed in is used as is,
            not copied.
        keepalive_interval: seconds, told to clients in the InitConnect reply.
        record_limit: how many :attr:`requests` (and :attr:`rejections`) to
            keep (the oldest are dropped); ``None`` keeps all.
        quotas: changes to OpenD's quotas (:data:`~._quotas.OPEND_QUOTAS`:
            3213, 3214 and 3222 at 10 requests per 30 s), by protocol id;
            ``None`` lifts a protocol's quota, and :data:`~._quotas.NO_QUOTAS`
            lifts them all. Quotas are per account, and all connections share
            one account; see :mod:`._quotas` for what counts.
        language: ``"en"`` or ``"zh"``: the language of the refusals about
            watchlists (quotas, groups, securities, edits).
        faults: misbehaviour to inject, e.g. ``Faults(reply_delay=(0.01, 0.2))``;
            none by default. See :attr:`faults` to change it while running.
        state_path: a JSON file to keep the watchlists in (see
            :mod:`._persistence`): loaded now if it exists, else created from
            the bundled sample; rewritten, atomically, after every 3214
            request that changes the watchlists. Excludes ``watchlists``.
        rsa_key: encrypt connections as OpenD does when configured with
            ``rsa_private_key``: an RSA private key as PEM or DER bytes, PEM
            text, or the path of a file holding either (see
            :func:`~asyncquote._opend.rsa.load_rsa_private_key`). The official
            SDK needs a 1024-bit PKCS#1 key. See :mod:`._peer` for how
            the handshake and bodies are encrypted and what happens to a
            client with another key, or none.
        handshake_timeout: seconds a new connection may take to complete
            InitConnect; one that has not by then is closed, so idle or stray
            connections cannot hold descriptors for ever. ``None`` waits for
            ever.
        websocket_port: also serve the JavaScript SDK (npm ``futu-api``)
            over WebSocket on this port (``0``: any free one, see
            :attr:`websocket_port`), as OpenD does with ``websocket_port``;
            ``None`` (the default) serves TCP only. Each WebSocket
            connection is bridged to the TCP port, so the same watchlists,
            quotas, faults and records apply; see :mod:`._websocket`.
        websocket_key: the key WebSocket clients must be configured with
            (OpenD's ``websocket_key_md5`` is its MD5); ``None`` accepts any.
        gateway: what the gateway says about itself (market sessions,
            logins, program status, versions, quote rights, API quotas);
            a healthy, logged-in gateway by default. See :attr:`gateway`,
            :meth:`push`, :meth:`log_out` and :meth:`log_in` to change it
            while running.
        status_changes: scheduled moves to other statuses (see
            :meth:`change_status`), timed from entering the ``async with``;
            e.g. ``[StatusChange(30, "logged-out"), StatusChange(60, "ready")]``.
        push_backlog: pushes that may wait unsent for one client before
            more are dropped for it (see :meth:`push`).
        quote_rate: how many times a second every security's price moves
            (pushed to the connections subscribed); ``0`` moves prices only
            through :attr:`market` (``sim.market.set_price(code, price)``).
        market_seed: every starting price and move comes from it.
        subscription_quota: (security, kind) pairs the account may have
            subscribed at once; ``gateway``'s ``subscription_quota`` (1,000,
            one of Futu's tiers, by default) when ``None``.

    Raises:
        StateFileError: ``state_path`` exists but cannot be loaded, or cannot
            be created.
        InvalidArgumentError: an argument of the wrong type or out of range
            (checked by :mod:`asyncquote._base.args`, as the client's are; a
            ``ValueError`` and a ``TypeError`` too): ``port`` or
            ``websocket_port`` not in 0..65535, ``keepalive_interval`` not
            a whole number >= 1, ``language`` not ``"en"`` or ``"zh"``,
            ``handshake_timeout`` not a positive number, ``push_backlog``
            below 1, ``gateway`` not a :class:`~._gateway.GatewayState`,
            ``faults`` not a :class:`~._faults.Faults`, ``status_changes``
            holding something other than :class:`~._gateway.StatusChange`;
            or both ``watchlists`` and ``state_path``, or both
            ``websocket_port`` and ``rsa_key``, were given; or ``rsa_key``
            is not a readable RSA private key.
        ImportError: ``rsa_key`` was given but the ``cryptography`` package
            is not installed, or ``websocket_port`` was given but the
            ``websockets`` package is not (the ``websocket`` extra).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        watchlists: WatchlistStore | None = None,
        keepalive_interval: int = 10,
        record_limit: int | None = None,
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
        push_backlog: int = DEFAULT_PUSH_BACKLOG,
        quote_rate: float = DEFAULT_QUOTE_RATE,
        market_seed: int = 0,
        subscription_quota: int | None = None,
    ) -> None:
        self._status_changes = check_simulator_arguments(
            host=host,
            port=port,
            keepalive_interval=keepalive_interval,
            record_limit=record_limit,
            language=language,
            faults=faults,
            handshake_timeout=handshake_timeout,
            websocket_port=websocket_port,
            websocket_key=websocket_key,
            gateway=gateway,
            push_backlog=push_backlog,
            status_changes=status_changes,
            rsa_key=rsa_key,
            quote_rate=quote_rate,
            market_seed=market_seed,
        )
        state_file = None if state_path is None else StateFile(state_path)
        if state_file is not None:
            if watchlists is not None:
                raise InvalidArgumentError("pass watchlists or state_path, not both")
            watchlists = state_file.load_or_seed()
        self._rsa: RsaCipher | None = None if rsa_key is None else load_rsa_private_key(rsa_key)
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._state_file = state_file
        self._state = ServerState(
            watchlists=watchlists if watchlists is not None else WatchlistStore.sample(),
            keepalive_interval=keepalive_interval,
            quotas=QuotaLedger(merge_quotas(quotas)),
            language=language,
            on_watchlists_change=None if state_file is None else state_file.save,
            encrypted=self._rsa is not None,
            gateway=gateway if gateway is not None else GatewayState(),
        )
        if subscription_quota is not None:
            # Checked there, as every GatewayState field is.
            self._state.gateway = replace(
                self._state.gateway, subscription_quota=subscription_quota
            )
        self._state.subscriptions = Subscriptions(lambda: self._state.gateway.subscription_quota)
        self._init_market(rate=quote_rate, seed=market_seed)
        self._faults = faults if faults is not None else Faults()
        self._dispatcher = Dispatcher(default_routes(), self._state)
        self._stack: AsyncExitStack | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._listener: anyio.abc.Listener[anyio.abc.SocketStream] | None = None
        self._accepting: Link | None = None
        self.requests: deque[RequestRecord] = deque(maxlen=record_limit)
        """Every request frame that arrived, oldest first."""
        self.rejections: deque[RequestRecord] = deque(maxlen=record_limit)
        """The requests refused for exceeding a quota, oldest first."""
        self._table = Connections(
            dispatcher=self._dispatcher,
            requests=self.requests,
            rejections=self.rejections,
            faults=lambda: self._faults,
            rsa=self._rsa,
            handshake_timeout=handshake_timeout,
            push_backlog=push_backlog,
            on_close=self._connection_closed,
        )
        self._websocket: WebSocketGateway | None = None
        self._websocket_port = websocket_port
        if websocket_port is not None:
            require_websockets()
            self._websocket = WebSocketGateway(
                key=websocket_key,
                opend_host=host,
                opend_port=lambda: self.port,
                handshake_timeout=handshake_timeout,
            )
        # The open connections' states, by id (tests look inside).
        self._connections = self._table.states

    @property
    def host(self) -> str:
        """The address the simulator listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The port the simulator listens on (the real one when ``0`` was asked for).

        Raises:
            RuntimeError: the simulator is not running.
        """
        if self._port is None:
            raise RuntimeError("the simulator is not running; use 'async with Simulator()'")
        return self._port

    @property
    def faults(self) -> Faults:
        """The misbehaviour injected on the connections accepted from now on.

        Assign a new :class:`~._faults.Faults` to change it while running, e.g.
        to refuse handshakes for a while: connections already open keep the
        faults they were accepted with.
        """
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        check_faults(faults)
        self._faults = faults

    @property
    def websocket_port(self) -> int | None:
        """The WebSocket port (the real one when ``0`` was asked for), or ``None`` without one.

        Raises:
            RuntimeError: a WebSocket port was asked for but the simulator is not running.
        """
        if self._websocket is None:
            return None
        port = self._websocket.port
        if port is None:
            raise RuntimeError("the simulator is not running; use 'async with Simulator()'")
        return port

    async def __aenter__(self) -> Simulator:
        if self._stack is not None:
            raise RuntimeError("this Simulator is already running")
        listener = await anyio.create_tcp_listener(
            local_host=self._host, local_port=self._requested_port
        )
        async with AsyncExitStack() as stack:
            self._listener = listener
            stack.push_async_callback(self._close_listener)
            if self._websocket is not None:
                assert self._websocket_port is not None
                # Before the task group, which would wrap its OSError.
                stack.push_async_callback(self._websocket.aclose)
                await self._websocket.listen(self._host, self._websocket_port)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            # Runs first on exit: stop accepting and end every connection task.
            stack.callback(task_group.cancel_scope.cancel)
            self._task_group = task_group
            self._port = listener.extra(SocketAttribute.local_port)
            self._accept(listener)
            self._start_market(task_group)
            if self._websocket is not None:
                self._websocket.serve_in(task_group)
            if self._status_changes:
                task_group.start_soon(self._run_status_changes, self._status_changes)
            self._stack = stack.pop_all()
        _log.debug("simulator listening on %s:%d", self._host, self._port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._port = None
        if stack is not None:
            # Our task group is told nothing of the caller's exception: it
            # would wrap it in an ExceptionGroup, and it is not ours to handle.
            # Returning None lets it propagate unchanged.
            try:
                await stack.aclose()
            finally:
                self._task_group = None


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
    )
    async with simulator as sim:
        if ready is not None:
            ready(sim)
        await anyio.sleep_forever()
