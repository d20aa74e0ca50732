"""The synchronous half of live quotes: pushes routed to streams, reconnects and quota noticed.

:class:`LiveQuotes` sits where pushes arrive and where the session changes
state, like the gateway monitor it wraps (:func:`~asyncquote.connect` puts it
first on the push path; every push then goes on to the monitor and the
user's ``push_handler`` as before). Everything here runs inside the event
loop's read callback on asyncio, or the session's state change, outside any
task: it never awaits, never blocks and never raises into its caller. The
awaiting half (requests, the maintenance task) is
:mod:`asyncquote._quotes.client`'s.

**Routing.** A basic-quote push (3005) carries a list of quotes, an
order-book push (3013) one book. The push is parsed once; each update of a
pair the :class:`~asyncquote._quotes.book.SubscriptionBook` holds is handed,
still a protobuf message, to the streams that want it
(:meth:`SubscriptionBook.routes`): a dictionary lookup and a
non-blocking put per stream, no task per update, no model. A stream
conflates what waits and its reader builds the model of each update it
takes, in its own task (:class:`~asyncquote._quotes.stream.QuoteStream`), so
a burst costs the receive path a parse per push, whatever the reader skips.
A push that cannot be parsed is logged (at most once a minute per protocol,
with a count) and dropped; the connection and the other pushes carry on. An
update that parses but cannot be decoded (a required field missing) is
logged and skipped by the reader that takes it.

Tickers, time-share points, K-lines and broker queues (3011, 3009, 3007,
3015) are decoded on arrival instead and delivered with the conflation key
of their kind (:mod:`asyncquote._quotes.market_data_pushes`): trades never
conflated, K-line closes never conflated away.

**Reconnects.** When the connection is lost the book starts a new epoch,
every stream gets a gap marker, and :attr:`LiveQuotes.resubscribe_needed` is
set for the maintenance task, which subscribes again once connected. When
the session closes for good every stream ends with
:class:`~asyncquote.ConnectionLostError`.

The newest update of each pair is kept, so that a stream joining a pair
another stream holds starts from the current state at once, as OpenD's first
push gives a fresh subscription.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable, Iterable
from typing import Any, Protocol

import anyio

from .._base.errors import ConnectionLostError, OpenDError, ProtocolError
from .._base.states import ConnectionState
from .._client.throttle import WarningThrottle
from .._io.connection_options import PushHandler
from .._models.events import ApiQuotaChanged, Event, UsedQuotaChanged
from .._opend.framing import Frame
from .._opend.quotes import PUSH_SUB_TYPES
from .batches import DEFAULT_WANT, Want
from .book import Batch, Pair, SubscriptionBook
from .market_data_pushes import MARKET_DATA_PUSH_IDS, MarketDataRouter, wanted
from .pushes import RawUpdate, route_push
from .stream import QuoteStream

__all__ = ["LiveQuotes"]

logger = logging.getLogger("asyncquote.quotes")

# The pushes routed here (one lookup per push; the rest only go on).
_ROUTED = frozenset(int(proto_id) for proto_id in (*PUSH_SUB_TYPES, *MARKET_DATA_PUSH_IDS))


class Listener(Hashable, Protocol):
    """What the book routes a pair's pushes to: a stream, or one member of a followed group."""

    def _put(self, key: Hashable | None, item: Any) -> None: ...


class LiveQuotes:
    """See the module docstring."""

    def __init__(
        self, push_handler: PushHandler | None = None, *, book: SubscriptionBook | None = None
    ) -> None:
        self._next = push_handler
        self.book = book or SubscriptionBook()
        self.streams: dict[QuoteStream[Any], None] = {}
        self._latest: dict[Pair, RawUpdate] = {}
        # Tickers, time-share, K-lines, broker queues: decoded on arrival, each
        # with its conflation key; the newest kept (not trades: a late joiner
        # must not get an old trade as if new; for K-lines the open bar).
        self._market_data = MarketDataRouter()
        self._latest_data: dict[Pair, tuple[Hashable, Any]] = {}
        self._warnings = WarningThrottle(logger)
        self._names = itertools.count(1)
        self.resubscribe_needed = False
        """The connection was replaced: the maintenance task subscribes again."""
        self.quota_asked_in = -1
        """The book epoch in which the subscription quota was last asked for."""
        self.closed = False
        self._dirty = False
        self._changed: anyio.Event | None = None

    def next_name(self) -> str:
        """A name for a stream its user did not name: ``"stream 1"``, ``"stream 2"``..."""
        return f"stream {next(self._names)}"

    # -- the receive path -------------------------------------------------------

    def on_push(self, frame: Frame) -> None:
        """Every push of every connection: quotes go to their streams; all go on."""
        proto_id = frame.proto_id
        if proto_id in _ROUTED:
            try:
                if proto_id in PUSH_SUB_TYPES:
                    route_push(proto_id, frame.body, self.book.routes, self._latest)
                else:
                    self._market_data.route(
                        proto_id, frame.body, self.book.tracked, self._deliver_keyed
                    )
            except (ProtocolError, OpenDError) as exc:
                self._skip(proto_id, exc)
            except Exception as exc:  # a bug must not end the connection or skip the rest
                logger.exception("could not route a push of protocol %d", proto_id)
                self._skip(proto_id, exc)
        if self._next is not None:
            self._next(frame)

    def _deliver_keyed(self, pair: Pair, key: Hashable | None, item: Any) -> None:
        if key is not None and not getattr(item, "closed", False):
            self._latest_data[pair] = (key, item)
        for stream, want in self.book.wants(pair).items():
            if wanted(want, item):
                stream._put(key, item)  # type: ignore[attr-defined]

    def _skip(self, proto_id: int, error: BaseException) -> None:
        self._warnings.warn(
            f"push {proto_id}", "dropped a push of protocol %d OpenD sent: %s", proto_id, error
        )

    # -- the session and Notify -------------------------------------------------

    def on_state_changed(self, state: ConnectionState, previous: ConnectionState) -> None:
        """The session changed state: a lost connection takes every subscription with it."""
        if previous is ConnectionState.CONNECTED:
            self.book.connection_lost()
            self._latest.clear()
            self._latest_data.clear()
            self._market_data.forget()
            if state is not ConnectionState.CLOSED:
                self.resubscribe_needed = True
                for stream in self.streams:
                    stream._gap()
        if state is ConnectionState.CLOSED:
            self.close(ConnectionLostError("the connection to OpenD is closed"))
        self.wake()

    def on_event(self, event: Event) -> None:
        """A Notify event: the quota figures update the book's."""
        if isinstance(event, ApiQuotaChanged):
            self.book.report_quota(total=event.subscription_quota)
        elif isinstance(event, UsedQuotaChanged) and event.used_subscription_quota is not None:
            self.book.report_quota(used=event.used_subscription_quota)

    # -- streams --------------------------------------------------------------

    def register(
        self, stream: QuoteStream[Any], pairs: Iterable[Pair], want: Want = DEFAULT_WANT
    ) -> list[Batch]:
        """Add ``stream`` for ``pairs``; the subscribe requests to send (see ``acquire``).

        Pairs another stream holds start the new one from their newest update.

        Raises:
            SubscriptionQuotaError: no room in the quota; nothing changed.
        """
        batches = self.attach(stream, pairs, want)
        self.streams[stream] = None
        return batches

    def attach(
        self, listener: Listener, pairs: Iterable[Pair], want: Want = DEFAULT_WANT
    ) -> list[Batch]:
        """Route ``pairs`` to ``listener`` as well: :meth:`register` without the stream's
        gaps and closing (a followed group's member, whose stream is registered itself).

        Raises:
            SubscriptionQuotaError: no room in the quota; nothing changed.
        """
        asked = list(pairs)
        batches = self.book.acquire(listener, asked, want)
        for pair in asked:
            latest = self._latest.get(pair)
            if latest is not None:
                listener._put(pair, latest)
            keyed = self._latest_data.get(pair)
            if keyed is not None and wanted(want, keyed[1]):
                listener._put(*keyed)
        return batches

    def detach(self, listener: Listener) -> None:
        """``listener`` wants none of its pairs any more; they may be unsubscribed."""
        self.book.release(listener)
        self.wake()

    def release(self, stream: QuoteStream[Any]) -> None:
        """``stream``'s block ended: no more pushes for it; its pairs may be unsubscribed."""
        self.book.release(stream)
        self.streams.pop(stream, None)
        stream._close()
        self.wake()

    def forget_untracked(self) -> None:
        """Drop the newest updates kept of pairs the book no longer holds."""
        tracked = self.book.tracked
        for pair in [pair for pair in self._latest if not tracked(pair)]:
            del self._latest[pair]
        for pair in [pair for pair in self._latest_data if not tracked(pair)]:
            del self._latest_data[pair]
        self._market_data.forget(tracked)

    def close(self, error: BaseException) -> None:
        """The client is closed: every stream ends, raising ``error`` once read to the end."""
        self.closed = True
        for stream in self.streams:
            stream._close(error)
        self.wake()

    # -- waking the maintenance task ----------------------------------------------

    def wake(self) -> None:
        """Something changed: the maintenance task looks again (set from any context)."""
        self._dirty = True
        changed = self._changed
        if changed is not None:
            self._changed = None
            changed.set()

    async def wait_changed(self) -> None:
        """Return after the next :meth:`wake`, or at once if one came since the last return."""
        if not self._dirty:
            changed = self._changed = anyio.Event()
            await changed.wait()
        self._dirty = False
