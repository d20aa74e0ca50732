"""What ``client.subscriptions`` shows: the subscription book at one moment, as frozen models.

Built by :meth:`SubscriptionBook.snapshot <asyncquote._quotes.book.SubscriptionBook.snapshot>`;
plain data, safe to keep, compare and print.
"""

from __future__ import annotations

from typing import Annotated

from .._models.watchlist import _known_member, _Model
from .._opend.quotes import SubType

__all__ = ["PendingUnsubscribe", "SubscribedPair", "SubscriptionQuota", "SubscriptionStatus"]

_SubTypeValue = Annotated[SubType | int, _known_member(SubType)]


class SubscribedPair(_Model):
    """One (security, subscription type) pair that open streams ask for."""

    security: str
    """The security's code string, e.g. ``"HK.00700"``."""
    sub_type: _SubTypeValue
    """The subscription type."""
    streams: tuple[str, ...]
    """The streams that asked for it, by name; two or more share one OpenD
    subscription and one quota unit."""
    subscribed: bool
    """Whether OpenD confirmed the subscription on the current connection
    (``False`` while the request is on its way, or after a reconnect until
    the client has subscribed again)."""


class PendingUnsubscribe(_Model):
    """A pair no stream wants any more, still subscribed at OpenD.

    OpenD refuses to unsubscribe a pair less than one minute after
    subscribing it, so the client unsubscribes it when it may. It still costs
    a quota unit until then; a stream that asks for it again takes it back at
    no cost.
    """

    security: str
    """The security's code string, e.g. ``"HK.00700"``."""
    sub_type: _SubTypeValue
    """The subscription type."""
    due_in: float | None
    """Seconds until the client sends the unsubscribe (``0.0``: being sent now);
    ``None`` while the outcome of a subscribe request for it is still unknown."""


class SubscriptionQuota(_Model):
    """The account's subscription quota, as the client reckons it.

    From the latest ``query_subscription()`` answer or Notify push, adjusted by
    what this client subscribed and unsubscribed since. ``None`` where the
    client has heard nothing yet.
    """

    total: int | None
    """Units the account may use (100 to 2,000 depending on the account)."""
    used: int | None
    """Units in use, by every connection of this OpenD."""
    remaining: int | None
    """Units left: a subscription needing more is refused before it is sent."""
    own: int
    """Units this client holds (pairs subscribed, being subscribed, or waiting
    to be unsubscribed)."""


class SubscriptionStatus(_Model):
    """What the client has subscribed, for which streams, and what waits to be unsubscribed."""

    pairs: tuple[SubscribedPair, ...]
    """Every pair some open stream asks for."""
    pending_unsubscribes: tuple[PendingUnsubscribe, ...]
    """Pairs released by every stream, waiting for OpenD's one-minute rule."""
    quota: SubscriptionQuota
    """The subscription quota."""
