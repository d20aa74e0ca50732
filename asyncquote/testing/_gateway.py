"""A simulated OpenD running in a thread of its own, and the handle a test scripts it with.

One job: start a :class:`~asyncquote.sim.Simulator` on an event loop in a
background thread, hand the test an :class:`OpenD` to read its traffic and
change its behaviour, and stop it all afterwards.

Why a thread rather than the test's own event loop: the gateway then runs
whatever the test does with its loop. It serves asyncio, uvloop and trio
tests alike, under pytest-asyncio (any mode, any loop scope) or anyio's
plugin, and synchronous tests too (a bot written with the official SDK,
which blocks); a test that blocks its loop cannot starve its gateway, as a
real OpenD is another process. The price is a few milliseconds to start a
thread per test, and that every look inside the simulator is a call into
its thread (:meth:`OpenD.call`), which this class makes for you.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar, overload

import anyio
import anyio.to_thread
from anyio.from_thread import BlockingPortal, start_blocking_portal

from .._opend.health_vocabulary import GatewayEventType
from .._opend.vocabulary import format_code
from ..sim._faults import Faults
from ..sim._gateway import GatewayState, NotifyEvent
from ..sim._server import Simulator
from ..sim._watchlists import WatchlistStore
from ._market import OpenDMarket
from ._options import OpenDOptions
from ._requests import RequestLog
from ._securities import known_or_made_up

__all__ = ["OpenD"]

T = TypeVar("T")


class OpenD:
    """A simulated OpenD gateway for one test, running in a background thread.

    The ``opend`` fixture gives one; :meth:`start` makes one anywhere else.
    Reads are snapshots; every method returns once the gateway has done what
    it says, so the next request sees it. Only :meth:`restart` takes time,
    and is awaited (from asyncio, uvloop or trio) so the test's event loop
    keeps running meanwhile.
    """

    def __init__(self, simulator: Simulator, portal: BlockingPortal, options: OpenDOptions):
        self._simulator = simulator
        self._portal = portal
        self._options = options
        # Set on entry and never changed: safe to read from any thread.
        self._host = simulator.host
        self._port = simulator.port
        self._market = OpenDMarket(self.call, simulator.market)

    @classmethod
    @contextmanager
    def start(cls, options: OpenDOptions | None = None, **kwargs: Any) -> Iterator[OpenD]:
        """Run a gateway in a background thread for the ``with`` block.

        ``kwargs`` are :class:`OpenDOptions` fields, e.g.
        ``OpenD.start(watchlists={"Tech": ["US.AAPL"]}, quotas="fast")``.

        Raises:
            ValueError, TypeError: an option is not valid.
        """
        options = (options or OpenDOptions()).merged("OpenD.start()", kwargs)
        simulator = Simulator(**options.simulator_kwargs())
        with (
            start_blocking_portal("asyncio") as portal,
            portal.wrap_async_context_manager(simulator),
        ):
            yield cls(simulator, portal, options)

    @property
    def host(self) -> str:
        """The address the gateway listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The port the gateway listens on (an ephemeral one)."""
        return self._port

    @property
    def options(self) -> OpenDOptions:
        """The options it was started with."""
        return self._options

    @property
    def simulator(self) -> Simulator:
        """The :class:`~asyncquote.sim.Simulator` itself, which lives in the gateway's thread.

        Touch it through :meth:`call` only, so nothing races its event loop.
        """
        return self._simulator

    def connect_kwargs(self) -> dict[str, Any]:
        """Arguments for :func:`asyncquote.connect` that match this gateway.

        Host, port, quotas and RSA key: ``asyncquote.connect(**opend.connect_kwargs())``.
        """
        return {"host": self._host, "port": self._port, **self._options.client_kwargs()}

    @overload
    def call(self, func: Callable[..., Awaitable[T]], *args: object) -> T: ...

    @overload
    def call(self, func: Callable[..., T], *args: object) -> T: ...

    def call(self, func: Callable[..., Any], *args: object) -> Any:
        """Run ``func(*args)`` (a function or a coroutine function) in the gateway's thread.

        Returns its result once it has run there; its exceptions propagate.
        """
        return self._portal.call(func, *args)

    @property
    def market(self) -> OpenDMarket:
        """The gateway's prices: read quotes and books, move prices (pushed to subscribers).

        ``opend.market.set_price("HK.00700", 400.2)``; see :class:`OpenDMarket`.
        """
        return self._market

    @property
    def subscription_quota(self) -> int:
        """The account's subscription quota, as the gateway enforces and reports it."""
        return int(self.call(lambda: self._simulator.subscription_quota))

    @property
    def used_subscription_quota(self) -> int:
        """The subscription quota in use now, over every connection."""
        return int(self.call(lambda: self._simulator.used_subscription_quota))

    @property
    def requests(self) -> RequestLog:
        """Every request that reached the gateway so far, oldest first.

        Filter it with :meth:`RequestLog.filter`, e.g.
        ``opend.requests.filter(3213, group="HK")``.
        """
        return self.call(RequestLog, self._simulator.requests)

    @property
    def rejections(self) -> RequestLog:
        """The requests refused for exceeding a quota, oldest first."""
        return self.call(RequestLog, self._simulator.rejections)

    @property
    def open_connections(self) -> int:
        """How many client connections are open right now."""
        return self.call(lambda: self._simulator.open_connections)

    @property
    def faults(self) -> Faults:
        """The faults injected on connections accepted from now on; assign to change them."""
        return self.call(lambda: self._simulator.faults)

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.call(setattr, self._simulator, "faults", faults)

    @property
    def watchlists(self) -> dict[str, list[str]]:
        """Every group and its codes, in OpenD's listing order: a snapshot."""

        def read() -> dict[str, list[str]]:
            store = self._simulator.watchlists
            return {
                group.name: [format_code(key) for key in group.members] for group in store.groups
            }

        return self.call(read)

    def set_watchlist(self, group: str, codes: Sequence[str]) -> None:
        """Make ``group`` list exactly ``codes``, as if the user edited it in the app.

        Creates the group (a custom one) if no group has that name; a system
        group's contents can be set too. Codes the gateway does not know get
        static info as in the ``watchlists`` option; securities new to the
        group also show in the system groups OpenD shows them in.

        Raises:
            ValueError: a code is not a code string, or is listed twice.
        """
        if isinstance(codes, str):
            raise TypeError(f"codes must be a list of codes, not the string {codes!r}")

        def edit() -> None:
            store: WatchlistStore = self._simulator.watchlists
            infos = known_or_made_up(codes, store)
            if len(infos) != len(codes):
                raise ValueError(f"set_watchlist({group!r}): a code is listed twice: {codes!r}")
            store.set_group(group, infos.values())

        self.call(edit)

    def drop_connections(self) -> int:
        """Close every client connection at once, as a crashed OpenD would; return how many.

        The gateway keeps listening, so clients reconnect.
        """
        return int(self.call(self._simulator.drop_connections))

    def stop_listening(self) -> None:
        """Refuse new connections (open ones are still served) until :meth:`start_listening`."""
        self.call(self._simulator.stop_listening)

    def start_listening(self) -> None:
        """Accept connections again, on the same port."""
        self.call(self._simulator.start_listening)

    async def restart(self, downtime: float = 0.0) -> None:
        """Restart the gateway on the same port, as OpenD being restarted.

        Every connection is dropped and new ones refused for ``downtime``
        seconds; watchlists and quotas are kept. Awaitable from asyncio,
        uvloop and trio; the test's event loop runs meanwhile, so its client
        sees the outage as it would a real one. From synchronous code, use
        :meth:`stop_listening`, :meth:`drop_connections` and
        :meth:`start_listening`.
        """
        await anyio.to_thread.run_sync(self.call, self._simulator.restart, downtime)

    @property
    def gateway(self) -> GatewayState:
        """What OpenD says about itself (logins, program status, markets); assign to change.

        Assigning changes what GetGlobalState answers without pushing
        anything; :meth:`log_out`, :meth:`log_in`, :meth:`change_status` and
        :meth:`push` tell the clients as OpenD does.
        """
        return self.call(lambda: self._simulator.gateway)

    @gateway.setter
    def gateway(self, gateway: GatewayState) -> None:
        self.call(setattr, self._simulator, "gateway", gateway)

    def push(self, event: NotifyEvent) -> int:
        """Push ``event`` as a Notify (1003) to every client; return how many it went to.

        See :meth:`asyncquote.sim.Simulator.push`.
        """
        return int(self.call(self._simulator.push, event))

    def log_out(
        self,
        reason: GatewayEventType | None = GatewayEventType.KICKED_OUT,
        *,
        description: str | None = None,
    ) -> int:
        """Log OpenD out of Futu's servers, telling the clients; watchlist calls are refused.

        See :meth:`asyncquote.sim.Simulator.log_out`.
        """
        log_out = partial(self._simulator.log_out, reason, description=description)
        return int(self.call(log_out))

    def log_in(self) -> int:
        """Log OpenD back in (program status ``READY``), telling the clients."""
        return int(self.call(self._simulator.log_in))

    def change_status(self, status: str) -> int:
        """Move OpenD to ``status``, a name from :data:`~asyncquote.sim.GATEWAY_STATUSES`.

        Raises:
            ValueError: ``status`` is not such a name.
        """
        return int(self.call(self._simulator.change_status, status))
