"""Keeping a connection to OpenD alive: reconnects with backoff, observable state.

A :class:`Session` owns a supervisor task that opens a connection, waits for
it to be lost, and opens the next one after an exponential backoff with
jitter, until the session is closed. Callers ask the session for the current
connection and wait, within their own deadline, while it reconnects.

Quota accounting is not here: the rate limiter belongs to the client and
outlives every connection, so a reconnect never resets it (OpenD counts per
account, not per connection).
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from .._base.args import check_duration, check_flag, check_int
from .._base.errors import ConnectError, ConnectionLostError, InvalidArgumentError
from .._base.states import ConnectionState

__all__ = ["STABLE_AFTER", "ConnectionState", "ReconnectPolicy", "Session"]

logger = logging.getLogger("asyncquote.session")

#: Seconds a new connection must stay up (and longer than the delay before
#: it) for the reconnect backoff to start over.
STABLE_AFTER = 5.0

if TYPE_CHECKING:  # the opener makes them; only the type is named here
    from .connection import Connection

Opener = Callable[[], AbstractAsyncContextManager["Connection"]]


@dataclass(frozen=True)
class ReconnectPolicy:
    """How to reconnect after a lost connection.

    The n-th consecutive attempt waits ``min(max_delay, initial_delay *
    multiplier**n)``, less a random part of up to ``jitter`` of it, so that
    many clients of a restarted gateway do not all come back at once. An
    attempt whose connection is lost again within :data:`STABLE_AFTER`
    seconds (or within its own delay, if longer) counts as failed: a gateway
    that handshakes and hangs up sees growing delays, and ``max_attempts``.

    Attributes:
        enabled: reconnect at all; when False a lost connection closes the client.
        initial_delay: seconds before the first attempt; ``0`` retries at once.
            Must be finite.
        max_delay: cap on the wait between attempts, in seconds; ``math.inf``
            for no cap. Delays must be numbers (not bools, not NaN), >= 0.
        multiplier: growth of the wait per failed attempt.
        jitter: fraction (0..1) of each wait that is randomised.
        max_attempts: consecutive failed attempts before giving up
            (the client then closes); ``None`` retries forever.
    """

    enabled: bool = True
    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.3
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        check_flag("enabled", self.enabled)
        check_duration("initial_delay", self.initial_delay, finite=True)
        check_duration("max_delay", self.max_delay)
        # Not durations, but numbers all the same: no bools, no NaN.
        multiplier, jitter = self.multiplier, self.jitter
        if isinstance(multiplier, bool) or not isinstance(multiplier, int | float):
            raise InvalidArgumentError(f"multiplier must be a number >= 1, not {multiplier!r}")
        if not 1 <= multiplier < math.inf:
            raise InvalidArgumentError(f"multiplier must be a number >= 1, not {multiplier!r}")
        if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not 0 <= jitter <= 1:
            raise InvalidArgumentError(f"jitter must be in [0, 1], not {jitter!r}")
        if self.max_attempts is not None:
            check_int("max_attempts", self.max_attempts, minimum=1)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt number ``attempt`` (0-based)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier**attempt)
        return base * (1 - self.jitter * rng.random())


class Session:
    """One logical connection to OpenD that survives the loss of real ones.

    Created and run by the client; see :func:`asyncquote.connect`.
    """

    def __init__(
        self,
        opener: Opener,
        address: str,
        policy: ReconnectPolicy,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._opener = opener
        self._address = address
        self._policy = policy
        self._rng = rng or random.Random()
        self._state = ConnectionState.CONNECTING
        self._current: Connection | None = None
        # Made by a waiter, set and dropped by _set_state(): that also runs
        # in the loop's callbacks (a lost connection), where no task runs and
        # anyio cannot tell which loop it is on to make a new Event.
        self._changed: anyio.Event | None = None
        self._last_error: BaseException | None = None
        self._closed_reason = ""
        self.reconnects = 0
        """How many times a lost connection was replaced by a new one."""
        self.on_closed: Callable[[], None] | None = None
        """Called synchronously, once, when the session enters CLOSED."""
        self.on_state_changed: Callable[[ConnectionState, ConnectionState], None] | None = None
        """Called synchronously with ``(state, previous)`` on every change of state."""

    # -- what callers use -------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The current :class:`ConnectionState`."""
        return self._state

    @property
    def current(self) -> Connection | None:
        """The live connection, or ``None`` while there is none."""
        return self._current

    async def connection(self, timeout: float, *, deadline: float | None = None) -> Connection:
        """The live connection, waiting up to ``timeout`` seconds for one.

        ``deadline`` (on :func:`anyio.current_time`'s clock), if given, is
        when to give up instead: the end of the caller's ``timeout``, part of
        which it may have spent already.

        Raises:
            ConnectionLostError: the session is closed, or no connection came
                back in time (chained to the last connection error).
        """
        current = self._current
        if current is not None and current.is_open:
            return current  # the common case, without a cancel scope's cost
        scope = (
            anyio.move_on_after(timeout)
            if deadline is None
            else anyio.CancelScope(deadline=deadline)
        )
        with scope:
            while True:
                current = self._current
                if current is not None and current.is_open:
                    return current
                if self._state is ConnectionState.CLOSED:
                    break
                await self._change().wait()
        self.raise_if_closed()
        raise ConnectionLostError(
            f"no connection to OpenD at {self._address} within {timeout:g} s ({self._state.value})"
        ) from self._last_error

    def raise_if_closed(self) -> None:
        """Raise :class:`ConnectionLostError` if the session is closed."""
        if self._state is ConnectionState.CLOSED:
            raise ConnectionLostError(
                f"connection to OpenD at {self._address} is closed: {self._closed_reason}"
            ) from self._last_error

    async def wait_for(self, state: ConnectionState) -> None:
        """Return once the session is in ``state``."""
        while self._state is not state:
            await self._change().wait()

    # -- the supervisor ------------------------------------------------------

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """Connect, then keep reconnecting until cancelled or given up.

        The first connection is reported through ``task_status``; if it
        fails, the :class:`ConnectError` propagates to the starter.
        """
        try:
            async with self._opener() as connection:
                self._connected(connection)
                task_status.started()
                await connection.wait_lost()
            await self._reconnect_forever()
        finally:
            self._set_state(ConnectionState.CLOSED)

    async def _reconnect_forever(self) -> None:
        # An attempt counts as failed unless its connection stayed up for a
        # while: a gateway that completes the handshake and hangs up at once
        # is not healthy, and must see growing delays (and max_attempts).
        attempt = 0
        while self._policy.enabled and self._state is not ConnectionState.CLOSED:
            if self._policy.max_attempts is not None and attempt >= self._policy.max_attempts:
                self._closed_reason = f"gave up reconnecting after {attempt} attempts"
                logger.error("%s to OpenD at %s", self._closed_reason, self._address)
                return
            self._set_state(ConnectionState.RECONNECTING)
            delay = self._policy.delay(attempt, self._rng)
            logger.info("reconnecting to OpenD at %s in %.2f s", self._address, delay)
            await anyio.sleep(delay)
            if self.state is ConnectionState.CLOSED:  # (read again: the sleep awaited)
                return  # closed while waiting
            attempt += 1
            try:
                async with self._opener() as connection:
                    self.reconnects += 1
                    up_since = anyio.current_time()
                    self._connected(connection)
                    logger.warning("reconnected to OpenD at %s", self._address)
                    await connection.wait_lost()
            except ConnectError as exc:
                self._last_error = exc
                logger.info("reconnect attempt %d failed: %s", attempt, exc)
            else:
                if anyio.current_time() - up_since >= max(delay, STABLE_AFTER):
                    attempt = 0
        if not self._closed_reason:
            self._closed_reason = "the connection was lost and reconnecting is off"

    def _connected(self, connection: Connection) -> None:
        self._current = connection
        self._set_state(ConnectionState.CONNECTED)
        connection.on_lost = self._lost
        if not connection.is_open:  # lost before we were listening
            self._lost(connection)

    def _lost(self, connection: Connection) -> None:
        if self._current is not connection or self._state is ConnectionState.CLOSED:
            return  # already handled, or we are the ones closing it
        self._current = None
        self._last_error = connection.lost_cause or ConnectionLostError(connection.lost_reason)
        logger.warning(
            "lost the connection to OpenD at %s: %s", self._address, connection.lost_reason
        )
        if self._policy.enabled:
            self._set_state(ConnectionState.RECONNECTING)
        else:
            self._closed_reason = f"the connection was lost ({connection.lost_reason})"
            self._set_state(ConnectionState.CLOSED)

    def close(self, reason: str = "closed by the client") -> None:
        """Mark the session closed (the owner then cancels :meth:`run`)."""
        if not self._closed_reason:
            self._closed_reason = reason
        self._current = None
        self._set_state(ConnectionState.CLOSED)

    def _set_state(self, state: ConnectionState) -> None:
        previous = self._state
        if state is previous or previous is ConnectionState.CLOSED:
            return  # CLOSED is final: nothing that happens after brings it back
        self._state = state
        if state is ConnectionState.CLOSED and self.on_closed is not None:
            self.on_closed()
        if self.on_state_changed is not None:
            try:
                self.on_state_changed(state, previous)
            except Exception:  # a bug in the owner's handler must not stall the session
                logger.exception("the session's state handler raised")
        changed = self._changed
        if changed is not None:
            self._changed = None
            changed.set()

    def _change(self) -> anyio.Event:
        """What the next change of state sets (made here, in a task)."""
        changed = self._changed
        if changed is None:
            changed = self._changed = anyio.Event()
        return changed
