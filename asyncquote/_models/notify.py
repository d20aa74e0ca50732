"""OpenD's health on the wire → typed models: Notify (1003) pushes and GetGlobalState (1002).

:func:`event_from_notify` turns a Notify body into one event of
:mod:`asyncquote._models.events`, or ``None`` for a push that is not an event:

* ``APILevel`` (deprecated by OpenD, with nothing left to act on) and a
  ``type`` this version does not know (a newer OpenD) are not events; they
  are logged at DEBUG and still reach the raw ``push_handler``.
* A malformed push (bytes that are not a Notify, ``retType != 0``, a
  ``type`` whose part is missing) is logged at WARNING and dropped. It never
  raises: a bad push from the gateway must not end the connection that
  carried it. Given a :class:`Warner` (the client passes a throttle), a
  flood of them logs each kind once per minute, with a count of the rest.

Text that is not UTF-8 holds U+FFFD for the bad bytes; enum values this
version does not know stay ``int`` (see :mod:`asyncquote._models.watchlist`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from google.protobuf.message import Message

from .._base.errors import ProtocolError
from .._base.text import wire_text
from .._opend.codec import parse_message
from .._opend.health_vocabulary import MARKET_STATE_FIELDS, QUOTE_RIGHT_FIELDS, NotifyType
from .._opend.vocabulary import ProtoId
from .._pb import Common_pb2, GetGlobalState_pb2, Notify_pb2
from .events import (
    ApiQuotaChanged,
    Event,
    GatewayEvent,
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from .health import GlobalState, ProgramStatus, QuoteRights

__all__ = [
    "Warner",
    "event_from_notify",
    "global_state_from_pb",
    "program_status_from_pb",
]

logger = logging.getLogger("asyncquote.notify")


class Warner(Protocol):
    """Where the warnings about malformed pushes go: the client passes a throttle.

    (:class:`asyncquote._client.throttle.WarningThrottle`, which keeps time on
    the event loop: so it lives with the client, not here.)
    """

    def warn(self, kind: str, message: str, *args: object) -> None:
        """Log ``message % args`` at WARNING, or count it as one of ``kind`` held back."""


def _warn(throttle: Warner | None, kind: str, message: str, *args: object) -> None:
    if throttle is None:
        logger.warning(message, *args)
    else:
        throttle.warn(kind, message, *args)


#: GlobalState field → GetGlobalState.S2C field, for the plain (int, bool, float) ones.
_GLOBAL_STATE_FIELDS = {
    **MARKET_STATE_FIELDS,
    "quote_logged_in": "qotLogined",
    "trade_logged_in": "trdLogined",
    "server_version": "serverVer",
    "server_build_no": "serverBuildNo",
    "server_time": "time",
    "local_time": "localTime",
    "conn_id": "connID",
}


def _fields(pb: Message, names: Mapping[str, str]) -> dict[str, Any]:
    """``{model field: value}`` for the protobuf fields that are set (absent stays out: None)."""
    return {field: getattr(pb, name) for field, name in names.items() if pb.HasField(name)}


def _text(pb: Message, name: str) -> str | None:
    return wire_text(getattr(pb, name)) if pb.HasField(name) else None


def program_status_from_pb(pb: Common_pb2.ProgramStatus) -> ProgramStatus:
    """A ``Common.ProgramStatus`` as a :class:`ProgramStatus`."""
    return ProgramStatus(type=pb.type, description=_text(pb, "strExtDesc"))


def global_state_from_pb(s2c: GetGlobalState_pb2.S2C) -> GlobalState:
    """A GetGlobalState ``S2C`` as a :class:`GlobalState`."""
    values = _fields(s2c, _GLOBAL_STATE_FIELDS)
    if s2c.HasField("programStatus"):
        values["program_status"] = program_status_from_pb(s2c.programStatus)
    values["quote_server_address"] = _text(s2c, "qotSvrIpAddr")
    values["trade_server_address"] = _text(s2c, "trdSvrIpAddr")
    return GlobalState(**values)


def _event_from_s2c(s2c: Notify_pb2.S2C) -> Event | None:
    kind = NotifyType.from_value(s2c.type)
    if kind is NotifyType.GTW_EVENT:
        event = s2c.event
        return GatewayEvent(type=event.eventType, description=wire_text(event.desc))
    if kind is NotifyType.PROGRAM_STATUS:
        return ProgramStatusChanged(
            program_status=program_status_from_pb(s2c.programStatus.programStatus)
        )
    if kind is NotifyType.CONN_STATUS:
        status = s2c.connectStatus
        return LoginStatusChanged(
            quote_logged_in=status.qotLogined, trade_logged_in=status.trdLogined
        )
    if kind is NotifyType.QOT_RIGHT:
        return QuoteRightsChanged(
            quote_rights=QuoteRights(**_fields(s2c.qotRight, QUOTE_RIGHT_FIELDS))
        )
    if kind is NotifyType.API_QUOTA:
        quota = s2c.apiQuota
        return ApiQuotaChanged(
            subscription_quota=quota.subQuota, history_kline_quota=quota.historyKLQuota
        )
    if kind is NotifyType.USED_QUOTA:
        used = s2c.usedQuota
        return UsedQuotaChanged(
            used_subscription_quota=used.usedSubQuota if used.HasField("usedSubQuota") else None,
            used_kline_quota=used.usedKLineQuota if used.HasField("usedKLineQuota") else None,
        )
    logger.debug("Notify of type %r is not an event; left to the push handler", kind)
    return None


#: The S2C field each kind of event is read from (a push without it is malformed).
_PART: dict[int, str] = {
    NotifyType.GTW_EVENT: "event",
    NotifyType.PROGRAM_STATUS: "programStatus",
    NotifyType.CONN_STATUS: "connectStatus",
    NotifyType.QOT_RIGHT: "qotRight",
    NotifyType.API_QUOTA: "apiQuota",
    NotifyType.USED_QUOTA: "usedQuota",
}


def event_from_notify(body: bytes, throttle: Warner | None = None) -> Event | None:
    """The event a Notify (1003) body carries; ``None`` if it is not one. Never raises.

    A malformed push is logged at WARNING, through ``throttle`` if given.
    """
    try:
        response = parse_message(Notify_pb2.Response, body, proto_id=ProtoId.NOTIFY)
    except ProtocolError as exc:
        _warn(throttle, "malformed", "dropped a malformed Notify push: %s", exc)
        return None
    if response.retType != 0 or not response.HasField("s2c"):
        _warn(
            throttle,
            "failed",
            "dropped a Notify push with retType %d and %s: %s",
            response.retType,
            "an s2c" if response.HasField("s2c") else "no s2c",
            wire_text(response.retMsg) or "(no message)",
        )
        return None
    s2c = response.s2c
    part = _PART.get(s2c.type)  # an IntEnum key matches its int
    if part is not None and not s2c.HasField(part):
        _warn(
            throttle,
            f"no-{part}",
            "dropped a Notify push of type %d without its %s",
            s2c.type,
            part,
        )
        return None
    try:
        return _event_from_s2c(s2c)
    except ValueError as exc:  # pydantic's ValidationError: a value no model accepts
        _warn(throttle, "misfit", "dropped a Notify push that does not fit its model: %s", exc)
        return None
