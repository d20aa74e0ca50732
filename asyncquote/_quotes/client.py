"""``client.subscribe()``, ``client.subscriptions`` and the task that keeps subscriptions right.

:meth:`LiveQuotesClient.subscribe` registers a stream's pairs in the book
(refusing, before anything is sent, what the known quota has no room for),
sends Qot_Sub (3001) for the pairs OpenD does not hold yet, with
``isRegOrUnRegPush`` (pushes are wanted) and ``isFirstPush`` (the current
state at once), and yields the stream. Leaving the block releases the pairs:
their pushes stop at once; their unsubscribes wait for OpenD's one-minute
rule.

One maintenance task per client (:meth:`LiveQuotesClient._keep_quotes`,
started by :func:`~asyncquote.connect` in the client's task group) does the
rest, sleeping until there is something to do: it sends the unsubscribes
that have come due, and after a reconnect asks OpenD for the quota and
subscribes again, in batches within it, what the open streams want. It
never raises: what fails is logged, and retried when that makes sense.

The outcome of every Qot_Sub reaches the book, whatever happens to the
caller: a reply, OpenD's refusal, or, for a request that timed out or whose
caller was cancelled, "may have been subscribed" (so its unsubscribe is
still sent in due course).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import anyio

from .._base.args import check_flag
from .._base.errors import ConnectionLostError, OpenDError, SubscriptionQuotaError
from .._base.states import ConnectionState
from .._models.watchlist import Security
from .._opend.quotes import AuType, Session, SubType
from .args import check_codes, check_session, check_stream_options, check_sub_types
from .batches import Want
from .book import Batch
from .market_data_requests import MarketDataRequestsClient, check_au_type
from .pushes import Update, sub_reply, sub_request_body
from .state import SubscriptionStatus
from .stream import QuoteStream

__all__ = ["DEFAULT_STREAM_BUFFER", "LiveQuotesClient", "check_want"]

logger = logging.getLogger("asyncquote.quotes")

#: Updates a stream keeps for its reader at least (and one per subscribed pair).
DEFAULT_STREAM_BUFFER = 256

# Seconds the maintenance task gives OpenD to answer a background request.
_BACKGROUND_TIMEOUT = 10.0


def is_quota_refusal(message: str) -> bool:
    """Whether OpenD's refusal of a Qot_Sub says the subscription quota is used up."""
    return "额度" in message or "quota" in message.lower()


def check_want(extended_time: object, session: object, autype: object) -> Want:
    """What a stream asks of its pairs, from ``subscribe()``'s (and
    ``follow_user_security()``'s) ``extended_time``, ``session`` and ``autype``.

    Raises:
        InvalidArgumentError: any of them is bad.
    """
    return Want.of(
        extended_time=check_flag("extended_time", extended_time),
        session=check_session(session),
        au_type=check_au_type(autype),
    )


class LiveQuotesClient(MarketDataRequestsClient):
    """Streams of live quotes; :class:`~asyncquote.QuoteClient` is one."""

    @asynccontextmanager
    async def subscribe(
        self,
        codes: Iterable[str | Security],
        sub_types: Iterable[SubType],
        *,
        extended_time: bool = False,
        session: Session | str = Session.NONE,
        autype: AuType | str = AuType.QFQ,
        name: str | None = None,
        buffer: int = DEFAULT_STREAM_BUFFER,
        timeout: float | None = None,
    ) -> AsyncIterator[QuoteStream[Update]]:
        """Subscribe to live quotes; yields a stream of updates for the block::

            async with client.subscribe(["HK.00700"], [SubType.QUOTE]) as stream:
                async for update in stream:
                    print(update)

        Each update is a :class:`BasicQuote` (``SubType.QUOTE``), an
        :class:`OrderBook` (``SubType.ORDER_BOOK``; the odd-lot book for
        ``SubType.ORDER_BOOK_ODD``, its ``order_book_type`` ``ODD``), a :class:`Ticker` (one
        trade, ``SubType.TICKER``), a :class:`TimeSharePoint`
        (``SubType.RT_DATA``), a :class:`KLineUpdate` (a K-line period such
        as ``SubType.K_1M``: the bar and whether it has closed) or a
        :class:`BrokerQueue` (``SubType.BROKER``). A :class:`StreamGap` marks
        where updates may have been missed (a reconnect), a
        :class:`StreamDropped` where some were dropped (a full buffer).
        OpenD pushes the current state of each pair at once (trades: the
        latest).

        **Sharing.** Any number of streams may be open at once over the one
        connection. Each (security, type) pair costs one unit of the
        account's subscription quota however many streams ask for it.
        Leaving the block stops the stream's pushes at once; a pair no other
        stream wants is unsubscribed when OpenD allows it, a minute after
        it was subscribed (never an error for you), and until then costs its
        unit still, as ``client.subscriptions`` shows. Asking for it again
        meanwhile costs nothing.

        **Slow readers.** Updates the reader has not taken yet are replaced
        by the newest of the same thing (counted in ``stream.superseded``): a
        quote, order book or broker queue per security; a time-share point
        per security and minute; a K-line bar per security, period,
        adjustment and bar time, only while the bar is open (a closed bar is
        never replaced by the next one). Trades are never conflated: each
        one is queued, in order. So the stream holds at most ``buffer``
        updates (and at least one per pair), however fast OpenD pushes; the
        connection never waits for a reader. When the buffer is full (trades
        a reader does not keep up with) the oldest updates are dropped,
        counted in ``stream.dropped``, and the reader gets a
        :class:`StreamDropped` (with the count) where they were, before the
        updates that follow them.

        **Reconnects.** After a reconnect the client subscribes again by
        itself (with the same options) and the stream goes on, after a
        :class:`StreamGap`.

        **US sessions and adjustments.** As with the official SDK's
        ``subscribe(..., extended_time=..., session=...)``, a US security's
        trades, time-share points and intraday K-lines come from the regular
        session (09:30 to 16:00 New York time) only, unless
        ``extended_time=True`` (pre-market and after-hours too) or a
        ``session`` says which parts (``Session.ETH``, ``Session.ALL`` with
        overnight, ``Session.OVERNIGHT`` alone); a ``session`` other than
        ``NONE`` decides over ``extended_time``. K-lines come
        forward-adjusted (``AuType.QFQ``, OpenD's default) unless ``autype``
        says otherwise; their updates are conflated per security, period
        and adjustment. OpenD holds one subscription per pair for the
        connection, so streams sharing a pair share it: it is subscribed
        with the union of what they ask (if any wants the extended hours,
        with them; every adjustment any wants), and each stream still gets
        only what it asked for (a stream without ``extended_time`` gets no
        pre-market trade another stream's options brought in).

        Args:
            codes: securities, as codes like ``"HK.00700"`` or :class:`Security`.
            sub_types: ``SubType.QUOTE``, ``SubType.ORDER_BOOK``... (any but
                ``NONE``).
            name: how ``client.subscriptions`` names the stream
                (``"stream 1"``, ... by default).
            buffer: most updates kept for the reader (raised to the number
                of pairs if lower).
            timeout: seconds for each subscribe request, as for
                :meth:`request`.
            extended_time: US pre-market and after-hours data too (trades,
                time-share, K-lines).
            session: the parts of the US trading day wanted, a
                :class:`Session` (or the SDK's name); ``NONE`` leaves it to
                ``extended_time``.
            autype: the adjustment of K-lines: an :class:`AuType` or the
                SDK's ``"qfq"``, ``"hfq"``, ``"None"``.

        Raises:
            InvalidArgumentError: an empty or bad list of codes, an unknown
                or unsupported subscription type, a bad ``extended_time``,
                ``session``, ``autype``, name, buffer or timeout; nothing is
                sent.
            SubscriptionQuotaError: the quota has no room for the pairs not
                yet subscribed (known from ``query_subscription()`` and
                Notify; asked once per connection if unknown): nothing is
                sent; or OpenD refused for that reason.
            OpenDError: OpenD refused the subscription otherwise (e.g. no
                quote rights for the market).
            UsageError: called from another event loop than the client's.
            RequestTimeoutError, ConnectionLostError: see :meth:`request`.
                A connection lost while subscribing is not an error: the
                stream is subscribed once the client has reconnected.
        """
        self._check_loop()
        keys = check_codes(codes)
        types = check_sub_types(sub_types)
        label = check_stream_options(name, buffer, timeout)
        want = check_want(extended_time, session, autype)
        self._session.raise_if_closed()
        live = self._live
        if live.book.remaining() is None and live.quota_asked_in != live.book.epoch:
            await self._ask_quota()
        pairs = [(key, sub_type.value) for key in keys for sub_type in types]
        stream: QuoteStream[Update] = QuoteStream(
            label or live.next_name(), max(buffer, len(pairs))
        )
        batches = live.register(stream, pairs, want)
        try:
            for batch in batches:
                await self._subscribe_batch(batch, timeout)
            yield stream
        finally:
            live.release(stream)

    @property
    def subscriptions(self) -> SubscriptionStatus:
        """What is subscribed, for which streams, and which unsubscribes wait.

        Also the subscription quota as the client reckons it (from
        :meth:`query_subscription` and Notify, and its own requests since).
        """
        return self._live.book.snapshot(self._now())

    # -- sending Qot_Sub -------------------------------------------------------------

    async def _subscribe_batch(self, batch: Batch, timeout: float | None) -> None:
        """Send one subscribe request for a caller; the book hears the outcome whatever it is."""
        book = self._live.book
        try:
            await self._exchange(3001, sub_request_body(batch, subscribe=True), sub_reply, timeout)
        except OpenDError as exc:
            book.refused(batch)
            if is_quota_refusal(exc.message):
                raise SubscriptionQuotaError(
                    None, book.remaining(), book.total, exc.message
                ) from exc
            raise
        except ConnectionLostError:
            # Sent on a connection since lost (the book's epoch moved on and
            # ignores this), or never sent: either way the maintenance task
            # subscribes the stream's pairs once connected again.
            book.refused(batch)
            if self._session.state is ConnectionState.CLOSED:
                raise
        except BaseException:
            book.subscribed(batch, self._now())  # timed out or cancelled: OpenD may have it
            raise
        else:
            book.subscribed(batch, self._now())

    async def _background_batch(self, batch: Batch, *, subscribe: bool) -> None:
        """Send one request for the maintenance task: never raises but cancellation."""
        book = self._live.book
        body = sub_request_body(batch, subscribe=subscribe)
        try:
            await self._exchange(3001, body, sub_reply, _BACKGROUND_TIMEOUT)
        except Exception as exc:
            if (
                isinstance(exc, ConnectionLostError)
                and self._session.state is ConnectionState.CLOSED
            ):
                return
            if subscribe:
                # A timeout may have subscribed them; a refusal has not.
                if isinstance(exc, OpenDError | ConnectionLostError):
                    book.refused(batch)
                else:
                    book.subscribed(batch, self._now())
                logger.warning(
                    "could not subscribe %d pairs again after a reconnect: %s; their streams "
                    "stay open without updates until the next reconnect",
                    len(batch.pairs),
                    exc,
                )
                return
            again, abandoned = book.unsubscribe_failed(batch, self._now())
            logger.info("an unsubscribe failed (%s); it is retried later", exc)
            if abandoned:
                logger.warning(
                    "gave up unsubscribing %d pairs; they hold quota until the connection ends",
                    len(abandoned),
                )
        else:
            if subscribe:
                book.subscribed(batch, self._now())
                return
            again = book.unsubscribed(batch)
            self._live.forget_untracked()
        for retry in again:  # taken back by a stream while the unsubscribe was on its way
            await self._background_batch(retry, subscribe=True)

    async def _ask_quota(self) -> None:
        """Learn the subscription quota (3003) once for this connection; failures are ignored."""
        live = self._live
        live.quota_asked_in = live.book.epoch
        try:
            await self.query_subscription(timeout=_BACKGROUND_TIMEOUT)
        except Exception as exc:  # the subscription itself will tell
            logger.info("could not ask OpenD for the subscription quota: %s", exc)

    # -- the maintenance task ------------------------------------------------------------

    async def _keep_quotes(self) -> None:
        """Send due unsubscribes; subscribe again after reconnects. Runs until cancelled."""
        live = self._live
        book = live.book
        try:
            while not live.closed:
                if live.resubscribe_needed and self._session.state is ConnectionState.CONNECTED:
                    live.resubscribe_needed = False
                    await self._resubscribe()
                    continue
                for batch in book.take_due(self._now()):
                    await self._background_batch(batch, subscribe=False)
                due = book.next_due()
                wait = math.inf if due is None else due - self._now()
                if wait > 0:
                    with anyio.move_on_after(wait):
                        await live.wait_changed()
        finally:
            live.close(ConnectionLostError("the client is closed"))

    async def _resubscribe(self) -> None:
        live = self._live
        if live.streams:
            await self._ask_quota()
        plan = live.book.resubscribe()
        if plan.over_quota:
            logger.warning(
                "the subscription quota has no room for %d pairs after a reconnect; "
                "their streams stay open without updates",
                len(plan.over_quota),
            )
        for batch in plan.batches:
            await self._background_batch(batch, subscribe=True)
