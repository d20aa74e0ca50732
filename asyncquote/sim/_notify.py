"""Notify (1003) bodies built from the event models, and the program status in protobuf.

One job: turn one of the typed events the client reports
(:class:`~asyncquote._models.events.GatewayEvent`, ``ProgramStatusChanged``,
``LoginStatusChanged``, ``QuoteRightsChanged``, ``ApiQuotaChanged``,
``UsedQuotaChanged``) into the serialised Notify Response that OpenD would
push for it, the inverse of what a client decodes. No I/O: the simulator
(:mod:`._server`) seals and sends the bytes on every connection that asked
for notifications.
"""

from __future__ import annotations

from .._models.events import (
    ApiQuotaChanged,
    GatewayEvent,
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from .._models.health import ProgramStatus, QuoteRights
from .._opend.health_vocabulary import QUOTE_RIGHT_FIELDS, NotifyType
from .._pb import Common_pb2, Notify_pb2
from ._gateway import NotifyEvent
from ._texts import RET_OK

__all__ = ["notify_body", "set_program_status"]


def set_program_status(target: Common_pb2.ProgramStatus, status: ProgramStatus) -> None:
    """Fill ``target`` (a ``Common.ProgramStatus``) from ``status``.

    A type this version does not know is sent as it is, as a newer OpenD
    would send it (the field is an int32 on our side, see
    ``protos/Common.proto``); the description is left out when ``None``.
    """
    target.type = int(status.type)
    if status.description is not None:
        target.strExtDesc = status.description


def _set_quote_rights(target: Notify_pb2.QotRight, rights: QuoteRights) -> None:
    for name, proto_name in QUOTE_RIGHT_FIELDS.items():
        value = getattr(rights, name)
        if value is not None:
            setattr(target, proto_name, value if isinstance(value, bool) else int(value))


def notify_body(event: NotifyEvent) -> bytes:
    """The serialised Notify Response OpenD pushes for ``event``.

    Raises:
        TypeError: ``event`` is not one of the Notify event models.
    """
    response = Notify_pb2.Response(retType=RET_OK)
    s2c = response.s2c
    if isinstance(event, GatewayEvent):
        s2c.type = NotifyType.GTW_EVENT
        s2c.event.eventType = int(event.type)
        s2c.event.desc = event.description
    elif isinstance(event, ProgramStatusChanged):
        s2c.type = NotifyType.PROGRAM_STATUS
        set_program_status(s2c.programStatus.programStatus, event.program_status)
    elif isinstance(event, LoginStatusChanged):
        s2c.type = NotifyType.CONN_STATUS
        s2c.connectStatus.qotLogined = event.quote_logged_in
        s2c.connectStatus.trdLogined = event.trade_logged_in
    elif isinstance(event, QuoteRightsChanged):
        s2c.type = NotifyType.QOT_RIGHT
        _set_quote_rights(s2c.qotRight, event.quote_rights)
    elif isinstance(event, ApiQuotaChanged):
        s2c.type = NotifyType.API_QUOTA
        s2c.apiQuota.subQuota = event.subscription_quota
        s2c.apiQuota.historyKLQuota = event.history_kline_quota
    elif isinstance(event, UsedQuotaChanged):
        s2c.type = NotifyType.USED_QUOTA
        s2c.usedQuota.SetInParent()
        if event.used_subscription_quota is not None:
            s2c.usedQuota.usedSubQuota = event.used_subscription_quota
        if event.used_kline_quota is not None:
            s2c.usedQuota.usedKLineQuota = event.used_kline_quota
    else:
        raise TypeError(
            "push() takes a GatewayEvent, ProgramStatusChanged, LoginStatusChanged, "
            f"QuoteRightsChanged, ApiQuotaChanged or UsedQuotaChanged, not {event!r}"
        )
    return response.SerializeToString()
