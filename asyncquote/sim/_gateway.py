"""The simulated gateway's own state: what GetGlobalState (1002) answers and Notify (1003) changes.

One job: hold, check and update the one :class:`GatewayState` a simulator
reports about itself (market sessions, logins to Futu's servers, program
status, versions, quote rights and API quotas), and name the gateway
statuses a simulator can be put in (:data:`GATEWAY_STATUSES`, the choices
of ``asyncquote sim --gateway-status``).

Invariants:

* A :class:`GatewayState` is frozen and valid: every field is checked on
  construction (by :mod:`asyncquote._base.args`, as the client's arguments are),
  and a bad one raises :class:`~asyncquote.InvalidArgumentError` naming the
  field. Changes make a new one
  (:func:`dataclasses.replace`, :meth:`GatewayState.after`).
* Quote calls (3213, 3214, 3222) are refused while ``quote_logged_in`` is
  false; see :mod:`._dispatch`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .._base.args import check_duration, check_flag, check_int, check_text
from .._base.errors import InvalidArgumentError
from .._models.events import (
    ApiQuotaChanged,
    GatewayEvent,
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    UsedQuotaChanged,
    state_changes,
)
from .._models.health import ProgramStatus, QuoteRights
from .._opend.health_vocabulary import GatewayEventType, MarketState, ProgramStatusType, QuoteRight
from ._subscriptions import DEFAULT_SUBSCRIPTION_QUOTA

__all__ = [
    "GATEWAY_STATUSES",
    "GatewayState",
    "NotifyEvent",
    "StatusChange",
    "parse_status_change",
    "program_status_after",
    "status_named",
]

NotifyEvent = (
    GatewayEvent
    | ProgramStatusChanged
    | LoginStatusChanged
    | QuoteRightsChanged
    | ApiQuotaChanged
    | UsedQuotaChanged
)
"""An event the simulator can push as a Notify (1003)."""

_INT32_MAX = 2**31 - 1
_INT32_MIN = -(2**31)


def _check_int(value: object, what: str, minimum: int = _INT32_MIN) -> None:
    # bool is an int to Python, never to the protocol.
    check_int(what, value, minimum=minimum, maximum=_INT32_MAX)


def _check_count(value: object, what: str) -> None:
    _check_int(value, what, minimum=0)


def _check_market(value: object, what: str) -> None:
    if value is not None:
        _check_int(value, what)


def _check_flag(value: object, what: str) -> None:
    check_flag(what, value)


def _check_address(value: object, what: str) -> None:
    # A protobuf string must be UTF-8: a lone surrogate would fail every answer.
    check_text(what, value, optional=True)


def _check_program_status(value: object, what: str) -> None:
    if not isinstance(value, ProgramStatus):
        raise InvalidArgumentError(f"{what} must be a ProgramStatus, not {value!r}")
    description = value.description
    # Free text (a newline is fine), but sent as a protobuf string: UTF-8 only.
    if description is not None and not description.isprintable():
        try:
            description.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                f"{what}.description has a lone surrogate, not UTF-8: {description!r}"
            ) from None


def _instance_of(cls: type) -> Callable[[object, str], None]:
    def check(value: object, what: str) -> None:
        if not isinstance(value, cls):
            raise InvalidArgumentError(f"{what} must be a {cls.__name__}, not {value!r}")

    return check


_CHECK = "check"


def _checks(check: Callable[[object, str], None]) -> Mapping[str, Any]:
    """A field's metadata: how :meth:`GatewayState.__post_init__` checks it."""
    return {_CHECK: check}


_INT = _checks(_check_int)
_MARKET = _checks(_check_market)
_FLAG = _checks(_check_flag)
_COUNT = _checks(_check_count)
_ADDRESS = _checks(_check_address)


_DEFAULT_RIGHTS = QuoteRights(
    hk=QuoteRight.LEVEL2, us=QuoteRight.LEVEL1, cn=QuoteRight.LEVEL1, has_us_option=False
)
_READY = ProgramStatus(type=ProgramStatusType.READY)


@dataclass(frozen=True, slots=True)
class GatewayState:
    """What the simulated OpenD says about itself; the default is a healthy gateway.

    Field names follow :class:`asyncquote.GlobalState` (GetGlobalState's
    answer) and the Notify event models. Market sessions are
    :class:`~asyncquote._opend.health_vocabulary.MarketState` values or any int32 (an
    unknown value, as a newer OpenD could send); optional ones are left out
    of the answer when ``None``.

    Attributes:
        market_hk, market_us, market_sh, market_sz, market_hk_future:
            market sessions (``marketHK`` ...); Hong Kong and mainland in
            their afternoon session, US closed, HK futures in day trading.
        market_us_future, market_sg_future, market_jp_future, market_sg, market_my, market_jp:
            optional market sessions.
        quote_logged_in: logged in to the quote server (``qotLogined``).
            While false, 3213, 3214 and 3222 are refused (see
            :func:`~._texts.not_logged_in`).
        trade_logged_in: logged in to the trade server (``trdLogined``).
        program_status: OpenD's start-up and login state (``programStatus``).
        reports_program_status: whether GetGlobalState's answer has
            ``programStatus`` at all; ``False`` plays an older OpenD that
            leaves the optional field out (pushes still carry it).
        server_version: ``serverVer``, also sent in the InitConnect reply
            (OpenD 9.4 reports 904).
        server_build_no: ``serverBuildNo``.
        quote_server_address, trade_server_address: ``qotSvrIpAddr`` and
            ``trdSvrIpAddr``; left out when ``None``.
        quote_rights: the account's quote entitlements, pushed by
            :class:`~asyncquote._models.events.QuoteRightsChanged`.
        subscription_quota, history_kline_quota: the account's API quotas
            (``APIQuota``); the simulator enforces the subscription quota
            (see :mod:`._subscriptions`, whose default it has).
        used_subscription_quota, used_kline_quota: how much of them is used
            (``UsedQuota``).

    Raises:
        InvalidArgumentError: a field has the wrong type (a ``bool`` is not
            an int here), a number is outside int32, or a quota is negative.
    """

    market_hk: MarketState | int = field(default=MarketState.AFTERNOON, metadata=_INT)
    market_us: MarketState | int = field(default=MarketState.CLOSED, metadata=_INT)
    market_sh: MarketState | int = field(default=MarketState.AFTERNOON, metadata=_INT)
    market_sz: MarketState | int = field(default=MarketState.AFTERNOON, metadata=_INT)
    market_hk_future: MarketState | int = field(default=MarketState.FUTURE_DAY_OPEN, metadata=_INT)
    market_us_future: MarketState | int | None = field(default=MarketState.CLOSED, metadata=_MARKET)
    market_sg_future: MarketState | int | None = field(default=None, metadata=_MARKET)
    market_jp_future: MarketState | int | None = field(default=None, metadata=_MARKET)
    market_sg: MarketState | int | None = field(default=None, metadata=_MARKET)
    market_my: MarketState | int | None = field(default=None, metadata=_MARKET)
    market_jp: MarketState | int | None = field(default=None, metadata=_MARKET)
    quote_logged_in: bool = field(default=True, metadata=_FLAG)
    trade_logged_in: bool = field(default=True, metadata=_FLAG)
    program_status: ProgramStatus = field(default=_READY, metadata=_checks(_check_program_status))
    reports_program_status: bool = field(default=True, metadata=_FLAG)
    server_version: int = field(default=904, metadata=_COUNT)
    server_build_no: int = field(default=4708, metadata=_COUNT)
    quote_server_address: str | None = field(default=None, metadata=_ADDRESS)
    trade_server_address: str | None = field(default=None, metadata=_ADDRESS)
    quote_rights: QuoteRights = field(
        default=_DEFAULT_RIGHTS, metadata=_checks(_instance_of(QuoteRights))
    )
    subscription_quota: int = field(default=DEFAULT_SUBSCRIPTION_QUOTA, metadata=_COUNT)
    history_kline_quota: int = field(default=100, metadata=_COUNT)
    used_subscription_quota: int = field(default=0, metadata=_COUNT)
    used_kline_quota: int = field(default=0, metadata=_COUNT)

    def __post_init__(self) -> None:
        for option in fields(self):
            option.metadata[_CHECK](getattr(self, option.name), option.name)

    @property
    def ready(self) -> bool:
        """Logged in to quotes with program status ``READY``: quote calls succeed."""
        return self.quote_logged_in and self.program_status.ready

    @classmethod
    def in_status(cls, status: str) -> GatewayState:
        """The default state, but in ``status``, one of :data:`GATEWAY_STATUSES`.

        Every status but ``"ready"`` is logged out of both servers.

        Raises:
            InvalidArgumentError: ``status`` is not one of :data:`GATEWAY_STATUSES`.
        """
        program_status, _ = status_named(status)
        ready = program_status is ProgramStatusType.READY
        return cls(
            quote_logged_in=ready,
            trade_logged_in=ready,
            program_status=ProgramStatus(type=program_status),
        )

    def after(self, event: NotifyEvent) -> GatewayState:
        """This state as it is once OpenD has pushed ``event``.

        A :class:`~asyncquote._models.events.GatewayEvent` changes nothing by
        itself (OpenD follows one with the status and login pushes that do;
        see :meth:`Simulator.log_out`); a ``UsedQuotaChanged`` field that is
        ``None`` keeps its value.
        """
        changes = state_changes(event)
        return replace(self, **changes) if changes else self


#: The statuses a simulator can be put in (``Simulator.change_status``,
#: ``asyncquote sim --gateway-status``): name → (program status, the gateway
#: event OpenD pushes on entering it, if any). Only ``"ready"`` is logged in.
GATEWAY_STATUSES: Mapping[str, tuple[ProgramStatusType, GatewayEventType | None]] = {
    "ready": (ProgramStatusType.READY, None),
    "logged-out": (ProgramStatusType.FORCE_LOGOUT, GatewayEventType.KICKED_OUT),
    "logging-in": (ProgramStatusType.LOGING, None),
    "need-pic-code": (
        ProgramStatusType.NEED_PIC_VERIFY_CODE,
        GatewayEventType.NEED_PIC_VERIFY_CODE,
    ),
    "need-phone-code": (
        ProgramStatusType.NEED_PHONE_VERIFY_CODE,
        GatewayEventType.NEED_PHONE_VERIFY_CODE,
    ),
    "login-failed": (ProgramStatusType.LOGIN_FAILED, GatewayEventType.LOGIN_FAILED),
    "force-update": (ProgramStatusType.FORCE_UPDATE, GatewayEventType.FORCE_UPDATE),
    "preparing-data": (ProgramStatusType.NESSARY_DATA_PREPARING, None),
    "data-missing": (
        ProgramStatusType.NESSARY_DATA_MISSING,
        GatewayEventType.NESSARY_DATA_MISSING,
    ),
    "disclaimer": (ProgramStatusType.UN_AGREE_DISCLAIMER, GatewayEventType.UN_AGREE_DISCLAIMER),
}


def status_named(name: str) -> tuple[ProgramStatusType, GatewayEventType | None]:
    """The program status and entering event of the gateway status ``name``.

    Raises:
        InvalidArgumentError: ``name`` is not one of :data:`GATEWAY_STATUSES`.
    """
    try:
        return GATEWAY_STATUSES[name]
    except (KeyError, TypeError):
        raise InvalidArgumentError(
            f"unknown gateway status {name!r}; expected one of: {', '.join(GATEWAY_STATUSES)}"
        ) from None


def program_status_after(reason: GatewayEventType | int) -> ProgramStatusType:
    """The program status OpenD is in after logging out for ``reason``.

    The status whose entering event ``reason`` is (see
    :data:`GATEWAY_STATUSES`), else ``FORCE_LOGOUT`` (kicked out, password
    changed, banned ...).
    """
    for program_status, event in GATEWAY_STATUSES.values():
        if event is not None and event == reason:
            return program_status
    return ProgramStatusType.FORCE_LOGOUT


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A scheduled move of the simulated gateway to another status.

    Attributes:
        after: seconds after the simulator starts.
        status: one of :data:`GATEWAY_STATUSES`.

    Raises:
        InvalidArgumentError: ``after`` is not a finite number of seconds
            >= 0, or ``status`` is not a known status.
    """

    after: float
    status: str

    def __post_init__(self) -> None:
        check_duration("after", self.after, finite=True)
        status_named(self.status)


def parse_status_change(spec: str) -> StatusChange:
    """Parse ``SECONDS=STATUS``, as given to ``asyncquote sim --gateway-change``.

    For example ``"30=logged-out"`` logs the gateway out 30 seconds after
    start, and ``"60=ready"`` logs it back in.

    Raises:
        InvalidArgumentError: (a ``ValueError``) naming the spec and saying what is wrong with it.
    """
    seconds, sep, status = spec.partition("=")
    if not sep:
        raise InvalidArgumentError(
            f"gateway change {spec!r} must be SECONDS=STATUS, e.g. 30=logged-out"
        )
    try:
        return StatusChange(float(seconds), status.strip())
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"gateway change {spec!r}: {exc}") from None
