"""The subscription book: which (security, sub type) pairs the client holds at OpenD, for whom.

Sans-I/O, like the sliding window of :mod:`asyncquote._ratelimit`: times are
plain floats passed in, nothing here awaits, sends or reads a clock. The
client asks the book what to send (:class:`Batch`, one Qot_Sub request each)
and tells it what came back. Four facts of OpenD shape it:

* **A pair costs one quota unit however many streams want it.** Streams
  register pairs; the book counts who holds each pair, subscribes a pair
  when its first stream arrives and lets it go when its last one leaves.
* **No unsubscribe within a minute of the subscribe.** A pair whose last
  stream left waits (*pending unsubscribe*) until ``unsubscribe_delay``
  seconds after its subscribe was confirmed, counted from the reply because
  the request reached OpenD at some time before it. A stream asking for a
  pending pair takes it back at no cost and nothing is sent. A failed
  unsubscribe is retried later, never reported to a user.
* **The quota is the account's.** It is known from ``query_subscription()``
  (used and remaining) and Notify (total, used): :meth:`report_quota`. A
  registration needing more new pairs than remain raises
  :class:`~asyncquote.SubscriptionQuotaError` and changes nothing. Between
  reports the book adds its own changes to the last figure reported.
* **Subscriptions belong to a connection.** :meth:`connection_lost` starts
  a new *epoch*: pending unsubscribes are moot (the pairs are gone with the
  connection), answers from the old epoch are ignored, and
  :meth:`resubscribe` hands out what the open streams need again, within
  the quota.

A pair therefore is, at any moment, wanted by some streams or pending
unsubscribe (its subscribe confirmed or in flight, or its unsubscribe in
flight); the pairs OpenD holds for this connection are those pairs.
The book is also the routing table of pushes: :meth:`listeners`, and
:meth:`wants` says what each stream asked of a pair.

**Options of a pair.** OpenD keeps one subscription per connection and
pair, with the last Qot_Sub's ``extendedTime``, ``session`` (parts of the
US trading day) and K-line adjustments (``regPushRehabTypeList``). Streams
sharing a pair get it subscribed with the *union* of their wishes
(:class:`Want`), each handed only what it asked for; a wider wish sends the
pair's Qot_Sub again (no quota spent); a stream leaving narrows nothing
until the pair is subscribed anew (reconnect, unsubscribe), unseen by the
streams left.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping
from types import MappingProxyType

from .._base.args import check_duration, check_int
from .._base.errors import SubscriptionQuotaError
from .._opend.quotes import MIN_SUBSCRIPTION_SECONDS
from .._opend.vocabulary import format_code
from .batches import (
    DEFAULT_MAX_BATCH,
    DEFAULT_WANT,
    Batch,
    Options,
    Pair,
    Resubscribe,
    SubOptions,
    Want,
    batches,
    covers,
    pair_options,
)
from .state import PendingUnsubscribe, SubscribedPair, SubscriptionQuota, SubscriptionStatus

__all__ = [
    "DEFAULT_MAX_BATCH",
    "Batch",
    "Pair",
    "Resubscribe",
    "SubOptions",
    "SubscriptionBook",
    "Want",
    "batches",
]

#: A pair whose unsubscribe failed this many times in a row is given up on:
#: the connection's end frees it.
UNSUBSCRIBE_ATTEMPTS = 3

_NO_STREAMS: Mapping[Hashable, Want] = MappingProxyType({})


class _PairState:
    """One pair the book holds."""

    __slots__ = (
        "failures",
        "retry_at",
        "sending",
        "sent",
        "streams",
        "subscribed_at",
        "unsubscribing",
    )

    def __init__(self) -> None:
        self.streams: dict[Hashable, Want] = {}  # ordered, for the snapshot
        # The options (parts of the day, adjustments) last subscribed with, this epoch.
        self.sent: Options | None = None
        self.subscribed_at: float | None = None  # latest confirmed subscribe, this epoch
        self.sending = 0  # subscribe requests in flight
        self.unsubscribing = False  # an unsubscribe request in flight
        self.retry_at = -math.inf  # a failed unsubscribe waits until then
        self.failures = 0  # unsubscribes failed in a row

    def unused(self) -> bool:
        """Nothing wants it and OpenD holds nothing of it."""
        return (
            not self.streams
            and self.subscribed_at is None
            and not self.sending
            and not self.unsubscribing
        )


class SubscriptionBook:
    """Reference-counted subscriptions with deferred unsubscribes; see the module docstring.

    Stream keys are any hashable objects; ``str()`` of one names it in
    :meth:`snapshot`.
    """

    def __init__(
        self,
        *,
        unsubscribe_delay: float = MIN_SUBSCRIPTION_SECONDS,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self.unsubscribe_delay = check_duration("unsubscribe_delay", unsubscribe_delay, finite=True)
        self.max_batch = check_int("max_batch", max_batch, minimum=1)
        self.epoch = 0
        """Counts connections: :meth:`connection_lost` starts a new one."""
        self._pairs: dict[Pair, _PairState] = {}
        self._streams: dict[Hashable, dict[Pair, None]] = {}
        self._total: int | None = None
        self._used: int | None = None
        self._own_at_report = 0  # our pairs OpenD held when ``_used`` was reported

    # -- the quota -------------------------------------------------------------

    def report_quota(
        self, *, total: int | None = None, used: int | None = None, remaining: int | None = None
    ) -> None:
        """What OpenD said: 3003 gives ``used`` and ``remaining``; Notify ``total`` or ``used``."""
        if used is not None and remaining is not None:
            total = used + remaining
        if total is not None:
            self._total = total
        if used is not None:
            self._used = used
            # What OpenD counted of ours: pairs it confirmed. A subscribe in
            # flight may or may not be in ``used``; counting it as not makes
            # the estimate err on the side of refusing.
            self._own_at_report = sum(
                1
                for state in self._pairs.values()
                if state.subscribed_at is not None or state.unsubscribing
            )

    @property
    def total(self) -> int | None:
        """The account's subscription quota, as last reported; ``None`` if never."""
        return self._total

    @property
    def own(self) -> int:
        """Quota units this client holds (or is about to, or until its unsubscribes go out)."""
        return len(self._pairs)

    def used(self) -> int | None:
        """Units in use at OpenD as last reported, plus this client's changes since."""
        if self._used is not None:
            return max(0, self._used - self._own_at_report + len(self._pairs))
        # Told the total only: this client's own pairs are the least in use.
        return None if self._total is None else len(self._pairs)

    def remaining(self) -> int | None:
        """Units left, ``None`` while the total is unknown."""
        used = self.used()
        return None if self._total is None or used is None else max(0, self._total - used)

    def needed(self, pairs: Iterable[Pair]) -> int:
        """Quota units registering ``pairs`` would take: the pairs the book does not hold."""
        return sum(1 for pair in set(pairs) if pair not in self._pairs)

    # -- streams ---------------------------------------------------------------

    def acquire(
        self, stream: Hashable, pairs: Iterable[Pair], want: Want = DEFAULT_WANT
    ) -> list[Batch]:
        """Register ``stream`` for ``pairs`` with ``want``; return the requests to send for them.

        Pairs OpenD holds already (for other streams, or pending unsubscribe)
        need no request. A pair whose subscribe is in flight for another
        stream is asked for again (OpenD does not charge twice), so no stream
        waits on another's answer. A pair whose unsubscribe is in flight is
        subscribed again when that answer comes (:meth:`unsubscribed`). A
        pair held with narrower options than ``want`` adds is subscribed
        again with the union (see the module docstring).

        Raises:
            SubscriptionQuotaError: the new pairs need more units than
                :meth:`remaining`; nothing changed.
        """
        wanted = list(dict.fromkeys(pairs))
        needed = self.needed(wanted)
        remaining = self.remaining()
        if remaining is not None and needed > remaining:
            raise SubscriptionQuotaError(needed, remaining, self._total)
        mine = self._streams.setdefault(stream, {})
        send = []
        for pair in wanted:
            state = self._pairs.get(pair)
            if state is None:
                state = self._pairs[pair] = _PairState()
            state.streams[stream] = want
            mine[pair] = None
            if state.unsubscribing:
                continue
            if state.subscribed_at is None or not covers(state.sent, self._union(pair, state)):
                state.sending += 1
                send.append(pair)
        return self._plan(send)

    def wants(self, pair: Pair) -> Mapping[Hashable, Want]:
        """The streams that want ``pair``'s pushes, each with what it asked for."""
        state = self._pairs.get(pair)
        return _NO_STREAMS if state is None else state.streams

    def _union(self, pair: Pair, state: _PairState) -> Options:
        return pair_options(state.streams.values(), pair[1])

    def _plan(self, pairs: list[Pair]) -> list[Batch]:
        """The subscribe requests for ``pairs``, each with its streams' union of options."""
        options = {}
        for pair in pairs:
            state = self._pairs[pair]
            options[pair] = state.sent = self._union(pair, state)
        return batches(self.epoch, pairs, self.max_batch, options)

    def release(self, stream: Hashable) -> None:
        """``stream`` wants none of its pairs any more: its pushes stop at once.

        Pairs no other stream wants become pending unsubscribes; see
        :meth:`next_due` and :meth:`take_due`.
        """
        for pair in self._streams.pop(stream, {}):
            state = self._pairs[pair]
            del state.streams[stream]
            self._forget_if_unused(pair, state)

    def routes(self, pair: Pair) -> Mapping[Hashable, Want] | None:
        """The streams that want ``pair``'s pushes (maybe none), or None if the book
        does not hold it: the receive path's one lookup per update."""
        state = self._pairs.get(pair)
        return None if state is None else state.streams

    def tracked(self, pair: Pair) -> bool:
        """Whether the book holds ``pair`` (wanted, or waiting to be unsubscribed)."""
        return pair in self._pairs

    def holds(self, pair: Pair) -> bool:
        """Whether OpenD holds ``pair`` for a request that needs it: confirmed, or
        wanted by a stream (being subscribed), and not being unsubscribed."""
        state = self._pairs.get(pair)
        return (
            state is not None
            and not state.unsubscribing
            and (state.subscribed_at is not None or bool(state.streams))
        )

    def pairs_of(self, stream: Hashable) -> Collection[Pair]:
        """The pairs ``stream`` registered."""
        return self._streams.get(stream, {}).keys()

    # -- answers to subscribes ---------------------------------------------------

    def subscribed(self, batch: Batch, now: float) -> None:
        """OpenD confirmed ``batch`` at ``now``, or its outcome is unknown (then
        OpenD may hold the pairs: they are treated as subscribed at ``now``)."""
        if batch.epoch != self.epoch:
            return
        for pair in batch.pairs:
            state = self._pairs.get(pair)
            if state is None:
                continue
            state.sending = max(0, state.sending - 1)
            at = state.subscribed_at
            state.subscribed_at = now if at is None else max(at, now)

    def refused(self, batch: Batch) -> None:
        """OpenD refused ``batch``: it holds none of its pairs because of it."""
        if batch.epoch != self.epoch:
            return
        for pair in batch.pairs:
            state = self._pairs.get(pair)
            if state is not None:
                state.sending = max(0, state.sending - 1)
                state.sent = None  # not known now: the next stream's subscribe says it again
                self._forget_if_unused(pair, state)

    # -- deferred unsubscribes ---------------------------------------------------

    def _due(self, state: _PairState) -> float | None:
        if state.streams or state.unsubscribing or state.sending or state.subscribed_at is None:
            return None
        return max(state.subscribed_at + self.unsubscribe_delay, state.retry_at)

    def next_due(self) -> float | None:
        """When the next pending unsubscribe may be sent; ``None`` if none waits."""
        dues = [due for state in self._pairs.values() if (due := self._due(state)) is not None]
        return min(dues, default=None)

    def take_due(self, now: float) -> list[Batch]:
        """The unsubscribe requests that may be sent at ``now``; their pairs are now in flight."""
        due = []
        for pair, state in self._pairs.items():
            at = self._due(state)
            if at is not None and at <= now:
                state.unsubscribing = True
                due.append(pair)
        return batches(self.epoch, due, self.max_batch)

    def unsubscribed(self, batch: Batch) -> list[Batch]:
        """OpenD confirmed the unsubscribe ``batch``. Returns the subscribe
        requests to send for pairs a stream took back meanwhile."""
        if batch.epoch != self.epoch:
            return []
        again = []
        for pair in batch.pairs:
            state = self._pairs.get(pair)
            if state is None:
                continue
            state.unsubscribing = False
            state.subscribed_at = None
            state.sent = None
            state.retry_at = -math.inf
            state.failures = 0
            if state.streams:
                state.sending += 1
                again.append(pair)
            else:
                self._forget_if_unused(pair, state)
        return self._plan(again)

    def unsubscribe_failed(self, batch: Batch, now: float) -> tuple[list[Batch], list[Pair]]:
        """The unsubscribe ``batch`` failed or its outcome is unknown.

        Returns the subscribe requests to send for pairs a stream took back
        meanwhile (OpenD may have dropped them after all: subscribing again
        costs nothing if not), and the pairs given up on after
        ``UNSUBSCRIBE_ATTEMPTS`` failures (the connection's end frees them).
        The others are retried ``unsubscribe_delay`` seconds from ``now``.
        """
        if batch.epoch != self.epoch:
            return [], []
        again, abandoned = [], []
        for pair in batch.pairs:
            state = self._pairs.get(pair)
            if state is None:
                continue
            state.unsubscribing = False
            if state.streams:
                state.sending += 1
                again.append(pair)
                continue
            state.failures += 1
            if state.failures >= UNSUBSCRIBE_ATTEMPTS:
                del self._pairs[pair]
                abandoned.append(pair)
            else:
                state.retry_at = now + self.unsubscribe_delay
        return self._plan(again), abandoned

    # -- reconnects ----------------------------------------------------------------

    def connection_lost(self) -> None:
        """The connection is gone, and every subscription with it: a new epoch begins.

        Pending unsubscribes are dropped (nothing is left to unsubscribe);
        the streams' pairs wait for :meth:`resubscribe`.
        """
        self.epoch += 1
        for pair, state in list(self._pairs.items()):
            state.subscribed_at = None
            state.sent = None
            state.sending = 0
            state.unsubscribing = False
            state.retry_at = -math.inf
            state.failures = 0
            self._forget_if_unused(pair, state)

    def resubscribe(self) -> Resubscribe:
        """The requests that subscribe again what open streams want, within the quota.

        Pairs beyond the quota stay registered (their streams stay open, with
        no pushes) and are handed out by a later call when there is room.
        """
        waiting = [
            pair
            for pair, state in self._pairs.items()
            if state.streams
            and state.subscribed_at is None
            and not state.sending
            and not state.unsubscribing
        ]
        room = len(waiting)
        used = self.used()
        if self._total is not None and used is not None:
            # The waiting pairs are counted as held already; the rest is others'.
            room = max(0, self._total - (used - len(waiting)))
        taken, over = waiting[:room], waiting[room:]
        for pair in taken:
            self._pairs[pair].sending += 1
        return Resubscribe(self._plan(taken), over)

    # -- what client.subscriptions shows ----------------------------------------------

    def snapshot(self, now: float) -> SubscriptionStatus:
        """The book at ``now``: the pairs streams want, pending unsubscribes, the quota."""
        wanted, pending = [], []
        for (security, sub_type), state in self._pairs.items():
            code = format_code(security)
            if state.streams:
                wanted.append(
                    SubscribedPair(
                        security=code,
                        sub_type=sub_type,
                        streams=tuple(str(stream) for stream in state.streams),
                        subscribed=state.subscribed_at is not None,
                    )
                )
                continue
            due = self._due(state)
            due_in = 0.0 if state.unsubscribing else None if due is None else max(0.0, due - now)
            pending.append(PendingUnsubscribe(security=code, sub_type=sub_type, due_in=due_in))
        quota = SubscriptionQuota(
            total=self._total, used=self.used(), remaining=self.remaining(), own=self.own
        )
        return SubscriptionStatus(
            pairs=tuple(wanted), pending_unsubscribes=tuple(pending), quota=quota
        )

    def _forget_if_unused(self, pair: Pair, state: _PairState) -> None:
        if state.unused():
            del self._pairs[pair]
