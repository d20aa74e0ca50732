"""``client.follow_user_security()``: live quotes for a watchlist group, kept in step with it.

OpenD pushes no watchlist edits, so the group is polled by the client's
watcher (:mod:`asyncquote._client.watch`, within its share of the 3213
quota), and each change it sees is applied to the subscription:

* **In one stream.** The reader gets, in order, the watcher's
  :class:`WatchlistChange` (the first one, ``initial=True``, lists the whole
  group), the members' updates of every kind ``subscribe()`` streams, by
  the same rules (the same buffer and the same routing: quotes conflated
  per pair, trades never, K-line closes never conflated away, drops marked
  by :class:`StreamDropped`), :class:`StreamGap` markers after reconnects,
  a :class:`WatchError` for a failed poll, and :class:`NotFollowed` for
  members it could not subscribe.
* **One listener per member.** Each member security is registered in the
  subscription book on its own (a :class:`_Member`, whose pushes go to the
  one stream), so that a removed member is released alone (its unsubscribe
  deferred by OpenD's one-minute rule, as for any stream) and a member that
  does not fit the quota leaves the others followed. The subscribe requests
  for one change are batched all the same.
* **The quota is reported, not raised.** A group that grows beyond the
  subscription quota is followed as far as it fits; the rest is named in a
  :class:`NotFollowed` (``quota_exceeded=True``) and tried again at each
  later change of the group (a removal may make room). A refusal by OpenD
  for another reason (no quote rights for a market, say) is reported the
  same way. Only what makes following impossible raises: bad arguments,
  an unknown group, a first poll that fails.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Collection, Hashable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import anyio

from .._base.errors import (
    AsyncQuoteError,
    ConnectionLostError,
    OpenDError,
    SubscriptionQuotaError,
    UnknownGroupError,
)
from .._client.watch import (
    DEFAULT_QUOTA_SHARE,
    WatchError,
    WatchEvent,
    WatchlistChange,
    WatchlistWatcher,
)
from .._io.taskgroups import single_errors
from .._models.groups import WatchlistGroup, check_group_name
from .._models.watchlist import Security, _Model
from .._opend.quotes import AuType, Session, SubType
from .._opend.vocabulary import SecurityKey
from .args import check_code, check_stream_options, check_sub_types
from .batches import DEFAULT_WANT, Want, merged
from .book import Batch, SubscriptionBook
from .client import check_want
from .live import LiveQuotes
from .pushes import Update
from .stream import QuoteStream

__all__ = [
    "DEFAULT_FOLLOW_BUFFER",
    "FollowStream",
    "FollowUpdate",
    "NotFollowed",
    "follow_user_security",
]

logger = logging.getLogger("asyncquote.quotes")

#: Items a follow stream keeps for its reader: room for one update of every
#: pair the largest account's quota allows, and the membership events.
DEFAULT_FOLLOW_BUFFER = 4096


class NotFollowed(_Model):
    """Members of the followed group the stream has no subscription for.

    They are tried again at each later change of the group; until then their
    quotes do not come. ``FollowStream.not_followed`` lists them all.
    """

    group: str
    """The followed group."""
    securities: tuple[Security, ...]
    """The members left out by this change."""
    quota_exceeded: bool
    """True when the subscription quota had no room for them; else OpenD refused them."""
    message: str
    """Why, in words (the quota figures, or OpenD's text)."""


FollowUpdate = Update | WatchlistChange | WatchError | NotFollowed
"""What a follow stream delivers (besides its :class:`StreamGap` and
:class:`StreamDropped` markers): the members' updates, as ``subscribe()``'s
streams deliver them, and the group's changes."""


class _Member:
    """One member of a followed group as the subscription book sees it: a listener
    whose pushes go to the group's stream, released on its own."""

    __slots__ = ("_stream", "security")

    def __init__(self, stream: FollowStream, security: Security) -> None:
        self._stream = stream
        self.security = security

    def __str__(self) -> str:
        return self._stream.name

    def _put(self, key: Hashable | None, item: Any) -> None:
        self._stream._put(key, item)


class FollowStream(QuoteStream[FollowUpdate]):
    """What :meth:`QuoteClient.follow_user_security` yields: one stream of a group's
    membership changes and its members' updates (see :class:`QuoteStream`)."""

    def __init__(
        self,
        name: str,
        capacity: int,
        group: str,
        types: Sequence[SubType] = (SubType.QUOTE,),
        want: Want = DEFAULT_WANT,
    ) -> None:
        super().__init__(name, capacity)
        self.group = group
        """The followed group's name."""
        # What every member is subscribed to, and with which options.
        self._types = tuple(types)
        self._want = want
        self._members: dict[SecurityKey, _Member] = {}
        self._left_out: dict[SecurityKey, Security] = {}

    @property
    def members(self) -> tuple[Security, ...]:
        """The members subscribed (or being subscribed) now, in the order they came."""
        return tuple(member.security for member in self._members.values())

    @property
    def not_followed(self) -> tuple[Security, ...]:
        """Members of the group the stream has no subscription for (see :class:`NotFollowed`)."""
        return tuple(self._left_out.values())


class _Follower(Protocol):
    """What following needs of the client (:class:`QuoteClient` is one)."""

    @property
    def _live(self) -> LiveQuotes: ...

    def _check_loop(self) -> None: ...

    async def _ask_quota(self) -> None: ...

    async def _subscribe_batch(self, batch: Batch, timeout: float | None) -> None: ...

    def watch_user_security(
        self, groups: Sequence[str], *, interval: float = ..., quota_share: float = ...
    ) -> AbstractAsyncContextManager[WatchlistWatcher]: ...

    async def get_user_security_group(self, *args: Any, **kwargs: Any) -> list[WatchlistGroup]: ...


@asynccontextmanager
async def follow_user_security(
    self: _Follower,
    group: str,
    sub_types: Iterable[SubType],
    *,
    extended_time: bool = False,
    session: Session | str = Session.NONE,
    autype: AuType | str = AuType.QFQ,
    interval: float = 30.0,
    quota_share: float = DEFAULT_QUOTA_SHARE,
    name: str | None = None,
    buffer: int = DEFAULT_FOLLOW_BUFFER,
    timeout: float | None = None,
) -> AsyncIterator[FollowStream]:
    """Follow a watchlist group: live updates of its members, kept in step as it changes::

        async with client.follow_user_security("Tech", [SubType.QUOTE]) as stream:
            async for item in stream:
                if isinstance(item, asyncquote.WatchlistChange):
                    print("now", [str(s.basic.security) for s in item.current])
                elif isinstance(item, asyncquote.BasicQuote):
                    print(item.security, item.cur_price)

    The group is polled as by :meth:`watch_user_security` (every
    ``interval`` seconds, within ``quota_share`` of the 3213 quota). Before
    the block starts, the group is read and its members subscribed; the
    stream then starts with that :class:`WatchlistChange` (``initial=True``).
    Each later change comes as a :class:`WatchlistChange` too, before the
    updates of the members it adds; a removed member's updates stop at once
    and its unsubscribe waits for OpenD's one-minute rule (as when leaving a
    :meth:`subscribe` block). Every kind :meth:`subscribe` streams is
    delivered as it delivers it, by the same rules: quotes, order books and
    broker queues conflated per (security, type), time-share points per
    security and minute, K-line updates per bar while it is open (a
    :class:`KLineUpdate` with ``closed=True`` is never replaced), trades
    (:class:`Ticker`) never conflated; when trades fill the buffer the
    oldest items are dropped, counted in ``stream.dropped`` and marked by a
    :class:`StreamDropped`. A :class:`StreamGap` follows a reconnect, after
    which the client subscribes again by itself; a failed poll is a
    :class:`WatchError` and following goes on with the members it has.

    **Quota.** Members the subscription quota has no room for (or that
    OpenD refuses) are not an error: the stream follows what fits, yields a
    :class:`NotFollowed` naming the rest, and tries them again at each later
    change of the group. ``stream.members`` and ``stream.not_followed`` say
    where it stands. Leaving the block releases every member.

    **US sessions and adjustments.** ``extended_time``, ``session`` and
    ``autype`` are :meth:`subscribe`'s, for every member: those the group
    has at first, those added later and those subscribed again after a
    reconnect. A US member's trades, time-share points and intraday
    K-lines come from the parts of the trading day they ask for (the
    regular session by default), K-lines with the adjustment asked for
    (forward by default); a pair another stream shares is subscribed with
    the union of what both ask, and each still gets only its own.

    Args:
        group: the watchlist group's name (a :class:`SystemGroup` too).
        sub_types: the kinds to follow for every member: ``SubType.QUOTE``,
            ``SubType.ORDER_BOOK``, ``SubType.ORDER_BOOK_ODD`` (odd lots),
            ``SubType.TICKER``, ``SubType.RT_DATA``, ``SubType.BROKER``
            (Hong Kong securities), a K-line period such as ``SubType.K_1M``.
        extended_time: US pre-market and after-hours data too (trades,
            time-share, K-lines), as for :meth:`subscribe`.
        session: the parts of the US trading day wanted, a
            :class:`Session` (or the SDK's name); ``NONE`` leaves it to
            ``extended_time``.
        autype: the adjustment of K-lines: an :class:`AuType` or the SDK's
            ``"qfq"``, ``"hfq"``, ``"None"``.
        interval: seconds between polls of the group (> 0, finite), stretched
            to stay within ``quota_share`` of the 3213 quota.
        quota_share: the share of that quota the polls may use, in (0, 1].
        name: how ``client.subscriptions`` names the stream (``"follow <group>"``).
        buffer: most items kept for the reader (the oldest are dropped
            beyond it, which only trades, or many closed bars, can cause
            while it holds an item of every member's pair).
        timeout: seconds for each subscribe request, as for :meth:`request`.

    Raises:
        InvalidArgumentError: a bad group name, subscription type,
            ``extended_time``, ``session``, ``autype``,
            interval, share, name, buffer or timeout; nothing is sent.
        UnknownGroupError: OpenD has no such group.
        OpenDError, ConnectionLostError, RequestTimeoutError: the first read
            of the group failed.
        UsageError: called from another event loop than the client's.
    """
    self._check_loop()
    group = check_group_name(group)
    types = check_sub_types(sub_types, streamed_only=True)
    want = check_want(extended_time, session, autype)
    label = check_stream_options(name, buffer, timeout)
    live = self._live
    stream = FollowStream(label or f"follow {group}", buffer, group, types, want)
    async with (
        self.watch_user_security([group], interval=interval, quota_share=quota_share) as watcher,
        single_errors(),
        anyio.create_task_group() as tg,
    ):
        first = await anext(watcher)
        if isinstance(first, WatchError):
            raise await _first_failure(self, group, first.error)
        live.register(stream, [])
        try:
            await _apply(self, stream, first, timeout)
            tg.start_soon(_keep_following, self, stream, watcher, timeout)
            yield stream
        finally:
            tg.cancel_scope.cancel()
            for member in stream._members.values():
                live.detach(member)
            stream._members.clear()
            live.release(stream)


async def _first_failure(self: _Follower, group: str, error: AsyncQuoteError) -> AsyncQuoteError:
    """The error the first poll's failure raises: an unknown group if OpenD lists none such."""
    if not isinstance(error, OpenDError):
        return error
    try:
        groups = await self.get_user_security_group()
    except AsyncQuoteError:
        return error
    names = tuple(known.name for known in groups)
    if group in names:
        return error
    unknown = UnknownGroupError(
        group, names, error.ret_type, error.err_code, error.message, error.proto_id
    )
    unknown.__cause__ = error
    return unknown


async def _keep_following(
    self: _Follower,
    stream: FollowStream,
    watcher: WatchlistWatcher,
    timeout: float | None,
) -> None:
    """Apply each change the watcher sees, until cancelled or the client is closed.

    Members left out are tried again at each change, and once a poll period
    passes without one (an unsubscribe of another stream may have made room).
    """
    try:
        while True:
            wait = watcher.period if stream._left_out else math.inf
            event: WatchEvent | None = None
            with anyio.move_on_after(wait):  # only the wait: never a subscribe under way
                event = await anext(watcher)
            if event is None:
                await _subscribe(self, stream, dict(stream._left_out), timeout)
            elif isinstance(event, WatchError):
                stream._put(None, event)
            else:
                await _apply(self, stream, event, timeout)
    except (ConnectionLostError, StopAsyncIteration):
        pass  # the client is closed: the stream ends with it (LiveQuotes closes it)


async def _apply(
    self: _Follower,
    stream: FollowStream,
    change: WatchlistChange,
    timeout: float | None,
) -> None:
    """Release the removed members, tell the reader, subscribe the new ones."""
    live = self._live
    for info in change.removed:
        key = check_code("member", info.basic.security)
        stream._left_out.pop(key, None)
        member = stream._members.pop(key, None)
        if member is not None:
            live.detach(member)
    stream._put(None, change)
    wanted = dict(stream._left_out)
    for info in change.added:
        wanted[check_code("member", info.basic.security)] = info.basic.security
    await _subscribe(self, stream, wanted, timeout)


async def _subscribe(
    self: _Follower,
    stream: FollowStream,
    wanted: dict[SecurityKey, Security],
    timeout: float | None,
) -> None:
    """Subscribe the ``wanted`` members that fit; report those newly left out.

    Each member is planned on its own (the book joins its options with other
    streams' on shared pairs); the requests go out together, each pair with
    the options it was planned with.
    """
    live = self._live
    if not wanted:
        return
    if live.book.remaining() is None and live.quota_asked_in != live.book.epoch:
        await self._ask_quota()
    reported = set(stream._left_out)  # left out before: reported then, not again
    over: list[Security] = []
    planned: list[Batch] = []
    for key, security in wanted.items():
        if key in stream._members:
            continue
        member = _Member(stream, security)
        try:
            pairs = [(key, sub_type.value) for sub_type in stream._types]
            planned.extend(live.attach(member, pairs, stream._want))
        except SubscriptionQuotaError:
            if key not in reported:
                over.append(security)
            stream._left_out[key] = security
            continue
        stream._left_out.pop(key, None)
        stream._members[key] = member
    if over:
        stream._put(None, _not_followed(stream, over, True, _quota_text(live.book)))
    for batch in merged(live.book.epoch, planned, live.book.max_batch):
        try:
            await self._subscribe_batch(batch, timeout)
        except (SubscriptionQuotaError, OpenDError) as exc:
            refused = _drop(live, stream, batch, reported)
            if refused:
                quota = isinstance(exc, SubscriptionQuotaError)
                stream._put(None, _not_followed(stream, refused, quota, str(exc)))
        except ConnectionLostError:
            raise
        except AsyncQuoteError as exc:  # a timeout: OpenD may hold them; the book thinks so
            logger.warning("subscribing members of %r: %s", stream.group, exc)


def _drop(
    live: LiveQuotes, stream: FollowStream, batch: Batch, reported: Collection[SecurityKey]
) -> list[Security]:
    """The members of a refused request leave the subscription and wait to be tried again;
    returns those not ``reported`` as left out before."""
    dropped = []
    for key in batch.securities:
        member = stream._members.pop(key, None)
        if member is not None:
            live.detach(member)
            stream._left_out[key] = member.security
            if key not in reported:
                dropped.append(member.security)
    return dropped


def _not_followed(
    stream: FollowStream, securities: list[Security], quota: bool, message: str
) -> NotFollowed:
    return NotFollowed(
        group=stream.group, securities=tuple(securities), quota_exceeded=quota, message=message
    )


def _quota_text(book: SubscriptionBook) -> str:
    return f"no room in the subscription quota ({book.remaining()} of {book.total} units left)"
