"""Quote subscriptions as OpenD keeps them: per connection, within the account's quota.

One job: the bookkeeping behind Qot_Sub (3001), Qot_RegQotPush (3002) and
Qot_GetSubInfo (3003): which (security, SubType) pairs each connection has
subscribed, which of them it wants pushed, and how much of the account's
subscription quota they use. Pure: the time is always an argument, in
seconds on any clock that does not go back (the simulator passes
:func:`anyio.current_time`, so virtual clocks work).

OpenD's rules, as Futu's OpenAPI documentation states them (the pages
"Authorities and Limitations" and "Subscribe and Unsubscribe"):

* Each (security, SubType) pair costs one unit of the account's
  subscription quota, however many connections subscribe it; subscribing a
  pair again costs nothing more. The quota depends on the account: 100 on
  opening one, 300 with assets of HKD 10,000, 1,000 with HKD 500,000 (or
  more than 200 trades, or HKD 2 million traded, a month) and 2,000 with
  HKD 5 million (or 2,000 trades, or HKD 20 million, a month).
  :data:`DEFAULT_SUBSCRIPTION_QUOTA` is 1,000, the third tier.
* A pair can be unsubscribed only once it has been subscribed for at least
  a minute (:data:`~asyncquote._opend.quotes.MIN_SUBSCRIPTION_SECONDS`).
* A quota unit comes back only once no connection holds the pair. A
  connection that closes less than a minute after subscribing a pair does
  not give it back at once: OpenD cancels the subscription when the minute
  is up, so until then the pair still counts (it *lingers*).
* Subscriptions belong to their connection: when it closes they are gone.

What the documentation leaves open, decided here:

* A request is all or nothing: a subscription that would exceed the quota,
  an unsubscription naming a pair less than a minute old, and a push
  registration naming a pair not subscribed change nothing.
* The minute counts from the pair's first subscription on that
  connection: subscribing it again does not restart it.
* Unsubscribing everything (``isUnsubAll``) keeps the one-minute rule too,
  and unregisters every push of the connection.
* Unsubscribing a pair the connection does not hold is not an error.
* Pushes are registered per pair (Qot_RegQotPush names securities and
  types); unsubscribing a pair unregisters it.
* Qot_Sub's ``extendedTime`` and ``session`` (the parts of the US trading
  day pushed, :func:`~asyncquote._opend.quotes.session_parts`) and
  ``regPushRehabTypeList`` (the adjustments K-lines are pushed in; none
  named: forward, OpenD's default) are kept per connection and pair, as the
  last Qot_Sub subscribing the pair said them (:meth:`Subscriptions.set_options`;
  Qot_RegQotPush's ``rehabTypeList``, when it names some, replaces the
  adjustments: :meth:`Subscriptions.set_rehab_types`); unsubscribing forgets them.

Invariants: the quota used is the number of distinct pairs held by open
connections or lingering, never more than the quota; a connection's own use
is the number of its pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TypeVar

from .._base.args import check_int
from .._opend.quotes import (
    MIN_SUBSCRIPTION_SECONDS,
    AuType,
    Session,
    UsTradingPart,
    session_parts,
)
from .._opend.vocabulary import SecurityKey

__all__ = [
    "DEFAULT_PARTS",
    "DEFAULT_REHAB_TYPES",
    "DEFAULT_SUBSCRIPTION_QUOTA",
    "NotSubscribedError",
    "Pair",
    "QuotaExceededError",
    "SubscriptionError",
    "Subscriptions",
    "UnsubscribeTooSoonError",
]

Pair = tuple[SecurityKey, int]
"""A subscription's unit: ``((market, code), sub_type)``, e.g. ``((1, "00700"), 1)``."""

#: The account's subscription quota unless told otherwise (Futu's third tier).
DEFAULT_SUBSCRIPTION_QUOTA = 1_000

_NO_CONNECTIONS: Collection[int] = frozenset()

#: What a pair is pushed with when its Qot_Sub said nothing: the US regular
#: session, K-lines forward-adjusted.
DEFAULT_PARTS = session_parts(Session.NONE, False)
DEFAULT_REHAB_TYPES = (int(AuType.QFQ),)


class SubscriptionError(Exception):
    """A subscription request OpenD refuses; nothing was changed.

    Attributes:
        pairs: the pairs the refusal is about, in the order asked.
    """

    def __init__(self, message: str, pairs: Sequence[Pair]) -> None:
        super().__init__(message)
        self.pairs = tuple(pairs)


class QuotaExceededError(SubscriptionError):
    """Subscribing would take more quota units than remain.

    Attributes:
        pairs: the pairs that would each have cost a unit.
        remaining: the units left.
        quota: the account's quota.
    """

    def __init__(self, pairs: Sequence[Pair], remaining: int, quota: int) -> None:
        super().__init__(
            f"{len(pairs)} new subscriptions need {len(pairs)} quota units; "
            f"{remaining} of {quota} remain",
            pairs,
        )
        self.remaining = remaining
        self.quota = quota


class UnsubscribeTooSoonError(SubscriptionError):
    """Some pairs have been subscribed for less than :data:`MIN_SUBSCRIPTION_SECONDS` seconds.

    Attributes:
        pairs: those pairs.
        ready_at: the time at which all of them may be unsubscribed.
    """

    def __init__(self, pairs: Sequence[Pair], ready_at: float) -> None:
        super().__init__(
            f"{len(pairs)} subscriptions are less than {MIN_SUBSCRIPTION_SECONDS:g} s old", pairs
        )
        self.ready_at = ready_at


class NotSubscribedError(SubscriptionError):
    """A push registration names pairs the connection has not subscribed."""

    def __init__(self, pairs: Sequence[Pair]) -> None:
        super().__init__(f"{len(pairs)} pairs are not subscribed on this connection", pairs)


_V = TypeVar("_V")


def _unique(pairs: Iterable[Pair]) -> list[Pair]:
    return list(dict.fromkeys(pairs))


class Subscriptions:
    """Every connection's subscriptions and push registrations, and the account's quota.

    Args:
        quota: the account's subscription quota, a whole number >= 0; or a
            function that says it, asked each time (the simulator's follows
            what its gateway state says, which a test may change).

    Raises:
        InvalidArgumentError: ``quota`` is not a whole number >= 0 or a function.
    """

    def __init__(self, quota: int | Callable[[], int] = DEFAULT_SUBSCRIPTION_QUOTA) -> None:
        if callable(quota):
            self._quota_of: Callable[[], int] = quota
        else:
            fixed = check_int("subscription_quota", quota, minimum=0)
            self._quota_of = lambda: fixed
        # Per connection, its pairs and when each was first subscribed, in order.
        self._held: dict[int, dict[Pair, float]] = {}
        # How many connections hold each pair.
        self._holders: dict[Pair, int] = {}
        # Pairs given up early by a closed connection, until when they count.
        self._lingering: dict[Pair, float] = {}
        # Per pair, the connections that want it pushed (a dict keeps their order).
        self._pushed_to: dict[Pair, dict[int, None]] = {}
        # Per connection, the pairs it wants pushed.
        self._registered: dict[int, set[Pair]] = {}
        # Per connection, the parts of the US day and K-line adjustments of its
        # pairs that did not ask for the defaults.
        self._parts: dict[int, dict[Pair, frozenset[UsTradingPart]]] = {}
        self._rehab: dict[int, dict[Pair, tuple[int, ...]]] = {}

    @property
    def quota(self) -> int:
        """The account's subscription quota."""
        return self._quota_of()

    def used(self, now: float) -> int:
        """Quota units in use at ``now``: distinct pairs held or lingering."""
        self._expire(now)
        return len(self._holders) + sum(1 for pair in self._lingering if pair not in self._holders)

    def remaining(self, now: float) -> int:
        """Quota units free at ``now``."""
        return self.quota - self.used(now)

    def connections(self) -> Sequence[int]:
        """The connections holding at least one pair, in the order they first subscribed."""
        return [conn for conn, held in self._held.items() if held]

    def pairs_of(self, conn: int) -> Sequence[Pair]:
        """The pairs ``conn`` holds, in the order it subscribed them."""
        return list(self._held.get(conn, ()))

    def holds(self, conn: int, pair: Pair) -> bool:
        """Whether ``conn`` has subscribed ``pair``."""
        held = self._held.get(conn)
        return held is not None and pair in held

    def registered(self, conn: int) -> frozenset[Pair]:
        """The pairs ``conn`` wants pushed."""
        return frozenset(self._registered.get(conn, ()))

    def parts(self, conn: int, pair: Pair) -> frozenset[UsTradingPart]:
        """The parts of the US trading day ``conn`` wants ``pair`` pushed in."""
        return self._parts.get(conn, {}).get(pair, DEFAULT_PARTS)

    def rehab_types(self, conn: int, pair: Pair) -> tuple[int, ...]:
        """The adjustments (``RehabType``) ``conn`` wants ``pair``'s K-lines pushed in."""
        return self._rehab.get(conn, {}).get(pair, DEFAULT_REHAB_TYPES)

    def set_options(
        self,
        conn: int,
        pairs: Iterable[Pair],
        *,
        extended: bool,
        session: int = Session.NONE,
        rehab_types: Iterable[int] = (),
    ) -> None:
        """What a Qot_Sub subscribing ``pairs`` (held by ``conn``) said of them:
        ``extendedTime``, ``session`` and ``regPushRehabTypeList``."""
        self._set(self._parts, conn, pairs, session_parts(session, extended), DEFAULT_PARTS)
        self.set_rehab_types(conn, pairs, rehab_types)

    def set_rehab_types(self, conn: int, pairs: Iterable[Pair], rehab_types: Iterable[int]) -> None:
        """The adjustments ``conn`` wants ``pairs``' K-lines in (none: forward; values
        that name no adjustment are ignored)."""
        known = (value for value in rehab_types if isinstance(AuType.from_value(value), AuType))
        rehab = tuple(dict.fromkeys(known)) or DEFAULT_REHAB_TYPES
        self._set(self._rehab, conn, pairs, rehab, DEFAULT_REHAB_TYPES)

    def _set(
        self,
        table: dict[int, dict[Pair, _V]],
        conn: int,
        pairs: Iterable[Pair],
        value: _V,
        default: _V,
    ) -> None:
        held = self._held.get(conn, {})
        mine = table.setdefault(conn, {})
        for pair in pairs:
            if value == default or pair not in held:
                mine.pop(pair, None)
            else:
                mine[pair] = value

    def pushed_to(self, pair: Pair) -> Collection[int]:
        """The connections that hold ``pair`` and want it pushed, in registration order."""
        conns = self._pushed_to.get(pair)
        return _NO_CONNECTIONS if conns is None else conns.keys()

    def subscribe(self, conn: int, pairs: Iterable[Pair], now: float) -> list[Pair]:
        """Subscribe ``conn`` to ``pairs`` at ``now``.

        Returns:
            The pairs new to ``conn``, in the order asked (the others it held already).

        Raises:
            QuotaExceededError: the pairs no connection holds (or lingers)
                would need more units than remain; nothing changed.
        """
        pairs = _unique(pairs)
        held = self._held.setdefault(conn, {})
        fresh = [pair for pair in pairs if pair not in held]
        remaining = self.remaining(now)
        costly = [
            pair for pair in fresh if pair not in self._holders and pair not in self._lingering
        ]
        if len(costly) > remaining:
            raise QuotaExceededError(costly, remaining, self.quota)
        for pair in fresh:
            held[pair] = now
            self._holders[pair] = self._holders.get(pair, 0) + 1
        return fresh

    def unsubscribe(self, conn: int, pairs: Iterable[Pair], now: float) -> list[Pair]:
        """Unsubscribe ``conn`` from ``pairs`` at ``now``, and stop pushing them to it.

        Returns:
            The pairs ``conn`` held and no longer does, in the order asked.

        Raises:
            UnsubscribeTooSoonError: some of them were subscribed less than
                :data:`MIN_SUBSCRIPTION_SECONDS` seconds ago; nothing changed.
        """
        held = self._held.get(conn, {})
        gone = [pair for pair in _unique(pairs) if pair in held]
        young = [pair for pair in gone if now - held[pair] < MIN_SUBSCRIPTION_SECONDS]
        if young:
            raise UnsubscribeTooSoonError(
                young, max(held[p] for p in young) + MIN_SUBSCRIPTION_SECONDS
            )
        self.register(conn, gone, False)
        self.set_options(conn, gone, extended=False)
        for pair in gone:
            del held[pair]
            self._release(pair)
        return gone

    def unsubscribe_all(self, conn: int, now: float) -> list[Pair]:
        """Unsubscribe ``conn`` from every pair and unregister all its pushes.

        Raises:
            UnsubscribeTooSoonError: as for :meth:`unsubscribe`; nothing changed.
        """
        gone = self.unsubscribe(conn, self.pairs_of(conn), now)
        self._registered.pop(conn, None)
        return gone

    def register(self, conn: int, pairs: Iterable[Pair], push: bool) -> None:
        """Start (``push``) or stop pushing ``pairs`` to ``conn``.

        Raises:
            NotSubscribedError: ``push`` and ``conn`` does not hold some of
                ``pairs``; nothing changed. Stopping pairs not pushed is no error.
        """
        pairs = _unique(pairs)
        if push:
            missing = [pair for pair in pairs if not self.holds(conn, pair)]
            if missing:
                raise NotSubscribedError(missing)
            self._registered.setdefault(conn, set()).update(pairs)
            for pair in pairs:
                self._pushed_to.setdefault(pair, {})[conn] = None
            return
        registered = self._registered.get(conn)
        if not registered:
            return
        for pair in pairs:
            if pair in registered:
                registered.discard(pair)
                conns = self._pushed_to[pair]
                del conns[conn]
                if not conns:
                    del self._pushed_to[pair]

    def drop_connection(self, conn: int, now: float) -> None:
        """Forget ``conn``, closed at ``now``: its pairs and its pushes.

        Pairs it subscribed less than :data:`MIN_SUBSCRIPTION_SECONDS` seconds ago
        linger: they count against the quota until their minute is up.
        """
        registered = self._registered.get(conn)
        if registered:
            self.register(conn, list(registered), False)
        self._registered.pop(conn, None)
        self._parts.pop(conn, None)
        self._rehab.pop(conn, None)
        for pair, since in self._held.pop(conn, {}).items():
            until = since + MIN_SUBSCRIPTION_SECONDS
            if until > now:
                self._lingering[pair] = max(until, self._lingering.get(pair, until))
            self._release(pair)

    def usage(self) -> Mapping[int, int]:
        """Quota units each connection holding pairs uses (its number of pairs)."""
        return {conn: len(held) for conn, held in self._held.items() if held}

    def _release(self, pair: Pair) -> None:
        count = self._holders[pair] - 1
        if count:
            self._holders[pair] = count
        else:
            del self._holders[pair]

    def _expire(self, now: float) -> None:
        if self._lingering:
            for pair in [pair for pair, until in self._lingering.items() if until <= now]:
                del self._lingering[pair]
