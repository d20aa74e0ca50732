"""The events a client reports through :meth:`QuoteClient.events`: one
typed model per kind of Notify (1003) push, plus the client's own
connection state, so that one stream tells the whole story.

The models follow :mod:`asyncquote._models.health`'s naming; each docstring names
the protocol field it comes from.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from .._base.states import ConnectionState
from .._opend.health_vocabulary import GatewayEventType
from .health import ProgramStatus, QuoteRights
from .watchlist import _known_member, _Model

__all__ = [
    "ApiQuotaChanged",
    "ConnectionStateChanged",
    "Event",
    "GatewayEvent",
    "LoginStatusChanged",
    "ProgramStatusChanged",
    "QuoteRightsChanged",
    "UsedQuotaChanged",
    "state_changes",
]

_GatewayEventTypeValue = Annotated[GatewayEventType | int, _known_member(GatewayEventType)]


class GatewayEvent(_Model):
    """Something happened to OpenD itself (``event``, NotifyType ``GtwEvent``)."""

    type: _GatewayEventTypeValue
    """What happened (``eventType``); an ``int`` if this version does not know it."""
    description: str
    """OpenD's words on it (``desc``)."""


class ProgramStatusChanged(_Model):
    """OpenD's start-up or login state changed (``programStatus``)."""

    program_status: ProgramStatus
    """The new state."""


class LoginStatusChanged(_Model):
    """OpenD's login to Futu's servers changed (``connectStatus``)."""

    quote_logged_in: bool
    """Logged in to the quote server (``qotLogined``)."""
    trade_logged_in: bool
    """Logged in to the trade server (``trdLogined``)."""


class QuoteRightsChanged(_Model):
    """The account's quote entitlements changed (``qotRight``)."""

    quote_rights: QuoteRights
    """The new entitlements."""


class ApiQuotaChanged(_Model):
    """The account's subscription and K-line quotas changed (``apiQuota``)."""

    subscription_quota: int
    """Subscriptions allowed (``subQuota``)."""
    history_kline_quota: int
    """Historical K-line requests allowed (``historyKLQuota``)."""


class UsedQuotaChanged(_Model):
    """The account's use of its quotas changed (``usedQuota``)."""

    used_subscription_quota: int | None = None
    """Subscriptions in use (``usedSubQuota``)."""
    used_kline_quota: int | None = None
    """Historical K-line quota used (``usedKLineQuota``)."""


class ConnectionStateChanged(_Model):
    """The client's own connection to OpenD changed state (no Notify behind it)."""

    state: ConnectionState
    """The new state."""
    previous: ConnectionState
    """The state before."""


Event = Union[  # noqa: UP007 - a runtime alias, usable in isinstance() and match
    GatewayEvent,
    ProgramStatusChanged,
    LoginStatusChanged,
    QuoteRightsChanged,
    ApiQuotaChanged,
    UsedQuotaChanged,
    ConnectionStateChanged,
]
"""Any event :meth:`QuoteClient.events` yields."""


# The events whose fields are the gateway's state, named as the state's fields
# are (in :class:`~asyncquote._models.health.GatewayStatus` and the simulator's
# ``GatewayState``).
_STATE_EVENTS = (
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    ApiQuotaChanged,
    UsedQuotaChanged,
)


def state_changes(event: Event) -> dict[str, Any]:
    """The gateway-state fields ``event`` sets, by name; ``{}`` if it sets none.

    The one rule for what a Notify changes, for the client's status and the
    simulator's state alike: a field the push left out (``None``) keeps its
    value; a :class:`GatewayEvent` changes nothing by itself (OpenD follows
    one with the status and login pushes that do).
    """
    if not isinstance(event, _STATE_EVENTS):
        return {}
    return {name: value for name, value in event if value is not None}
