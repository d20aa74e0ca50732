"""The simulator: :class:`Simulator`, the public face of the objects it owns.

Its lifecycle (the port, the accept loop, dropping connections, restarting)
is :class:`~._listening.Listening`'s; what the gateway says about itself is
:class:`~._gateway_control.GatewayControl`'s; the market and its quote
pushes are :class:`~._market_control.MarketControl`'s; each connection is
served by the table of open connections (:mod:`._connections`) with a
:class:`~._peer.Peer`. What a test reads off it is its base
:class:`~._server_views.ServerViews`'. Written against anyio only, for
asyncio and trio.

Invariants: the port is bound from entering the ``async with`` to leaving
it, even while not listening; leaving it closes the listener and every
connection; the watchlists and quota ledger outlive restarts.
"""

from __future__ import annotations

import datetime
import os
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import TracebackType

from .._opend.health_vocabulary import GatewayEventType
from .._opend.rsa import load_rsa_private_key
from .._opend.vocabulary import Quota
from ._connections import Connections
from ._dispatch import Dispatcher
from ._faults import Faults
from ._gateway import GatewayState, NotifyEvent, StatusChange
from ._gateway_control import GatewayControl
from ._handlers import default_routes
from ._listening import Listening
from ._market_control import MarketControl, SimulatedMarket
from ._persistence import StateFile
from ._pushes import DEFAULT_PUSH_BACKLOG
from ._quotas import QuotaLedger, merge_quotas
from ._server_args import check_faults, check_simulator_arguments, clock_start_seconds
from ._server_views import ServerViews
from ._state import RequestRecord, ServerState
from ._subscriptions import Subscriptions
from ._texts import Language
from ._watchlists import WatchlistStore

__all__ = ["DEFAULT_HANDSHAKE_TIMEOUT", "DEFAULT_QUOTE_RATE", "Simulator"]

#: Seconds a new connection may take to send its InitConnect before it is closed.
DEFAULT_HANDSHAKE_TIMEOUT = 30.0

#: Times a second each security's price moves, unless told otherwise.
DEFAULT_QUOTE_RATE = 1.0


class Simulator(ServerViews):
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
        clock_start: the simulator's time on entering the ``async with``, epoch
            seconds or an aware datetime (``None``: now); its clock then runs at
            the event loop's speed. Trades, K-lines, the part of the US trading
            day (pre-market ...) and OpenD's ``time`` follow that clock.

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
            is not a readable RSA private key, or ``clock_start`` a naive datetime.
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
        clock_start: float | datetime.datetime | None = None,
    ) -> None:
        # Every argument by its name (the checks' signature is this one's,
        # which tests/sim/test_server_args.py pins): nothing else is bound yet.
        arguments = {name: value for name, value in locals().items() if name != "self"}
        self._status_changes = check_simulator_arguments(**arguments)
        state_file = None if state_path is None else StateFile(state_path)
        if state_file is not None:
            watchlists = state_file.load_or_seed()
        rsa = None if rsa_key is None else load_rsa_private_key(rsa_key)
        self._host = host
        state = ServerState(
            watchlists=watchlists if watchlists is not None else WatchlistStore.sample(),
            keepalive_interval=keepalive_interval,
            quotas=QuotaLedger(merge_quotas(quotas)),
            language=language,
            on_watchlists_change=None if state_file is None else state_file.save,
            encrypted=rsa is not None,
            gateway=gateway if gateway is not None else GatewayState(),
        )
        if subscription_quota is not None:
            # Checked there, as every GatewayState field is.
            state.gateway = replace(state.gateway, subscription_quota=subscription_quota)
        state.subscriptions = Subscriptions(lambda: state.gateway.subscription_quota)
        self._faults = faults if faults is not None else Faults()
        requests: deque[RequestRecord] = deque(maxlen=record_limit)
        rejections: deque[RequestRecord] = deque(maxlen=record_limit)
        table = Connections(
            dispatcher=Dispatcher(default_routes(), state),
            requests=requests,
            rejections=rejections,
            faults=lambda: self._faults,
            rsa=rsa,
            handshake_timeout=handshake_timeout,
            push_backlog=push_backlog,
            # A closed connection's subscriptions go (the market is made below).
            on_close=lambda conn_id: self._market.connection_closed(conn_id),
        )
        # Named, not super(): a __class__ cell would join locals() above.
        ServerViews.__init__(
            self,
            state=state,
            table=table,
            state_file=state_file,
            requests=requests,
            rejections=rejections,
        )
        self._lifecycle = Listening(
            host,
            port,
            table,
            websocket_port=websocket_port,
            websocket_key=websocket_key,
            handshake_timeout=handshake_timeout,
        )
        self._control = GatewayControl(state, table)
        self._market = MarketControl(
            state,
            table,
            self._control.push,
            rate=quote_rate,
            seed=market_seed,
            clock_start=clock_start_seconds(clock_start),
        )
        # The open connections' states, by id (tests look inside).
        self._connections = table.states

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
        port = self._lifecycle.port
        if port is None:
            raise RuntimeError("the simulator is not running; use 'async with Simulator()'")
        return port

    @property
    def websocket_port(self) -> int | None:
        """The WebSocket port (the real one when ``0`` was asked for), or ``None`` without one.

        Raises:
            RuntimeError: a WebSocket port was asked for but the simulator is not running.
        """
        return self._lifecycle.websocket_port

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
    def gateway(self) -> GatewayState:
        """What the gateway says about itself: GetGlobalState's answer, and more.

        Assign a new :class:`~._gateway.GatewayState` to change it silently
        (as if the clients had missed the pushes); :meth:`push`,
        :meth:`log_out` and :meth:`log_in` change it and tell the clients.
        """
        return self._control.gateway

    @gateway.setter
    def gateway(self, gateway: GatewayState) -> None:
        self._control.gateway = gateway

    @property
    def market(self) -> SimulatedMarket:
        """The simulated market: read quotes and books, set prices (pushed to subscribers).

        See :class:`SimulatedMarket`; e.g. ``sim.market.set_price("HK.00700", 400.2)``.
        """
        return self._market.market

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted (see :meth:`stop_listening`)."""
        return self._lifecycle.listening

    async def drop_connections(self) -> int:
        """Close every open client connection at once, as an OpenD that crashed would.

        Replies not yet sent are lost. The simulator keeps listening, so
        clients can reconnect (see :meth:`restart` to refuse them for a
        while). Returns once the connections are closed.

        Returns:
            How many connections were dropped.
        """
        return await self._lifecycle.drop_connections()

    async def stop_listening(self) -> None:
        """Stop accepting connections: new ones are refused, open ones are still served.

        The port is kept, for :meth:`start_listening`. Does nothing if the
        simulator is not listening.

        Raises:
            RuntimeError: the simulator is not running.
        """
        await self._lifecycle.stop()

    async def start_listening(self) -> None:
        """Accept connections again, on the same port as before :meth:`stop_listening`.

        Does nothing if the simulator is listening already.

        Raises:
            RuntimeError: the simulator is not running.
            OSError: the port has been taken meanwhile.
        """
        await self._lifecycle.start()

    async def restart(self, downtime: float = 0.0) -> None:
        """Behave like an OpenD being restarted, on the same port.

        Stops listening, drops every connection, waits ``downtime`` seconds
        (connections are refused meanwhile) and listens again. The watchlists
        and the quotas' record of recent requests are kept, as they belong to
        the account rather than the gateway process.

        Raises:
            RuntimeError: the simulator is not running.
        """
        await self._lifecycle.restart(downtime)

    def push(self, event: NotifyEvent) -> int:
        """Push ``event`` as a Notify (1003) to every client that asked for notifications.

        The clients that asked are those whose InitConnect set
        ``recvNotify``; the push is encrypted like their replies, and goes
        out after the replies queued before it. The gateway state is
        updated first (a :class:`~asyncquote._models.events.LoginStatusChanged`
        changes what GetGlobalState reports, for example; see
        :meth:`GatewayState.after`).

        Call it from the simulator's event loop (from another thread, through
        a blocking portal: ``portal.call(sim.push, event)``). It never
        waits. Each connection's pushes are sent by a task of its
        own; a client that stops reading holds up only its own pushes, and
        once :data:`~._pushes.DEFAULT_PUSH_BACKLOG` (``push_backlog=``) of them
        wait for it (besides those of a send already under way), further
        ones are dropped for that client and counted in :attr:`pushes_dropped`.

        Args:
            event: a ``GatewayEvent``, ``ProgramStatusChanged``,
                ``LoginStatusChanged``, ``QuoteRightsChanged``,
                ``ApiQuotaChanged`` or ``UsedQuotaChanged``.

        Returns:
            How many connections the push was queued on.

        Raises:
            TypeError: ``event`` is not one of those models.
            ValueError: a number in ``event`` does not fit the protocol's field.
        """
        return self._control.push(event)

    def log_out(
        self,
        reason: GatewayEventType | None = GatewayEventType.KICKED_OUT,
        *,
        description: str | None = None,
    ) -> int:
        """Log the gateway out of Futu's servers, as OpenD kicked out by another login is.

        Pushes, in this order: a ``GatewayEvent`` of type ``reason`` (none
        if ``reason`` is ``None``), a ``ProgramStatusChanged`` to the status
        that follows it (``FORCE_LOGOUT`` for a kick-out, ``NEED_PHONE_VERIFY_CODE``
        for ``NEED_PHONE_VERIFY_CODE`` ...; see
        :func:`~._gateway.program_status_after`) and a ``LoginStatusChanged``
        logged out of quotes and trading. From then on quote calls (3213,
        3214, 3222) are refused with retType -1 and
        :func:`~._texts.not_logged_in`, until :meth:`log_in`.

        Args:
            reason: why, as OpenD's gateway event type.
            description: the event's and the status's text; the
                simulator's own by default, in its language.

        Returns:
            How many connections were told.
        """
        return self._control.log_out(reason, description)

    def log_in(self) -> int:
        """Log the gateway back in: program status ``READY``, logged in to quotes and trading.

        Pushes a ``ProgramStatusChanged`` and a ``LoginStatusChanged``;
        quote calls succeed again.

        Returns:
            How many connections were told.
        """
        return self._control.log_in()

    def change_status(self, status: str) -> int:
        """Move the gateway to ``status``, one of :data:`~._gateway.GATEWAY_STATUSES`.

        ``"ready"`` is :meth:`log_in`; any other is :meth:`log_out` to that
        status, pushing its gateway event if it has one.

        Returns:
            How many connections were told.

        Raises:
            ValueError: ``status`` is not a known status.
        """
        return self._control.change_status(status)

    async def __aenter__(self) -> Simulator:
        task_group = await self._lifecycle.open()
        self._market.start(task_group)
        if self._status_changes:
            task_group.start_soon(self._control.run_status_changes, self._status_changes)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._lifecycle.close()
